// The logs verb against the scripted AWS world: a service's tasks merged in time order with the task id on each line
// (paged FilterLogEvents, only its container's streams, redacted), --task, --since, every enabled service, the last
// migration task, --follow until Ctrl-C (late lines, no line twice), nothing found (1), AWS failures (1), refusals (2).
import { writeFileSync, readFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fakeWorld, fakeClock, awsError, ROOT, OUTPUTS_FILE, OUTPUTS } from '../support/fake-aws.mjs';
import { main } from '../../runner/main.mjs';
import { parseSince } from '../../runner/verbs/logs.mjs';

const T0 = Date.UTC(2026, 0, 1, 12);
const MIN = 60_000;

async function logs(fake, args = [], { clock = fakeClock(T0), signal, env = {}, outputs = OUTPUTS_FILE } = {}) {
  const out = [];
  const err = [];
  fake.world.calls = [];
  const res = await main(['logs', ...args, '--outputs', outputs], {
    cwd: ROOT, env, clock, signal, createAws: () => fake.clients, write: (l) => out.push(l), writeErr: (l) => err.push(l),
    exec: async () => { throw new Error('no shell in unit tests'); },
  });
  return { ...res, lines: out, out: out.join('\n'), err: err.join('\n') };
}
const opsOf = (world) => world.calls.map((c) => c.op);

/** api's log group: two tasks interleaved, a sidecar's stream, a line with a password, an old line. */
function apiLogs(world) {
  const g = '/ecs/staging/api';
  world.logStore.push(
    { group: g, stream: 'ecs/api/aaa111', timestamp: T0 - 5 * MIN, message: 'listening on :8080' },
    { group: g, stream: 'ecs/api/bbb222', timestamp: T0 - 4 * MIN, message: 'listening on :8080' },
    { group: g, stream: 'ecs/api/aaa111', timestamp: T0 - 3 * MIN, message: 'GET /health 200' },
    { group: g, stream: 'ecs/xray/aaa111', timestamp: T0 - 3 * MIN, message: 'sidecar line' },
    { group: g, stream: 'ecs/api/bbb222', timestamp: T0 - 2 * MIN, message: 'connect postgres://app:hunter2@db:5432/app password=hunter2' },
    { group: g, stream: 'ecs/api/aaa111', timestamp: T0 - 60 * MIN, message: 'an hour ago' },
    { group: '/ecs/staging/frontend', stream: 'ecs/frontend/ccc333', timestamp: T0 - MIN, message: 'frontend up' },
  );
}

