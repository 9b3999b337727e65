// ECS services on the local data plane: the scheduler's books (deployments, events), a deployment as ECS's
// rolling update (minimum healthy 100 %: the new revision's tasks start, the old ones stop once the new are
// healthy; with a container health check only a HEALTHY task counts), ELB and container health checks failing
// outside the grace period replace a task (counted failed), and the deployment circuit breaker (failed tasks up
// to the threshold: FAILED, with rollback to the last completed revision). deploymentView and patchService are
// the service as DescribeServices shows it.
import crypto from 'node:crypto';
import { hex, nowS } from './common.mjs';
import { healthChecked, taskHealth } from './health.mjs';

/**
 * @typedef {import('./common.mjs').EngineContext} EngineContext @typedef {import('./common.mjs').TaskRec} TaskRec
 * @typedef {import('./common.mjs').ServiceRec} ServiceRec @typedef {import('./common.mjs').Deployment} Deployment
 */

/** ECS's circuit breaker threshold: half the desired count, at least 3 and at most 200 (AWS documentation). */
export const failureThreshold = (/** @type {number} */ desired) => Math.min(200, Math.max(3, Math.ceil(desired * 0.5)));

/** a deployment whose tasks keep failing starts its next task no sooner than this after the last failure */
const RESTART_BACKOFF_MS = 1000;
/** the scheduler's pass */
export const TICK_MS = 200;

/**
 * @param {EngineContext} ctx
 * @param {{ newTask: ReturnType<typeof import('./tasks.mjs').taskLifecycle>['newTask'], stopTask: ReturnType<typeof import('./tasks.mjs').taskLifecycle>['stopTask'] }} parts
 */
