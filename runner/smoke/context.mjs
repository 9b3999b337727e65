// Builds the smoke suite's view of a rollout from the runner's StepContext (docs/contract.md section 4):
// settings, capabilities, the merged service catalog, the release start, a redacting logger.
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { normalizeSmokeConfig, SmokeConfigError } from './settings.mjs';
import { resolveCapabilities } from './capabilities.mjs';
import { createRedactor } from './redact.mjs';
import { skippedServiceReasons } from '../lib/plan.mjs';

/**
 * A service as the smoke checks see it: catalog facts plus the stack's AWS identifiers.
 * @typedef {object} SmokeService
 * @property {string} name
 * @property {boolean} enabled
 * @property {string | null} disabledReason
 * @property {string} tier
 * @property {string} kind               web | worker | support
 * @property {number} desiredCount
 * @property {string | null} ecsServiceName
 * @property {string | null} taskFamily
 * @property {string | null} containerName
 * @property {string | null} targetGroupArn
 * @property {string | null} logGroupName
 * @property {string[]} dependsOn
 * @property {boolean} rolledOut          the rollout plan starts it (enabled and not skipped as "not needed")
 * @property {string | null} notRolledOutReason  why not: the plan's reason (`disabled: ...`, `not needed: ...`)
 */

/**
 * @typedef {object} SmokeContext
 * @property {import('./settings.mjs').SmokeSettings} settings
 * @property {import('./capabilities.mjs').SmokeCapabilities} caps
 * @property {import('./redact.mjs').Redactor} redact
 * @property {Record<string, any>} outputs
 * @property {SmokeService[]} services
 * @property {any} aws
 * @property {any} state
 * @property {string} release
 * @property {string} cluster
 * @property {Date | null} since          explicit release start, when the runner knows it
 * @property {Map<string, Date>} deployedAt  per service: creation of its PRIMARY deployment (fallback for since)
 * @property {(msg: string) => void} log
 * @property {AbortSignal | undefined} signal
 * @property {(ms: number, signal?: AbortSignal) => Promise<void>} sleep
 * @property {() => number} now
 * @property {Promise<{ username: string, password: string }>} [smokeUser]  credentials, once read (login check)
 */

/** Accept `terraform output -json` form ({x: {value}}) as well as plain outputs. */
export function plainOutputs(/** @type {Record<string, any>} */ outputs) {
  /** @type {Record<string, any>} */
  const out = {};
  for (const [k, v] of Object.entries(outputs ?? {})) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && 'value' in v && Object.keys(v).every((x) => ['value', 'type', 'sensitive'].includes(x)) ? v.value : v;
  }
  return out;
}

/** snake_case output name -> the runner's camelCase property (runner/lib/outputs.mjs). */
const CAMEL = /** @type {Record<string, string>} */ ({
  cluster_name: 'clusterName', cluster_arn: 'clusterArn', alb_url: 'albUrl', private_subnet_ids: 'privateSubnetIds',
  tasks_security_group_id: 'tasksSecurityGroupId', secret_arns: 'secretArns',
});

/**
 * The stack outputs in contract (snake_case) form, from whatever the runner passes: plain outputs,
 * `terraform output -json` form, or the runner's parsed object (camelCase properties plus `raw`).
 * @param {any} given @returns {Record<string, any>}
 */
export function smokeOutputs(given) {
  const o = given ?? {};
  const plain = plainOutputs(o.raw && typeof o.raw === 'object' ? o.raw : o);
  for (const [snake, camel] of Object.entries(CAMEL)) if (plain[snake] === undefined && o[camel] !== undefined) plain[snake] = o[camel];
  return plain;
}

/**
 * Merge the normalised catalog (camelCase, `ctx.catalog`) with the stack's `service_catalog` output
 * (snake_case, AWS identifiers). Catalog order first.
 * @param {any[] | undefined} catalog @param {Record<string, any> | undefined} serviceCatalog
 * @returns {SmokeService[]}
 */
