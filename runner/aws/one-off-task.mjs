// One-off ECS task (the migration, smoke probes): RunTask on Fargate in the given subnets and security groups
// without a public IP, wait for STOPPED with a timeout (one `poll()`), then read the container's exit code and
// reason and the last lines of its awslogs stream. Failures come back as OneOffTaskError with a `kind`, so each
// caller words them its own way; the task's outcome (exit code, stop code) is data, judged by the caller.
// RunTask and StopTask go through `mutate()`: Ctrl-C does not cancel them once sent, and with `spec.change` the
// task is in the half-done list from before RunTask is sent (`may-have-changed`) until the caller drops it.
import { randomUUID } from 'node:crypto';
import { RunTaskCommand, StopTaskCommand, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { send, mutate } from './send.mjs';
import { describeTasks } from './ecs.mjs';
import { poll } from './poll.mjs';

const LOG_PAGES_PER_READ = 10;

/**
 * @typedef {import('@aws-sdk/client-ecs').Task} EcsTask
 * @typedef {import('@aws-sdk/client-ecs').Container} EcsContainer
 * @typedef {import('@aws-sdk/client-ecs').Failure} EcsFailure
 * @typedef {{ group: string, streamPrefix: string }} LogLocation awslogs group and stream prefix of the container
 */

/**
 * @typedef {object} OneOffContext
 * @property {{ ecs: import('@aws-sdk/client-ecs').ECSClient, logs: import('@aws-sdk/client-cloudwatch-logs').CloudWatchLogsClient }} aws
 * @property {import('../lib/types.mjs').Clock} clock
 * @property {AbortSignal} [signal]
 * @property {{ warn: (msg: string) => void }} [log]
 */

/**
 * @typedef {object} OneOffSpec
 * @property {string} cluster
 * @property {string} taskDefinition ARN or family
 * @property {string} container the container whose command is overridden and whose exit code and log are read
 * @property {string[]} command
 * @property {string[]} subnets
 * @property {string[]} securityGroups
 * @property {string} startedBy
 * @property {import('@aws-sdk/client-ecs').Tag[]} [tags]
 * @property {string} [taskArn] an already started task to wait for instead of starting one
 * @property {number} timeoutMs
 * @property {number} intervalMs
 * @property {boolean} [waitWhenMissing] a task DescribeTasks does not know is polled again (default: an error)
 * @property {string} [stopReason] StopTask with this reason when the wait fails (default: the task is left alone)
 * @property {LogLocation | null | (() => Promise<LogLocation | null>)} [log] where its log is; a function is asked once it stopped
 * @property {boolean} [followLog] read the log on every poll while the task runs, not only once it stopped
 * @property {number} [keepLines] last log lines kept (default 20)
 * @property {boolean} [logErrorsAreFatal] a log read failing (other than a stream not created yet) fails the call
 * @property {(line: string) => void} [onLogLine] every new log line, once
 * @property {{ list: import('../lib/types.mjs').HalfDone[], record: { step: string, service?: string, what: string },
 *   applied: (taskArn: string) => string }} [change] record RunTask in this half-done list before it is sent (see
 *   runner/aws/send.mjs `mutate`); `applied` words the entry once the task exists
 * @property {(taskArn: string) => void} [onStarted] right after RunTask
 * @property {(task: EcsTask) => void} [onStatus] after each DescribeTasks
 * @property {(waitedMs: number, task: EcsTask | undefined) => void} [onWaiting] at least every HEARTBEAT_MS of the
 *   wait for STOPPED (runner/aws/poll.mjs), with the task as last described
 */

/**
 * @typedef {object} OneOffResult
 * @property {string} taskArn
 * @property {boolean} started false when `spec.taskArn` was waited for
 * @property {EcsTask} task as last described (STOPPED)
 * @property {EcsContainer | undefined} container `spec.container` in the task
 * @property {string | null} stopCode
 * @property {string | null} stoppedReason
 * @property {number | null} exitCode of `spec.container`
 * @property {string | null} containerReason
 * @property {string[] | null} logLines last lines; null when no log stream was found or it could not be read
 * @property {number} logCount lines read in all
 * @property {'no-config'|'not-found'|'unreadable'|'read'} logStatus no-config: no log location was given;
 *   not-found: the stream does not exist; unreadable: reading it failed
 * @property {{ group: string, stream: string } | null} logStream where the log was looked for
 */

export class OneOffTaskError extends Error {
  /**
   * @param {'refused'|'no-task'|'missing'|'timeout'} kind refused: RunTask `failures`; no-task: neither a task nor
   *   failures; missing: DescribeTasks does not know the task; timeout: not STOPPED in time
   * @param {{ taskArn?: string, failures?: EcsFailure[], lastStatus?: string, logLines?: string[] | null }} [info]
   */
  constructor(kind, info = {}) {
    super(`one-off task ${kind}`);
    this.name = 'OneOffTaskError';
    this.kind = kind;
    this.taskArn = info.taskArn;
    this.failures = info.failures ?? [];
    this.lastStatus = info.lastStatus;
    this.logLines = info.logLines ?? null;
  }
}

/** The task's id (last part of its ARN). @param {string} arn */
export const taskId = (arn) => arn.split('/').pop() ?? arn;

/**
 * The awslogs group and stream prefix of a task definition's container (DescribeTaskDefinition); null when it has no
 * awslogs configuration with both. AWS errors are thrown. A task's stream is `<prefix>/<container>/<task id>` (logStream).
 * @param {import('./send.mjs').CallContext & { aws: { ecs: import('@aws-sdk/client-ecs').ECSClient } }} ctx
 * @param {string} taskDefinition ARN, family:revision or family (its latest ACTIVE revision) @param {string} containerName
 * @returns {Promise<LogLocation | null>}
 */
export async function awslogsLocation(ctx, taskDefinition, containerName) {
  const td = await send(ctx, ctx.aws.ecs, new DescribeTaskDefinitionCommand({ taskDefinition }));
  const def = (td.taskDefinition?.containerDefinitions ?? []).find((c) => c.name === containerName);
  const opts = def?.logConfiguration?.logDriver === 'awslogs' ? def.logConfiguration.options ?? {} : null;
  if (!opts?.['awslogs-group'] || !opts['awslogs-stream-prefix']) return null;
  return { group: opts['awslogs-group'], streamPrefix: opts['awslogs-stream-prefix'] };
}

/** The awslogs stream of one task's container. @param {LogLocation} where @param {string} container @param {string} taskArnOrId */
export const logStream = (where, container, taskArnOrId) => `${where.streamPrefix}/${container}/${taskId(taskArnOrId)}`;

/**
 * Follows one awslogs stream with a forward token, so no line is read twice.
 * @param {OneOffContext} ctx @param {{ group: string, stream: string, keepLines: number, fatal: boolean, onLine?: (line: string) => void }} where
 */
export function followLog(ctx, where) {
  /** @type {string|undefined} */
  let token;
  let count = 0;
  let found = false;
  let broken = false;
  /** @type {string[]} */
  const last = [];
  return {
    where: { group: where.group, stream: where.stream },
    /** @returns {'not-found'|'unreadable'|'read'} */
    status: () => (broken ? 'unreadable' : found ? 'read' : 'not-found'),
    async read() {
      for (let page = 0; page < LOG_PAGES_PER_READ; page++) {
        let res;
        try {
          res = await send(ctx, ctx.aws.logs, new GetLogEventsCommand({ logGroupName: where.group, logStreamName: where.stream, startFromHead: true, nextToken: token }));
        } catch (e) {
          if (/** @type {Error} */ (e).name === 'ResourceNotFoundException') return; // stream not created yet
          if (where.fatal || ctx.signal?.aborted) throw e;
          broken = true;
          return;
        }
        found = true;
        for (const ev of res.events ?? []) {
          const line = String(ev.message ?? '').replace(/\s+$/, '');
          count += 1;
          last.push(line);
          if (last.length > where.keepLines) last.shift();
          where.onLine?.(line);
        }
        const same = res.nextForwardToken === token;
        token = res.nextForwardToken ?? token;
        if (same || !(res.events ?? []).length) return;
      }
    },
    count: () => count,
    /** @returns {string[] | null} */
    lines: () => (found && !broken ? [...last] : null),
  };
}

/**
 * Start `spec.command` as a one-off task (or wait for `spec.taskArn`) and wait until it stopped.
 * @param {OneOffContext} ctx @param {OneOffSpec} spec
 * @returns {Promise<OneOffResult>}
 */
export async function runOneOffTask(ctx, spec) {
  const taskArn = spec.taskArn ?? (await startTask(ctx, spec));
  const started = !spec.taskArn;
  if (started) spec.onStarted?.(taskArn);
  const location = typeof spec.log === 'function' ? null : spec.log ?? null;
  let log = location ? logOf(ctx, spec, location, taskArn) : null;
  /** @type {EcsTask | undefined} */
  let last;
  /** @type {EcsTask} */
  let task;
  try {
    task = await poll({
      clock: ctx.clock, signal: ctx.signal, intervalMs: spec.intervalMs, timeoutMs: spec.timeoutMs,
      ...(spec.onWaiting ? { heartbeat: (/** @type {number} */ w) => spec.onWaiting?.(w, last) } : {}),
      onTimeout: () => { throw new OneOffTaskError('timeout', { taskArn, lastStatus: last?.lastStatus, logLines: log?.lines() }); },
    }, async () => {
      const d = await describeTasks(ctx, ctx.aws.ecs, spec.cluster, [taskArn]);
      last = d.tasks[0];
      if (!last && !spec.waitWhenMissing) throw new OneOffTaskError('missing', { taskArn, failures: d.failures });
      if (spec.followLog) await log?.read();
      if (last) spec.onStatus?.(last);
      return last?.lastStatus === 'STOPPED' ? last : undefined;
    });
  } catch (e) {
    if (spec.stopReason) {
      // never leave it running: stop it (no abort signal: this runs on Ctrl-C too), then report the original error
      await mutate({ log: ctx.log }, ctx.aws.ecs, new StopTaskCommand({ cluster: spec.cluster, task: taskArn, reason: spec.stopReason })).catch(() => {});
    }
    throw e;
  }
  if (typeof spec.log === 'function') {
    const where = await spec.log();
    if (where) log = logOf(ctx, spec, where, taskArn);
  }
  await log?.read();
  const container = (task.containers ?? []).find((c) => c.name === spec.container);
  return {
    taskArn, started, task, container,
    stopCode: task.stopCode ?? null,
    stoppedReason: task.stoppedReason ?? null,
    exitCode: typeof container?.exitCode === 'number' ? container.exitCode : null,
    containerReason: container?.reason ?? null,
    logLines: log?.lines() ?? null,
    logCount: log?.count() ?? 0,
    logStatus: log ? log.status() : 'no-config',
    logStream: log ? log.where : null,
  };
}

/** @param {OneOffContext} ctx @param {OneOffSpec} spec @returns {Promise<string>} */
async function startTask(ctx, spec) {
  const change = spec.change;
  /** @param {import('@aws-sdk/client-ecs').RunTaskCommandOutput} out */
  const arnOf = (out) => (out.failures?.length ? undefined : out.tasks?.[0]?.taskArn);
  // an idempotency token, the same on each of the SDK's retries of this call: a retry after a reply was lost
  // (5xx, timeout) does not start a second task
  const { output: res } = await mutate(ctx, ctx.aws.ecs, new RunTaskCommand({
    clientToken: randomUUID(),
    cluster: spec.cluster,
    taskDefinition: spec.taskDefinition,
    launchType: 'FARGATE',
    count: 1,
    startedBy: spec.startedBy,
    networkConfiguration: { awsvpcConfiguration: { subnets: spec.subnets, securityGroups: spec.securityGroups, assignPublicIp: 'DISABLED' } },
    overrides: { containerOverrides: [{ name: spec.container, command: spec.command }] },
    ...(spec.tags ? { tags: spec.tags } : {}),
  }), change && {
    list: change.list, record: change.record,
    applied: (out) => { const arn = arnOf(out); return arn ? change.applied(arn) : null; },
  });
  if (res.failures?.length) throw new OneOffTaskError('refused', { failures: res.failures });
  const taskArn = res.tasks?.[0]?.taskArn;
  if (!taskArn) throw new OneOffTaskError('no-task');
  return taskArn;
}

/** @param {OneOffContext} ctx @param {OneOffSpec} spec @param {LogLocation} where @param {string} taskArn */
function logOf(ctx, spec, where, taskArn) {
  return followLog(ctx, {
    group: where.group, stream: logStream(where, spec.container, taskArn),
    keepLines: spec.keepLines ?? 20, fatal: spec.logErrorsAreFatal ?? false, onLine: spec.onLogLine,
  });
}
