// The one poll-until-deadline loop: call `probe` until it gives a value, sleeping `intervalMs` between calls on
// the injected clock (abortable: the clock's sleep rejects with InterruptedError), and hand over to `onTimeout`
// once `timeoutMs` has passed since the first call. The deadline is checked after each probe, so a probe that
// succeeds on the last call still wins. While it waits, `heartbeat` is said at least every HEARTBEAT_MS, so a long
// wait is never silent (what is awaited, for how long).

/** A wait says what it waits for at least this often. */
export const HEARTBEAT_MS = 30_000;

/**
 * @template T
 * @typedef {object} PollOptions
 * @property {import('../lib/types.mjs').Clock} clock
 * @property {AbortSignal} [signal]
 * @property {number} intervalMs
 * @property {number} timeoutMs
 * @property {() => T | Promise<T>} onTimeout the result (or the error, thrown) when time is up
 * @property {(waitedMs: number) => void} [heartbeat] said once HEARTBEAT_MS (or heartbeatMs) have passed since the
 *   start or the last heartbeat, while the probe says not yet
 * @property {number} [heartbeatMs] default HEARTBEAT_MS
 */

/**
 * @template T
 * @param {PollOptions<T>} opts
 * @param {() => Promise<T | undefined>} probe `undefined`: not yet; any other value (null included): done
 * @returns {Promise<T>}
 */
export async function poll(opts, probe) {
  const start = opts.clock.now();
  let beat = start;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    const now = opts.clock.now();
    if (now - start >= opts.timeoutMs) return opts.onTimeout();
    if (opts.heartbeat && now - beat >= (opts.heartbeatMs ?? HEARTBEAT_MS)) {
      beat = now;
      opts.heartbeat(now - start);
    }
    await opts.clock.sleep(opts.intervalMs, opts.signal);
  }
}
