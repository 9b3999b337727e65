// The run verb against the scripted AWS world (test/support/fake-aws.mjs): a one-off task from the revision a
// service runs now or from a release in the ledger, with the command replaced; its log lines streamed; its exit
// code as the verb's; RunTask failures, TaskFailedToStart and timeouts as exit 1; --changes takes the lock and
// records a 'run' entry, which status, rollback and history treat as no release; bad input exits 2 calling nothing.
import { fakeWorld, fakeClock, OUTPUTS, ROOT, OUTPUTS_FILE } from '../support/fake-aws.mjs';
import { rollout, ecsName, ops } from '../support/rollout.mjs';
import { main } from '../../runner/main.mjs';
import { pickTarget } from '../../runner/verbs/rollback.mjs';
import * as ledgerModule from '../../runner/ledger/index.mjs';

const API = OUTPUTS.service_catalog.api;

async function verb(fake, args, { clock = fakeClock(Date.UTC(2026, 0, 3)), env = {} } = {}) {
  const out = [];
  const err = [];
  fake.world.calls = [];
  fake.world.ledgerCalls = [];
  const res = await main([args[0], '--outputs', OUTPUTS_FILE, ...args.slice(1)], {
    cwd: ROOT, env, clock, createAws: () => fake.clients, write: (l) => out.push(l), writeErr: (l) => err.push(l),
    exec: async () => { throw new Error('no shell in unit tests'); },
  });
  return { ...res, out: out.join('\n'), err: err.join('\n') };
}
const run = (fake, args, opts) => verb(fake, ['run', ...args], opts);

/** r1 everywhere (passed), then r2 with a new api image: api runs staging-api:3 (r2), r1's is staging-api:2. */
async function twoReleases(fake) {
  expect((await rollout(fake, ['--no-emulator', '--release', 'r1'])).exitCode).toBe(0);
  fake.world.images.api = `sha256:${'e'.repeat(64)}`;
  expect((await rollout(fake, ['--no-emulator', '--release', 'r2'], { clock: fakeClock(Date.UTC(2026, 0, 2)) })).exitCode).toBe(0);
  fake.world.logEvents = [];
}
const tdArn = (fake, rev) => fake.world.tds.get(API.task_family).find((t) => t.revision === rev).taskDefinitionArn;

