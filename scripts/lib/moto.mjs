// moto_server lifecycle for tests, `npm run local` and the benchmark: one emulator on a free loopback port,
// stopped by its handle (and, unless it is detached for `npm run local -- --keep`, when this process exits).
import net from 'node:net';
import { start, which } from './proc.mjs';

/** Raised when a prerequisite (moto_server, terraform, provider mirror) is missing. */
export class PrerequisiteError extends Error {
  /** @param {string} message @param {string} [howToInstall] */
  constructor(message, howToInstall) {
    super(howToInstall ? `${message}\n  how to install: ${howToInstall}` : message);
    this.name = 'PrerequisiteError';
    this.howToInstall = howToInstall;
  }
}

export const MOTO_INSTALL_HINT = 'pip install "moto[server]==5.2.1" (provides the moto_server command)';

/**
 * Ask the OS for a free TCP port on 127.0.0.1.
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Wait until moto answers on its management API.
 * @param {string} endpoint
 * @param {{ timeoutMs?: number, isAlive?: () => boolean, output?: () => string }} [opts]
 */
export async function waitForMoto(endpoint, opts = {}) {
  const timeoutMs = opts.timeoutMs ?? 30000;
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (opts.isAlive && !opts.isAlive()) {
      throw new Error(`moto_server exited before it answered on ${endpoint}:\n${opts.output ? opts.output() : ''}`);
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      lastError = `HTTP ${res.status}`;
    } catch (e) {
      lastError = /** @type {Error} */ (e).message;
    }
    await sleep(150);
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms (last error: ${lastError})`);
}

/**
 * @typedef {object} MotoHandle
 * @property {string} endpoint  e.g. http://127.0.0.1:45123
 * @property {number} port
 * @property {number | undefined} pid
 * @property {() => Promise<void>} stop  kill the server and wait for it to exit (idempotent)
 * @property {() => string} output  what moto_server printed so far (last 64 KiB)
 */

/**
 * Start moto_server on 127.0.0.1 (a free port unless `port` is given), with AWS managed IAM policies loaded.
 * The process is killed by `stop()` and, as a safety net, when this Node process exits; with `logFile` it runs
 * detached in its own process group, writes to that file and outlives this process unless stopped.
 * @param {{ port?: number, env?: NodeJS.ProcessEnv, timeoutMs?: number, command?: string, logFile?: string }} [opts]
 * @returns {Promise<MotoHandle>}
 */
export async function startMoto(opts = {}) {
  const command = opts.command ?? 'moto_server';
  const env = { ...process.env, ...(opts.env ?? {}), MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' };
  const bin = command.includes('/') ? command : which(command, env);
  if (!bin) throw new PrerequisiteError(`${command} not found on PATH`, MOTO_INSTALL_HINT);
  const port = opts.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const detached = opts.logFile !== undefined;
  const proc = start(bin, ['-H', '127.0.0.1', '-p', String(port)], {
    env,
    output: detached ? { file: /** @type {string} */ (opts.logFile) } : 'capture',
    maxOutput: 65536,
    detached,
  });
  /** @type {Error | null} */
  let spawnError = null;
  proc.done.catch((e) => (spawnError = e));
  const onExit = () => proc.kill('SIGKILL');
  if (!detached) process.on('exit', onExit);

  const stop = async () => {
    process.removeListener('exit', onExit);
    if (proc.exited()) return;
    proc.child.ref(); // a detached server is unref'd; wait for its exit all the same
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await proc.done.catch(() => {});
    clearTimeout(t);
  };
  try {
    await waitForMoto(endpoint, {
      timeoutMs: opts.timeoutMs,
      isAlive: () => !proc.exited(),
      output: () => (spawnError ? /** @type {Error} */ (spawnError).message + '\n' : '') + proc.output(),
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { endpoint, port, pid: proc.pid, stop, output: proc.output };
}

/**
 * Configure moto's state manager so ECS tasks progress (PROVISIONING -> ... -> STOPPED) on every describe.
 * Without it a RunTask task stays RUNNING forever in moto.
 * @param {string} endpoint
 * @param {string} [progression]  'immediate' (default) or 'manual'
 */
export async function setEcsTaskProgression(endpoint, progression = 'immediate') {
  const res = await fetch(`${endpoint}/moto-api/state-manager/set-transition`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model_name: 'ecs::task', transition: { progression } }),
  });
  if (!res.ok) {
    throw new Error(`moto state-manager set-transition for ecs::task failed: HTTP ${res.status} ${await res.text()}`);
  }
}
