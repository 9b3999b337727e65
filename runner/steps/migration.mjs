// Step `migration`: run the migration one-off task (RunTask, Fargate, private subnets, tasks security group,
// no public IP) with the configured command, stream its CloudWatch log lines while it runs, and fail on
// RunTask failures, TaskFailedToStart, a non-zero or missing exit code, or a timeout. A migration that
// already succeeded for this release (found by startedBy + release tag) is not run again; one still running
// for this release (e.g. after Ctrl-C) is waited for instead of starting a second one.
import { RunTaskCommand, DescribeTasksCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { StepFailure, InterruptedError } from '../lib/errors.mjs';
import { MIGRATION_KEY } from '../lib/plan.mjs';
import { send, fmtMs } from '../lib/runtime.mjs';
import { startedByFor } from '../lib/started-by.mjs';
import { resolveTaskDefinitions, RELEASE_TAG_KEY } from './task-definitions.mjs';

const KEEP_LOG_LINES = 20;

/** startedBy of the release's migration task (sanitised by runner/lib/started-by.mjs). @param {string} release */
export function migrationStartedBy(release) {
  return startedByFor('rollout/', release);
}

/** @param {import('../lib/types.mjs').StepContext} ctx @returns {Promise<import('../lib/types.mjs').StepResult>} */
export async function run(ctx) {
  const { outputs, release } = ctx;
  let td = ctx.state.migrationTaskDefinition;
  if (!td) {
    const fam = (ctx.plan.steps.find((s) => s.kind === 'task-definitions')?.families ?? []).filter((f) => f.service === MIGRATION_KEY);
    await resolveTaskDefinitions(ctx, fam, { register: false });
    td = ctx.state.migrationTaskDefinition;
    if (!td) {
      if (ctx.options.dryRun) return { status: 'skipped', reason: 'dry run: the migration would run once its task definition is registered' };
      throw new StepFailure(`no revision of ${outputs.migrationTaskFamily} for release ${release}: run the task-definitions step first`);
    }
  }
  const container = td.container ?? outputs.migrationContainerName;
  const command = ctx.config.migration.command;
  const timeoutMs = ctx.options.migrationTimeoutMs ?? ctx.config.migration.timeoutSeconds * 1000;
  const startedBy = migrationStartedBy(release);

  // rerun: a task for this release and revision that stopped with exit 0, or one still running
  const prior = await findPrior(ctx, startedBy, /** @type {string} */ (td.arn), container);
  if (prior.succeeded) {
    ctx.state.migration = { taskArn: prior.succeeded.taskArn, reused: true };
    return {
      status: 'skipped',
      reason: `migration for release ${release} already succeeded (task ${prior.succeeded.taskArn.split('/').pop()}, exit code 0)`,
      details: { taskArn: prior.succeeded.taskArn, taskDefinitionArn: td.arn },
    };
  }
  if (ctx.options.dryRun) {
    return {
      status: 'skipped',
      reason: prior.running
        ? `dry run: would wait for the running migration task ${prior.running.taskArn}`
        : `dry run: would run ${command.join(' ')} from ${td.family}:${td.revision}`,
    };
  }

  let taskArn;
  if (prior.running) {
    taskArn = prior.running.taskArn;
    ctx.log.progress(`[migration] a migration task for release ${release} is already running (${taskArn}); waiting for it instead of starting another`);
  } else {
    const res = await send(ctx, ctx.aws.ecs, new RunTaskCommand({
      cluster: outputs.clusterName,
      taskDefinition: td.arn,
      launchType: 'FARGATE',
      count: 1,
      startedBy,
      networkConfiguration: {
        awsvpcConfiguration: { subnets: outputs.privateSubnetIds, securityGroups: [outputs.tasksSecurityGroupId], assignPublicIp: 'DISABLED' },
      },
      overrides: { containerOverrides: [{ name: container, command }] },
      tags: [{ key: RELEASE_TAG_KEY, value: release }],
    }));
    if (res.failures?.length) {
      const why = res.failures.map((/** @type {any} */ f) => `${f.arn ?? 'task'}: ${f.reason}${f.detail ? ` (${f.detail})` : ''}`).join('; ');
      throw new StepFailure(`RunTask failed: ${why}`);
    }
    taskArn = res.tasks?.[0]?.taskArn;
    if (!taskArn) throw new StepFailure('RunTask returned neither a task nor failures');
    ctx.log.progress(`[migration] started ${command.join(' ')} as task ${taskArn.split('/').pop()} (${td.family}:${td.revision})`);
  }
  const half = { step: 'migration', what: `migration task ${taskArn} was left running (not stopped by the runner)` };
  ctx.state.halfDone.push(half);

  const logs = logStreamer(ctx, td, container, taskArn);
  const start = ctx.clock.now();
  let task;
  let lastStatus = '';
  try {
    for (;;) {
      const d = await send(ctx, ctx.aws.ecs, new DescribeTasksCommand({ cluster: outputs.clusterName, tasks: [taskArn] }));
      task = d.tasks?.[0];
      if (!task) throw new StepFailure(`migration task ${taskArn} not found by DescribeTasks${d.failures?.length ? `: ${d.failures.map((/** @type {any} */ f) => f.reason).join(', ')}` : ''}`);
      await logs.poll();
      if (task.lastStatus !== lastStatus) {
        lastStatus = task.lastStatus;
        ctx.log.progress(`[migration] ${fmtMs(ctx.clock.now() - start)} task ${lastStatus}`);
      }
      if (task.lastStatus === 'STOPPED') break;
      if (ctx.clock.now() - start >= timeoutMs) {
        throw new StepFailure(`migration timed out after ${fmtMs(timeoutMs)} (task ${taskArn} is ${task.lastStatus}; it was not stopped)${logs.tail()}`);
      }
      await ctx.clock.sleep(ctx.options.pollIntervalMs, ctx.signal);
    }
    await logs.poll();
  } catch (e) {
    if (e instanceof InterruptedError) half.what = `migration task ${taskArn} may still be running (last status ${lastStatus || 'unknown'})`;
    throw e;
  }
  ctx.state.halfDone.splice(ctx.state.halfDone.indexOf(half), 1);

  const c = (task.containers ?? []).find((/** @type {any} */ x) => x.name === container);
  const reason = task.stoppedReason ? ` (${task.stoppedReason})` : '';
  if (task.stopCode === 'TaskFailedToStart') throw new StepFailure(`migration task failed to start: TaskFailedToStart${reason}${logs.tail()}`);
  if (!c) throw new StepFailure(`migration task ${taskArn} has no container named ${container}${reason}`);
  if (c.exitCode === undefined || c.exitCode === null) {
    throw new StepFailure(`migration container ${container} stopped without an exit code${c.reason ? ` (${c.reason})` : reason}${logs.tail()}`);
  }
  if (c.exitCode !== 0) throw new StepFailure(`migration container ${container} exited with code ${c.exitCode}${c.reason ? ` (${c.reason})` : ''}${logs.tail()}`);

  ctx.state.migration = { taskArn, reused: false };
  /** @type {import('../lib/types.mjs').Check[]} */
  const checks = [
    ctx.capabilities.lacks('container-exit-code')
      ? { name: 'migration-exit-code', status: 'skipped', reason: ctx.capabilities.reason('container-exit-code') }
      : { name: 'migration-exit-code', status: 'passed', reason: null, evidence: `container ${container} exit code 0` },
    ctx.capabilities.lacks('container-logs')
      ? { name: 'migration-logs', status: 'skipped', reason: ctx.capabilities.reason('container-logs') }
      : logs.count() > 0
        ? { name: 'migration-logs', status: 'passed', reason: null, evidence: `${logs.count()} log lines streamed` }
        : { name: 'migration-logs', status: 'skipped', reason: 'the task wrote no log lines (or its log stream was not found)' },
  ];
  return { status: 'passed', checks, details: { taskArn, taskDefinitionArn: td.arn, durationMs: ctx.clock.now() - start, logLines: logs.count() } };
}

/**
 * @param {import('../lib/types.mjs').StepContext} ctx @param {string} startedBy @param {string} tdArn @param {string} container
 * @returns {Promise<{ succeeded: any, running: any }>}
 */
async function findPrior(ctx, startedBy, tdArn, container) {
  const cluster = ctx.outputs.clusterName;
  /** @type {Set<string>} */
  const arns = new Set();
  for (const desiredStatus of /** @type {const} */ (['RUNNING', 'STOPPED'])) {
    const res = await send(ctx, ctx.aws.ecs, new ListTasksCommand({ cluster, startedBy, desiredStatus, maxResults: 100 }));
    for (const a of res.taskArns ?? []) arns.add(a);
  }
  if (arns.size === 0) return { succeeded: null, running: null };
  const d = await send(ctx, ctx.aws.ecs, new DescribeTasksCommand({ cluster, tasks: [...arns].slice(0, 100), include: ['TAGS'] }));
  const mine = (d.tasks ?? []).filter((/** @type {any} */ t) => t.taskDefinitionArn === tdArn
    && (t.tags ?? []).some((/** @type {any} */ g) => g.key === RELEASE_TAG_KEY && g.value === ctx.release));
  const succeeded = mine.find((/** @type {any} */ t) => t.lastStatus === 'STOPPED' && t.stopCode !== 'TaskFailedToStart'
    && (t.containers ?? []).some((/** @type {any} */ c) => c.name === container && c.exitCode === 0));
  const running = mine.find((/** @type {any} */ t) => t.lastStatus !== 'STOPPED');
  return { succeeded: succeeded ?? null, running: running ?? null };
}

/**
 * Follows the task's awslogs stream with a forward token, so no line is printed twice.
 * @param {import('../lib/types.mjs').StepContext} ctx @param {import('../lib/types.mjs').TaskDefinitionState} td
 * @param {string} container @param {string} taskArn
 */
function logStreamer(ctx, td, container, taskArn) {
  const group = td.logGroup ?? ctx.outputs.migrationLogGroupName;
  const stream = td.logStreamPrefix ? `${td.logStreamPrefix}/${container}/${taskArn.split('/').pop()}` : null;
  /** @type {string|undefined} */
  let token;
  let count = 0;
  /** @type {string[]} */
  const last = [];
  return {
    async poll() {
      if (!stream) return;
      for (let page = 0; page < 10; page++) {
        let res;
        try {
          res = await send(ctx, ctx.aws.logs, new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, startFromHead: true, nextToken: token }));
        } catch (e) {
          if (/** @type {Error} */ (e).name === 'ResourceNotFoundException') return; // stream not created yet
          throw e;
        }
        for (const ev of res.events ?? []) {
          const line = String(ev.message ?? '').replace(/\s+$/, '');
          count += 1;
          last.push(line);
          if (last.length > KEEP_LOG_LINES) last.shift();
          ctx.log.info(`[migration] | ${line}`);
        }
        const same = res.nextForwardToken === token;
        token = res.nextForwardToken ?? token;
        if (same || !(res.events ?? []).length) return;
      }
    },
    count: () => count,
    tail: () => (last.length ? `; last log lines:\n  ${last.join('\n  ')}` : ''),
  };
}
