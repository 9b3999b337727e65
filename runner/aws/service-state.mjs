// How the tier step reads one ECS service (a DescribeServices view) against the release: already settled there,
// done, still going, or failed (deployment FAILED, circuit-breaker rollback, tasks that keep stopping). Pure.
// `deployments: false` is the emulator (moto): no deployments list, no running count; only the service's task
// definition and desired count can be compared.
import { primaryDeployment } from './ecs.mjs';
import { fmtMs } from '../lib/runtime.mjs';

/**
 * @typedef {import('@aws-sdk/client-ecs').Service} EcsService
 * @typedef {import('@aws-sdk/client-ecs').Task} EcsTask
 * @typedef {{ target: string, desired: number, deployments: boolean, maxFailedTasks?: number }} Release
 *   target: task definition ARN of the release; desired: the catalog's count
 */

/** `family:revision` of a task definition ARN. @param {string | undefined} arn */
export const shortTd = (arn) => (arn ? arn.split('/').pop() ?? arn : 'none');

/** @param {string | undefined} state */
const completed = (state) => state === undefined || state === 'COMPLETED';

/**
 * Already at the release and stable: nothing to do on a rerun.
 * @param {EcsService} svc @param {Release} r
 */
export function settledAt(svc, r) {
  if (svc.status !== 'ACTIVE' || svc.taskDefinition !== r.target || svc.desiredCount !== r.desired) return false;
  if (!r.deployments) return true;
  const p = primaryDeployment(svc);
  return (svc.deployments ?? []).length === 1 && p?.taskDefinition === r.target && completed(p.rolloutState)
    && svc.runningCount === r.desired;
}

/**
 * After UpdateService: done, not yet, or failed with the reason.
 * @param {EcsService} svc @param {Release} r
 * @returns {{ done: boolean, fail?: string }}
 */
export function rolloutProgress(svc, r) {
  if (svc.status !== 'ACTIVE') return { done: false, fail: `service status is ${svc.status}` };
  if (!r.deployments) {
    if (svc.taskDefinition !== r.target && svc.taskDefinition) {
      return { done: false, fail: `service runs ${shortTd(svc.taskDefinition)} instead of ${shortTd(r.target)} after the update` };
    }
    return { done: svc.taskDefinition === r.target && svc.desiredCount === r.desired };
  }
  const deps = svc.deployments ?? [];
  const primary = primaryDeployment(svc);
  const mine = deps.find((d) => d.taskDefinition === r.target);
  if (mine?.rolloutState === 'FAILED') {
    return { done: false, fail: `deployment ${mine.id} FAILED${mine.rolloutStateReason ? `: ${mine.rolloutStateReason}` : ''}` };
  }
  if (primary && primary.taskDefinition !== r.target) {
    return { done: false, fail: `circuit breaker rolled back: the primary deployment runs ${shortTd(primary.taskDefinition)} instead of ${shortTd(r.target)}${primary.rolloutStateReason ? ` (${primary.rolloutStateReason})` : ''}` };
  }
  if (!primary) return { done: false };
  if ((primary.failedTasks ?? 0) >= (r.maxFailedTasks ?? Infinity)) {
    return { done: false, fail: `tasks keep stopping: ${primary.failedTasks} failed tasks in deployment ${primary.id}` };
  }
  const done = completed(primary.rolloutState) && deps.length === 1
    && svc.runningCount === r.desired && (primary.runningCount ?? svc.runningCount) === r.desired;
  return { done };
}

/**
 * One line per stopped task of the release's deployment: `<task id>: <stop code> <reason>; <container> exit N (reason)`.
 * @param {EcsService | undefined} svc @param {string} target @param {EcsTask[]} tasks @param {number} max
 * @returns {string[]}
 */
export function stoppedTaskLines(svc, target, tasks, max) {
  const mine = (svc?.deployments ?? []).find((x) => x.taskDefinition === target);
  return tasks
    .filter((k) => k.taskDefinitionArn === target && (!mine?.id || !k.startedBy || k.startedBy === mine.id))
    .slice(0, max)
    .map((k) => {
      const cs = (k.containers ?? []).filter((c) => c.exitCode !== undefined || c.reason)
        .map((c) => `${c.name}${c.exitCode !== undefined ? ` exit ${c.exitCode}` : ''}${c.reason ? ` (${c.reason})` : ''}`);
      return `${String(k.taskArn).split('/').pop()}: ${k.stopCode ?? ''} ${k.stoppedReason ?? ''}${cs.length ? `; ${cs.join(', ')}` : ''}`.replace(/\s+/g, ' ').trim();
    });
}

/**
 * How a service stands, in the words a wait prints when it changes (the tier step, `wait`): running/desired, the
 * PRIMARY deployment's rolloutState, more than one deployment, target health; in the emulator (no deployments) its
 * task definition and desired count.
 * @param {EcsService} svc @param {{ desired: number, deployments: boolean, targetNote?: string }} o desired: the count
 *   waited for
 */
export function serviceLine(svc, o) {
  if (!o.deployments) return `on ${shortTd(svc.taskDefinition)}, desired ${svc.desiredCount}/${o.desired} (emulator: running tasks and rollout state not observable)`;
  const n = (svc.deployments ?? []).length;
  return `running ${svc.runningCount ?? '?'}/${o.desired}, ${primaryDeployment(svc)?.rolloutState ?? 'no primary deployment'}${n > 1 ? `, ${n} deployments` : ''}${o.targetNote ? `, targets ${o.targetNote}` : ''}`;
}

/**
 * The heartbeat of a wait for services (runner/aws/poll.mjs heartbeat): what is still awaited and for how long.
 * @param {string} id who waits, e.g. the step id @param {number} waitedMs @param {number} timeoutMs
 * @param {{ name: string, line: string }[]} pending each service's last serviceLine ('' before the first answer)
 */
export function waitingLine(id, waitedMs, timeoutMs, pending) {
  return `[${id}] still waiting (${fmtMs(waitedMs)} of ${fmtMs(timeoutMs)}) for ${pending.map((p) => `${p.name}: ${p.line || 'no answer yet'}`).join('; ')}`;
}

/**
 * Stable on one deployment, whatever its revision: ACTIVE, exactly one deployment and it PRIMARY, rolloutState
 * COMPLETED where ECS reports one, running == desired. Without deployments (the emulator) only ACTIVE is observable.
 * @param {EcsService} svc @param {{ deployments: boolean }} o
 * @returns {{ stable: boolean, why: string | null }} why: what is not stable
 */
export function steadyState(svc, o) {
  if (svc.status !== 'ACTIVE') return { stable: false, why: `service status is ${svc.status}` };
  if (!o.deployments) return { stable: true, why: null };
  const deps = svc.deployments ?? [];
  const primary = primaryDeployment(svc);
  if (!primary) return { stable: false, why: 'no PRIMARY deployment' };
  if (deps.length > 1) return { stable: false, why: `${deps.length} deployments (${deps.map((d) => `${d.status} ${shortTd(d.taskDefinition)}${d.rolloutState ? ` ${d.rolloutState}` : ''}`).join(', ')})` };
  if (!completed(primary.rolloutState)) return { stable: false, why: `rollout ${primary.rolloutState}${primary.rolloutStateReason ? ` (${primary.rolloutStateReason})` : ''}` };
  if (svc.runningCount !== svc.desiredCount) return { stable: false, why: `running ${svc.runningCount ?? '?'}/${svc.desiredCount}` };
  return { stable: true, why: null };
}
