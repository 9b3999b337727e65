// Injectable side effects: clock/sleep, shell exec, progress printer, and the throttling-aware AWS send.
import { InterruptedError } from './errors.mjs';

/** @returns {import('./types.mjs').Clock} */
export function systemClock() {
  return {
    now: () => Date.now(),
    sleep: (ms, signal) =>
      new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(new InterruptedError());
        const onAbort = () => {
          clearTimeout(t);
          reject(new InterruptedError());
        };
        const t = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, ms);
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
  };
}

/**
 * Shell runner on top of zx: arguments are passed as an argv array (zx quotes each one), never through a
 * shell string; a non-zero exit is returned, not thrown. `opts.input` is written to the command's stdin (how
 * secrets such as a registry password reach a command: never in argv); `opts.signal` kills it on abort.
 * The returned function carries `stdin = true` (runner/images/exec.mjs relies on it).
 * @param {{ $?: any }} [deps] zx `$` (tests)
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

const THROTTLING = new Set([
  'ThrottlingException', 'Throttling', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded',
  'RequestThrottled', 'RequestThrottledException', 'SlowDown', 'ProvisionedThroughputExceededException',
]);

/** @param {unknown} e */
export function isThrottling(e) {
  const err = /** @type {any} */ (e);
  return Boolean(err) && (THROTTLING.has(err.name) || THROTTLING.has(err.Code) || err.$metadata?.httpStatusCode === 429);
}

/**
 * Send one AWS command; throttling is retried with exponential backoff on top of the SDK's own adaptive
 * retry (which is bypassed when a test stubs `send`). Other errors propagate.
 * @template T
 * @param {{ clock: import('./types.mjs').Clock, signal?: AbortSignal, log?: import('./types.mjs').Logger }} ctx
 * @param {{ send: (command: any, options?: any) => Promise<any> }} client
 * @param {any} command
 * @param {{ attempts?: number, baseMs?: number, maxMs?: number }} [opts]
 * @returns {Promise<any>}
 */
export async function send(ctx, client, command, opts = {}) {
  const attempts = opts.attempts ?? 8;
  const baseMs = opts.baseMs ?? 250;
  const maxMs = opts.maxMs ?? 8000;
  for (let i = 0; ; i++) {
    if (ctx.signal?.aborted) throw new InterruptedError();
    try {
      return await client.send(command, ctx.signal ? { abortSignal: ctx.signal } : undefined);
    } catch (e) {
      if (ctx.signal?.aborted) throw new InterruptedError();
      if (!isThrottling(e) || i + 1 >= attempts) throw e;
      const wait = Math.min(maxMs, baseMs * 2 ** i);
      ctx.log?.warn(`${command.constructor?.name ?? 'AWS call'} throttled (${/** @type {Error} */ (e).name}); retry ${i + 1}/${attempts - 1} in ${wait} ms`);
      await ctx.clock.sleep(wait, ctx.signal);
    }
  }
}

/** @param {number} ms */
export function fmtMs(ms) {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * @template T
 * @param {T[]} list @param {number} size
 * @returns {T[][]}
 */
export function chunks(list, size) {
  /** @type {T[][]} */
  const out = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
