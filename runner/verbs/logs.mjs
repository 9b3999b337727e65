// `logs [SERVICE|migration]`: read-only; the CloudWatch Logs of a service's tasks, merged in time order across its
// tasks with the task id on each line, or of the last migration task; every enabled service without a name. Where:
// the service's task family (service catalog output; migration_task_family) names the awslogs group and stream
// prefix of its container (runner/aws/one-off-task.mjs awslogsLocation, as the smoke probes and the migration step
// find them); a task's stream is `<prefix>/<container>/<task id>`. The last migration task: the newest task of the
// migration family ECS knows (ListTasks RUNNING and STOPPED; ECS keeps stopped tasks for about an hour), or --task.
// Lines are redacted as the migration step's and the smoke suite's log excerpts are (runner/smoke/log-tail.mjs).
// --follow polls FilterLogEvents (paging with nextToken) until Ctrl-C; events are told apart by eventId, and a
// window of LATE_MS before the newest event is read again, so a line CloudWatch ingests late is still shown.
// Calls: DescribeTaskDefinition once per service, FilterLogEvents once per page (per poll with --follow), for the
// migration ListTasks twice and DescribeTasks once. Exit 0 lines shown (with --follow: until Ctrl-C), 1 no line in
// the window, no migration task known, or AWS could not be read, 2 bad input.
import { ListTasksCommand } from '@aws-sdk/client-ecs';
import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import configLib from '../../lib/config/index.cjs';
import { defineCommand } from '../lib/cli-options.mjs';
import { stackInputFlags, helpFlag } from '../lib/args.mjs';
import { EXIT, InputError, InterruptedError } from '../lib/errors.mjs';
import { send } from '../aws/send.mjs';
import { describeTasks } from '../aws/ecs.mjs';
import { awslogsLocation, logStream, taskId } from '../aws/one-off-task.mjs';
import { logRedactor, redactLine } from '../smoke/log-tail.mjs';
import { runVerb } from './setup.mjs';
import { usage } from './index.mjs';
import { pollIntervalFlag } from './wait.mjs';

/**
 * @typedef {{ ago: number } | { at: number }} Since
 * @typedef {{ outputs: string|null, stackDir: string, config: string|null, json: boolean, since: Since|null,
 *   follow: boolean, task: string|null, pollIntervalMs: number, help: boolean }} LogsOptions
 * @typedef {object} Source where one service's (or the migration's) lines are
 * @property {string} service catalog name, or `migration`
 * @property {string} group
 * @property {string} streamPrefix `<prefix>/<container>/`: its container's streams
 * @property {string|null} stream one task's stream (--task, the migration)
 * @typedef {{ time: string, timestamp: number, service: string, task: string, stream: string, message: string }} LogLine
 */

/** The name that selects the migration task's log instead of a service's. */
export const MIGRATION = 'migration';
export const DEFAULT_SINCE = '10m';
/** FilterLogEvents pages read at most per source and read (one look; one poll of --follow). */
export const MAX_PAGES = 50;
/** --follow reads this much before the newest event again: CloudWatch may ingest a line after a newer one. */
export const LATE_MS = 30_000;
const UNITS = /** @type {const} */ ({ s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 });

/** `--since`: a duration back from now (`90s`, `10m`, `2h`, `1d`) or an ISO 8601 time. @param {string} raw @param {string} flag @returns {Since} */
export function parseSince(raw, flag) {
  const m = /^(\d+)([smhd])$/.exec(raw);
  if (m) return { ago: Number(m[1]) * UNITS[/** @type {keyof typeof UNITS} */ (m[2])] };
  const at = /^\d{4}-\d\d-\d\d(T[\d:.]+(Z|[+-]\d\d:?\d\d)?)?$/.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(at)) throw new InputError(`${flag}: must be a duration like 90s, 10m, 2h, 1d or an ISO 8601 time like 2026-01-01T12:00:00Z, got "${raw}"`);
  return { at };
}

