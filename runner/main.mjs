// The runner's entry logic with every side effect injectable (runner/rollout.mjs wires the real ones): the first
// argument names a verb of runner/verbs; flags alone run a rollout (runner/verbs/rollout.mjs).
import { EXIT } from './lib/errors.mjs';
import { VERBS } from './verbs/index.mjs';
import * as rollout from './verbs/rollout.mjs';

/**
 * @typedef {object} MainDeps
 * @property {string} [cwd]
 * @property {Record<string, string|undefined>} [env]
 * @property {import('./lib/types.mjs').Exec} [exec]
 * @property {import('./lib/types.mjs').Clock} [clock]
 * @property {(counter: import('./aws/clients.mjs').CallCounter, region: string) => import('./aws/clients.mjs').AwsClients} [createAws]
 * @property {(line: string) => void} [write] stdout line writer
 * @property {(line: string) => void} [writeErr] stderr line writer
 * @property {import('./steps/index.mjs').StepRegistry} [steps] step kind -> module (default runner/steps/index.mjs)
 * @property {AbortSignal} [signal]
 * @property {typeof import('./report/index.mjs').writeArtifacts} [writeArtifacts] renders the summary and timeline (default runner/report)
 * @property {{ leaseMs?: number, renewMs?: number }} [lock] the environment lock's lease and renewal period
 *   (default runner/ledger/lock.mjs LEASE_MS, RENEW_MS)
 */

/**
 * `<verb> [flags]` runs a verb of runner/verbs (status, history, rollback); flags alone run a rollout.
 * @param {string[]} argv
 * @param {MainDeps} [deps]
 * @returns {Promise<{ exitCode: number, report: import('./lib/execute.mjs').Report|null, plan: import('./lib/plan.mjs').Plan|null, awsCalls: number, verbReport?: object|null }>}
 */
export async function main(argv, deps = {}) {
  if (argv.length && !argv[0].startsWith('-')) {
    const name = argv[0];
    const verb = Object.hasOwn(VERBS, name) ? VERBS[/** @type {keyof typeof VERBS} */ (name)] : null;
    if (!verb) {
      (deps.writeErr ?? ((/** @type {string} */ l) => process.stderr.write(`${l}\n`)))(
        `error: unknown command "${name}" (commands: ${Object.keys(VERBS).join(', ')}; flags alone run a rollout, see --help)`);
      return { exitCode: EXIT.BAD_INPUT, report: null, plan: null, awsCalls: 0 };
    }
    const res = await verb.run(argv.slice(1), deps);
    return { exitCode: res.exitCode, report: null, plan: null, awsCalls: res.awsCalls ?? 0, verbReport: res.report ?? null };
  }
  return rollout.run(argv, deps);
}
