import { stoppedTasks } from '../../aws/ecs.mjs';
import { describeServices, sinceFor } from '../context.mjs';

const SCHEDULER_HEALTH_FAILURE = /fail(ed)? .*health check|health checks? fail/i;

/**
 * Why a stopped task counts as an error, or null for a normal stop (scale-in, replaced by a deployment).
 * @param {import('@aws-sdk/client-ecs').Task} task @returns {string | null}
 */
export function stoppedTaskError(task) {
  const containers = task.containers ?? [];
  const broken = containers.find((c) => c.reason);
  if (task.stopCode === 'TaskFailedToStart') return `failed to start: ${task.stoppedReason ?? broken?.reason ?? 'no reason given'}`;
  if (broken) return `container ${broken.name}: ${broken.reason}`;
  if (task.stopCode === 'EssentialContainerExited') {
    const c = containers.find((x) => typeof x.exitCode === 'number');
    return `essential container exited${c ? ` with code ${c.exitCode}` : ''}: ${task.stoppedReason ?? 'no reason given'}`;
  }
  if (task.stoppedReason && SCHEDULER_HEALTH_FAILURE.test(task.stoppedReason)) return task.stoppedReason;
  return null;
}

/**
 * Stopped tasks of one ECS service since `since`, with the error of each that stopped with one.
 * @param {import('../context.mjs').SmokeContext} sctx @param {string} ecsServiceName @param {Date | null} since @param {AbortSignal} signal
 */
export async function stoppedTaskErrors(sctx, ecsServiceName, since, signal) {
  /** @type {{ taskId: string, error: string }[]} */
  const errors = [];
  for (const t of await stoppedTasks({ signal }, sctx.aws.ecs, sctx.cluster, ecsServiceName)) {
    const at = t.stoppedAt ?? t.stoppingAt ?? t.createdAt;
    if (since && at && new Date(at).getTime() < since.getTime()) continue;
    const error = stoppedTaskError(t);
    if (error) errors.push({ taskId: String(t.taskArn ?? '').split('/').pop() ?? '?', error });
  }
  return errors;
}

/** Every worker and support service the plan rolls out: running == desired == catalog count, no task stopped with an error. */
export function workersCheck(/** @type {import('../../../lib/config/index.cjs').SmokeSettings} */ settings) {
  const selected = (/** @type {import('../context.mjs').SmokeContext} */ sctx) => sctx.services.filter((s) => s.rolledOut && (s.kind === 'worker' || s.kind === 'support'));
  return /** @type {import('../suite.mjs').CheckDefinition} */ ({
    name: 'workers',
    needs: [],
    passNeeds: ['running-tasks', 'stopped-tasks'],
    timing: settings.checks.workers,
    skipReason: (sctx) => (selected(sctx).length ? null : 'no worker or support service is rolled out (none enabled or needed)'),
    async run(sctx, signal) {
      const services = selected(sctx);
      const { found, missing } = await describeServices(sctx, services, signal);
      /** @type {string[]} */ const problems = missing.map((n) => `${n}: ECS service not found`);
      /** @type {string[]} */ const seen = [];
      let permanentProblem = false;
      for (const s of services) {
        const svc = found.get(s.name);
        if (!svc) continue;
        const running = svc.runningCount ?? 0;
        const desired = svc.desiredCount ?? 0;
        seen.push(`${s.name} ${running}/${desired}`);
        if (desired !== s.desiredCount) problems.push(`${s.name}: desired ${desired} in ECS, catalog says ${s.desiredCount}`);
        else if (running !== desired) problems.push(`${s.name}: running ${running} of desired ${desired}`);
        const since = sinceFor(sctx, s.name);
        const errors = await stoppedTaskErrors(sctx, /** @type {string} */ (s.ecsServiceName), since, signal);
        for (const e of errors.slice(0, 3)) problems.push(`${s.name}: task ${e.taskId} stopped with an error: ${e.error}`);
        if (errors.length > 3) problems.push(`${s.name}: ${errors.length - 3} more task(s) stopped with an error`);
        if (errors.length) permanentProblem = true;
      }
      const disabled = sctx.services.filter((s) => !s.rolledOut && (s.kind === 'worker' || s.kind === 'support')).map((s) => `${s.name} (${s.notRolledOutReason})`);
      const sinceNote = sctx.since ? `since ${sctx.since.toISOString()}` : 'since each service\'s current deployment';
      const evidence = `running/desired: ${seen.join(', ') || 'none'}; stopped tasks checked ${sinceNote}${disabled.length ? `; not checked: ${disabled.join(', ')}` : ''}`;
      if (problems.length) return { status: 'failed', reason: problems.join('; '), evidence, retryable: !permanentProblem && !missing.length };
      return { status: 'passed', evidence };
    },
  });
}