/** `--task`: a task id or ARN, as its id. @param {string} raw @param {string} flag */
function parseTask(raw, flag) {
  const id = raw.split('/').pop() ?? '';
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(id)) throw new InputError(`${flag}: not a task id or task ARN, got "${raw}"`);
  return id;
}

const COMMAND = defineCommand(/** @type {import('../lib/cli-options.mjs').CommandSpec<LogsOptions>} */ ({
  head: `${usage('logs', '[SERVICE|migration] [flags]')}

The CloudWatch Logs of a service's tasks, merged in time order across its tasks with the task id on each line
(every enabled service when none is named), or of the last migration task. Secret-looking values are redacted.
Changes nothing.`,
  column: 23,
  sections: [
    { title: 'Inputs', flags: stackInputFlags() },
    { title: 'Selection', flags: [
      { flag: '--since', value: 'WHEN', key: 'since', parse: parseSince, help: [
        `from when: a duration back from now (90s, 10m, 2h, 1d) or an ISO 8601 time (default ${DEFAULT_SINCE};`,
        'the migration: its whole log)'] },
      { flag: '--task', value: 'ID', key: 'task', parse: parseTask, help: ['only this task (its id or ARN; needs SERVICE or migration)'] },
      { flag: '--follow', short: 'f', key: 'follow', default: false, help: ['keep reading new lines until Ctrl-C'] },
      ...pollIntervalFlag().map((f) => ({ ...f, help: [`how often --follow reads (default ${Number(f.default) / 1000})`] }))] },
    { title: 'Output', flags: [
      { flag: '--json', key: 'json', default: false, help: ['print JSON instead of lines (with --follow: one JSON object per line)'] },
      ...helpFlag()] },
  ],
  tail: `Exit codes
  0    lines were shown; with --follow: stopped by Ctrl-C
  1    no line in the time window, no migration task known to ECS (name one with --task), or AWS could not
       be read
  2    bad input: flags, config, outputs, an unknown or disabled service
  130  interrupted (Ctrl-C) without --follow`,
}));

export const HELP = COMMAND.help;

/**
 * @param {string[]} argv `[SERVICE|migration] [flags]` @param {import('../main.mjs').MainDeps} deps
 * @returns {Promise<import('./index.mjs').VerbResult>}
 */
export async function run(argv, deps) {
  const named = argv.length && !argv[0].startsWith('-') ? argv[0] : null;
  return runVerb(COMMAND, named === null ? argv : argv.slice(1), deps, async (options, ctx) => {
    const redact = logRedactor(ctx.env);
    const call = { aws: ctx.aws, signal: ctx.signal, log: ctx.log };
    const { sources, about } = await locate(ctx, call, named, options.task);
    const now = ctx.clock.now();
    const whole = named === MIGRATION && !options.since;
    const since = options.since ?? parseSince(DEFAULT_SINCE, '--since');
    const startTime = whole ? undefined : 'at' in since ? since.at : now - since.ago;
    const labelled = sources.length > 1;
    /** @param {LogLine} l */
    const show = (l) => (options.json ? JSON.stringify(l) : `${l.time} ${labelled ? `${l.service}/` : ''}${l.task} ${l.message}`);
    for (const a of about) ctx.writeErr(a);
    ctx.writeErr(`logs of ${sources.map((s) => `${s.service} (${s.stream ?? `${s.streamPrefix}*`} in ${s.group})`).join(', ')}${startTime === undefined ? '' : ` since ${new Date(startTime).toISOString()}`}${options.follow ? '; following until Ctrl-C' : ''}`);

    const readers = sources.map((s) => reader(call, s, redact, startTime));
    /** @type {LogLine[]} */
    const first = merge(await Promise.all(readers.map((r) => r.read())));
    const truncated = readers.filter((r) => r.truncated()).map((r) => r.source.service);
    if (truncated.length) ctx.log.warn(`more than ${MAX_PAGES} pages of events for ${truncated.join(', ')}: the first ones are shown; narrow it with --since`);
    if (!options.follow) {
      const report = { schemaVersion: 1, environment: ctx.outputs.environment, sources, since: startTime === undefined ? null : new Date(startTime).toISOString(), lines: first, truncated };
      if (options.json) ctx.write(JSON.stringify(report, null, 2));
      else for (const l of first) ctx.write(show(l));
      if (!first.length) ctx.writeErr(`no log lines${startTime === undefined ? '' : ` since ${new Date(startTime).toISOString()}`} (exit 1)`);
      return { exitCode: first.length ? EXIT.OK : EXIT.FAILED, report };
    }
    for (const l of first) ctx.write(show(l));
    let shown = first.length;
    try {
      for (;;) {
        await ctx.clock.sleep(options.pollIntervalMs, ctx.signal);
        const next = merge(await Promise.all(readers.map((r) => r.read())));
        for (const l of next) ctx.write(show(l));
        shown += next.length;
      }
    } catch (e) {
      if (!(e instanceof InterruptedError) && !ctx.signal.aborted) throw e;
    }
    ctx.writeErr(`stopped (Ctrl-C) after ${shown} line(s)`);
    return { exitCode: EXIT.OK, report: null };
  });
}

