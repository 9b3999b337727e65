// `run SERVICE [--release R] [--changes] -- COMMAND...`: one one-off task from the service's task definition (the
// revision the service runs now, DescribeServices; or --release R's, from the release ledger) with the service
// container's command replaced by COMMAND, in the private subnets with the tasks' security group and no public IP
// (as the migration). It waits for the task to stop (runner/aws/one-off-task.mjs), streams its log lines to stdout
// (secret-looking values redacted), judges it as the migration step does (runner/aws/one-off-verdict.mjs) and exits
// with the container's exit code. With --changes (the command changes the environment, e.g. a schema downgrade) it
// takes the environment's lock (runner/ledger/lock.mjs) and records itself in the release ledger as kind 'run'
// (in progress before RunTask, the outcome after): never a release, so `status` and `rollback` look past it.
import { InputError, InterruptedError, EXIT } from '../lib/errors.mjs';
import { defineCommand, seconds } from '../lib/cli-options.mjs';
import { stackInputFlags, helpFlag, validateImageTag } from '../lib/args.mjs';
import { fmtMs } from '../lib/runtime.mjs';
import { startedByFor } from '../lib/started-by.mjs';
import { shellJoin } from '../lib/shell-words.mjs';
import { errorLine } from '../aws/send.mjs';
import { describeServices } from '../aws/ecs.mjs';
import { runOneOffTask, OneOffTaskError, taskId } from '../aws/one-off-task.mjs';
import { stoppedFailure, oneOffFailure } from '../aws/one-off-verdict.mjs';
import { logLocation } from '../smoke/tasks.mjs';
import { logRedactor, redactLine } from '../smoke/log-tail.mjs';
import { readLedger, isRelease, ledgerPath } from '../ledger/index.mjs';
import { takeLock } from '../ledger/lock.mjs';
import { startEntry, tryWrite, recordOutcome } from '../ledger/record.mjs';
import { runVerb } from './setup.mjs';
import { usage } from './index.mjs';

/**
 * @typedef {{ outputs: string|null, stackDir: string, config: string|null, service: string|null, command: string[],
 *   release: string|null, changes: boolean, timeoutMs: number, pollIntervalMs: number, breakLock: boolean, help: boolean }} RunOptions
 * @typedef {import('../ledger/index.mjs').LedgerEntry} LedgerEntry
 */

export const DEFAULT_TIMEOUT_SECONDS = 900;

const COMMAND = defineCommand(/** @type {import('../lib/cli-options.mjs').CommandSpec<RunOptions>} */ ({
  head: `${usage('run', 'SERVICE [--release R] [--changes] [flags] -- COMMAND...')}

Runs COMMAND once as a one-off ECS task from SERVICE's task definition (the revision the service runs now, or
release R's from the release ledger), in the service's container with its environment and secrets, in the
private subnets. Waits for it, prints its log lines, and exits with its exit code. Example:
  npx zx runner/rollout.mjs run api --changes -- alembic downgrade -1`,
  column: 23,
  positional: { key: 'service', value: 'SERVICE', required: true },
  rest: { key: 'command', value: 'COMMAND...', required: true },
  sections: [
    { title: 'Inputs', flags: [
      ...stackInputFlags(),
      { flag: '--release', value: 'R', key: 'release', parse: validateImageTag, help: [
        'run release R\'s task definition of SERVICE (the newest successful ledger entry of R)',
        'instead of the revision the service runs now'] },
    ] },
    { title: 'Behaviour', flags: [
      { flag: '--changes', key: 'changes', default: false, help: [
        'the command changes the environment: take the environment\'s lock and record the',
        'run in the release ledger (kind run; never a release)'] },
      { flag: '--timeout', value: 'SEC', key: 'timeoutMs', default: DEFAULT_TIMEOUT_SECONDS * 1000, parse: seconds, help: [
        `time the task may take to stop (default ${DEFAULT_TIMEOUT_SECONDS}); it is not stopped after it`] },
      { flag: '--poll-interval', value: 'SEC', key: 'pollIntervalMs', default: 2000, parse: seconds, help: [
        'poll period while waiting for the task (default 2)'] },
      { flag: '--break-lock', key: 'breakLock', default: false, help: [
        'with --changes: take over the environment\'s lock if it is stale'] },
    ] },
    { title: 'Output', flags: helpFlag() },
  ],
  tail: `Exit codes
  N    the command's exit code (0: it succeeded)
  1    the task could not be started (RunTask failures), failed to start (TaskFailedToStart), stopped without
       an exit code, timed out, or AWS could not be read; with --changes also: the ledger could not record it
  2    bad input (flags, config, outputs, unknown or disabled SERVICE, unknown --release)
  3    with --changes: the environment is locked by another command (named); nothing was run
  130  interrupted (Ctrl-C); the task may still be running (named), it is not stopped`,
}));

