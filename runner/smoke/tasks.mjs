// One-off ECS tasks for smoke checks (database query, fetcher -> anisette probe) on runner/aws/one-off-task.mjs:
// run in the private subnets with the tasks' security group, wait for STOPPED (stopped by the check if it gives
// up), read the container's exit code and, when available, its log lines.
import { startedByFor } from '../lib/started-by.mjs';
import { runOneOffTask as runTask, OneOffTaskError, taskId, awslogsLocation } from '../aws/one-off-task.mjs';

/** Log lines kept from a probe's stream (the checks read the whole short output of their command). */
const LOG_LINES = 200;

/**
 * @typedef {object} OneOffResult
 * @property {string} taskArn
 * @property {string | null} stopCode
 * @property {string | null} stoppedReason
 * @property {number | null} exitCode
 * @property {string | null} containerReason
 * @property {string[] | null} logLines   null when the log stream could not be read
 */

/** Error that retrying will not fix. */
export function permanent(/** @type {string} */ message) {
  const e = /** @type {Error & { retryable: boolean }} */ (new Error(message));
  e.retryable = false;
  return e;
}

/**
 * The task definition a one-off task for `service` uses: the release revision registered by the
 * task-definitions step when there is one, else the family's latest revision.
 * @param {import('./context.mjs').SmokeContext} sctx @param {import('./context.mjs').SmokeService} service
 */
export function taskDefinitionFor(sctx, service) {
  return sctx.state.taskDefinitions?.[service.name]?.arn ?? service.taskFamily ?? null;
}

/**
 * @param {import('./context.mjs').SmokeContext} sctx
 * @param {{ service: import('./context.mjs').SmokeService, command: string[], purpose: string }} spec
 * @param {AbortSignal} signal
 * @returns {Promise<OneOffResult>}
 */
export async function runOneOffTask(sctx, spec, signal) {
  const { service, command } = spec;
  const taskDefinition = taskDefinitionFor(sctx, service);
  if (!taskDefinition) throw permanent(`service ${service.name} has no task definition (not in the stack's service_catalog output?)`);
  // both guaranteed non-empty by the outputs contract (lib/config/outputs.cjs)
  const { privateSubnetIds: subnets, tasksSecurityGroupId: sg } = sctx.outputs;
  const container = service.containerName ?? service.name;
  const ctx = { aws: sctx.aws, signal, clock: sctx.clock };
  /** @type {import('../aws/one-off-task.mjs').OneOffResult} */
  let r;
  try {
    r = await runTask(ctx, {
      cluster: sctx.cluster, taskDefinition, container, command, subnets, securityGroups: [sg],
      startedBy: startedByFor(`smoke-${spec.purpose}-`, String(sctx.release ?? 'unknown')),
      timeoutMs: sctx.settings.taskTimeoutSeconds * 1000, intervalMs: sctx.settings.taskPollSeconds * 1000,
      waitWhenMissing: true, stopReason: 'smoke check gave up waiting', keepLines: LOG_LINES,
      log: () => logLocation(ctx, taskDefinition, container),
      onStarted: (arn) => sctx.log(`  smoke ${spec.purpose}: one-off task ${taskId(arn)} from ${taskDefinition.split('/').pop()}`),
    });
  } catch (e) {
    if (!(e instanceof OneOffTaskError)) throw e;
    if (e.kind === 'refused') {
      const f = e.failures[0];
      throw new Error(`RunTask failed: ${f.reason ?? 'unknown'}${f.detail ? ` (${f.detail})` : ''}${f.arn ? ` [${f.arn}]` : ''}`);
    }
    if (e.kind === 'no-task') throw new Error('RunTask returned no task');
    throw permanent(`one-off task ${e.taskArn} did not stop within ${sctx.settings.taskTimeoutSeconds}s (last status ${e.lastStatus ?? 'unknown'})`);
  }
  const c = r.container ?? r.task.containers?.[0];
  return {
    taskArn: r.taskArn,
    stopCode: r.stopCode,
    stoppedReason: r.stoppedReason,
    exitCode: typeof c?.exitCode === 'number' ? c.exitCode : null,
    containerReason: c?.reason ?? null,
    logLines: r.logLines,
  };
}

/**
 * The awslogs group and stream prefix of a task definition's container; null when it has none or cannot be read.
 * @param {import('../aws/send.mjs').CallContext & { aws: { ecs: import('@aws-sdk/client-ecs').ECSClient } }} ctx
 * @param {string} taskDefinition @param {string} containerName
 * @returns {Promise<import('../aws/one-off-task.mjs').LogLocation | null>}
 */
export async function logLocation(ctx, taskDefinition, containerName) {
  try {
    return await awslogsLocation(ctx, taskDefinition, containerName);
  } catch {
    return null;
  }
}

/** Common verdict for a one-off task: failed on start failure or non-zero exit. */
export function taskVerdict(/** @type {OneOffResult} */ r) {
  const id = r.taskArn.split('/').pop();
  if (r.stopCode === 'TaskFailedToStart') return { ok: false, why: `task ${id} failed to start: ${r.stoppedReason ?? 'no reason given'}` };
  if (r.exitCode === null) return { ok: false, why: `task ${id} stopped without an exit code (${r.containerReason ?? r.stoppedReason ?? 'no reason given'})` };
  if (r.exitCode !== 0) return { ok: false, why: `task ${id} exited with code ${r.exitCode}${r.containerReason ? ` (${r.containerReason})` : ''}` };
  return { ok: true, why: `task ${id} exited 0` };
}
