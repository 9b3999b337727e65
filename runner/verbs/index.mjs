// The verbs of `npx zx runner/rollout.mjs <verb> [flags]`, one line each: the name, the one-line summary the
// help lists, and the module (loaded when the verb runs, so this registry imports no verb and every verb may read
// it). runner/main.mjs dispatches here; flags alone run `rollout`. Each module exports `run(argv, deps)` with
// deps = MainDeps, resolving to `{ exitCode, report?, awsCalls? }`, and `HELP`, its generated --help text.
// Adding a verb: its file here (flags beside it, started by runVerb in setup.mjs) and one line below.

/**
 * @typedef {{ exitCode: number, report?: object|null, awsCalls?: number }} VerbResult
 * @typedef {{ run: (argv: string[], deps: import('../main.mjs').MainDeps) => Promise<VerbResult>, HELP: string }} Verb
 * @typedef {{ summary: string, load: () => Promise<Verb>, readOnly?: boolean }} VerbEntry readOnly: it changes nothing
 *   (the Ctrl-C message says so)
 */

/** How the runner is started, as every usage line shows it. */
export const ENTRY = 'npx zx runner/rollout.mjs';

/** @type {Readonly<Record<string, VerbEntry>>} */
export const VERBS = Object.freeze({
  rollout: { summary: 'bring a release online step by step (the default: flags alone run it)', load: () => import('./rollout.mjs') },
  status: { summary: 'what runs now, per service, against the ledger\'s current release', load: () => import('./status.mjs'), readOnly: true },
  history: { summary: 'the last rollouts and rollbacks of the release ledger', load: () => import('./history.mjs'), readOnly: true },
  images: { summary: 'build and push the release\'s images (the rollout\'s images step on its own)', load: () => import('./images.mjs') },
  diff: { summary: 'what a rollout of a release would change, per service, against what runs', load: () => import('./diff.mjs'), readOnly: true },
  logs: { summary: 'the CloudWatch Logs of a service\'s tasks, or of the last migration task', load: () => import('./logs.mjs'), readOnly: true },
  wait: { summary: 'wait until every enabled service is stable on one deployment', load: () => import('./wait.mjs'), readOnly: true },
  rollback: { summary: 'back to an earlier successful release of the ledger', load: () => import('./rollback.mjs') },
  run: { summary: 'a one-off command in a service\'s task definition, exiting with its code', load: () => import('./run.mjs') },
  exec: { summary: 'a shell or a command in a running task (ECS Exec)', load: () => import('./exec.mjs') },
});

/** @param {string} name @returns {VerbEntry|null} */
export function verbNamed(name) {
  return Object.hasOwn(VERBS, name) ? VERBS[name] : null;
}

/** The `Commands` section of the runner's help, from the registry. */
export function commandsHelp() {
  const names = Object.keys(VERBS);
  const w = Math.max(...names.map((n) => n.length));
  return ['Commands (each has --help)', ...names.map((n) => `  ${n.padEnd(w)}   ${VERBS[n].summary}`)].join('\n');
}

/**
 * A verb's usage line: `Usage: npx zx runner/rollout.mjs <verb> <args>`.
 * @param {string} verb @param {string} [args] default `[flags]`
 */
export function usage(verb, args = '[flags]') {
  return `Usage: ${ENTRY} ${verb} ${args}`;
}
