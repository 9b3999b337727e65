// How the runner's AWS clients retry (runner/aws/clients.mjs builds the SDK's strategy from these settings): the
// defaults and the longest a failing call waits, which the runner's flags and timeouts are checked against.

/**
 * Retry settings of every client. A call that keeps failing with a retryable error (throttling, a transient
 * network or 5xx error) is sent `maxAttempts` times in all, waiting before retry n a random time between half
 * and all of min(maxDelayMs, baseDelayMs * 2^(n-1)). Defaults: 8 attempts, 100 ms doubling to 8 s: at most
 * 12.7 s of waiting (about 9.5 s on average) before the error is raised; a short first delay keeps a rollout
 * under occasional throttling close to its fault-free time (npm run bench measures both).
 * @typedef {object} RetrySettings
 * @property {number} [maxAttempts] attempts in all, the first included (>= 1)
 * @property {number} [baseDelayMs]
 * @property {number} [maxDelayMs]
 * @property {() => number} [random] jitter source in [0, 1) (tests)
 */

export const RETRY_DEFAULTS = Object.freeze({ maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 8000 });

/**
 * The longest a call that keeps failing waits in backoff before it gives up (every delay at its maximum).
 * @param {RetrySettings} settings
 */
export function maxRetryWaitMs(settings) {
  const n = settings.maxAttempts ?? RETRY_DEFAULTS.maxAttempts;
  let total = 0;
  for (let attempt = 1; attempt < n; attempt++) total += backoffCapMs(attempt, settings);
  return total;
}

/** The longest delay before retry `attempt` (1 = the first retry). @param {number} attempt @param {RetrySettings} settings */
export function backoffCapMs(attempt, settings) {
  const base = settings.baseDelayMs ?? RETRY_DEFAULTS.baseDelayMs;
  return Math.min(settings.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs, base * 2 ** Math.max(0, attempt - 1));
}