/**
 * The sources a run reads: the named service, the migration, or every enabled service; and what to say about them.
 * @param {import('./setup.mjs').VerbContext} ctx
 * @param {import('../aws/send.mjs').CallContext & { aws: import('../aws/clients.mjs').AwsClients }} call
 * @param {string|null} named @param {string|null} task
 * @returns {Promise<{ sources: Source[], about: string[] }>}
 */
async function locate(ctx, call, named, task) {
  const { outputs } = ctx;
  /** @type {string[]} */
  const about = [];
  if (named === MIGRATION) {
    const container = outputs.migrationContainerName;
    const where = await whereOf(call, outputs.migrationTaskFamily, container);
    let id = task;
    if (!id) {
      const last = await lastMigrationTask(call, outputs.clusterName, outputs.migrationTaskFamily);
      if (!last) {
        throw new Error(`no migration task of ${outputs.migrationTaskFamily} known to ECS in cluster ${outputs.clusterName} (ECS keeps stopped tasks for about an hour); name one with --task ID (the rollout report and \`history\` name it)`);
      }
      id = taskId(String(last.taskArn));
      const c = (last.containers ?? []).find((x) => x.name === container);
      about.push(`last migration task ${id}: ${last.lastStatus}${c && typeof c.exitCode === 'number' ? `, exit code ${c.exitCode}` : ''}${last.createdAt ? `, created ${new Date(last.createdAt).toISOString()}` : ''}`);
    }
    return { sources: [{ service: MIGRATION, group: where.group, streamPrefix: `${where.streamPrefix}/${container}/`, stream: logStream(where, container, id) }], about };
  }
  const enabled = outputs.catalog.filter((s) => s.enabled);
  /** @type {import('../lib/outputs.mjs').CatalogEntry[]} */
  let chosen = enabled;
  if (named !== null) {
    const entry = outputs.catalog.find((s) => s.name === named);
    if (!entry) {
      const names = [...outputs.catalog.map((s) => s.name), MIGRATION];
      const like = configLib.closestName(named, names);
      throw new InputError(`unknown service "${named}"${like ? `: did you mean "${like}"?` : ''} (services: ${names.join(', ')})`);
    }
    if (!entry.enabled) throw new InputError(`service ${named} is disabled (${entry.disabledReason}): it runs no tasks`);
    chosen = [entry];
  } else if (task) {
    throw new InputError('--task needs the SERVICE (or migration) it belongs to: logs SERVICE --task ID');
  }
  const sources = await Promise.all(chosen.map(async (s) => {
    const container = /** @type {string} */ (s.containerName);
    const where = await whereOf(call, /** @type {string} */ (s.taskFamily), container);
    return { service: s.name, group: where.group, streamPrefix: `${where.streamPrefix}/${container}/`, stream: task ? logStream(where, container, task) : null };
  }));
  return { sources, about };
}

/**
 * @param {import('../aws/send.mjs').CallContext & { aws: import('../aws/clients.mjs').AwsClients }} call
 * @param {string} family @param {string} container
 */
