// Builds the smoke suite's view of a rollout from the runner's StepContext (docs/contract.md section 4): the
// settings validated at startup (ctx.smoke), the runner's capabilities, its parsed outputs and catalog
// (camelCase, lib/config/outputs.cjs), the release start, its clock, and a redacting logger.
import { describeServices as describeEcsServices, primaryDeployment } from '../aws/ecs.mjs';
import { createRedactor } from './redact.mjs';
import { skippedServiceReasons } from '../lib/plan.mjs';
import { systemClock } from '../lib/runtime.mjs';
import { InputError } from '../lib/errors.mjs';

/**
 * A service as the smoke checks see it: the catalog entry the stack wrote (with its AWS identifiers) and
 * whether the rollout plan starts it.
 * @typedef {import('../lib/outputs.mjs').CatalogEntry & {
 *   rolledOut: boolean,
 *   notRolledOutReason: string | null,
 * }} SmokeService  rolledOut: the plan starts it (enabled, not skipped as "not needed"); notRolledOutReason: why not
 */

/**
 * @typedef {object} SmokeContext
 * @property {import('../../lib/config/index.cjs').SmokeSettings} settings
 * @property {import('../lib/emulator.mjs').Capabilities} caps
 * @property {import('./redact.mjs').Redactor} redact
 * @property {import('../lib/outputs.mjs').Outputs} outputs
 * @property {SmokeService[]} services
 * @property {import('../aws/clients.mjs').AwsClients} aws
 * @property {import('../lib/types.mjs').RunState} state
 * @property {string} release
 * @property {string} cluster
 * @property {Date | null} since          explicit release start, when the runner knows it
 * @property {Map<string, Date>} deployedAt  per service: creation of its PRIMARY deployment (fallback for since)
 * @property {(msg: string) => void} log
 * @property {AbortSignal | undefined} signal
 * @property {import('../lib/types.mjs').Clock} clock
 * @property {Promise<{ username: string, password: string }>} [smokeUser]  credentials, once read (login check)
 */

/**
 * Mark the services the rollout plan does not start: the plan's `skippedServices` of its tier steps when the
 * runner passes its plan (ctx.plan), else the same rule the plan uses (runner/lib/plan.mjs skippedServiceReasons).
 * @param {import('../lib/outputs.mjs').CatalogEntry[]} services @param {import('../lib/plan.mjs').Plan | undefined} plan
 * @returns {SmokeService[]}
 */
export function markRolledOut(services, plan) {
  const tierSteps = plan ? plan.steps.filter((st) => st.kind === 'tier') : [];
  /** @type {Map<string, string>} */
  const skipped = tierSteps.length
    ? new Map(tierSteps.flatMap((st) => (st.skippedServices ?? []).map((k) => /** @type {[string, string]} */ ([k.name, k.reason]))))
    : skippedServiceReasons(services);
  return services.map((s) => {
    const reason = skipped.get(s.name) ?? (s.enabled ? null : `disabled: ${s.disabledReason ?? 'no reason given'}`);
    return { ...s, rolledOut: reason === null, notRolledOutReason: reason };
  });
}

/** @param {string | undefined} v @param {string} what */
function toDate(v, what) {
  if (v === undefined || v === null) return null;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new InputError(`${what}: not a valid time, got ${JSON.stringify(v)}`);
  return d;
}

/**
 * What the suite reads from the runner's StepContext (runner/lib/types.mjs); a test builds the same fields.
 * @typedef {Pick<import('../lib/types.mjs').StepContext, 'outputs' | 'catalog' | 'smoke' | 'capabilities' | 'aws' | 'release'>
 *   & Partial<Pick<import('../lib/types.mjs').StepContext, 'plan' | 'state' | 'releaseStartedAt' | 'signal' | 'clock'>>
 *   & { log: Pick<import('../lib/types.mjs').Logger, 'info'>, redact?: import('./redact.mjs').Redactor }} SmokeStepInput
 */

/**
 * @param {SmokeStepInput} ctx
 * @returns {SmokeContext}
 */
export function createSmokeContext(ctx) {
  const redact = ctx.redact ?? createRedactor();
  return {
    settings: ctx.smoke,
    caps: ctx.capabilities,
    redact,
    outputs: ctx.outputs,
    services: markRolledOut(ctx.catalog, ctx.plan),
    aws: ctx.aws,
    state: ctx.state ?? { halfDone: [] },
    release: String(ctx.release ?? ''),
    cluster: ctx.outputs.clusterName,
    since: toDate(ctx.releaseStartedAt, 'release start'),
    deployedAt: new Map(),
    log: (msg) => ctx.log.info(redact.text(msg)),
    signal: ctx.signal,
    clock: ctx.clock ?? systemClock(),
  };
}

/**
 * DescribeServices (runner/aws/ecs.mjs, batched) for catalog services. Returns the ECS services by catalog name
 * and the names ECS reported as missing (or INACTIVE); records each PRIMARY deployment's creation (deployedAt).
 * @param {SmokeContext} sctx @param {SmokeService[]} services @param {AbortSignal} [signal]
 * @returns {Promise<{ found: Map<string, import('../aws/ecs.mjs').EcsService>, missing: string[] }>}
 */
export async function describeServices(sctx, services, signal) {
  /** @type {Map<string, import('../aws/ecs.mjs').EcsService>} */
  const found = new Map();
  const named = services.filter((s) => typeof s.ecsServiceName === 'string');
  const byEcsName = new Map(named.map((s) => [s.ecsServiceName, s]));
  const ecsNames = named.map((s) => /** @type {string} */ (s.ecsServiceName));
  const res = await describeEcsServices({ signal }, sctx.aws.ecs, sctx.cluster, ecsNames);
  for (const svc of res.services) {
    const s = byEcsName.get(svc.serviceName ?? null) ?? services.find((x) => svc.serviceArn?.endsWith(`/${x.ecsServiceName}`));
    if (s && svc.status !== 'INACTIVE') found.set(s.name, svc);
  }
  const missing = services.filter((s) => !found.has(s.name)).map((s) => s.name);
  for (const [name, svc] of found) {
    const primary = primaryDeployment(svc);
    if (primary?.createdAt && !sctx.deployedAt.has(name)) sctx.deployedAt.set(name, new Date(primary.createdAt));
  }
  return { found, missing };
}

/**
 * The time "since the release began" for one service: the runner's release start, or its PRIMARY deployment's
 * creation when that is older (a service this run left unchanged, e.g. on a rerun: what it wrote since its
 * current deployment counts, or a quiet worker would fail every rerun); the deployment alone when the release
 * start is unknown.
 */
export function sinceFor(/** @type {SmokeContext} */ sctx, /** @type {string} */ name) {
  const deployed = sctx.deployedAt.get(name) ?? null;
  if (!sctx.since) return deployed;
  return deployed && deployed.getTime() < sctx.since.getTime() ? deployed : sctx.since;
}
