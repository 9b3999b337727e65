// What the target environment can answer. Real AWS answers everything; the local emulator (moto) runs no
// containers and routes no HTTP through its load balancer. A check that needs a missing capability is SKIPPED
// with the gap's reason, never passed. The switch is the runner's (`ctx.capabilities`, runner/lib/capabilities.mjs);
// without it, the boolean `ctx.options.emulator` selects the emulator set below.

/** @typedef {'albHttp' | 'targetHealth' | 'containerExit' | 'containerLogs' | 'runningTasks' | 'stoppedTasks'} Capability */

/** Why the emulator lacks each capability (used when the runner's switch gives no reason of its own). */
/** @type {Readonly<Record<Capability, string>>} */
export const CAPABILITY_GAPS = Object.freeze({
  albHttp: 'emulator: no container runs behind the load balancer, so HTTP through the ALB cannot be checked',
  targetHealth: 'emulator: no task registers with the ALB target groups, so target health cannot be checked',
  containerExit: 'emulator: the container never runs; the emulator reports exit code 0 for every stopped task',
  containerLogs: 'emulator: the container never runs, so it writes no CloudWatch log lines',
  runningTasks: 'emulator: containers never run; runningCount is copied from desiredCount, so running == desired proves nothing',
  stoppedTasks: 'emulator: service tasks are never started or stopped, so stopped-task errors cannot be collected',
});

/** The runner's gap names (runner/lib/capabilities.mjs) for each capability. */
const RUNNER_GAP = /** @type {Readonly<Record<Capability, string>>} */ ({
  albHttp: 'alb-http',
  targetHealth: 'target-health',
  containerExit: 'container-exit-code',
  containerLogs: 'container-logs',
  runningTasks: 'running-tasks',
  stoppedTasks: 'stopped-tasks',
});

export const CAPABILITY_NAMES = /** @type {Capability[]} */ (Object.keys(CAPABILITY_GAPS));

/**
 * @typedef {object} Capabilities
 * @property {string} source                          where the set came from
 * @property {boolean} emulator
 * @property {Record<Capability, string | null>} gaps  null: available; string: why not
 */

/** @param {boolean} emulator @param {string} source @returns {Capabilities} */
export function capabilitySet(emulator, source) {
  const gaps = /** @type {Record<Capability, string | null>} */ ({});
  for (const c of CAPABILITY_NAMES) gaps[c] = emulator ? CAPABILITY_GAPS[c] : null;
  return { source, emulator, gaps };
}

/**
 * Resolve the capability set from the StepContext.
 * - `ctx.capabilities` from runner/lib/capabilities.mjs (`{ emulator, source, lacks(gap), reason(gap) }`): each
 *   capability maps to the runner's gap name; HTTP through the ALB is unavailable whenever `emulator` is on, even
 *   if the runner's list has no `alb-http` entry.
 * - `ctx.capabilities` as `{ emulator?, gaps?: { name: reason|null } }` (tests, other callers).
 * - else `ctx.options.emulator` (boolean, default false).
 * @param {any} ctx @returns {Capabilities}
 */
export function resolveCapabilities(ctx) {
  const c = ctx?.capabilities;
  if (c && typeof c.lacks === 'function') {
    const emulator = Boolean(c.emulator);
    const set = capabilitySet(false, String(c.source ?? 'runner'));
    set.emulator = emulator;
    for (const name of CAPABILITY_NAMES) {
      const gap = RUNNER_GAP[name];
      if (c.lacks(gap)) set.gaps[name] = (typeof c.reason === 'function' && c.reason(gap)) || CAPABILITY_GAPS[name];
      else if (name === 'albHttp' && emulator) set.gaps[name] = CAPABILITY_GAPS.albHttp;
    }
    return set;
  }
  if (c && typeof c === 'object') {
    if (c.emulator !== undefined && typeof c.emulator !== 'boolean') throw new TypeError(`capabilities.emulator: must be a boolean, got ${JSON.stringify(c.emulator)}`);
    const set = capabilitySet(Boolean(c.emulator), String(c.source ?? 'capabilities'));
    for (const [name, why] of Object.entries(c.gaps ?? {})) {
      if (!CAPABILITY_NAMES.includes(/** @type {Capability} */ (name))) throw new TypeError(`capabilities.gaps.${name}: unknown capability (known: ${CAPABILITY_NAMES.join(', ')})`);
      if (why !== null && typeof why !== 'string') throw new TypeError(`capabilities.gaps.${name}: must be a reason string or null, got ${JSON.stringify(why)}`);
      set.gaps[/** @type {Capability} */ (name)] = why;
    }
    return set;
  }
  const emulator = ctx?.options?.emulator ?? false;
  if (typeof emulator !== 'boolean') throw new TypeError(`options.emulator: must be a boolean, got ${JSON.stringify(emulator)}`);
  return capabilitySet(emulator, emulator ? 'options.emulator' : 'real AWS');
}

/**
 * The skip reason for a check that needs `needs` under `caps`, or null when every capability is there.
 * @param {Capabilities} caps @param {Capability[]} needs @returns {string | null}
 */
export function missingCapability(caps, needs) {
  for (const need of needs) if (caps.gaps[need]) return `not checkable here: ${caps.gaps[need]}`;
  return null;
}
