// The one way the harness starts a child process (Terraform, moto_server, the runner, docker.sh, the aws CLI,
// git). Contract:
//   start(cmd, args, opts)  -> a handle on a running process: { child, pid, done, output(), exited(), kill() }
//   run(cmd, args, opts)    -> Promise<RunResult> once it has exited; rejects only when it could not be started
//                              (e.g. ENOENT) or, with `check`, when it exited non-zero (a ProcessError)
//   runSync(cmd, args, opts) -> RunResult; the same options but `signal`, `detached`, `maxOutput`
//   which(name, env)        -> the absolute path of an executable on env's PATH, or null (never throws)
// stdin is closed (or fed `input`, then closed); output is captured unless `output` says otherwise.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';

/**
 * @typedef {'capture' | 'inherit' | 'ignore' | { file: string }} OutputMode
 *   capture: collected into the result (default); inherit: this process's stdout/stderr; ignore: dropped;
 *   { file }: both streams appended to the file (output() reads it back)
 */

/**
 * @typedef {object} RunOptions
 * @property {string} [cwd]
 * @property {NodeJS.ProcessEnv} [env]       the child's whole environment (default: this process's)
 * @property {string} [input]                written to stdin, which is then closed (default: no stdin)
 * @property {OutputMode} [output]
 * @property {number} [timeoutMs]            kill with `killSignal` after this long (SIGKILL 3 s later); result.timedOut
 * @property {AbortSignal} [signal]          kill with `killSignal` when aborted
 * @property {NodeJS.Signals} [killSignal]   default SIGTERM
 * @property {boolean} [detached]            own process group, and this process does not wait for it (unref)
 * @property {number} [maxOutput]            keep only the last N characters of each captured stream
 * @property {boolean} [check]               run/runSync: a non-zero exit rejects (throws) a ProcessError
 */

/**
 * @typedef {object} RunResult
 * @property {number | null} code            exit code; null when ended by a signal
 * @property {NodeJS.Signals | null} signal
 * @property {string} stdout                 captured stdout ('' unless output is 'capture')
 * @property {string} stderr
 * @property {boolean} timedOut              killed because `timeoutMs` passed
 */

/**
 * @typedef {object} ProcessHandle
 * @property {import('node:child_process').ChildProcess} child
 * @property {number | undefined} pid
 * @property {Promise<RunResult>} done       settles when the process has exited and its output is read
 * @property {() => string} output           stdout and stderr so far, interleaved (the file's tail for { file })
 * @property {() => boolean} exited          it has exited, or could not be started
 * @property {(sig?: NodeJS.Signals) => void} kill
 */

/** A command that exited non-zero (run/runSync with `check`). */
export class ProcessError extends Error {
  /** @param {string} cmd @param {string[]} args @param {RunResult} result */
  constructor(cmd, args, result) {
    const how = result.timedOut ? 'timed out' : result.code === null ? `was killed (${result.signal})` : `exited ${result.code}`;
    super(`${[cmd, ...args].join(' ')} ${how}:\n${(result.stderr || result.stdout).trim()}`);
    this.name = 'ProcessError';
    this.code = result.code;
    this.result = result;
  }
}

const TAIL = 65536;
/** @param {string} s @param {number | undefined} max */
const tail = (s, max) => (max !== undefined && s.length > max ? s.slice(-max) : s);

/**
 * stdio for spawn/spawnSync, plus the file descriptor to close after spawning.
 * @param {RunOptions} opts
 * @returns {{ stdio: import('node:child_process').StdioOptions, fd: number | null }}
 */
function stdioFor(opts) {
  const stdin = opts.input !== undefined ? 'pipe' : 'ignore';
  const out = opts.output ?? 'capture';
  if (typeof out === 'object') {
    const fd = fs.openSync(out.file, 'a');
    return { stdio: [stdin, fd, fd], fd };
  }
  const mode = out === 'capture' ? 'pipe' : out;
  return { stdio: [stdin, mode, mode], fd: null };
}