async function whereOf(call, family, container) {
  const where = await awslogsLocation(call, family, container);
  if (!where) throw new Error(`task definition ${family} has no awslogs configuration (group and stream prefix) for container ${container}: its lines are not in CloudWatch Logs`);
  return where;
}

/**
 * The newest task of the migration family ECS knows, running or stopped.
 * @param {import('../aws/send.mjs').CallContext & { aws: import('../aws/clients.mjs').AwsClients }} call
 * @param {string} cluster @param {string} family
 */
async function lastMigrationTask(call, cluster, family) {
  /** @type {string[]} */
  const arns = [];
  for (const desiredStatus of /** @type {const} */ (['RUNNING', 'STOPPED'])) {
    const res = await send(call, call.aws.ecs, new ListTasksCommand({ cluster, family, desiredStatus, maxResults: 100 }));
    arns.push(...(res.taskArns ?? []));
  }
  if (!arns.length) return null;
  const { tasks } = await describeTasks(call, call.aws.ecs, cluster, arns);
  const at = (/** @type {import('@aws-sdk/client-ecs').Task} */ t) => new Date(t.createdAt ?? t.startedAt ?? 0).getTime();
  return tasks.sort((a, b) => at(b) - at(a))[0] ?? null;
}

/**
 * Reads one source with FilterLogEvents: from `startTime` the first time, then from LATE_MS before the newest
 * event seen; each event once (by eventId).
 * @param {import('../aws/send.mjs').CallContext & { aws: import('../aws/clients.mjs').AwsClients }} call
 * @param {Source} source @param {import('../smoke/redact.mjs').Redactor} redact @param {number|undefined} startTime
 */
function reader(call, source, redact, startTime) {
  /** @type {Map<string, number>} eventId -> timestamp, for the events of the re-read window */
  const seen = new Map();
  let newest = startTime;
  let cut = false;
  return {
    source,
    truncated: () => cut,
    /** @returns {Promise<LogLine[]>} */
    async read() {
      const from = newest === undefined ? undefined : seen.size ? Math.max(startTime ?? 0, newest - LATE_MS) : newest;
      /** @type {LogLine[]} */
      const out = [];
      /** @type {string|undefined} */
      let nextToken;
      let pages = 0;
      do {
        const res = await send(call, call.aws.logs, new FilterLogEventsCommand({
          logGroupName: source.group,
          ...(source.stream ? { logStreamNames: [source.stream] } : { logStreamNamePrefix: source.streamPrefix }),
          startTime: from, nextToken,
        }));
        for (const ev of res.events ?? []) {
          const stream = String(ev.logStreamName ?? '');
          const id = ev.eventId ?? `${stream}/${ev.timestamp}/${ev.message}`;
          // the stream filter again: an emulator may not apply logStreamNamePrefix
          if (seen.has(id) || (source.stream ? stream !== source.stream : !stream.startsWith(source.streamPrefix))) continue;
          const timestamp = Number(ev.timestamp ?? 0);
          seen.set(id, timestamp);
          out.push({
            time: new Date(timestamp).toISOString(), timestamp, service: source.service, task: stream.split('/').pop() ?? stream, stream,
            message: redactLine(String(ev.message ?? '').replace(/\s+$/, ''), redact),
          });
        }
        nextToken = res.nextToken;
        pages += 1;
      } while (nextToken && pages < MAX_PAGES);
      if (nextToken) cut = true;
      for (const l of out) if (newest === undefined || l.timestamp > newest) newest = l.timestamp;
      if (newest !== undefined) for (const [id, ts] of seen) if (ts < newest - LATE_MS) seen.delete(id);
      return out;
    },
  };
}

/** Lines of several sources in time order (stable: a source's own order is kept for equal times). @param {LogLine[][]} lists */
function merge(lists) {
  return lists.flat().map((l, i) => ({ l, i })).sort((a, b) => a.l.timestamp - b.l.timestamp || a.i - b.i).map((x) => x.l);
}