export function mergeServices(catalog, serviceCatalog) {
  const list = catalog ?? [];
  const sc = serviceCatalog ?? {};
  const names = [...new Set([...list.map((s) => s.name), ...Object.keys(sc)])];
  return names.map((name) => {
    const c = list.find((s) => s.name === name) ?? {};
    const o = sc[name] ?? {};
    const pick = (/** @type {any[]} */ ...vals) => { for (const v of vals) if (v !== undefined) return v; return null; };
    return {
      name,
      enabled: pick(c.enabled, o.enabled, true) !== false,
      disabledReason: pick(c.disabledReason, o.disabled_reason),
      tier: pick(c.tier, o.tier),
      kind: pick(c.kind, o.kind),
      desiredCount: Number(pick(c.desiredCount, o.desired_count, 0)),
      ecsServiceName: pick(o.ecs_service_name, c.ecsServiceName),
      taskFamily: pick(o.task_family, c.taskFamily),
      containerName: pick(o.container_name, c.containerName, name),
      targetGroupArn: pick(o.target_group_arn, c.targetGroupArn),
      logGroupName: pick(o.log_group_name, c.logGroupName),
      dependsOn: /** @type {string[]} */ (pick(c.dependsOn, o.depends_on, [])),
      rolledOut: true,
      notRolledOutReason: null,
    };
  });
}

/**
 * Mark the services the rollout plan does not start: the plan's `skippedServices` of its tier steps when the
 * runner passes its plan (ctx.plan), else the same rule the plan uses (runner/lib/plan.mjs skippedServiceReasons).
 * @param {SmokeService[]} services @param {import('../lib/plan.mjs').Plan | undefined} plan
 * @returns {SmokeService[]}
 */
export function markRolledOut(services, plan) {
  const tierSteps = plan ? plan.steps.filter((st) => st.kind === 'tier') : [];
  /** @type {Map<string, string>} */
  const skipped = tierSteps.length
    ? new Map(tierSteps.flatMap((st) => (st.skippedServices ?? []).map((k) => [k.name, k.reason])))
    : skippedServiceReasons(services);
  return services.map((s) => {
    const reason = skipped.get(s.name) ?? (s.enabled ? null : `disabled: ${s.disabledReason ?? 'no reason given'}`);
    return { ...s, rolledOut: reason === null, notRolledOutReason: reason };
  });
}

/** @param {unknown} v @param {string} what */
function toDate(v, what) {
  if (v === undefined || v === null) return null;
  const d = v instanceof Date ? v : new Date(/** @type {string | number} */ (v));
  if (Number.isNaN(d.getTime())) throw new SmokeConfigError(`${what}: not a valid time, got ${JSON.stringify(v)}`);
  return d;
}

/**
 * The smoke settings: the ones the runner validated at startup (ctx.smoke); a context built without them (a test,
 * another caller) has its in-memory config's `smoke` validated here. The config file is never re-read.
 * @param {{ smoke?: import('./settings.mjs').SmokeSettings, config?: { smoke?: unknown }, configPath?: string }} ctx
 */
function smokeSettingsFrom(ctx) {
  return ctx.smoke ?? normalizeSmokeConfig(ctx.config?.smoke, { source: ctx.configPath ?? 'config' });
}

