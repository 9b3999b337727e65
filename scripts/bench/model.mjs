// Modeled critical path of a real AWS rollout, from the stack's own settings.
// The emulator never runs containers, so its wall times say nothing about health checks or draining; this
// model says what those settings cost on real AWS. Every constant that is an assumption is named here.
import configLib from '../../lib/config/index.cjs';
import { tierWaveLevels } from '../../runner/lib/plan.mjs';

const { normalizeConfig, topologicalOrder } = configLib;

/** @typedef {{ intervalSeconds: number, healthyThreshold: number, deregistrationDelaySeconds: number }} HealthChecks */

/** AWS defaults for an ALB target group (what a hand-written stack gets when it sets nothing). */
export const AWS_DEFAULTS = Object.freeze({
  intervalSeconds: 30,
  healthyThreshold: 5,
  deregistrationDelaySeconds: 300,
});

/**
 * Assumptions of the model (seconds). Not measured here: no container runs on this machine.
 * @typedef {object} ModelAssumptions
 * @property {number} taskStartSeconds Fargate provisioning, image pull and container start of one task
 * @property {number} migrationRunSeconds how long `alembic upgrade head` itself runs
 * @property {number} runnerPollSeconds our runner's fixed poll interval
 * @property {number} waiterPollSeconds `aws ecs wait services-stable` poll delay (botocore's waiter: 15 s)
 * @property {number} taskWaiterPollSeconds `aws ecs wait tasks-stopped` poll delay (botocore's waiter: 6 s)
 */
export const DEFAULT_ASSUMPTIONS = Object.freeze({
  taskStartSeconds: 40,
  migrationRunSeconds: 20,
  runnerPollSeconds: 2,
  waiterPollSeconds: 15,
  taskWaiterPollSeconds: 6,
});

/**
 * Seconds until one service of a release is done: its new task started, (web) passed `healthyThreshold`
 * checks `intervalSeconds` apart, and (web, on a re-release) the old target drained.
 * @param {{ kind: string }} service
 * @param {HealthChecks} hc
 * @param {ModelAssumptions} a
 */
export function serviceSeconds(service, hc, a) {
  if (service.kind !== 'web') return a.taskStartSeconds;
  return a.taskStartSeconds + hc.healthyThreshold * hc.intervalSeconds + hc.deregistrationDelaySeconds;
}

/** Rounds a wait up to the next poll. @param {number} seconds @param {number} poll */
const polled = (seconds, poll) => Math.ceil(seconds / poll) * poll;

/**
 * @param {any} rawConfig environment config (the default is lib/config DEFAULT_CONFIG_PATH)
 * @param {Partial<ModelAssumptions>} [overrides]
 */
export function modelCriticalPath(rawConfig, overrides = {}) {
  const a = { ...DEFAULT_ASSUMPTIONS, ...overrides };
  const { config, services } = normalizeConfig(rawConfig, { source: 'config' });
  const enabled = services.filter((s) => s.enabled);
  const tuned = {
    intervalSeconds: config.loadBalancer.healthCheck.intervalSeconds,
    healthyThreshold: config.loadBalancer.healthCheck.healthyThreshold,
    deregistrationDelaySeconds: config.loadBalancer.deregistrationDelaySeconds,
  };
  const migration = a.taskStartSeconds + a.migrationRunSeconds;

  /**
   * Ours, as runner/lib/plan.mjs runs it: tiers in order; inside a tier, waves (a service goes in the wave after
   * its last same-tier dependency); a wave's services start together and the next wave starts when the whole
   * wave is done. A rollback (reverse): no migration, tiers in reverse order, reverse waves (buildRollbackPlan).
   * @param {HealthChecks} hc @param {boolean} [reverse]
   */
  const parallel = (hc, reverse = false) => {
    let total = reverse ? 0 : polled(migration, a.runnerPollSeconds);
    const tierRows = [];
    for (const tier of reverse ? [...config.tiers].reverse() : config.tiers) {
      const inTier = enabled.filter((s) => s.tier === tier);
      const wave = tierWaveLevels(topologicalOrder(inTier).map((n) => /** @type {typeof inTier[number]} */ (inTier.find((x) => x.name === n))), reverse);
      /** @type {number[]} */
      const waveSeconds = [];
      for (const s of inTier) {
        const w = /** @type {number} */ (wave.get(s.name));
        waveSeconds[w] = Math.max(waveSeconds[w] ?? 0, polled(serviceSeconds(s, hc, a), a.runnerPollSeconds));
      }
      const tierSeconds = waveSeconds.reduce((x, y) => x + y, 0);
      tierRows.push({ tier, seconds: tierSeconds, waves: waveSeconds });
      total += tierSeconds;
    }
    return { seconds: total, tiers: tierRows };
  };
  /** Baseline: every service one after another, each followed by the CLI waiter's polling. @param {HealthChecks} hc */
  const sequential = (hc) => {
    let total = polled(migration, a.taskWaiterPollSeconds);
    for (const s of enabled) total += polled(serviceSeconds(s, hc, a), a.waiterPollSeconds);
    return { seconds: total };
  };

  return {
    assumptions: a,
    services: enabled.length,
    tuned,
    awsDefaults: AWS_DEFAULTS,
    ours: parallel(tuned),
    oursWithAwsDefaults: parallel(AWS_DEFAULTS),
    rollback: parallel(tuned, true),
    baselineWithAwsDefaults: sequential(AWS_DEFAULTS),
    baselineTuned: sequential(tuned),
  };
}
