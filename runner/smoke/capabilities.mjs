// What the target environment can answer, as the smoke checks ask it. Real AWS answers everything; the local
// emulator (moto) runs no containers and routes no HTTP through its load balancer. A check that needs a missing
// capability is SKIPPED with the gap's reason, never passed. The gaps and their reasons are the runner's one list,
// lib/emulator-gaps.json `checks` (read by runner/lib/emulator.mjs); nothing here restates a reason.

import { EMULATOR_GAPS } from '../lib/emulator.mjs';

/** @typedef {'albHttp' | 'targetHealth' | 'containerExit' | 'containerLogs' | 'runningTasks' | 'stoppedTasks'} Capability */

/**
 * The gap of lib/emulator-gaps.json (`checks`) behind each capability a check may name in `needs`.
 * (Until the checks name the gaps directly: runner/smoke/checks/* `needs`.)
 * @type {Readonly<Record<Capability, import('../lib/emulator.mjs').Gap>>}
 */
const GAP_OF = Object.freeze({
  albHttp: 'alb-http',
  targetHealth: 'target-health',
  containerExit: 'container-exit-code',
  containerLogs: 'container-logs',
  runningTasks: 'running-tasks',
  stoppedTasks: 'stopped-tasks',
});

export const CAPABILITY_NAMES = /** @type {Capability[]} */ (Object.keys(GAP_OF));

/** Why the emulator lacks each capability: the reasons of lib/emulator-gaps.json. */
/** @type {Readonly<Record<Capability, string>>} */
export const CAPABILITY_GAPS = Object.freeze(
  /** @type {Record<Capability, string>} */ (Object.fromEntries(CAPABILITY_NAMES.map((c) => [c, EMULATOR_GAPS[GAP_OF[c]]]))),
);

/**
 * @typedef {object} SmokeCapabilities
 * @property {string} source                          where the set came from
 * @property {boolean} emulator
 * @property {Record<Capability, string | null>} gaps  null: available; string: why not
 */

/** @param {boolean} emulator @param {string} source @returns {SmokeCapabilities} */
export function capabilitySet(emulator, source) {
  const gaps = /** @type {Record<Capability, string | null>} */ ({});
  for (const c of CAPABILITY_NAMES) gaps[c] = emulator ? CAPABILITY_GAPS[c] : null;
  return { source, emulator, gaps };
}

/**
 * Resolve the capability set from the StepContext.
 * - `ctx.capabilities` from runner/lib/emulator.mjs (`{ emulator, source, lacks(gap), reason(gap) }`), as the
 *   runner passes it.
 * - `ctx.capabilities` as `{ emulator?, gaps?: { name: reason|null } }` (tests, other callers).
 * - else `ctx.options.emulator` (boolean, default false).
 * @param {any} ctx @returns {SmokeCapabilities}
 */
export function resolveCapabilities(ctx) {
  const c = ctx?.capabilities;
  if (c && typeof c.lacks === 'function') {
    const set = capabilitySet(false, String(c.source ?? 'runner'));
    set.emulator = Boolean(c.emulator);
    for (const name of CAPABILITY_NAMES) if (c.lacks(GAP_OF[name])) set.gaps[name] = c.reason(GAP_OF[name]);
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
 * @param {SmokeCapabilities} caps @param {Capability[]} needs @returns {string | null}
 */
export function missingCapability(caps, needs) {
  for (const need of needs) if (caps.gaps[need]) return `not checkable here: ${caps.gaps[need]}`;
  return null;
}