export const HELP = COMMAND.help;

/**
 * @param {string[]} argv @param {import('../main.mjs').MainDeps} deps
 * @returns {Promise<import('./index.mjs').VerbResult>}
 */
export async function run(argv, deps) {
  return runVerb(COMMAND, argv, deps, async (o, ctx) => {
    const { outputs, config } = ctx;
    const service = catalogService(outputs, /** @type {string} */ (o.service));
    const ledger = { aws: ctx.aws, namePrefix: config.namePrefix, signal: ctx.signal, log: ctx.log };
    if (o.breakLock && !o.changes) throw new InputError('--break-lock needs --changes (only a changing run takes the environment\'s lock)');
    const held = o.changes
      ? await takeLock({ ...ledger, clock: ctx.clock, ...deps.lock }, { command: `run ${service.name}`, release: o.release, environment: outputs.environment, env: ctx.env, breakLock: o.breakLock }, ctx.writeErr)
      : null;
    if (held && !held.lock) return { exitCode: held.exitCode, report: null };
    try {
      return await runTask(o, ctx, service, ledger, held?.lock?.takeover ?? null);
    } finally {
      await held?.lock?.release();
    }
  });
}

/**
 * @param {RunOptions} o @param {import('./setup.mjs').VerbContext} ctx
 * @param {import('../lib/outputs.mjs').CatalogEntry} service
 * @param {import('../ledger/index.mjs').LedgerContext} ledger
 * @param {import('../ledger/index.mjs').LockTakeover|null} lockTakeover
 * @returns {Promise<{ exitCode: number, report: object }>}
 */
async function runTask(o, ctx, service, ledger, lockTakeover) {
  const { outputs } = ctx;
  const container = /** @type {string} */ (service.containerName);
  const { arn, release } = await taskDefinitionOf(o, ctx, service, ledger);
  const redact = logRedactor(ctx.env);
  const noun = `run ${service.name}`;
  const shown = o.command.map((w) => redactLine(w, redact));
  const runRecord = { service: service.name, taskDefinition: arn, command: shown, taskArn: /** @type {string|null} */ (null), exitCode: /** @type {number|null} */ (null) };
  /** @type {LedgerEntry|null} */
  let entry = null;
  if (o.changes) {
    const started = startEntry({ kind: 'run', release, environment: outputs.environment, startedAt: new Date(ctx.clock.now()).toISOString(), env: ctx.env, lockTakeover });
    entry = { ...started, run: runRecord };
    const written = await tryWrite(ledger, entry);
    if (!written.written) {
      ctx.writeErr(`error: the release ledger could not record the run's start (${written.reason}); nothing was run`);
      return { exitCode: EXIT.FAILED, report: { schemaVersion: 1, service: service.name, taskDefinition: arn, taskArn: null, exitCode: null, ledger: written } };
    }
  }
  /** @type {string|null} */
  let running = null;
  /** @type {{ status: 'passed'|'failed'|'interrupted', exitCode: number, message: string|null, containerExit: number|null }} */
  let outcome;
  try {
    const r = await runOneOffTask(ctx, {
      cluster: outputs.clusterName, taskDefinition: arn, container, command: o.command,
      subnets: outputs.privateSubnetIds, securityGroups: [outputs.tasksSecurityGroupId], startedBy: startedByFor('run/', service.name),
      timeoutMs: o.timeoutMs, intervalMs: o.pollIntervalMs,
      log: await logLocation(ctx, arn, container), followLog: true,
      onLogLine: (line) => ctx.write(redactLine(line, redact)),
      onStarted: (a) => {
        running = a;
        ctx.writeErr(`${noun}: started ${shellJoin(shown)} as task ${taskId(a)} (${arn.split('/').pop()})`);
      },
      onWaiting: (waited, task) => ctx.writeErr(`${noun}: still waiting (${fmtMs(waited)} of ${fmtMs(o.timeoutMs)}) for task ${running ? taskId(running) : ''} to stop: ${task?.lastStatus ?? 'not described yet'}`),
    });
    running = r.taskArn;
    const failure = stoppedFailure(r, container, redact, noun);
    const code = r.container?.exitCode;
    // the command's own exit code when it ran and exited; 1 when it never ran or stopped without one
    const exitCode = typeof code === 'number' && r.stopCode !== 'TaskFailedToStart' ? code : EXIT.FAILED;
    outcome = { status: failure ? 'failed' : 'passed', exitCode, message: failure, containerExit: typeof code === 'number' ? code : null };
  } catch (e) {
    if (e instanceof OneOffTaskError) {
      outcome = { status: 'failed', exitCode: EXIT.FAILED, message: oneOffFailure(e, o.timeoutMs, redact, noun), containerExit: null };
      running = e.taskArn ?? running;
    } else if (e instanceof InterruptedError || ctx.signal.aborted) {
      outcome = { status: 'interrupted', exitCode: EXIT.INTERRUPTED, message: `interrupted (Ctrl-C)${running ? `: task ${running} may still be running (it was not stopped)` : ''}`, containerExit: null };
    } else if (running) {
      outcome = { status: 'failed', exitCode: EXIT.FAILED, message: `${errorLine(e)} while waiting for task ${running}; it may still be running (it was not stopped)`, containerExit: null };
    } else throw e;
  }
  if (outcome.message) ctx.writeErr(`error: ${outcome.message}`);
  else ctx.writeErr(`${noun}: task ${taskId(/** @type {string} */ (running))} exited 0`);
  const report = { schemaVersion: 1, service: service.name, taskDefinition: arn, taskArn: running, exitCode: outcome.containerExit, status: outcome.status, ledger: /** @type {object|null} */ (null) };
  if (entry) {
    /** @type {LedgerEntry} */
    const final = { ...entry, outcome: outcome.status, finishedAt: new Date(ctx.clock.now()).toISOString(), run: { ...runRecord, taskArn: running, exitCode: outcome.containerExit } };
    // not the run's (maybe aborted) signal: an interrupted run is recorded too (recordOutcome bounds the write);
    // a passed run the ledger could not record exits 1 (recordOutcome amends the verdict)
    const verdict = { status: outcome.status, exitCode: outcome.exitCode };
    const written = await recordOutcome(ledger, final, verdict, ctx.writeErr);
    report.ledger = written;
    if (written.written) ctx.writeErr(`ledger: ${final.id} recorded as ${outcome.status}`);
    return { exitCode: verdict.exitCode, report };
  }
  return { exitCode: outcome.exitCode, report };
}