describe('logs SERVICE', () => {
  test('merged in time order across tasks, the task id on each line, only its container, redacted; paged; exit 0', async () => {
    const fake = fakeWorld();
    apiLogs(fake.world);
    const res = await logs(fake, ['api'], { env: { DB_PASSWORD: 'hunter2' } });
    expect(res.exitCode).toBe(0);
    expect(res.lines).toEqual([
      '2026-01-01T11:55:00.000Z aaa111 listening on :8080',
      '2026-01-01T11:56:00.000Z bbb222 listening on :8080',
      '2026-01-01T11:57:00.000Z aaa111 GET /health 200',
      '2026-01-01T11:58:00.000Z bbb222 connect postgres://app:[REDACTED]@db:5432/app password=[REDACTED]',
    ]);
    expect(res.err).toBe('logs of api (ecs/api/* in /ecs/staging/api) since 2026-01-01T11:50:00.000Z');
    // the stream prefix from the task definition; 4 events in pages of 3: two FilterLogEvents
    expect(opsOf(fake.world)).toEqual(['DescribeTaskDefinition', 'FilterLogEvents', 'FilterLogEvents']);
    expect(fake.world.calls[1].input).toMatchObject({ logGroupName: '/ecs/staging/api', logStreamNamePrefix: 'ecs/api/', startTime: T0 - 10 * MIN });
  });

  test('an emulator that ignores logStreamNamePrefix (moto): still only the container\'s streams', async () => {
    const fake = fakeWorld();
    apiLogs(fake.world);
    fake.world.logsIgnorePrefix = true;
    const res = await logs(fake, ['api']);
    expect(res.exitCode).toBe(0);
    expect(res.out).not.toContain('sidecar line');
    expect(res.lines).toHaveLength(4);
  });

  test('--task: that task\'s stream only; --since a duration or a time; --json', async () => {
    const fake = fakeWorld();
    apiLogs(fake.world);
    const one = await logs(fake, ['api', '--task', 'arn:aws:ecs:us-east-1:123456789012:task/staging/bbb222', '--since', '2h']);
    expect(one.lines).toEqual([
      '2026-01-01T11:56:00.000Z bbb222 listening on :8080',
      '2026-01-01T11:58:00.000Z bbb222 connect postgres://app:[REDACTED]@db:5432/app password=[REDACTED]',
    ]);
    expect(fake.world.calls[1].input).toMatchObject({ logStreamNames: ['ecs/api/bbb222'], startTime: T0 - 120 * MIN });
    const json = await logs(fake, ['api', '--since', '2026-01-01T11:56:30Z', '--json']);
    const r = JSON.parse(json.out);
    expect(r).toMatchObject({ schemaVersion: 1, environment: 'staging', since: '2026-01-01T11:56:30.000Z', truncated: [] });
    expect(r.lines.map((l) => [l.task, l.service, l.message.slice(0, 7)])).toEqual([['aaa111', 'api', 'GET /he'], ['bbb222', 'api', 'connect']]);
    expect(r.lines[0]).toMatchObject({ time: '2026-01-01T11:57:00.000Z', stream: 'ecs/api/aaa111' });
  });

  test('no service named: every enabled service, merged, each line with service/task', async () => {
    const fake = fakeWorld();
    apiLogs(fake.world);
    const res = await logs(fake, []);
    expect(res.exitCode).toBe(0);
    expect(res.lines.at(-2)).toMatch(/^2026-01-01T11:58:00.000Z api\/bbb222 connect /);
    expect(res.lines.at(-1)).toBe('2026-01-01T11:59:00.000Z frontend/ccc333 frontend up');
    expect(opsOf(fake.world).filter((o) => o === 'DescribeTaskDefinition')).toHaveLength(Object.values(OUTPUTS.service_catalog).filter((e) => e.enabled).length);
  });

  test('no line in the window: exit 1, said on stderr', async () => {
    const fake = fakeWorld();
    apiLogs(fake.world);
    const res = await logs(fake, ['admin']);
    expect(res.exitCode).toBe(1);
    expect(res.out).toBe('');
    expect(res.err).toContain('no log lines since 2026-01-01T11:50:00.000Z (exit 1)');
  });

  test('an AWS failure: exit 1 naming it', async () => {
    const fake = fakeWorld();
    fake.world.faults.set('FilterLogEvents', () => awsError('AccessDeniedException', 'not authorized to perform: logs:FilterLogEvents'));
    const res = await logs(fake, ['api']);
    expect(res.exitCode).toBe(1);
    expect(res.err).toMatch(/^logs of api[^\n]*\nerror: .*not authorized to perform: logs:FilterLogEvents/);
  });
});

