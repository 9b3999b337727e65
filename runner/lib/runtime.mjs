// Injectable side effects: clock/sleep, shell exec, progress printer. AWS calls: runner/aws/send.mjs.
import { setTimeout as delay } from 'node:timers/promises';
import { InterruptedError } from './errors.mjs';

/** @returns {import('./types.mjs').Clock} */
export function systemClock() {
  return {
    now: () => Date.now(),
    sleep: async (ms, signal) => {
      try {
        await delay(ms, undefined, { signal });
      } catch (e) {
        if (signal?.aborted) throw new InterruptedError();
        throw e;
      }
    },
  };
}

/**
 * Shell runner on top of zx: arguments are passed as an argv array (zx quotes each one), never through a
 * shell string; a non-zero exit is returned, not thrown. `opts.input` is written to the command's stdin (how
 * secrets such as a registry password reach a command: never in argv); `opts.signal` kills it on abort.
 * The returned function carries `stdin = true` (runner/images/exec.mjs relies on it).
 * @param {{ $?: (opts: Record<string, unknown>) => (pieces: TemplateStringsArray, ...args: unknown[]) => Promise<{ stdout: string, stderr: string, exitCode: number|null }> }} [deps] zx `$` (tests)
 * @returns {import('./types.mjs').Exec}
 */
export function zxExec(deps = {}) {
  /** @type {import('./types.mjs').Exec} */
  const exec = async (cmd, args, opts = {}) => {
    const $ = deps.$ ?? (await import('zx')).$;
    /** @type {Record<string, unknown>} */
    const o = { cwd: opts.cwd, env: { ...process.env, ...(opts.env ?? {}) }, nothrow: true, quiet: true };
    if (opts.input !== undefined) o.input = opts.input;
    if (opts.signal) o.signal = opts.signal;
    const p = await $(o)`${cmd} ${args}`;
    return { stdout: p.stdout, stderr: p.stderr, exitCode: p.exitCode ?? 1 };
  };
  exec.stdin = true;
  return exec;
}

/**
 * Progress printer: every line is prefixed with the elapsed run time.
 * @param {{ write?: (line: string) => void, clock: import('./types.mjs').Clock, startedAt?: number }} opts
 * @returns {import('./types.mjs').Logger & { lines: string[] }}
 */
export function createLogger({ write = (l) => process.stdout.write(`${l}\n`), clock, startedAt }) {
  const t0 = startedAt ?? clock.now();
  /** @type {string[]} */
  const lines = [];
  /** @param {string} prefix @param {string} msg */
  const emit = (prefix, msg) => {
    const s = ((clock.now() - t0) / 1000).toFixed(1).padStart(6);
    const line = `[+${s}s] ${prefix}${msg}`;
    lines.push(line);
    write(line);
  };
  return {
    lines,
    info: (m) => emit('', m),
    warn: (m) => emit('WARN ', m),
    progress: (m) => emit('', m),
  };
}

/** @param {number} ms */
export function fmtMs(ms) {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
