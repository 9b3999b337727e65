// What the target environment can answer, as the smoke checks ask it. Real AWS answers everything; the local
// emulator (moto) runs no containers and routes no HTTP through its load balancer. A check names the gaps of
// lib/emulator-gaps.json (`checks`) it depends on; under the runner's Capabilities (runner/lib/emulator.mjs) a
// check that needs a missing one is SKIPPED with that gap's reason, never passed. Nothing here restates a reason.

/** @typedef {import('../lib/emulator.mjs').Gap} Gap */

/**
 * The skip reason for a check that needs `needs` under `caps`, or null when every one is there.
 * @param {import('../lib/emulator.mjs').Capabilities} caps @param {readonly Gap[]} needs @returns {string | null}
 */
export function missingCapability(caps, needs) {
  for (const need of needs) if (caps.lacks(need)) return `not checkable here: ${caps.reason(need)}`;
  return null;
}