describe('logs migration', () => {
  const task = (id, createdAt, exitCode) => ({
    taskArn: `arn:aws:ecs:us-east-1:123456789012:task/staging/${id}`, taskDefinitionArn: `arn:aws:ecs:us-east-1:123456789012:task-definition/${OUTPUTS.migration_task_family}:1`,
    lastStatus: 'STOPPED', desiredStatus: 'STOPPED', createdAt: new Date(createdAt), group: 'family:migration', describes: 0,
    containers: [{ name: OUTPUTS.migration_container_name, lastStatus: 'STOPPED', exitCode }],
  });

  test('the newest migration task ECS knows, its whole log (no --since), exit code named', async () => {
    const fake = fakeWorld();
    fake.world.migrationDescribesUntilStop = 0;
    for (const t of [task('old1', T0 - 50 * MIN, 0), task('new2', T0 - 30 * MIN, 1)]) fake.world.tasks.set(t.taskArn, t);
    const g = OUTPUTS.migration_log_group_name;
    fake.world.logStore.push(
      { group: g, stream: 'ecs/migration/old1', timestamp: T0 - 50 * MIN, message: 'old run' },
      { group: g, stream: 'ecs/migration/new2', timestamp: T0 - 30 * MIN, message: 'migrating 0042 token=abc123' },
      { group: g, stream: 'ecs/migration/new2', timestamp: T0 - 29 * MIN, message: 'error: relation exists' },
    );
    const res = await logs(fake, ['migration']);
    expect(res.exitCode).toBe(0);
    expect(res.lines).toEqual(['2026-01-01T11:30:00.000Z new2 migrating 0042 token=[REDACTED]', '2026-01-01T11:31:00.000Z new2 error: relation exists']);
    expect(res.err).toContain('last migration task new2: STOPPED, exit code 1, created 2026-01-01T11:30:00.000Z');
    expect(opsOf(fake.world)).toEqual(['DescribeTaskDefinition', 'ListTasks', 'ListTasks', 'DescribeTasks', 'FilterLogEvents']);
    expect(fake.world.calls[1].input).toMatchObject({ cluster: OUTPUTS.cluster_name, family: OUTPUTS.migration_task_family, desiredStatus: 'RUNNING' });
    expect(fake.world.calls[4].input).toEqual({ logGroupName: g, logStreamNames: ['ecs/migration/new2'] });
  });

  test('none known to ECS: exit 1, how to name one', async () => {
    const fake = fakeWorld();
    const res = await logs(fake, ['migration']);
    expect(res.exitCode).toBe(1);
    expect(res.err).toBe(`error: no migration task of ${OUTPUTS.migration_task_family} known to ECS in cluster ${OUTPUTS.cluster_name} (ECS keeps stopped tasks for about an hour); name one with --task ID (the rollout report and \`history\` name it)`);
    const named = await logs(fake, ['migration', '--task', 'gone9']);
    expect(named.exitCode).toBe(1); // named, but its stream has no line
    expect(fake.world.calls.at(-1).input).toMatchObject({ logStreamNames: ['ecs/migration/gone9'] });
  });
});

describe('logs --follow', () => {
  test('keeps reading until Ctrl-C: new and late lines once each, exit 0', async () => {
    const fake = fakeWorld();
    apiLogs(fake.world);
    const g = '/ecs/staging/api';
    const clock = fakeClock(T0);
    const ac = new AbortController();
    let polls = 0;
    const sleep = clock.sleep;
    clock.sleep = async (ms, signal) => {
      polls += 1;
      if (polls === 1) fake.world.logStore.push({ group: g, stream: 'ecs/api/ddd444', timestamp: T0 + 1000, message: 'new task up' });
      // ingested late: older than the newest line already shown
      if (polls === 2) fake.world.logStore.push({ group: g, stream: 'ecs/api/aaa111', timestamp: T0 + 500, message: 'late line' });
      if (polls === 4) ac.abort();
      return sleep(ms, signal);
    };
    const res = await logs(fake, ['api', '--follow', '--poll-interval', '1'], { clock, signal: ac.signal });
    expect(res.exitCode).toBe(0);
    expect(res.lines.slice(4)).toEqual(['2026-01-01T12:00:01.000Z ddd444 new task up', '2026-01-01T12:00:00.500Z aaa111 late line']);
    expect(res.err.split('\n').at(-1)).toBe('stopped (Ctrl-C) after 6 line(s)');
    // each poll reads again from 30 s before the newest line shown
    expect(fake.world.calls.filter((c) => c.op === 'FilterLogEvents').at(-1).input.startTime).toBe(T0 + 1000 - 30_000);
  });

  test('an AWS failure while following: exit 1 naming it, after the lines already shown', async () => {
    const fake = fakeWorld();
    apiLogs(fake.world);
    const clock = fakeClock(T0);
    const sleep = clock.sleep;
    clock.sleep = async (ms, signal) => {
      fake.world.faults.set('FilterLogEvents', () => awsError('ResourceNotFoundException', 'The specified log group does not exist.'));
      return sleep(ms, signal);
    };
    const res = await logs(fake, ['api', '--follow'], { clock });
    expect(res.exitCode).toBe(1);
    expect(res.lines).toHaveLength(4);
    expect(res.err.split('\n').at(-1)).toMatch(/^error: .*The specified log group does not exist\./);
  });

  test('--json with --follow: one JSON object per line', async () => {
    const fake = fakeWorld();
    apiLogs(fake.world);
    const ac = new AbortController();
    const clock = fakeClock(T0);
    clock.sleep = async () => { ac.abort(); const { InterruptedError } = await import('../../runner/lib/errors.mjs'); throw new InterruptedError(); };
    const res = await logs(fake, ['api', '-f', '--json'], { clock, signal: ac.signal });
    expect(res.exitCode).toBe(0);
    expect(res.lines.map((l) => JSON.parse(l).task)).toEqual(['aaa111', 'bbb222', 'aaa111', 'bbb222']);
  });
});

