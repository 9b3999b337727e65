// Step `migration`: run the migration one-off task (RunTask, Fargate, private subnets, tasks security group,
// no public IP) with the configured command, stream its CloudWatch log lines while it runs, and fail on
// RunTask failures, TaskFailedToStart, a non-zero or missing exit code, or a timeout. A migration that
// already succeeded for this release (found by startedBy + release tag) is not run again; one still running
// for this release (e.g. after Ctrl-C) is waited for instead of starting a second one. The task is in the
// half-done list from before RunTask is sent until it stopped. A failed migration names the task, its stop code
// and stopped reason, and the last lines of its log (runner/aws/one-off-verdict.mjs, as the `run` verb).
import { ListTasksCommand } from '@aws-sdk/client-ecs';
import { StepFailure, InterruptedError, operationOf } from '../lib/errors.mjs';
import { MIGRATION_KEY } from '../lib/plan.mjs';
import { fmtMs } from '../lib/runtime.mjs';
import { send, forget, errorLine } from '../aws/send.mjs';
import { describeTasks } from '../aws/ecs.mjs';
import { runOneOffTask, OneOffTaskError, taskId } from '../aws/one-off-task.mjs';
import { startedByFor } from '../lib/started-by.mjs';
import { resolveTaskDefinitions, RELEASE_TAG_KEY } from './task-definitions.mjs';
import { logRedactor, redactLine, LOG_TAIL_LINES } from '../smoke/log-tail.mjs';
import { stoppedFailure, oneOffFailure, ONE_OFF_OPERATION } from '../aws/one-off-verdict.mjs';

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
  const prior = await findPrior(ctx, startedBy, td.arn, container);
  if (prior.succeeded) {
    ctx.state.migration = { taskArn: prior.succeeded, reused: true };
    return {
      status: 'skipped',
      reason: `migration for release ${release} already succeeded (task ${taskId(prior.succeeded)}, exit code 0)`,
      details: { taskArn: prior.succeeded, taskDefinitionArn: td.arn },
    };
  }
  if (ctx.options.dryRun) {
    return {
      status: 'skipped',
      reason: prior.running
        ? `dry run: would wait for the running migration task ${prior.running}`
        : `dry run: would run ${command.join(' ')} from ${td.family}:${td.revision}`,
    };
  }

  // from before RunTask is sent until the task stopped, the task is in ctx.state.halfDone (runner/aws/send.mjs mutate)
  /** @type {{ step: string, what: string }} */
  const half = { step: 'migration', what: `a migration task may have been started (${td.family}:${td.revision}, startedBy ${startedBy})` };
  /** @type {string | undefined} */
  let running;
  if (prior.running) {
    ctx.log.progress(`[migration] a migration task for release ${release} is already running (${prior.running}); waiting for it instead of starting another`);
    running = prior.running;
    ctx.state.halfDone.push(Object.assign(half, { operation: 'RunTask', state: /** @type {const} */ ('changed'), what: leftRunning(prior.running) }));
  }
  const redact = logRedactor(ctx.env);
  const start = ctx.clock.now();
  let lastStatus = '';
  /** @type {import('../aws/one-off-task.mjs').OneOffResult} */
  let r;
  try {
    r = await runOneOffTask(ctx, {
      cluster: outputs.clusterName, taskDefinition: td.arn, container, command,
      subnets: outputs.privateSubnetIds, securityGroups: [outputs.tasksSecurityGroupId], startedBy,
      tags: [{ key: RELEASE_TAG_KEY, value: release }], taskArn: prior.running ?? undefined,
      timeoutMs, intervalMs: ctx.options.pollIntervalMs,
      log: td.logStreamPrefix ? { group: td.logGroup ?? outputs.migrationLogGroupName, streamPrefix: td.logStreamPrefix } : null,
      followLog: true, keepLines: LOG_TAIL_LINES, logErrorsAreFatal: true,
      change: { list: ctx.state.halfDone, record: half, applied: leftRunning },
      onLogLine: (line) => ctx.log.info(`[migration] | ${redactLine(line, redact)}`),
      onStarted: (arn) => {
        running = arn;
        ctx.log.progress(`[migration] started ${command.join(' ')} as task ${taskId(arn)} (${td.family}:${td.revision})`);
      },
      onStatus: (task) => {
        if (task.lastStatus !== lastStatus) {
          lastStatus = task.lastStatus ?? '';
          ctx.log.progress(`[migration] ${fmtMs(ctx.clock.now() - start)} task ${lastStatus}`);
        }
      },
      onWaiting: (waited, task) => ctx.log.progress(`[migration] still waiting (${fmtMs(waited)} of ${fmtMs(timeoutMs)}) for task ${running ? taskId(running) : ''} to stop: ${task?.lastStatus ?? 'not described yet'}`.replace('task  to', 'the task to')),
    });
  } catch (e) {
    if (e instanceof InterruptedError && running) half.what = `migration task ${running} may still be running (last status ${lastStatus || 'unknown'})`;
    if (e instanceof OneOffTaskError) {
      throw new StepFailure(oneOffFailure(e, timeoutMs, redact, 'migration'), { operation: ONE_OFF_OPERATION[e.kind] });
    }
    if (e instanceof InterruptedError || e instanceof StepFailure) throw e;
    const operation = operationOf(e);
    if (running) {
      half.what = `migration task ${running} may still be running (${operation ?? 'an AWS call'} failed while waiting for it; last status ${lastStatus || 'unknown'})`;
      throw new StepFailure(`${operation ?? 'an AWS call'} failed while waiting for migration task ${running}: ${errorLine(e)}\nthe migration task may still be running (it was not stopped); a rerun of this release waits for it instead of starting another`, { operation, details: { taskArn: running } });
    }
    if (ctx.state.halfDone.includes(/** @type {import('../lib/types.mjs').HalfDone} */ (half))) {
      throw new StepFailure(`${operation ?? 'RunTask'} failed without a verdict: ${errorLine(e)}\na migration task may have been started; a rerun of this release finds it (startedBy ${startedBy}) and waits for it instead of starting another`, { operation });
    }
    throw e;
  }
  forget(ctx.state.halfDone, half);
  const { taskArn } = r;
  const failure = stoppedFailure(r, container, redact, 'migration');
  if (failure) throw new StepFailure(failure);

  ctx.state.migration = { taskArn, reused: false };
  /** @type {import('../lib/types.mjs').Check[]} */
  const checks = [
    ctx.capabilities.lacks('container-exit-code')
      ? { name: 'migration-exit-code', status: 'skipped', reason: ctx.capabilities.reason('container-exit-code') }
      : { name: 'migration-exit-code', status: 'passed', reason: null, evidence: `container ${container} exit code 0` },
    ctx.capabilities.lacks('container-logs')
      ? { name: 'migration-logs', status: 'skipped', reason: ctx.capabilities.reason('container-logs') }
      : r.logCount > 0
        ? { name: 'migration-logs', status: 'passed', reason: null, evidence: `${r.logCount} log lines streamed` }
        : { name: 'migration-logs', status: 'skipped', reason: 'the task wrote no log lines (or its log stream was not found)' },
  ];
  return { status: 'passed', checks, details: { taskArn, taskDefinitionArn: td.arn, durationMs: ctx.clock.now() - start, logLines: r.logCount } };
}

/** Half-done words for a migration task that exists. @param {string} arn */
const leftRunning = (arn) => `migration task ${arn} was left running (not stopped by the runner)`;

/**
 * The ARN of a migration task of this release and revision that exited 0, and of one still running.
 * @param {import('../lib/types.mjs').StepContext} ctx @param {string} startedBy @param {string} tdArn @param {string} container
 * @returns {Promise<{ succeeded: string | null, running: string | null }>}
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
  const d = await describeTasks(ctx, ctx.aws.ecs, cluster, [...arns].slice(0, 100), { tags: true });
  const mine = d.tasks.filter((t) => t.taskDefinitionArn === tdArn
    && (t.tags ?? []).some((g) => g.key === RELEASE_TAG_KEY && g.value === ctx.release));
  const succeeded = mine.find((t) => t.lastStatus === 'STOPPED' && t.stopCode !== 'TaskFailedToStart'
    && (t.containers ?? []).some((c) => c.name === container && c.exitCode === 0));
  const running = mine.find((t) => t.lastStatus !== 'STOPPED');
  return { succeeded: succeeded?.taskArn ?? null, running: running?.taskArn ?? null };
}