describe('run SERVICE -- COMMAND', () => {
  test('the revision the service runs now, its container\'s command replaced, in the private subnets; log lines on stdout; exit 0; no lock, no ledger', async () => {
    const fake = fakeWorld();
    await twoReleases(fake);
    fake.world.logEvents = ['INFO  [alembic] Running downgrade 2 -> 1', 'done'];
    const res = await run(fake, ['api', '--poll-interval', '1', '--', 'alembic', 'downgrade', '-1']);
    expect(res.exitCode).toBe(0);
    const [call] = ops(fake.world, 'RunTask');
    expect(call.input).toMatchObject({
      cluster: OUTPUTS.cluster_name, taskDefinition: tdArn(fake, 3), launchType: 'FARGATE', count: 1, startedBy: 'run/api',
      networkConfiguration: { awsvpcConfiguration: { subnets: OUTPUTS.private_subnet_ids, securityGroups: [OUTPUTS.tasks_security_group_id], assignPublicIp: 'DISABLED' } },
      overrides: { containerOverrides: [{ name: API.container_name, command: ['alembic', 'downgrade', '-1'] }] },
    });
    expect(res.out).toBe('INFO  [alembic] Running downgrade 2 -> 1\ndone');
    expect(res.err).toMatch(/^run api: started alembic downgrade -1 as task task\d+ \(staging-api:3\)$/m);
    expect(res.err).toMatch(/run api: task task\d+ exited 0$/);
    expect(fake.world.ledgerCalls).toEqual([]);
    expect(res.verbReport).toMatchObject({ service: 'api', taskDefinition: tdArn(fake, 3), exitCode: 0, status: 'passed', ledger: null });
  });

  test('a non-zero exit code is the verb\'s, with the migration\'s excerpt (stop code, reason, last log lines, redacted)', async () => {
    const fake = fakeWorld();
    await twoReleases(fake);
    fake.world.migrationExit = 3;
    fake.world.logEvents = ['hi', 'password is hunter2-secret'];
    const res = await run(fake, ['api', '--', 'python3', '-c', 'import sys; sys.exit(3)'], { env: { DB_PASSWORD: 'hunter2-secret' } });
    expect(res.exitCode).toBe(3);
    expect(res.out).toBe('hi\npassword is [REDACTED]');
    expect(res.err).toMatch(/error: run api container api exited with code 3\ntask task\d+: stopCode EssentialContainerExited; stoppedReason: Essential container in task exited\nlast 2 log line\(s\) of ecs\/api\/task\d+ in \/ecs\/staging\/api:\n {2}hi\n {2}password is \[REDACTED\]/);
    expect(res.err).not.toContain('hunter2-secret');
  });

  test.each([
    ['TaskFailedToStart', (w) => { w.migrationStopCode = 'TaskFailedToStart'; }, /error: run api task failed to start: TaskFailedToStart \(CannotPullContainerError/],
    ['RunTask failures', (w) => { w.runTaskFailures = [{ arn: 'x', reason: 'RESOURCE:ENI' }]; }, /^error: RunTask failed: x: RESOURCE:ENI$/m],
    ['no exit code', (w) => { w.migrationExit = undefined; }, /error: run api container api stopped without an exit code/],
    ['a timeout', (w) => { w.migrationDescribesUntilStop = 1000; }, /error: run api timed out after 10\.0 s \(task arn:\S+ is RUNNING; it was not stopped\)/],
  ])('%s: exit 1 with the reason', async (_name, fault, message) => {
    const fake = fakeWorld();
    await twoReleases(fake);
    fault(fake.world);
    const res = await run(fake, ['api', '--timeout', '10', '--', 'true']);
    expect(res.exitCode).toBe(1);
    expect(res.err).toMatch(message);
    expect(ops(fake.world, 'StopTask')).toEqual([]);
  });

  test('--release R: that release\'s revision from the ledger; an unknown release is refused naming the known ones', async () => {
    const fake = fakeWorld();
    await twoReleases(fake);
    const res = await run(fake, ['api', '--release', 'r1', '--', 'true']);
    expect(res.exitCode).toBe(0);
    expect(ops(fake.world, 'RunTask')[0].input.taskDefinition).toBe(tdArn(fake, 2));
    expect(ops(fake.world, 'DescribeServices')).toEqual([]);
    const bad = await run(fake, ['api', '--release', 'r9', '--', 'true']);
    expect(bad.exitCode).toBe(2);
    expect(bad.err).toBe('error: --release r9: the release ledger /staging/releases has no successful entry of that release naming api\'s task definition (releases it knows for api, newest first: r2, r1)');
    expect(ops(fake.world, 'RunTask')).toEqual([]);
  });

  test.each([
    [['nope', '--', 'true'], /^error: unknown SERVICE "nope" \(the catalog's services: [a-z0-9-]+(, [a-z0-9-]+)+\)$/],
    [['api'], /^error: missing the command: put it after "--", e\.g\. -- COMMAND\.\.\. \(see --help\)$/],
    [['--', 'true'], /^error: missing SERVICE \(see --help\)$/],
    [['api', 'ls'], /^error: unexpected argument "ls": one SERVICE only \(got "api"\); a command goes after "--"/],
    [['api', '--break-lock', '--', 'true'], /^error: --break-lock needs --changes/],
    [['api', '--timeout', 'soon', '--', 'true'], /^error: --timeout: must be a number of seconds >= 0, got "soon"$/],
  ])('bad input %j: exit 2, nothing called', async (args, message) => {
    const fake = fakeWorld();
    const res = await run(fake, args);
    expect(res.exitCode).toBe(2);
    expect(res.err).toMatch(message);
    expect([...fake.world.calls, ...fake.world.ledgerCalls]).toEqual([]);
  });

  test('--help needs no SERVICE and shows the example', async () => {
    const res = await run(fakeWorld(), ['--help']);
    expect(res.exitCode).toBe(0);
    expect(res.out).toMatch(/^Usage: npx zx runner\/rollout\.mjs run SERVICE \[--release R\] \[--changes\] \[flags\] -- COMMAND\.\.\./);
    expect(res.out).toContain('run api --changes -- alembic downgrade -1');
  });
});

describe('run --changes: the lock and a ledger entry of kind run, never a release', () => {
  test('the lock is taken and released; the entry records service, revision, command, task and exit code', async () => {
    const fake = fakeWorld();
    await twoReleases(fake);
    fake.world.migrationExit = 4;
    const res = await run(fake, ['api', '--changes', '--', 'alembic', 'downgrade', '-1']);
    expect(res.exitCode).toBe(4);
    const lockOps = fake.world.ledgerCalls.filter((c) => (c.input.Name ?? '') === '/staging/lock').map((c) => c.op);
    expect(lockOps[0]).toBe('PutParameter');
    expect(lockOps.at(-1)).toBe('DeleteParameter');
    expect(fake.world.parameters.has('/staging/lock')).toBe(false);
    // the in-progress entry before RunTask
    const puts = fake.world.ledgerCalls.filter((c) => c.op === 'PutParameter' && c.input.Name.startsWith('/staging/releases/'));
    expect(puts.map((c) => JSON.parse(c.input.Value).outcome)).toEqual(['in-progress', 'failed']);
    const { entries } = await ledgerModule.readLedger({ aws: fake.clients, namePrefix: 'staging' });
    const e = entries[0];
    expect(e).toMatchObject({
      id: '20260103T000000000Z-run-r2', kind: 'run', release: 'r2', outcome: 'failed', taskDefinitions: {},
      run: { service: 'api', taskDefinition: tdArn(fake, 3), command: ['alembic', 'downgrade', '-1'], taskArn: expect.stringMatching(/:task\//), exitCode: 4 },
    });
    expect(res.err).toContain('ledger: 20260103T000000000Z-run-r2 recorded as failed');
  });

  test('status, rollback and history look past a passed run: the last successful release and the rollback target stay', async () => {
    const fake = fakeWorld();
    await twoReleases(fake);
    expect((await run(fake, ['api', '--changes', '--', 'true'])).exitCode).toBe(0);
    const { entries } = await ledgerModule.readLedger({ aws: fake.clients, namePrefix: 'staging' });
    expect(entries[0]).toMatchObject({ kind: 'run', outcome: 'passed' });
    expect(ledgerModule.lastSuccessful(entries)).toMatchObject({ kind: 'rollout', release: 'r2' });
    expect(pickTarget(entries, null, ledgerModule)).toMatchObject({ current: { release: 'r2', kind: 'rollout' }, target: { release: 'r1' } });
    const status = await verb(fake, ['status', '--no-emulator', '--json']);
    expect(JSON.parse(status.out)).toMatchObject({ ok: true, lastSuccessful: { release: 'r2', kind: 'rollout' }, latest: { release: 'r2', kind: 'rollout' } });
    const history = await verb(fake, ['history']);
    expect(history.out.split('\n')[1]).toMatch(/^20260103T000000000Z-run-r2\s+run api \(exit 0\)\s+r2\s+passed\s/);
  });

  test('another command holds the lock: exit 3, nothing run, nothing recorded', async () => {
    const fake = fakeWorld();
    await twoReleases(fake);
    const now = new Date(Date.UTC(2026, 0, 3)).toISOString();
    fake.world.parameters.set('/staging/lock', { value: JSON.stringify({ schemaVersion: 1, token: 't', command: 'rollout', release: 'r3', environment: 'staging', origin: { ciRunUrl: null, actor: 'bob', host: 'h' }, pid: 1, since: now, renewedAt: now, leaseSeconds: 120 }), version: 1, history: [] });
    const res = await run(fake, ['api', '--changes', '--', 'true']);
    expect(res.exitCode).toBe(3);
    expect(res.err).toMatch(/^error: refused: staging is locked by rollout of release r3 by bob on h/);
    expect(ops(fake.world, 'RunTask')).toEqual([]);
    expect(fake.world.ledgerCalls.filter((c) => c.op === 'PutParameter' && c.input.Name.startsWith('/staging/releases/'))).toEqual([]);
  });

  test('the start cannot be recorded: exit 1, nothing run, the lock released', async () => {
    const fake = fakeWorld();
    await twoReleases(fake);
    fake.world.faults.set('PutParameter', (input) => (input.Name.startsWith('/staging/releases/') ? Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }) : undefined));
    const res = await run(fake, ['api', '--changes', '--', 'true']);
    expect(res.exitCode).toBe(1);
    expect(res.err).toMatch(/error: the release ledger could not record the run's start \(.*denied.*\); nothing was run/);
    expect(ops(fake.world, 'RunTask')).toEqual([]);
    expect(fake.world.parameters.has('/staging/lock')).toBe(false);
  });
});