describe('logs refusals (exit 2, no AWS call)', () => {
  const names = [...Object.keys(OUTPUTS.service_catalog), 'migration'].join(', ');
  test.each([
    [['apu'], `error: unknown service "apu": did you mean "api"? (services: ${names})`],
    [['migratoin'], `error: unknown service "migratoin": did you mean "migration"? (services: ${names})`],
    [['--task', 'abc'], 'error: --task needs the SERVICE (or migration) it belongs to: logs SERVICE --task ID'],
    [['api', '--since', 'yesterday'], 'error: --since: must be a duration like 90s, 10m, 2h, 1d or an ISO 8601 time like 2026-01-01T12:00:00Z, got "yesterday"'],
    [['api', '--task', 'a b'], 'error: --task: not a task id or task ARN, got "a b"'],
    [['api', 'frontend'], 'error: unexpected argument "frontend" (see --help)'],
  ])('%j', async (args, message) => {
    const fake = fakeWorld();
    const res = await logs(fake, args);
    expect(res.exitCode).toBe(2);
    expect(res.err).toBe(message);
    expect(fake.world.calls).toEqual([]);
  });

  test('a disabled service: it runs no tasks', async () => {
    const raw = JSON.parse(readFileSync(path.resolve(ROOT, OUTPUTS_FILE), 'utf8'));
    raw.service_catalog.value.admin = { ...raw.service_catalog.value.admin, enabled: false, disabled_reason: 'not needed in staging', ecs_service_name: null, task_family: null, container_name: null, log_group_name: null, target_group_arn: null };
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'logs-verb-')), 'outputs.json');
    writeFileSync(file, JSON.stringify(raw));
    const fake = fakeWorld();
    const res = await logs(fake, ['admin'], { outputs: file });
    expect(res.err).toBe('error: service admin is disabled (not needed in staging): it runs no tasks');
    expect(res.exitCode).toBe(2);
  });

  test('--help from the table', async () => {
    const res = await logs(fakeWorld(), ['--help']);
    expect(res.exitCode).toBe(0);
    expect(res.out).toMatch(/^Usage: npx zx runner\/rollout\.mjs logs \[SERVICE\|migration\] \[flags\]/);
    expect(res.out).toMatch(/--follow, -f\s+keep reading new lines until Ctrl-C/);
  });

  test('parseSince', () => {
    expect(parseSince('90s', '--since')).toEqual({ ago: 90_000 });
    expect(parseSince('1d', '--since')).toEqual({ ago: 86_400_000 });
    expect(parseSince('2026-01-01', '--since')).toEqual({ at: Date.UTC(2026, 0, 1) });
    expect(() => parseSince('10', '--since')).toThrow(/--since: must be a duration/);
  });
});
