// Docker around the engine's containers: the labels every container, volume and network of a run carries, the
// run's bridge network, and the sweep of what a killed run left.
import { run } from '../proc.mjs';

export const LABEL = 'staging-rollout.dataplane';
export const RUN_LABEL = 'staging-rollout.run';
export const PID_LABEL = 'staging-rollout.pid';

/**
 * The docker `--label` arguments of one run (the process's pid: the sweep tells a live run from a killed one).
 * @param {string} runId @returns {string[]}
 */
export const labelArgs = (runId) => [[LABEL, '1'], [RUN_LABEL, runId], [PID_LABEL, String(process.pid)]].flatMap(([k, v]) => ['--label', `${k}=${v}`]);

/**
 * A user-defined bridge network for one run (never the host network); its gateway is the host's address the
 * containers reach the data stores on.
 * @param {string} runId
 * @returns {Promise<{ name: string, gateway: string, subnet: string, remove: () => Promise<void> }>}
 */
export async function createNetwork(runId) {
  const name = `staging-rollout-dp-${runId}`;
  const made = await run('docker', ['network', 'create', '--driver', 'bridge', ...labelArgs(runId), name]);
  if (made.code !== 0) throw new Error(`data plane: docker network create ${name} failed: ${made.stderr.trim()}`);
  const inspect = await run('docker', ['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', name]);
  const [subnet, gateway] = inspect.stdout.trim().split(/\s+/);
  if (!gateway) throw new Error(`data plane: network ${name} has no gateway address (${inspect.stdout.trim() || inspect.stderr.trim()})`);
  return { name, gateway, subnet, remove: async () => { await run('docker', ['network', 'rm', name]); } };
}

/**
 * Remove the containers, volumes and networks of data-plane runs whose process is gone (a killed run).
 * @param {{ log?: (line: string) => void }} [o]
 * @returns {Promise<number>} how many things were removed
 */
export async function sweepLeftovers({ log = () => {} } = {}) {
  const alive = (/** @type {string} */ pid) => {
    const n = Number(pid);
    if (!n) return false;
    try { process.kill(n, 0); return true; } catch (e) { return /** @type {NodeJS.ErrnoException} */ (e).code === 'EPERM'; }
  };
  let removed = 0;
  const fmt = `{{.ID}} {{.Label "${PID_LABEL}"}}`;
  for (const [list, rm] of /** @type {const} */ ([
    [['ps', '-a', '--filter', `label=${LABEL}`, '--format', fmt], ['rm', '-f']],
    [['volume', 'ls', '--filter', `label=${LABEL}`, '--format', `{{.Name}} {{.Label "${PID_LABEL}"}}`], ['volume', 'rm', '-f']],
    [['network', 'ls', '--filter', `label=${LABEL}`, '--format', fmt], ['network', 'rm']],
  ])) {
    const r = await run('docker', [...list]);
    const dead = r.stdout.split('\n').filter(Boolean).map((l) => l.split(' ')).filter(([, pid]) => !alive(pid)).map(([id]) => id);
    if (dead.length) {
      await run('docker', [...rm, ...dead]);
      removed += dead.length;
    }
  }
  if (removed) log(`data plane: removed ${removed} container(s), volume(s) and network(s) a previous run left`);
  return removed;
}
