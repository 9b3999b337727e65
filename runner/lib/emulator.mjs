// Emulator mode and its gaps. What a local AWS emulator (moto) cannot show is listed, with reasons, in
// lib/emulator-gaps.json (`checks`), the one list of emulator gaps (Terraform resources and drift are there too).
// In emulator mode every check named there is reported as `skipped` with its reason, never as passed.
import { createRequire } from 'node:module';

// Emulator mode is on with --emulator, or when AWS_ENDPOINT_URL points at a loopback host (127.0.0.1,
// localhost, ::1); --no-emulator forces real-AWS checks even then.
// The local data plane (`npm run local` with Docker: scripts/lib/dataplane) is no emulator gap: its tasks run,
// its load balancer routes and health-checks, its logs are real, so every check is performed. The harness says
// so with STAGING_ROLLOUT_LOCAL_DATAPLANE (a loopback AWS_ENDPOINT_URL then does not switch emulator mode on;
// --emulator still does). What one machine cannot prove even then is `dataplane.notProvable` of
// lib/emulator-gaps.json: the report names it once, never as a check.

/** @typedef {'ecs-deployments'|'running-tasks'|'target-health'|'container-exit-code'|'container-logs'|'stopped-tasks'|'alb-http'} Gap */

const require = createRequire(import.meta.url);
/** @typedef {{ type?: string, address?: string, reason: string }} TerraformGap a resource (type or address) moto cannot create */
/** @type {{ checks: Record<Gap, string>, gaps: TerraformGap[], dataplane: { notProvable: Record<string, string> } }} */
const gapList = require('../../lib/emulator-gaps.json');

/** @type {Readonly<Record<Gap, string>>} */
export const EMULATOR_GAPS = Object.freeze({ ...gapList.checks });

/** The Terraform resources the emulator cannot create (`gaps`); the harness leaves them and their dependents out. */
export const TERRAFORM_GAPS = Object.freeze(gapList.gaps.map((g) => Object.freeze({ ...g })));

/** What the local data plane cannot prove on one machine, by name (lib/emulator-gaps.json `dataplane`). */
export const NOT_PROVABLE_LOCALLY = Object.freeze({ ...gapList.dataplane.notProvable });

/** The variable by which the local data plane's harness tells the runner where it runs. */
export const DATAPLANE_ENV = 'STAGING_ROLLOUT_LOCAL_DATAPLANE';

/**
 * What the report says about a run on the local data plane (docs/contract.md section 7, `dataplane`): where the
 * mode came from, what one machine cannot prove, and the Terraform resources its emulator could not create.
 * @typedef {{ source: string, notProvable: { name: string, reason: string }[], terraformGaps: TerraformGap[] }} DataplaneNote
 */

/** @param {{ source: string }} capabilities @returns {DataplaneNote} */
export function dataplaneNote(capabilities) {
  return {
    source: capabilities.source,
    notProvable: Object.entries(NOT_PROVABLE_LOCALLY).map(([name, reason]) => ({ name, reason })),
    terraformGaps: TERRAFORM_GAPS.map((g) => ({ ...g })),
  };
}

/**
 * What the report says about the emulator (docs/contract.md section 7, `emulator`): where the mode came from and
 * the resources the emulator could not create, as lib/emulator-gaps.json lists them.
 * @typedef {{ source: string, terraformGaps: TerraformGap[] }} EmulatorNote
 */

/** @param {{ source: string }} capabilities @returns {EmulatorNote} */
export function emulatorNote(capabilities) {
  return { source: capabilities.source, terraformGaps: TERRAFORM_GAPS.map((g) => ({ ...g })) };
}

/**
 * @typedef {object} Capabilities
 * @property {boolean} emulator
 * @property {boolean} dataplane on the local data plane: every check performed, `NOT_PROVABLE_LOCALLY` named
 * @property {string} source why emulator mode is on or off
 * @property {(gap: Gap) => boolean} lacks true when the check named by `gap` cannot be made
 * @property {(gap: Gap) => string} reason the skip reason for `gap`
 */

/** @param {string|undefined} url */
function isLoopback(url) {
  if (!url) return false;
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}

/**
 * @param {{ emulator?: boolean|null, env?: Record<string, string|undefined> }} opts emulator: true/false from
 *   --emulator/--no-emulator, null/undefined to detect
 * @returns {Capabilities}
 */
export function detectCapabilities({ emulator, env = {} }) {
  let on = false;
  let source = 'real AWS (no --emulator flag, AWS_ENDPOINT_URL not a loopback address)';
  if (emulator === true) {
    on = true;
    source = '--emulator';
  } else if (env[DATAPLANE_ENV]) {
    source = `the local data plane (${DATAPLANE_ENV}=${env[DATAPLANE_ENV]}; AWS_ENDPOINT_URL=${env.AWS_ENDPOINT_URL ?? 'unset'})`;
  } else if (emulator === false) {
    source = '--no-emulator';
  } else if (isLoopback(env.AWS_ENDPOINT_URL)) {
    on = true;
    source = `AWS_ENDPOINT_URL=${env.AWS_ENDPOINT_URL} is a loopback address`;
  }
  return {
    emulator: on,
    dataplane: !on && Boolean(env[DATAPLANE_ENV]),
    source,
    lacks: (gap) => on && gap in EMULATOR_GAPS,
    reason: (gap) => EMULATOR_GAPS[gap],
  };
}