/** Abortable sleep. */
export function sleep(/** @type {number} */ ms, /** @type {AbortSignal | undefined} */ signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(undefined); }, ms);
    const onAbort = () => { clearTimeout(t); reject(signal?.reason ?? new Error('aborted')); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * What the suite reads from the runner's StepContext (runner/lib/types.mjs); a test may build it by hand.
 * @typedef {object} SmokeStepInput
 * @property {unknown} outputs        the runner's Outputs, or plain / `terraform output -json` outputs
 * @property {import('../lib/outputs.mjs').CatalogEntry[]} [catalog]
 * @property {import('../lib/plan.mjs').Plan} [plan]
 * @property {import('./settings.mjs').SmokeSettings} [smoke] validated at startup by the runner
 * @property {{ smoke?: unknown }} [config]
 * @property {string} [configPath]
 * @property {unknown} [capabilities]  runner/lib/emulator.mjs Capabilities (see capabilities.mjs resolveCapabilities)
 * @property {{ emulator?: boolean|null }} [options]
 * @property {Partial<import('../aws/clients.mjs').AwsClients>} [aws]
 * @property {import('../lib/types.mjs').RunState} [state]
 * @property {string} [release]
 * @property {string} [releaseStartedAt]
 * @property {Pick<import('../lib/types.mjs').Logger, 'info'>} log
 * @property {AbortSignal} [signal]
 * @property {import('../lib/types.mjs').Clock} [clock]
 * @property {import('./redact.mjs').Redactor} [redact]
 */

/**
 * @param {SmokeStepInput} ctx
 * @returns {SmokeContext}
 */
export function createSmokeContext(ctx) {
  const settings = smokeSettingsFrom(ctx);
  const caps = resolveCapabilities(ctx);
  const redact = ctx.redact ?? createRedactor();
  const outputs = smokeOutputs(ctx.outputs);
  const since = toDate(ctx.releaseStartedAt, 'release start');
  const { clock } = ctx;
  return {
    settings, caps, redact, outputs,
    services: markRolledOut(mergeServices(ctx.catalog, outputs.service_catalog), ctx.plan),
    aws: ctx.aws ?? {},
    state: ctx.state ?? {},
    release: String(ctx.release ?? ''),
    cluster: outputs.cluster_name ?? outputs.cluster_arn,
    since,
    deployedAt: new Map(),
    log: (msg) => ctx.log.info(redact.text(msg)),
    signal: ctx.signal,
    sleep: clock ? (ms, signal) => clock.sleep(ms, signal) : sleep,
    now: clock ? () => clock.now() : () => Date.now(),
  };
}

/**
 * DescribeServices in batches of 10 (the API limit). Returns ECS service objects by catalog name and the names
 * ECS reported as missing.
 * @param {SmokeContext} sctx @param {SmokeService[]} services @param {AbortSignal} [signal]
 */
export async function describeServices(sctx, services, signal) {
  /** @type {Map<string, any>} */
  const found = new Map();
  /** @type {string[]} */
  const missing = [];
  const byEcsName = new Map(services.map((s) => [s.ecsServiceName, s]));
  const ecsNames = services.map((s) => s.ecsServiceName).filter((n) => typeof n === 'string');
  for (let i = 0; i < ecsNames.length; i += 10) {
    const batch = ecsNames.slice(i, i + 10);
    const res = await sctx.aws.ecs.send(new DescribeServicesCommand({ cluster: sctx.cluster, services: batch }), { abortSignal: signal });
    for (const svc of res.services ?? []) {
      const s = byEcsName.get(svc.serviceName) ?? services.find((x) => svc.serviceArn?.endsWith(`/${x.ecsServiceName}`));
      if (s && svc.status !== 'INACTIVE') found.set(s.name, svc);
    }
  }
  for (const s of services) if (!found.has(s.name)) missing.push(s.name);
  for (const [name, svc] of found) {
    const primary = (svc.deployments ?? []).find((/** @type {import('@aws-sdk/client-ecs').Deployment} */ d) => d.status === 'PRIMARY');
    if (primary?.createdAt && !sctx.deployedAt.has(name)) sctx.deployedAt.set(name, new Date(primary.createdAt));
  }
  return { found, missing };
}

/** The time "since the release began" for one service: the runner's release start, else its PRIMARY deployment. */
export function sinceFor(/** @type {SmokeContext} */ sctx, /** @type {string} */ name) {
  return sctx.since ?? sctx.deployedAt.get(name) ?? null;
}
