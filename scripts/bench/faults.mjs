// The benchmark's figures under faults (issue 11, item 3), measured through the one fault proxy
// (scripts/lib/fault-proxy.mjs) in front of the emulator, with the runner's default retry settings:
//   giveUp     how long a call that is always throttled takes to fail: every DescribeTaskDefinition (the first
//              calls of the task-definitions step) answers ThrottlingException; per call, the time from its first
//              attempt to the reply of its last (then the SDK raises the error), the longest. Goal: GIVE_UP_GOAL_MS.
//   throttled  the rollout's wall time with 30 % of ECS and ELBv2 calls throttled (seeded), against the same
//              work without faults. Goal: at most max(3x fault-free, fault-free + 5 s).
// Pure helpers (goals and verdicts) are exported for the unit test.

export const GIVE_UP_GOAL_MS = 60_000;
export const THROTTLE_SHARE = 0.3;
export const THROTTLE_SEEDS = [1, 2, 3];

/** Wall-time limit under 30 % throttling. @param {number} faultFreeMs */
export const throttledGoalMs = (faultFreeMs) => Math.max(3 * faultFreeMs, faultFreeMs + 5000);

/**
 * @typedef {object} RunnerRun
 * @property {number} code      the runner's exit code
 * @property {number} wallMs
 * @property {any} report
 */

/**
 * @typedef {object} FaultFigures
 * @property {{ ms: number, attempts: number, calls: number, code: number, goalMs: number, met: boolean }} giveUp
 * @property {{ faultFreeMs: number, runs: { seed: number, ms: number, throttled: number, calls: number, code: number }[], worstMs: number, goalMs: number, met: boolean }} throttled
 */

/**
 * @param {{ proxy: import('../lib/fault-proxy.mjs').FaultProxy, faultFreeMs: number,
 *   runner: (release: string) => Promise<RunnerRun>, say: (m: string) => void }} o
 *   runner: one rollout of a new release (the same work as the fault-free run), exit code not checked
 * @returns {Promise<FaultFigures>}
 */
export async function measureFaults({ proxy, faultFreeMs, runner, say }) {
  say('give-up time: every DescribeTaskDefinition throttled...');
  proxy.setRules([{ name: 'always-throttled', service: 'ecs', operation: 'DescribeTaskDefinition', fault: { kind: 'throttle' } }]);
  proxy.take();
  const g = await runner('bench-give-up');
  const gCalls = proxy.take().calls;
  // per call (one request body): from its first attempt to the reply of its last, when the SDK raises the error
  /** @type {Map<string, import('../lib/fault-proxy.mjs').Call[]>} */
  const byCall = new Map();
  for (const c of gCalls.filter((x) => x.fault === 'always-throttled')) byCall.set(c.body, [...(byCall.get(c.body) ?? []), c]);
  const spans = [...byCall.values()].map((a) => ({ ms: (a[a.length - 1].repliedAt ?? a[a.length - 1].at) - a[0].at, attempts: a.length }));
  const giveUpMs = spans.length ? Math.max(...spans.map((x) => x.ms)) : NaN;
  const giveUp = {
    ms: giveUpMs, attempts: spans.length ? Math.max(...spans.map((x) => x.attempts)) : 0, calls: spans.length, code: g.code,
    goalMs: GIVE_UP_GOAL_MS, met: g.code !== 0 && giveUpMs <= GIVE_UP_GOAL_MS,
  };

  /** @type {FaultFigures['throttled']['runs']} */
  const runs = [];
  for (const seed of THROTTLE_SEEDS) {
    say(`rollout with ${THROTTLE_SHARE * 100} % of ECS and ELBv2 calls throttled (seed ${seed})...`);
    proxy.setRules([{ name: 'throttled', service: ['ecs', 'elasticloadbalancing'], probability: THROTTLE_SHARE, fault: { kind: 'throttle' } }]);
    proxy.reseed(seed);
    proxy.take();
    const r = await runner(`bench-throttled-${seed}`);
    const calls = proxy.take().calls;
    runs.push({ seed, ms: r.wallMs, throttled: calls.filter((c) => c.fault === 'throttled').length, calls: calls.length, code: r.code });
  }
  proxy.setRules([]);
  const worstMs = Math.max(...runs.map((r) => r.ms));
  const goalMs = throttledGoalMs(faultFreeMs);
  return {
    giveUp,
    throttled: { faultFreeMs, runs, worstMs, goalMs, met: runs.every((r) => r.code === 0) && worstMs <= goalMs },
  };
}

/**
 * The figures as Markdown table rows, goal and verdict beside each.
 * @param {FaultFigures} f @param {(ms: number) => string} fmt
 * @returns {string}
 */
export function formatFaults(f, fmt) {
  const verdict = (/** @type {boolean} */ met) => (met ? 'MET' : 'NOT MET');
  const t = f.throttled;
  return [
    '| figure | measured | goal | verdict |',
    '| --- | --- | --- | --- |',
    `| a call that is always throttled (DescribeTaskDefinition), default retries | fails after ${fmt(f.giveUp.ms)} and ${f.giveUp.attempts} attempts (the longest of ${f.giveUp.calls} such call(s)); runner exit ${f.giveUp.code} | <= ${fmt(f.giveUp.goalMs)} | ${verdict(f.giveUp.met)} |`,
    `| rollout, ${THROTTLE_SHARE * 100} % of ECS and ELBv2 calls throttled (seeds ${t.runs.map((r) => r.seed).join(', ')}) | ${t.runs.map((r) => `${fmt(r.ms)} (${r.throttled}/${r.calls} throttled${r.code ? `, exit ${r.code}` : ''})`).join('; ')}; fault-free ${fmt(t.faultFreeMs)} | <= max(3x, +5 s) = ${fmt(t.goalMs)} | ${verdict(t.met)} |`,
  ].join('\n');
}
