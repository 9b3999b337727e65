// The runner's entry logic with every side effect injectable (runner/rollout.mjs wires the real ones): the first
// argument names a verb of the registry (runner/verbs/index.mjs); flags alone run `rollout`.
import configLib from '../lib/config/index.cjs';
import { EXIT } from './lib/errors.mjs';
import { VERBS, verbNamed } from './verbs/index.mjs';

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
 * `<verb> [flags]` runs a verb of the registry; flags alone (or none) run `rollout`.
 * @param {string[]} argv
 * @param {MainDeps} [deps]
 * @returns {Promise<{ exitCode: number, report: import('./lib/execute.mjs').Report|null, plan: import('./lib/plan.mjs').Plan|null, awsCalls: number, verbReport?: object|null }>}
 */
export async function main(argv, deps = {}) {
  const named = argv.length > 0 && !argv[0].startsWith('-');
  const name = named ? argv[0] : 'rollout';
  const entry = verbNamed(name);
  if (!entry) {
    const like = configLib.closestName(name, Object.keys(VERBS));
    (deps.writeErr ?? ((/** @type {string} */ l) => process.stderr.write(`${l}\n`)))(
      `error: unknown command "${name}"${like ? ` (did you mean "${like}"?)` : ''} (commands: ${Object.keys(VERBS).join(', ')}; flags alone run a rollout, see --help)`);
    return { exitCode: EXIT.BAD_INPUT, report: null, plan: null, awsCalls: 0 };
  }
  const verb = await entry.load();
  const res = await verb.run(named ? argv.slice(1) : argv, deps);
  // a rollout answers with its run report and plan; the other verbs with their own report (verbReport)
  if (name === 'rollout') return /** @type {any} */ (res);
  return { exitCode: res.exitCode, report: null, plan: null, awsCalls: res.awsCalls ?? 0, verbReport: res.report ?? null };
}
