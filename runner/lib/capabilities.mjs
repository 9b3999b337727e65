// The emulator capability switch: the ONE place that lists what a local AWS emulator (moto) cannot show.
// In emulator mode every check named here is reported as `skipped` with the reason below, never as passed.
// Emulator mode is on with --emulator, or when AWS_ENDPOINT_URL points at a loopback host (127.0.0.1,
// localhost, ::1); --no-emulator forces real-AWS checks even then.

/** @typedef {'ecs-deployments'|'running-tasks'|'target-health'|'container-exit-code'|'container-logs'|'stopped-tasks'|'alb-http'} Gap */

/** @type {Readonly<Record<Gap, string>>} */
export const EMULATOR_GAPS = Object.freeze({
  'ecs-deployments':
    'emulator: UpdateService does not start an ECS deployment (the primary deployment keeps its creation-time task definition and rolloutState), so rollout state and circuit-breaker rollback cannot be observed; only the service taskDefinition and desiredCount were checked',
  'running-tasks':
    'emulator: containers never run; runningCount is copied from desiredCount, so running == desired proves nothing',
  'target-health':
    'emulator: no task runs, so no target registers with the ALB target group and target health cannot be checked',
  'container-exit-code':
    'emulator: the container never runs; the emulator reports exit code 0 for every stopped task',
  'container-logs':
    'emulator: the container never runs, so it writes no CloudWatch log lines',
  'stopped-tasks':
    'emulator: service tasks are never started or stopped, so stopped-task reasons cannot be collected',
  'alb-http':
    'emulator: no container runs behind the load balancer, so HTTP through the ALB cannot be checked',
});

/**
 * @typedef {object} Capabilities
 * @property {boolean} emulator
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
  } else if (emulator === false) {
    source = '--no-emulator';
  } else if (isLoopback(env.AWS_ENDPOINT_URL)) {
    on = true;
    source = `AWS_ENDPOINT_URL=${env.AWS_ENDPOINT_URL} is a loopback address`;
  }
  return {
    emulator: on,
    source,
    lacks: (gap) => on && gap in EMULATOR_GAPS,
    reason: (gap) => EMULATOR_GAPS[gap],
  };
}
