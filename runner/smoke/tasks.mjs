// One-off ECS tasks for smoke checks (database query, fetcher -> anisette probe): run in the private subnets with
// the tasks' security group, wait for STOPPED, read the container's exit code and, when available, its log lines.
import { RunTaskCommand, DescribeTasksCommand, StopTaskCommand, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { startedByFor } from '../lib/started-by.mjs';

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
  const fromState = sctx.state?.taskDefinitions?.[service.name];
  const arn = typeof fromState === 'string' ? fromState : fromState?.arn;
  return arn ?? service.taskFamily ?? null;
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
  const subnets = sctx.outputs.private_subnet_ids;
  const sg = sctx.outputs.tasks_security_group_id;
  if (!Array.isArray(subnets) || subnets.length === 0) throw permanent('stack output private_subnet_ids is missing or empty');
  if (!sg) throw permanent('stack output tasks_security_group_id is missing');
  const startedBy = startedByFor(`smoke-${spec.purpose}-`, String(sctx.release ?? 'unknown'));
  const run = await sctx.aws.ecs.send(new RunTaskCommand({
    cluster: sctx.cluster,
    taskDefinition,
    launchType: 'FARGATE',
    count: 1,
    startedBy,
    networkConfiguration: { awsvpcConfiguration: { subnets, securityGroups: [sg], assignPublicIp: 'DISABLED' } },
    overrides: { containerOverrides: [{ name: service.containerName ?? service.name, command }] },
  }), { abortSignal: signal });
  if (run.failures?.length) {
    const f = run.failures[0];
    throw new Error(`RunTask failed: ${f.reason ?? 'unknown'}${f.detail ? ` (${f.detail})` : ''}${f.arn ? ` [${f.arn}]` : ''}`);
  }
  const taskArn = run.tasks?.[0]?.taskArn;
  if (!taskArn) throw new Error('RunTask returned no task');
  sctx.log(`  smoke ${spec.purpose}: one-off task ${taskArn.split('/').pop()} from ${taskDefinition.split('/').pop()}`);

  const deadline = sctx.now() + sctx.settings.taskTimeoutSeconds * 1000;
  let task;
  try {
    for (;;) {
      const d = await sctx.aws.ecs.send(new DescribeTasksCommand({ cluster: sctx.cluster, tasks: [taskArn] }), { abortSignal: signal });
      task = d.tasks?.[0];
      if (task?.lastStatus === 'STOPPED') break;
      if (sctx.now() >= deadline) throw permanent(`one-off task ${taskArn} did not stop within ${sctx.settings.taskTimeoutSeconds}s (last status ${task?.lastStatus ?? 'unknown'})`);
      await sctx.sleep(sctx.settings.taskPollSeconds * 1000, signal);
    }
  } catch (err) {
    // never leave a probe running: stop it, then report the original error
    await sctx.aws.ecs.send(new StopTaskCommand({ cluster: sctx.cluster, task: taskArn, reason: 'smoke check gave up waiting' })).catch(() => {});
    throw err;
  }
  const container = (task.containers ?? []).find((/** @type {any} */ c) => c.name === (service.containerName ?? service.name)) ?? task.containers?.[0];
  const logLines = await readTaskLog(sctx, taskDefinition, container?.name ?? service.containerName ?? service.name, taskArn, signal);
  return {
    taskArn,
    stopCode: task.stopCode ?? null,
    stoppedReason: task.stoppedReason ?? null,
    exitCode: typeof container?.exitCode === 'number' ? container.exitCode : null,
    containerReason: container?.reason ?? null,
    logLines,
  };
}

/** Read the awslogs stream of a stopped task's container; null when it cannot be found. */
async function readTaskLog(/** @type {import('./context.mjs').SmokeContext} */ sctx, /** @type {string} */ taskDefinition, /** @type {string} */ containerName, /** @type {string} */ taskArn, /** @type {AbortSignal} */ signal) {
  try {
    const td = await sctx.aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition }), { abortSignal: signal });
    const def = (td.taskDefinition?.containerDefinitions ?? []).find((/** @type {any} */ c) => c.name === containerName);
    const opts = def?.logConfiguration?.logDriver === 'awslogs' ? def.logConfiguration.options ?? {} : null;
    if (!opts?.['awslogs-group'] || !opts['awslogs-stream-prefix']) return null;
    const taskId = taskArn.split('/').pop();
    const res = await sctx.aws.logs.send(new GetLogEventsCommand({
      logGroupName: opts['awslogs-group'],
      logStreamName: `${opts['awslogs-stream-prefix']}/${containerName}/${taskId}`,
      startFromHead: true,
      limit: 200,
    }), { abortSignal: signal });
    return (res.events ?? []).map((/** @type {any} */ e) => String(e.message ?? ''));
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