export function serviceScheduler(ctx, { newTask, stopTask }) {
  const { o, tasks, services } = ctx;
  const stableMs = 1000 * (o.stableSeconds ?? 3);

  /** @param {any} s moto's Service @returns {ServiceRec} */
  const serviceFrom = (s) => {
    const name = String(s.serviceName);
    let rec = services.get(name);
    if (rec) return rec;
    const cb = s.deploymentConfiguration?.deploymentCircuitBreaker;
    rec = {
      name, arn: s.serviceArn, clusterArn: s.clusterArn, desiredCount: s.desiredCount ?? 0,
      deployments: [{
        id: `ecs-svc/${String(BigInt(`0x${hex(8)}`)).slice(0, 19)}`, status: 'PRIMARY', taskDefinition: s.taskDefinition,
        desiredCount: s.desiredCount ?? 0, failedTasks: 0, rolloutState: 'COMPLETED', rolloutStateReason: 'ECS deployment completed.',
        createdAt: Date.now(), updatedAt: Date.now(), lastFailureAt: 0,
      }],
      events: [],
      loadBalancers: (s.loadBalancers ?? []).filter((/** @type {any} */ l) => l.targetGroupArn),
      circuitBreaker: { enable: cb?.enable ?? true, rollback: cb?.rollback ?? true },
      graceMs: 1000 * (o.healthCheckGracePeriodSeconds?.[name] ?? s.healthCheckGracePeriodSeconds ?? 0),
      lastCompletedTd: s.taskDefinition, steady: true,
    };
    services.set(name, rec);
    return rec;
  };

  /** @param {ServiceRec} svc @param {string} message */
  const event = (svc, message) => {
    svc.events.unshift({ id: crypto.randomUUID(), createdAt: Date.now(), message: `(service ${svc.name}) ${message}` });
    svc.events.length = Math.min(svc.events.length, 100);
  };

  /** @param {ServiceRec} svc @param {string} td @param {number} desired @param {boolean} force */
  const deploy = (svc, td, desired, force) => {
    svc.desiredCount = desired;
    const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
    if (primary && primary.taskDefinition === td && !force) {
      if (primary.desiredCount !== desired) svc.steady = false;
      primary.desiredCount = desired;
      primary.updatedAt = Date.now();
      return;
    }
    for (const d of svc.deployments) if (d.status === 'PRIMARY') d.status = 'ACTIVE';
    svc.deployments.unshift({
      id: `ecs-svc/${String(BigInt(`0x${hex(8)}`)).slice(0, 19)}`, status: 'PRIMARY', taskDefinition: td, desiredCount: desired,
      failedTasks: 0, rolloutState: 'IN_PROGRESS', rolloutStateReason: 'ECS deployment in progress.', createdAt: Date.now(), updatedAt: Date.now(), lastFailureAt: 0,
    });
    svc.steady = false;
  };

  /** @param {Deployment} d */
  const tasksOf = (d) => [...tasks.values()].filter((t) => t.deploymentId === d.id);
  /** @param {ServiceRec} svc @param {TaskRec} t */
  const targetState = (svc, t) => {
    if (!t.target || !o.alb || !t.ip) return null;
    const h = o.alb.health(t.target.tgArn).find((x) => x.Target?.Id === t.ip && x.Target?.Port === t.target?.port);
    return h?.TargetHealth?.State ?? null;
  };
  /** @param {ServiceRec} svc @param {TaskRec} t */
  const healthy = (svc, t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING' && t.startedAt !== null
    && Date.now() - t.startedAt >= stableMs && (!t.target || targetState(svc, t) === 'healthy')
    && (!healthChecked(t) || taskHealth(t) === 'HEALTHY'); // with a container health check only HEALTHY counts

  /** @param {TaskRec} rec */
  function onTaskStopped(rec) {
    if (!rec.service) return;
    const svc = services.get(rec.service);
    const d = svc?.deployments.find((x) => x.id === rec.deploymentId);
    if (!svc || !d) return;
    if (rec.stopCode === 'ServiceSchedulerInitiated' && !/health checks/.test(rec.stoppedReason ?? '')) return;
    if (rec.stopCode === 'UserInitiated') return;
    event(svc, `has stopped 1 running tasks: (task ${rec.id}).`);
    if (d.rolloutState !== 'IN_PROGRESS') return;
    d.failedTasks += 1;
    d.lastFailureAt = Date.now();
    if (svc.circuitBreaker.enable && d.failedTasks >= failureThreshold(d.desiredCount)) trip(svc, d);
  }

  /** @param {ServiceRec} svc @param {Deployment} d */
  function trip(svc, d) {
    d.rolloutState = 'FAILED';
    d.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.';
    d.updatedAt = Date.now();
    event(svc, `(deployment ${d.id}) deployment failed: tasks failed to start.`);
    const back = svc.circuitBreaker.rollback ? svc.lastCompletedTd : null;
    if (d.status === 'PRIMARY' && back && back !== d.taskDefinition) {
      d.status = 'ACTIVE';
      deploy(svc, back, svc.desiredCount, true);
      const primary = /** @type {Deployment} */ (svc.deployments[0]);
      event(svc, `(deployment ${d.id}) rolling back to deployment ${primary.id}.`);
    }
  }

  /** @param {ServiceRec} svc @param {Deployment} d */
  const startServiceTask = (svc, d) => {
    const rec = newTask({ clusterArn: svc.clusterArn, tdArn: d.taskDefinition, startedBy: d.id, service: svc.name, deploymentId: d.id });
    event(svc, `has started 1 tasks: (task ${rec.id}).`);
    const lb = svc.loadBalancers[0];
    if (lb && o.alb) {
      // registered once its container runs (its IP is known), as ECS registers a task's ENI
      const wait = setInterval(() => {
        if (rec.lastStatus === 'RUNNING' && rec.ip && !rec.target && rec.desiredStatus === 'RUNNING') {
          rec.target = { tgArn: lb.targetGroupArn, port: lb.containerPort };
          o.alb?.register(lb.targetGroupArn, { id: rec.ip, port: lb.containerPort });
          event(svc, `registered 1 targets in (target-group ${lb.targetGroupArn})`);
        }
        if (rec.target || rec.lastStatus === 'STOPPED' || ctx.closed()) clearInterval(wait);
      }, 100);
    }
  };

  /** One pass of every service's scheduler. */
  function tick() {
    for (const svc of services.values()) {
      const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
      if (!primary) continue;
      const live = tasksOf(primary).filter((t) => t.desiredStatus === 'RUNNING');
      for (const t of live) {
        if (healthy(svc, t) && !t.everHealthy) { t.everHealthy = true; t.healthyAt = Date.now(); }
        // ELB health checks fail outside the grace period: the scheduler replaces the task
        if (t.target && t.startedAt && Date.now() - t.startedAt > svc.graceMs && targetState(svc, t) === 'unhealthy') {
          stopTask(t, 'ServiceSchedulerInitiated', `Task failed ELB health checks in (target-group ${t.target.tgArn})`);
        }
        // as are container health checks (health.mjs): an UNHEALTHY essential container, the task is replaced
        if (t.startedAt && Date.now() - t.startedAt > svc.graceMs && t.desiredStatus === 'RUNNING' && taskHealth(t) === 'UNHEALTHY') {
          stopTask(t, 'ServiceSchedulerInitiated', 'Task failed container health checks');
        }
      }
      const running = live.filter((t) => t.desiredStatus === 'RUNNING');
      if (primary.rolloutState !== 'FAILED' && running.length < primary.desiredCount && Date.now() - primary.lastFailureAt >= RESTART_BACKOFF_MS) {
        for (let i = running.length; i < primary.desiredCount; i++) startServiceTask(svc, primary);
      }
      for (const t of running.slice(primary.desiredCount)) stopTask(t, 'ServiceSchedulerInitiated', `Scaling activity initiated by (deployment ${primary.id})`);
      const others = svc.deployments.filter((d) => d !== primary && d.status !== 'INACTIVE');
      const ready = running.filter((t) => healthy(svc, t)).length >= primary.desiredCount;
      if (ready || primary.rolloutState === 'FAILED') {
        for (const d of others) {
          for (const t of tasksOf(d)) if (t.desiredStatus === 'RUNNING') stopTask(t, 'ServiceSchedulerInitiated', `Scaling activity initiated by (deployment ${d.id})`);
          if (tasksOf(d).every((t) => t.lastStatus === 'STOPPED')) d.status = 'INACTIVE';
        }
      }
      // a FAILED deployment that is no longer primary leaves once its tasks are gone
      for (const d of others) if (d.rolloutState === 'FAILED' && tasksOf(d).every((t) => t.lastStatus === 'STOPPED')) d.status = 'INACTIVE';
      svc.deployments = svc.deployments.filter((d) => d.status !== 'INACTIVE');
      if (ready && svc.deployments.length === 1 && primary.rolloutState === 'IN_PROGRESS') {
        primary.rolloutState = 'COMPLETED';
        primary.rolloutStateReason = 'ECS deployment completed.';
        primary.updatedAt = Date.now();
        svc.lastCompletedTd = primary.taskDefinition;
      }
      if (ready && svc.deployments.length === 1 && !svc.steady) {
        svc.steady = true;
        event(svc, 'has reached a steady state.');
      }
    }
  }

  /** @param {ServiceRec} svc @param {Deployment} d */
  const deploymentView = (svc, d) => {
    const ts = tasksOf(d).filter((t) => t.desiredStatus === 'RUNNING');
    return {
      id: d.id, status: d.status, taskDefinition: d.taskDefinition, desiredCount: d.desiredCount,
      pendingCount: ts.filter((t) => t.lastStatus !== 'RUNNING').length, runningCount: ts.filter((t) => t.lastStatus === 'RUNNING').length,
      failedTasks: d.failedTasks, createdAt: nowS(d.createdAt), updatedAt: nowS(d.updatedAt), launchType: 'FARGATE',
      rolloutState: d.rolloutState, rolloutStateReason: d.rolloutStateReason,
    };
  };

  /** @param {any} s moto's service, patched in place */
  const patchService = (s) => {
    const svc = serviceFrom(s);
    const deployments = svc.deployments.map((d) => deploymentView(svc, d));
    s.deployments = deployments;
    s.taskDefinition = svc.deployments.find((d) => d.status === 'PRIMARY')?.taskDefinition ?? s.taskDefinition;
    s.runningCount = deployments.reduce((n, d) => n + d.runningCount, 0);
    s.pendingCount = deployments.reduce((n, d) => n + d.pendingCount, 0);
    s.events = svc.events.map((e) => ({ id: e.id, createdAt: nowS(e.createdAt), message: e.message }));
    return s;
  };

  return { serviceFrom, deploy, onTaskStopped, tick, patchService };
}