/**
 * The enabled catalog entry named `name` (InputError naming the known ones).
 * @param {import('../lib/outputs.mjs').Outputs} outputs @param {string} name
 */
export function catalogService(outputs, name) {
  const s = outputs.catalog.find((x) => x.name === name);
  if (!s) throw new InputError(`unknown SERVICE "${name}" (the catalog's services: ${outputs.catalog.map((x) => x.name).join(', ')})`);
  if (!s.enabled || !s.ecsServiceName || !s.containerName) throw new InputError(`SERVICE "${name}" is disabled (${s.disabledReason ?? 'disabled'}): it has no task definition to run`);
  return s;
}

/**
 * The task definition to run and its release: --release R's from the ledger (the newest passed rollout or rollback
 * of R naming the service), else the one the service runs now (its release: the newest ledger entry naming it, else
 * "unknown").
 * @param {RunOptions} o @param {import('./setup.mjs').VerbContext} ctx
 * @param {import('../lib/outputs.mjs').CatalogEntry} service @param {import('../ledger/index.mjs').LedgerContext} ledger
 * @returns {Promise<{ arn: string, release: string }>}
 */
async function taskDefinitionOf(o, ctx, service, ledger) {
  if (o.release) {
    const { entries } = await readLedger(ledger);
    const hit = entries.find((e) => isRelease(e) && e.outcome === 'passed' && e.release === o.release && e.taskDefinitions[service.name]);
    if (!hit) {
      const known = [...new Set(entries.filter((e) => isRelease(e) && e.outcome === 'passed' && e.taskDefinitions[service.name]).map((e) => e.release))];
      throw new InputError(`--release ${o.release}: the release ledger ${ledgerPath(ledger.namePrefix)} has no successful entry of that release naming ${service.name}'s task definition (releases it knows for ${service.name}, newest first: ${known.join(', ') || 'none'})`);
    }
    return { arn: hit.taskDefinitions[service.name], release: o.release };
  }
  const ecsName = /** @type {string} */ (service.ecsServiceName);
  const { services } = await describeServices({ signal: ctx.signal, log: ctx.log }, ctx.aws.ecs, ctx.outputs.clusterName, [ecsName]);
  const arn = services[0]?.taskDefinition;
  if (!arn) throw new Error(`service ${ecsName} not found in cluster ${ctx.outputs.clusterName} (was the foundation stack applied?)`);
  if (!o.changes) return { arn, release: 'unknown' };
  const { entries } = await readLedger(ledger);
  return { arn, release: entries.find((e) => isRelease(e) && Object.values(e.taskDefinitions).includes(arn))?.release ?? 'unknown' };
}
