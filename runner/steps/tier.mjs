// Step `tier:<name>`: bring every enabled service of one tier to the release, wave by wave. A wave's services
// are updated in parallel (UpdateService: release task definition + catalog desiredCount, no forced new
// deployment) and then watched with batched DescribeServices (<= 10 per call) on a fixed poll until each is
// done: primary deployment on the new revision, rolloutState COMPLETED, running == desired, no other
// deployment, healthy targets where it has a target group. Services already at the revision and stable are
// left alone (reruns). Circuit-breaker rollback, a FAILED rollout, tasks that keep failing or a timeout fail
// the step with the service's last events and stopped-task reasons. Each UpdateService is in the half-done list
// from before it is sent (runner/aws/send.mjs `mutate`) until the service is stable; an AWS error while waiting
// fails the step naming the operation and the services switched and left deploying.
import { UpdateServiceCommand, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { taskDefinitionChanges, formatChanges } from '../lib/td-diff.mjs';
import { DescribeMountTargetsCommand } from '@aws-sdk/client-efs';
import { StepFailure, InterruptedError, operationOf } from '../lib/errors.mjs';
import { fmtMs } from '../lib/runtime.mjs';
import { send, mutate, forget, errorLine } from '../aws/send.mjs';
import { describeServices as describeEcsServices, stoppedTasks, primaryDeployment as primaryOf } from '../aws/ecs.mjs';
import { poll } from '../aws/poll.mjs';
import { settledAt, rolloutProgress, stoppedTaskLines, shortTd, serviceLine, waitingLine } from '../aws/service-state.mjs';
import { resolveTaskDefinitions } from './task-definitions.mjs';
import { targetGroupHealth, healthReason } from '../aws/target-health.mjs';

/** @typedef {import('@aws-sdk/client-ecs').Service} EcsService */

const EVENTS_IN_FAILURE = 5;
const STOPPED_IN_FAILURE = 5;

/**
 * @typedef {object} Tracked
 * @property {string} name
 * @property {import('../lib/catalog.mjs').Service} entry
 * @property {string} ecsName
 * @property {string} target task definition ARN of the release
 * @property {number} desired
 * @property {import('../lib/types.mjs').ServiceResult} result
 * @property {number} startedMs
 * @property {string} lastLine
 * @property {EcsService | undefined} last last DescribeServices view
 * @property {string} [targetNote] last target health summary
 * @property {{ step: string, service?: string, what: string }} [half] its entry in ctx.state.halfDone while listed
 */

/** @param {import('../lib/types.mjs').StepContext} ctx @returns {Promise<import('../lib/types.mjs').StepResult>} */
export async function run(ctx) {
  const step = ctx.step;
  const waves = step.waves ?? [];
  const byName = new Map(ctx.catalog.map((s) => [s.name, s]));
  /** @type {Map<string, import('../lib/types.mjs').ServiceResult>} */
  const results = new Map();
  /** @type {import('../lib/types.mjs').Check[]} */
  const checks = [];
  for (const k of step.skippedServices ?? []) results.set(k.name, { name: k.name, status: 'skipped', reason: k.reason });
  const names = waves.flatMap((w) => w.services);
  if (names.length === 0) {
    return { status: 'skipped', reason: `no enabled service in tier ${step.tier}`, services: [...results.values()] };
  }

  // release revisions: from the task-definitions step, or looked up (never registered) when it did not run
  const missing = names.filter((n) => !ctx.state.taskDefinitions?.[n]);
  if (missing.length) {
    const fams = (ctx.plan.steps.find((s) => s.kind === 'task-definitions')?.families ?? []).filter((f) => missing.includes(f.service));
    await resolveTaskDefinitions(ctx, fams, { register: false });
    const still = names.filter((n) => !ctx.state.taskDefinitions?.[n]);
    if (still.length && !ctx.options.dryRun) {
      throw new StepFailure(`no task definition revision for release ${ctx.release} of ${still.join(', ')}: run the task-definitions step first`, { service: still[0] });
    }
  }

  /** @type {string[]} */
  const notes = [];
  for (const wave of waves) {
    for (const gate of wave.gates) {
      if (gate.kind !== 'efs') continue; // 'stable' gates hold: the previous wave finished
      const check = await efsGate(ctx, gate.fileSystemId, gate.services);
      if (!checks.some((c) => c.name === check.name)) checks.push(check);
    }
    const tracked = wave.services.map((name) => {
      const entry = /** @type {import('../lib/catalog.mjs').Service} */ (byName.get(name));
      /** @type {import('../lib/types.mjs').ServiceResult} */
      const result = {
        name, status: 'skipped', reason: null, taskDefinitionArn: ctx.state.taskDefinitions?.[name]?.arn ?? null,
        running: null, desired: entry.desiredCount, rolloutState: null,
      };
      results.set(name, result);
      /** @type {Tracked} */
      const t = {
        name, entry, ecsName: /** @type {string} */ (entry.ecsServiceName), target: result.taskDefinitionArn ?? '',
        desired: entry.desiredCount, result, startedMs: ctx.clock.now(), lastLine: '', last: undefined,
      };
      return t;
    });
    const current = await describeServices(ctx, tracked.map((t) => t.ecsName));
    /** @type {Tracked[]} */
    const toUpdate = [];
    for (const t of tracked) {
      const svc = /** @type {EcsService} */ (current.get(t.ecsName));
      t.last = svc;
      t.result.running = ctx.capabilities.lacks('running-tasks') ? null : svc.runningCount ?? null;
      t.result.rolloutState = ctx.capabilities.lacks('ecs-deployments') ? null : primaryOf(svc)?.rolloutState ?? null;
      if (t.target && settledAt(svc, release(ctx, t))) {
        Object.assign(t.result, { status: 'unchanged', reason: `already at ${shortTd(t.target)} with ${t.desired} desired${ctx.capabilities.lacks('ecs-deployments') ? '' : ', stable'}` });
        ctx.log.progress(`[${step.id}] ${t.name}: unchanged (${shortTd(t.target)})`);
      } else {
        toUpdate.push(t);
      }
    }
    if (ctx.options.dryRun) {
      for (const t of toUpdate) {
        Object.assign(t.result, { status: 'skipped', reason: `dry run: would update ${t.ecsName} from ${shortTd(svc0(t))} to ${t.target ? shortTd(t.target) : 'the release revision (not registered yet)'}, desired ${t.last?.desiredCount ?? '?'} -> ${t.desired}` });
        notes.push(`wave ${wave.index + 1}: ${t.result.reason}`);
        // what the new revision changes against the running one, as `diff` shows it (names only, no values)
        const changes = await dryRunChanges(ctx, t.name, svc0(t));
        if (changes.length) t.result.changes = changes;
      }
      for (const t of tracked.filter((x) => x.result.status === 'unchanged')) notes.push(`wave ${wave.index + 1}: ${t.name} ${t.result.reason}`);
      continue;
    }

    const startedAt = new Date(ctx.clock.now()).toISOString();
    // every UpdateService of the wave is settled before anything is decided: on a failure the others are no
    // longer in flight, and the message can name exactly which services were switched and which were not
    const settledUpdates = await Promise.allSettled(toUpdate.map(async (t) => {
      t.startedMs = ctx.clock.now();
      t.result.startedAt = startedAt;
      t.half = { step: step.id, service: t.name, what: `${t.ecsName} may have been updated to ${shortTd(t.target)}` };
      await mutate(ctx, ctx.aws.ecs, new UpdateServiceCommand({
        cluster: ctx.outputs.clusterName, service: t.ecsName, taskDefinition: t.target, desiredCount: t.desired, forceNewDeployment: false,
      }), { list: ctx.state.halfDone, record: t.half, applied: () => `${t.ecsName} was updated to ${shortTd(t.target)} but not yet stable` });
      ctx.log.progress(`[${step.id}] ${t.name}: update started -> ${shortTd(t.target)}, desired ${t.desired}`);
    }));
    const rejected = toUpdate.map((t, i) => ({ t, r: settledUpdates[i] })).filter((x) => x.r.status === 'rejected');
    if (rejected.length) {
      const interrupted = rejected.find((x) => /** @type {PromiseRejectedResult} */ (x.r).reason instanceof InterruptedError);
      if (interrupted) throw /** @type {PromiseRejectedResult} */ (interrupted.r).reason; // halfDone names the updated ones
      return updateFailure(ctx, toUpdate, settledUpdates, results, checks);
    }
    /** @type {{ service: string, message: string } | null} */
    let failure;
    try {
      failure = await waitStable(ctx, toUpdate, checks);
    } catch (e) {
      if (e instanceof InterruptedError) throw e;
      return waitFailure(ctx, toUpdate, e, results, checks);
    }
    if (failure) {
      return {
        status: 'failed', reason: failure.message, service: failure.service,
        services: ordered(results, step), checks,
      };
    }
  }
  if (ctx.options.dryRun) {
    const all = ordered(results, step);
    const would = all.filter((r) => r.status === 'skipped' && r.reason?.startsWith('dry run: would update')).map((r) => r.name);
    const same = all.filter((r) => r.status === 'unchanged').length;
    const reason = would.length
      ? `dry run: ${would.length} service(s) would be updated (${would.join(', ')})${same ? `, ${same} already at the release` : ''}`
      : 'dry run: no service would change (every one is already at the release)';
    return { status: 'skipped', reason, services: all, checks, details: { notes } };
  }
  return { status: 'passed', services: ordered(results, step), checks };
}


/**
 * A dry run's changes of one service's release revision against the revision it runs (runner/lib/td-diff.mjs),
 * one line each; none when the task-definitions step did not work the release revision out.
 * @param {import('../lib/types.mjs').StepContext} ctx @param {string} name @param {string|undefined} runningArn
 * @returns {Promise<string[]>}
 */
async function dryRunChanges(ctx, name, runningArn) {
  const want = ctx.state.releaseRevisions?.[name];
  if (!want || !runningArn) return [];
  const { taskDefinition } = await send(ctx, ctx.aws.ecs, new DescribeTaskDefinitionCommand({ taskDefinition: runningArn }));
  if (!taskDefinition) return [];
  const changes = taskDefinitionChanges(taskDefinition, want.desired, want.container);
  return changes.length ? formatChanges(changes, '') : ['no field of the task definition changes'];
}

/**
 * Some UpdateService calls of a wave failed (all of them have settled): fail the step naming the services that
 * were switched to the release (left deploying), those that may have been (no verdict: they stay in
 * ctx.state.halfDone) and those AWS refused.
 * @param {import('../lib/types.mjs').StepContext} ctx @param {Tracked[]} toUpdate
 * @param {PromiseSettledResult<void>[]} outcomes same order as toUpdate
 * @param {Map<string, import('../lib/types.mjs').ServiceResult>} results @param {import('../lib/types.mjs').Check[]} checks
 * @returns {import('../lib/types.mjs').StepResult}
 */
function updateFailure(ctx, toUpdate, outcomes, results, checks) {
  const now = ctx.clock.now();
  /** @type {string[]} */ const updated = [];
  /** @type {string[]} */ const maybe = [];
  /** @type {string[]} */ const notUpdated = [];
  /** @type {string | undefined} */ let first;
  toUpdate.forEach((t, i) => {
    const o = outcomes[i];
    const end = { finishedAt: new Date(now).toISOString(), durationMs: now - t.startedMs };
    if (o.status === 'fulfilled') {
      updated.push(`${t.name} (-> ${shortTd(t.target)})`);
      Object.assign(t.result, { status: 'failed', reason: `updated to ${shortTd(t.target)} but not waited for: another UpdateService of the wave failed; left deploying`, ...end });
      return;
    }
    const why = o.reason instanceof StepFailure ? o.reason.message : errorLine(o.reason);
    first ??= t.name;
    if (t.half && ctx.state.halfDone.includes(/** @type {import('../lib/types.mjs').HalfDone} */ (t.half))) {
      maybe.push(`${t.name}: ${why}`);
      Object.assign(t.result, { status: 'failed', reason: `UpdateService failed without a verdict: ${why}; it may have been updated to ${shortTd(t.target)}`, ...end });
    } else {
      notUpdated.push(`${t.name}: ${why}`);
      Object.assign(t.result, { status: 'failed', reason: `UpdateService failed: ${why}`, ...end });
    }
  });
  const message = [
    `UpdateService failed for ${notUpdated.length + maybe.length} of ${toUpdate.length} service(s) of the wave`,
    ...(notUpdated.length ? [`not updated: ${notUpdated.join('; ')}`] : []),
    ...(maybe.length ? [`may have been updated (no verdict from AWS; left as they are): ${maybe.join('; ')}`] : []),
    `updated (left deploying to the release, not waited for): ${updated.length ? updated.join(', ') : 'none'}`,
  ].join('\n');
  return { status: 'failed', reason: message, service: first, operation: 'UpdateService', services: ordered(results, ctx.step), checks };
}

/**
 * An AWS call failed while the wave was being waited for (after the retries): fail the step naming the
 * operation and the services switched to the release and left deploying (they stay in ctx.state.halfDone).
 * @param {import('../lib/types.mjs').StepContext} ctx @param {Tracked[]} toUpdate @param {unknown} e
 * @param {Map<string, import('../lib/types.mjs').ServiceResult>} results @param {import('../lib/types.mjs').Check[]} checks
 * @returns {import('../lib/types.mjs').StepResult}
 */
function waitFailure(ctx, toUpdate, e, results, checks) {
  const now = ctx.clock.now();
  const operation = operationOf(e);
  const why = e instanceof StepFailure ? e.message : errorLine(e);
  const left = toUpdate.filter((t) => t.result.status !== 'passed');
  for (const t of left) {
    Object.assign(t.result, {
      status: 'failed', reason: `updated to ${shortTd(t.target)} but not waited for: ${operation ?? 'an AWS call'} failed (${why}); left deploying${t.lastLine ? ` (last seen: ${t.lastLine})` : ''}`,
      finishedAt: new Date(now).toISOString(), durationMs: now - t.startedMs,
    });
  }
  const message = [
    `${operation ?? 'an AWS call'} failed while waiting for the wave to become stable: ${why}`,
    `switched to the release and left deploying (not waited for): ${left.length ? left.map((t) => `${t.name} (-> ${shortTd(t.target)})`).join(', ') : 'none'}`,
  ].join('\n');
  return {
    status: 'failed', reason: message, ...(left.length === 1 ? { service: left[0].name } : {}),
    ...(operation ? { operation } : {}), services: ordered(results, ctx.step), checks,
  };
}

/** @param {Map<string, import('../lib/types.mjs').ServiceResult>} results @param {import('../lib/plan.mjs').PlanStep} step */
function ordered(results, step) {
  const order = [...(step.waves ?? []).flatMap((w) => w.services), ...(step.skippedServices ?? []).map((s) => s.name)];
  return order.filter((n) => results.has(n)).map((n) => /** @type {import('../lib/types.mjs').ServiceResult} */ (results.get(n)));
}

/** @param {Tracked} t */
const svc0 = (t) => t.last?.taskDefinition ?? '';

/**
 * Every named ECS service, by name; a missing one fails the step (the foundation stack creates them all).
 * @param {import('../lib/types.mjs').StepContext} ctx @param {string[]} names ECS service names
 * @returns {Promise<Map<string, EcsService>>}
 */
async function describeServices(ctx, names) {
  const res = await describeEcsServices(ctx, ctx.aws.ecs, ctx.outputs.clusterName, names);
  /** @type {Map<string, EcsService>} */
  const out = new Map(res.services.map((s) => [s.serviceName ?? '', s]));
  const missing = names.filter((n) => !out.has(n));
  if (missing.length) {
    const why = res.failures.map((f) => `${f.arn}: ${f.reason}`).join('; ');
    throw new StepFailure(`ECS service ${missing.join(', ')} not found in cluster ${ctx.outputs.clusterName}${why ? ` (${why})` : ''}; was the foundation stack applied?`, { service: missing[0], operation: 'DescribeServices' });
  }
  return out;
}

/**
 * Poll until every tracked service is done; returns the first failure, or null.
 * @param {import('../lib/types.mjs').StepContext} ctx @param {Tracked[]} list @param {import('../lib/types.mjs').Check[]} checks
 * @returns {Promise<{ service: string, message: string }|null>}
 */
async function waitStable(ctx, list, checks) {
  const pending = new Map(list.map((t) => [t.ecsName, t]));
  if (!pending.size) return null;
  const emu = ctx.capabilities;
  return poll({
    clock: ctx.clock, signal: ctx.signal, intervalMs: ctx.options.pollIntervalMs, timeoutMs: ctx.options.serviceTimeoutMs,
    heartbeat: (waited) => ctx.log.progress(waitingLine(ctx.step.id, waited, ctx.options.serviceTimeoutMs, [...pending.values()].map((t) => ({ name: t.name, line: t.lastLine })))),
    onTimeout: () => {
      const t = /** @type {Tracked} */ ([...pending.values()][0]);
      return fail(ctx, t, `not stable after ${fmtMs(ctx.options.serviceTimeoutMs)} (${t.lastLine})`, pending);
    },
  }, async () => {
    const described = await describeServices(ctx, [...pending.keys()]);
    for (const t of [...pending.values()]) {
      const svc = /** @type {EcsService} */ (described.get(t.ecsName));
      t.last = svc;
      const p = primaryOf(svc);
      t.result.running = emu.lacks('running-tasks') ? null : svc.runningCount ?? null;
      t.result.rolloutState = emu.lacks('ecs-deployments') ? null : p?.rolloutState ?? null;
      const line = serviceLine(svc, { desired: t.desired, deployments: !emu.lacks('ecs-deployments'), targetNote: t.targetNote });
      if (line !== t.lastLine) {
        t.lastLine = line;
        ctx.log.progress(`[${ctx.step.id}] ${t.name} ${fmtMs(ctx.clock.now() - t.startedMs)}: ${line}`);
      }
      const ev = rolloutProgress(svc, release(ctx, t));
      if (ev.fail) return fail(ctx, t, ev.fail, pending);
      if (!ev.done) continue;
      if (t.entry.targetGroupArn && !emu.lacks('target-health')) {
        const th = await targetHealth(ctx, t.entry.targetGroupArn, t.desired);
        t.targetNote = th.note;
        if (!th.healthy) continue;
        checks.push({ name: `${t.name}:targets`, status: 'passed', reason: null, evidence: th.note });
      } else if (t.entry.targetGroupArn) {
        checks.push({ name: `${t.name}:targets`, status: 'skipped', reason: emu.reason('target-health') });
      }
      if (emu.lacks('ecs-deployments')) {
        checks.push({ name: `${t.name}:rollout`, status: 'skipped', reason: emu.reason('ecs-deployments') });
      } else {
        checks.push({ name: `${t.name}:rollout`, status: 'passed', reason: null, evidence: `primary deployment ${p?.id ?? ''} on ${shortTd(t.target)} ${p?.rolloutState ?? ''}, no other deployment`.replace(/\s+/g, ' ').trim() });
      }
      if (emu.lacks('running-tasks')) {
        checks.push({ name: `${t.name}:running`, status: 'skipped', reason: emu.reason('running-tasks') });
      } else {
        checks.push({ name: `${t.name}:running`, status: 'passed', reason: null, evidence: `running ${svc.runningCount}/${t.desired}` });
      }
      const now = ctx.clock.now();
      Object.assign(t.result, {
        status: 'passed', reason: null, finishedAt: new Date(now).toISOString(), durationMs: now - t.startedMs,
      });
      ctx.log.progress(`[${ctx.step.id}] ${t.name}: stable after ${fmtMs(now - t.startedMs)}`);
      pending.delete(t.ecsName);
      forget(ctx.state.halfDone, t.half);
    }
    return pending.size ? undefined : null;
  });
}

/** The release as rolloutProgress/settledAt see it. @param {import('../lib/types.mjs').StepContext} ctx @param {Tracked} t */
const release = (ctx, t) => ({
  target: t.target, desired: t.desired, deployments: !ctx.capabilities.lacks('ecs-deployments'), maxFailedTasks: ctx.options.maxFailedTasks,
});

/**
 * @param {import('../lib/types.mjs').StepContext} ctx @param {string} tg @param {number} desired
 * @returns {Promise<{ healthy: boolean, note: string }>}
 */
async function targetHealth(ctx, tg, desired) {
  const { ok, healthy, bad } = await targetGroupHealth(ctx, ctx.aws.elbv2, tg, desired);
  const why = bad.map((d) => `${d.Target?.Id}:${d.Target?.Port} ${d.TargetHealth?.State}${healthReason(d)}`);
  return {
    healthy: ok,
    note: `${healthy.length}/${healthy.length + bad.length} healthy${why.length ? `; ${why.join('; ')}` : ''}`,
  };
}

/**
 * Build the failure message with the service's last events and its stopped tasks' reasons.
 * @param {import('../lib/types.mjs').StepContext} ctx @param {Tracked} t @param {string} why @param {Map<string, Tracked>} pending
 */
async function fail(ctx, t, why, pending) {
  const now = ctx.clock.now();
  Object.assign(t.result, { status: 'failed', reason: why, finishedAt: new Date(now).toISOString(), durationMs: now - t.startedMs });
  const parts = [`${t.name} (${t.ecsName}): ${why}`];
  const events = (t.last?.events ?? []).slice(0, EVENTS_IN_FAILURE).map((e) => `  ${e.createdAt ? new Date(e.createdAt).toISOString() : ''} ${e.message}`.trimEnd());
  if (events.length) parts.push(`last service events:\n${events.join('\n')}`);
  if (ctx.capabilities.lacks('stopped-tasks')) {
    parts.push(`stopped tasks: not collected (${ctx.capabilities.reason('stopped-tasks')})`);
  } else {
    try {
      const stopped = await stoppedReasons(ctx, t);
      parts.push(stopped.length ? `stopped tasks:\n${stopped.map((s) => `  ${s}`).join('\n')}` : 'stopped tasks: none');
    } catch (e) {
      if (e instanceof InterruptedError) throw e;
      parts.push(`stopped tasks: could not be listed (${/** @type {Error} */ (e).name}: ${/** @type {Error} */ (e).message})`);
    }
  }
  const others = [...pending.values()].filter((o) => o !== t);
  for (const o of others) Object.assign(o.result, { status: 'failed', reason: `not finished: ${t.name} failed first (${o.lastLine || 'no status yet'})` });
  if (others.length) parts.push(`still deploying when this failed (left as they are): ${others.map((o) => o.name).join(', ')}`);
  return { service: t.name, message: parts.join('\n') };
}

/** @param {import('../lib/types.mjs').StepContext} ctx @param {Tracked} t @returns {Promise<string[]>} */
async function stoppedReasons(ctx, t) {
  const tasks = await stoppedTasks(ctx, ctx.aws.ecs, ctx.outputs.clusterName, t.ecsName, { limit: 100 });
  return stoppedTaskLines(t.last, t.target, tasks, STOPPED_IN_FAILURE);
}

/**
 * The /data gate: every mount target of the file system `available`.
 * @param {import('../lib/types.mjs').StepContext} ctx @param {string} fileSystemId @param {string[]} services
 * @returns {Promise<import('../lib/types.mjs').Check>}
 */
async function efsGate(ctx, fileSystemId, services) {
  const start = ctx.clock.now();
  let line = '';
  return poll({
    clock: ctx.clock, signal: ctx.signal, intervalMs: ctx.options.pollIntervalMs, timeoutMs: ctx.options.serviceTimeoutMs,
    heartbeat: (waited) => ctx.log.progress(`[${ctx.step.id}] still waiting (${fmtMs(waited)} of ${fmtMs(ctx.options.serviceTimeoutMs)}) for /data: ${line || 'no mount targets yet'}; ${services.join(', ')} wait for it`),
    onTimeout: () => {
      throw new StepFailure(`EFS ${fileSystemId} mount targets not available after ${fmtMs(ctx.options.serviceTimeoutMs)} (${line}); ${services.join(', ')} not started`, { service: services[0] });
    },
  }, async () => {
    const res = await send(ctx, ctx.aws.efs, new DescribeMountTargetsCommand({ FileSystemId: fileSystemId }));
    const mts = res.MountTargets ?? [];
    const states = mts.map((m) => `${m.MountTargetId} ${m.LifeCycleState}`);
    const bad = mts.filter((m) => ['deleting', 'deleted', 'error'].includes(String(m.LifeCycleState)));
    if (bad.length) throw new StepFailure(`EFS ${fileSystemId} is not usable for ${services.join(', ')}: ${states.join(', ')}`, { service: services[0] });
    if (mts.length && mts.every((m) => m.LifeCycleState === 'available')) {
      ctx.state.efsReady = true;
      ctx.log.progress(`[${ctx.step.id}] /data ready: ${mts.length} mount target(s) of ${fileSystemId} available`);
      return { name: 'efs-mount-targets', status: 'passed', reason: null, evidence: `${mts.length} mount target(s) of ${fileSystemId} available`, durationMs: ctx.clock.now() - start };
    }
    const now = mts.length ? states.join(', ') : 'no mount targets yet';
    if (ctx.options.dryRun) {
      return { name: 'efs-mount-targets', status: 'skipped', reason: `dry run: not available yet (${now}); a rollout would wait for them`, durationMs: 0 };
    }
    if (now !== line) ctx.log.progress(`[${ctx.step.id}] waiting for /data (${fileSystemId}): ${now}`);
    line = now;
    return undefined;
  });
}
