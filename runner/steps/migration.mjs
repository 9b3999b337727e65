// Step `migration`: run the migration one-off task (RunTask, Fargate, private subnets, tasks security group,
// no public IP) with the configured command, stream its CloudWatch log lines while it runs, and fail on
// RunTask failures, TaskFailedToStart, a non-zero or missing exit code, or a timeout. A migration that
// already succeeded for this release (found by startedBy + release tag) is not run again; one still running
// for this release (e.g. after Ctrl-C) is waited for instead of starting a second one.
import { ListTasksCommand } from '@aws-sdk/client-ecs';
import { StepFailure, InterruptedError } from '../lib/errors.mjs';
import { MIGRATION_KEY } from '../lib/plan.mjs';
import { fmtMs } from '../lib/runtime.mjs';
import { send } from '../aws/send.mjs';
import { describeTasks } from '../aws/ecs.mjs';
import { runOneOffTask, OneOffTaskError, taskId } from '../aws/one-off-task.mjs';
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

  // from RunTask on, an interruption leaves the task running: recorded in ctx.state.halfDone until it stopped
  const half = { step: 'migration', what: '' };
  /** @type {string | undefined} */
  let running;
  const track = (/** @type {string} */ arn) => {
    running = arn;
    half.what = `migration task ${arn} was left running (not stopped by the runner)`;
    ctx.state.halfDone.push(half);
  };
  if (prior.running) {
    ctx.log.progress(`[migration] a migration task for release ${release} is already running (${prior.running}); waiting for it instead of starting another`);
    track(prior.running);
  }
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
      followLog: true, keepLines: KEEP_LOG_LINES, logErrorsAreFatal: true,
      onLogLine: (line) => ctx.log.info(`[migration] | ${line}`),
      onStarted: (arn) => {
        ctx.log.progress(`[migration] started ${command.join(' ')} as task ${taskId(arn)} (${td.family}:${td.revision})`);
        track(arn);
      },
      onStatus: (task) => {
        if (task.lastStatus !== lastStatus) {
          lastStatus = task.lastStatus ?? '';
          ctx.log.progress(`[migration] ${fmtMs(ctx.clock.now() - start)} task ${lastStatus}`);
        }
      },
    });
  } catch (e) {
    if (e instanceof InterruptedError && running) half.what = `migration task ${running} may still be running (last status ${lastStatus || 'unknown'})`;
    if (e instanceof OneOffTaskError) throw new StepFailure(oneOffFailure(e, timeoutMs));
    throw e;
  }
  const i = ctx.state.halfDone.indexOf(half);
  if (i >= 0) ctx.state.halfDone.splice(i, 1);
  const { taskArn, task, container: c } = r;
  const tail = logTail(r.logLines);
  const reason = task.stoppedReason ? ` (${task.stoppedReason})` : '';
  if (task.stopCode === 'TaskFailedToStart') throw new StepFailure(`migration task failed to start: TaskFailedToStart${reason}${tail}`);
  if (!c) throw new StepFailure(`migration task ${taskArn} has no container named ${container}${reason}`);
  if (c.exitCode === undefined || c.exitCode === null) {
    throw new StepFailure(`migration container ${container} stopped without an exit code${c.reason ? ` (${c.reason})` : reason}${tail}`);
  }
  if (c.exitCode !== 0) throw new StepFailure(`migration container ${container} exited with code ${c.exitCode}${c.reason ? ` (${c.reason})` : ''}${tail}`);

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

/** `; last log lines:` and the kept lines, or nothing. @param {string[] | null} lines */
const logTail = (lines) => (lines?.length ? `; last log lines:\n  ${lines.join('\n  ')}` : '');

/** The step's words for a one-off task that did not get to STOPPED. @param {OneOffTaskError} e @param {number} timeoutMs */
function oneOffFailure(e, timeoutMs) {
  switch (e.kind) {
    case 'refused': return `RunTask failed: ${e.failures.map((f) => `${f.arn ?? 'task'}: ${f.reason}${f.detail ? ` (${f.detail})` : ''}`).join('; ')}`;
    case 'no-task': return 'RunTask returned neither a task nor failures';
    case 'missing': return `migration task ${e.taskArn} not found by DescribeTasks${e.failures.length ? `: ${e.failures.map((f) => f.reason).join(', ')}` : ''}`;
    default: return `migration timed out after ${fmtMs(timeoutMs)} (task ${e.taskArn} is ${e.lastStatus}; it was not stopped)${logTail(e.logLines)}`;
  }
}

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
