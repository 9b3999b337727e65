// The one poll-until-deadline loop: call `probe` until it gives a value, sleeping `intervalMs` between calls on
// the injected clock (abortable: the clock's sleep rejects with InterruptedError), and hand over to `onTimeout`
// once `timeoutMs` has passed since the first call. The deadline is checked after each probe, so a probe that
// succeeds on the last call still wins.

/**
 * @template T
 * @typedef {object} PollOptions
 * @property {import('../lib/types.mjs').Clock} clock
 * @property {AbortSignal} [signal]
 * @property {number} intervalMs
 * @property {number} timeoutMs
 * @property {() => T | Promise<T>} onTimeout the result (or the error, thrown) when time is up
 */

/**
 * @template T
 * @param {PollOptions<T>} opts
 * @param {() => Promise<T | undefined>} probe `undefined`: not yet; any other value (null included): done
 * @returns {Promise<T>}
 */
export async function poll(opts, probe) {
  const start = opts.clock.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (opts.clock.now() - start >= opts.timeoutMs) return opts.onTimeout();
    await opts.clock.sleep(opts.intervalMs, opts.signal);
  }
}
