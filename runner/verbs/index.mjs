// The verbs of `npx zx runner/rollout.mjs <verb> [flags]` (runner/main.mjs dispatches here; flags alone run a
// rollout). Each module exports `run(argv, deps)` with deps = MainDeps and resolves to `{ exitCode, report? }`.
import * as status from './status.mjs';
import * as history from './history.mjs';
import * as rollback from './rollback.mjs';
import * as run from './run.mjs';
import * as exec from './exec.mjs';

/**
 * @typedef {{ exitCode: number, report?: object|null, awsCalls?: number }} VerbResult
 * @typedef {{ run: (argv: string[], deps: import('../main.mjs').MainDeps) => Promise<VerbResult> }} Verb
 */

/** @type {Readonly<Record<'status'|'history'|'rollback'|'run'|'exec', Verb>>} */
export const VERBS = Object.freeze({ status, history, rollback, run, exec });