/**
 * Start `cmd` and return a handle; `done` rejects only when the process cannot be started.
 * @param {string} cmd @param {string[]} args @param {RunOptions} [opts]
 * @returns {ProcessHandle}
 */
export function start(cmd, args, opts = {}) {
  const { stdio, fd } = stdioFor(opts);
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio, detached: opts.detached ?? false });
  if (fd !== null) fs.closeSync(fd);
  if (opts.detached) child.unref();
  let stdout = '';
  let stderr = '';
  let both = '';
  child.stdout?.on('data', (/** @type {Buffer} */ b) => {
    stdout = tail(stdout + b.toString(), opts.maxOutput);
    both = tail(both + b.toString(), TAIL);
  });
  child.stderr?.on('data', (/** @type {Buffer} */ b) => {
    stderr = tail(stderr + b.toString(), opts.maxOutput);
    both = tail(both + b.toString(), TAIL);
  });
  if (opts.input !== undefined) {
    child.stdin?.on('error', () => {}); // the child may exit without reading its input
    child.stdin?.end(opts.input);
  }
  let gone = false;
  let timedOut = false;
  const killSignal = opts.killSignal ?? 'SIGTERM';
  /** @type {NodeJS.Timeout[]} */
  const timers = [];
  const kill = (/** @type {NodeJS.Signals} */ sig = killSignal) => {
    if (!gone) child.kill(sig);
  };
  const hardKill = () => {
    kill();
    timers.push(setTimeout(() => kill('SIGKILL'), 3000));
  };
  if (opts.timeoutMs !== undefined) {
    timers.push(
      setTimeout(() => {
        timedOut = true;
        hardKill();
      }, opts.timeoutMs),
    );
  }
  const onAbort = () => kill();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  /** @type {Promise<RunResult>} */
  const done = new Promise((resolve, reject) => {
    const settle = () => {
      gone = true;
      for (const t of timers) clearTimeout(t);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (e) => {
      settle();
      reject(e);
    });
    child.on('close', (code, signal) => {
      settle();
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
  done.catch(() => {}); // callers that only use the handle must not see an unhandled rejection
  const out = opts.output;
  return {
    child,
    pid: child.pid,
    done,
    output: () => (typeof out === 'object' ? tail(readOr(out.file), TAIL) : both),
    exited: () => gone || child.exitCode !== null || child.signalCode !== null,
    kill,
  };
}

/** @param {string} file */
function readOr(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Run `cmd` to completion.
 * @param {string} cmd @param {string[]} args @param {RunOptions} [opts]
 * @returns {Promise<RunResult>}
 */
export async function run(cmd, args, opts = {}) {
  const r = await start(cmd, args, opts).done;
  if (opts.check && r.code !== 0) throw new ProcessError(cmd, args, r);
  return r;
}

/**
 * Run `cmd` to completion, blocking this process (for probes that must answer synchronously).
 * @param {string} cmd @param {string[]} args @param {Omit<RunOptions, 'signal' | 'detached' | 'maxOutput'>} [opts]
 * @returns {RunResult}
 */
export function runSync(cmd, args, opts = {}) {
  const { stdio, fd } = stdioFor(opts);
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio,
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeoutMs,
    killSignal: opts.killSignal,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (fd !== null) fs.closeSync(fd);
  const timedOut = /** @type {NodeJS.ErrnoException | undefined} */ (r.error)?.code === 'ETIMEDOUT';
  if (r.error && !timedOut) throw r.error;
  /** @type {RunResult} */
  const result = { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut };
  if (opts.check && result.code !== 0) throw new ProcessError(cmd, args, result);
  return result;
}

/**
 * Find an executable on PATH. Returns its absolute path or null.
 * @param {string} name
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {string | null}
 */
export function which(name, env = process.env) {
  let r;
  try {
    r = runSync('sh', ['-c', 'command -v "$1"', 'sh', name], { env });
  } catch {
    return null; // not even `sh` on this PATH
  }
  const out = r.stdout.trim();
  return r.code === 0 && out ? out : null;
}
