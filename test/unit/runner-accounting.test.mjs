// Every change accounted for (issue 11 items 1, 2, 4), against scripted AWS (test/support/fake-aws.mjs): Ctrl-C
// while a mutating call is in flight, AWS errors for good during a wait, and a failed migration's detail. Each
// case asserts the exit code, the report's `failure` (step, service, operation, message), its half-done list,
// that no later step made a mutating call, and then a rerun with the fault removed: no duplicate migration, no
// needless registration.
import { fakeWorld, stepsThatCalled, serverError, awsError, OUTPUTS } from '../support/fake-aws.mjs';
import { WEB, ecsName, rollout, ops, stepOf, STEP_IDS, expectStoppedAfter } from '../support/rollout.mjs';

/** task-definition family of a catalog service */
const family = (n) => OUTPUTS.service_catalog[n].task_family;
const MUTATING = ['RegisterTaskDefinition', 'RunTask', 'StopTask', 'UpdateService'];

/** No step after `step` made a mutating call; none was made after the call at index `from` either. */
function expectNoLaterChange(world, step, from = world.calls.length) {
  const later = STEP_IDS.slice(STEP_IDS.indexOf(step) + 1);
  expect(world.calls.filter((c) => later.includes(c.step) && MUTATING.includes(c.op))).toEqual([]);
  expect(world.calls.slice(from).filter((c) => MUTATING.includes(c.op))).toEqual([]);
}

/** The rerun with the fault removed: passes, starts no second migration, registers nothing. */
async function expectCleanRerun(fake) {
  fake.world.faults.clear();
  fake.world.afterApply.clear();
  fake.world.calls = [];
  const again = await rollout(fake, ['--no-emulator']);
  expect({ exit: again.exitCode, failure: again.report.failure }).toEqual({ exit: 0, failure: null });
  expect(ops(fake.world, 'RunTask')).toHaveLength(0);
  expect(ops(fake.world, 'RegisterTaskDefinition')).toHaveLength(0);
  expect(stepOf(again.report, 'migration').status).toMatch(/^(passed|skipped)$/);
  return again;
}

describe('Ctrl-C while a mutating call is in flight: the call finishes and the change is listed', () => {
  test('UpdateService replies delayed (applied on the AWS side): every service of the wave is listed as updated', async () => {
    const fake = fakeWorld();
    const ac = new AbortController();
    let abortedAt = -1;
    fake.world.afterApply.set('UpdateService', async () => {
      if (!ac.signal.aborted) { ac.abort(); abortedAt = fake.world.calls.length; }
      await new Promise((r) => setTimeout(r, 20)); // the reply is still on its way when Ctrl-C comes
    });
    const res = await rollout(fake, ['--no-emulator'], { signal: ac.signal });
    expect(res.exitCode).toBe(130);
    expect(res.report.status).toBe('interrupted');
    // all three calls were sent before the abort and got their reply (not cancelled)
    expect(ops(fake.world, 'UpdateService').map((c) => c.input.service).sort()).toEqual(WEB.map(ecsName).sort());
    for (const n of WEB) expect(fake.world.services.get(ecsName(n)).taskDefinition).toMatch(/:2$/);
    const { failure } = res.report;
    expect(failure.step).toBe('tier:app');
    expect(failure.message).toMatch(/^interrupted \(Ctrl-C\) during tier:app; left half-done: /);
    for (const n of WEB) expect(failure.message).toContain(`${ecsName(n)} was updated to ${ecsName(n)}:2 but not yet stable`);
    expect(failure.message).not.toContain('nothing was left half-done');
    expect(failure.halfDone).toEqual(expect.arrayContaining(WEB.map((n) => ({
      step: 'tier:app', service: n, operation: 'UpdateService', state: 'changed', what: `${ecsName(n)} was updated to ${ecsName(n)}:2 but not yet stable`,
    }))));
    expect(failure.halfDone).toHaveLength(3);
    expect(stepOf(res.report, 'tier:workers')).toMatchObject({ status: 'not-run', reason: 'not started: interrupted during tier:app' });
    expect(stepsThatCalled(fake.world)).not.toContain('tier:workers');
    expectNoLaterChange(fake.world, 'tier:app', abortedAt);
    expect(res.out).toMatch(/left half-done:\n {2}tier:app: staging-\w+ was updated/);
    const again = await expectCleanRerun(fake);
    expect(stepOf(again.report, 'tier:app').status).toBe('passed');
  });

  test('UpdateService answered 503 for good after AWS applied it: listed as "may have been updated"', async () => {
    const fake = fakeWorld();
    const api = ecsName('api');
    fake.world.afterApply.set('UpdateService', (input) => (input.service === api ? serverError() : undefined));
    const res = await rollout(fake, ['--no-emulator']);
    expectStoppedAfter(res, fake.world, 'tier:app');
    expect(res.report.failure).toMatchObject({ step: 'tier:app', service: 'api', operation: 'UpdateService' });
    expect(res.report.failure.message).toContain('may have been updated (no verdict from AWS; left as they are): api: ServiceUnavailable: injected server error');
    const others = WEB.filter((n) => n !== 'api');
    expect(res.report.failure.message).toContain(`updated (left deploying to the release, not waited for): ${others.map((n) => `${n} (-> ${family(n)}:2)`).join(', ')}`);
    expect(res.report.failure.halfDone).toContainEqual({
      step: 'tier:app', service: 'api', operation: 'UpdateService', state: 'may-have-changed',
      what: `${api} may have been updated to ${family('api')}:2 (UpdateService failed with ServiceUnavailable: injected server error; AWS may have applied it)`,
    });
    expect(res.report.failure.halfDone.filter((h) => h.state === 'changed').map((h) => h.service).sort()).toEqual([...others].sort());
    expectNoLaterChange(fake.world, 'tier:app');
    await expectCleanRerun(fake);
  });

  test('RunTask reply delayed: the migration task is listed as started and still running; the rerun waits for it', async () => {
    const fake = fakeWorld();
    const ac = new AbortController();
    fake.world.afterApply.set('RunTask', async () => {
      ac.abort();
      await new Promise((r) => setTimeout(r, 20));
    });
    const res = await rollout(fake, ['--no-emulator'], { signal: ac.signal });
    expect(res.exitCode).toBe(130);
    expect(ops(fake.world, 'RunTask')).toHaveLength(1);
    const { failure } = res.report;
    expect(failure.step).toBe('migration');
    expect(failure.message).toMatch(/^interrupted \(Ctrl-C\) during migration; left half-done: migration task arn:aws:ecs:.*task\/staging\/task1 may still be running \(last status unknown\)$/);
    expect(failure.halfDone).toEqual([{ step: 'migration', operation: 'RunTask', state: 'changed', what: expect.stringMatching(/task\/staging\/task1 may still be running/) }]);
    expectNoLaterChange(fake.world, 'migration', ops(fake.world, 'RunTask').length ? fake.world.calls.indexOf(ops(fake.world, 'RunTask')[0]) + 1 : 0);
    expect(stepsThatCalled(fake.world)).not.toContain('tier:app');
    const again = await expectCleanRerun(fake);
    expect(again.out).toMatch(/a migration task for release rel1 is already running \(.*task1\); waiting for it/);
  });

  test('RunTask answered 503 for good: "a migration task may have been started"; one task in all (clientToken); the rerun waits for it', async () => {
    const fake = fakeWorld();
    fake.world.afterApply.set('RunTask', () => serverError());
    const res = await rollout(fake, ['--no-emulator']);
    expectStoppedAfter(res, fake.world, 'migration');
    expect(ops(fake.world, 'RunTask').length).toBeGreaterThan(1); // the SDK retried ...
    expect(fake.world.tasks.size).toBe(1); // ... with the same idempotency token
    expect(res.report.failure).toMatchObject({ step: 'migration', operation: 'RunTask' });
    expect(res.report.failure.message).toMatch(/^RunTask failed without a verdict: ServiceUnavailable: injected server error\na migration task may have been started; a rerun of this release finds it \(startedBy rollout\/rel1\) and waits for it/);
    expect(res.report.failure.halfDone).toEqual([{
      step: 'migration', operation: 'RunTask', state: 'may-have-changed',
      what: expect.stringMatching(/^a migration task may have been started \(staging-migration:2, startedBy rollout\/rel1\) \(RunTask failed with ServiceUnavailable/),
    }]);
    expectNoLaterChange(fake.world, 'migration');
    await expectCleanRerun(fake);
  });

  test('Ctrl-C before a mutating call is sent: it is not sent and nothing is listed', async () => {
    const fake = fakeWorld();
    const ac = new AbortController();
    fake.world.afterApply.set('RegisterTaskDefinition', () => { ac.abort(); });
    const res = await rollout(fake, ['--no-emulator'], { signal: ac.signal });
    expect(res.exitCode).toBe(130);
    expect(ops(fake.world, 'RunTask')).toHaveLength(0);
    expect(ops(fake.world, 'UpdateService')).toHaveLength(0);
  });
});

describe('an AWS error for good during a wait keeps what was changed', () => {
  test('DescribeServices 503 after the app tier updates: operation, services left deploying, half-done list', async () => {
    const fake = fakeWorld();
    fake.world.faults.set('DescribeServices', (_input, world) => (world.step === 'tier:app' && ops(world, 'UpdateService').length >= WEB.length ? serverError() : undefined));
    const res = await rollout(fake, ['--no-emulator']);
    expectStoppedAfter(res, fake.world, 'tier:app');
    const { failure } = res.report;
    expect(failure).toMatchObject({ step: 'tier:app', operation: 'DescribeServices' });
    expect(failure.service).toBeUndefined(); // one batched call about the wave's services
    expect(failure.message).toBe([
      'DescribeServices failed while waiting for the wave to become stable: ServiceUnavailable: injected server error',
      `switched to the release and left deploying (not waited for): ${WEB.map((n) => `${n} (-> ${family(n)}:2)`).join(', ')}`,
    ].join('\n'));
    const app = stepOf(res.report, 'tier:app');
    expect(app.services.map((s) => [s.name, s.status])).toEqual(WEB.map((n) => [n, 'failed']));
    for (const s of app.services) expect(s.reason).toMatch(/^updated to staging-\w+:2 but not waited for: DescribeServices failed \(ServiceUnavailable: injected server error\); left deploying/);
    expect(failure.halfDone.map((h) => [h.service, h.operation, h.state])).toEqual(WEB.map((n) => [n, 'UpdateService', 'changed']));
    expect(res.out).toMatch(/failure in tier:app, DescribeServices:/);
    expectNoLaterChange(fake.world, 'tier:app');
    await expectCleanRerun(fake);
  });

  test('DescribeTasks 503 after RunTask: operation, task ARN, "the migration task may still be running"', async () => {
    const fake = fakeWorld();
    fake.world.faults.set('DescribeTasks', (_input, world) => (world.step === 'migration' && ops(world, 'RunTask').length ? serverError() : undefined));
    const res = await rollout(fake, ['--no-emulator']);
    expectStoppedAfter(res, fake.world, 'migration');
    const { failure } = res.report;
    expect(failure).toMatchObject({ step: 'migration', operation: 'DescribeTasks' });
    const [head, next] = failure.message.split('\n');
    expect(head).toMatch(/^DescribeTasks failed while waiting for migration task arn:aws:ecs:us-east-1:123456789012:task\/staging\/task1: ServiceUnavailable: injected server error$/);
    expect(next).toBe('the migration task may still be running (it was not stopped); a rerun of this release waits for it instead of starting another');
    expect(failure.halfDone).toEqual([{
      step: 'migration', operation: 'RunTask', state: 'changed',
      what: expect.stringMatching(/^migration task arn:.*task1 may still be running \(DescribeTasks failed while waiting for it; last status unknown\)$/),
    }]);
    expect(ops(fake.world, 'StopTask')).toHaveLength(0);
    expectNoLaterChange(fake.world, 'migration');
    await expectCleanRerun(fake);
    expect(fake.world.tasks.size).toBe(1);
  });
});

describe('a failed migration says enough', () => {
  test('exit 1: stop code, stopped reason and the last log lines, with secrets redacted (report and console)', async () => {
    const fake = fakeWorld();
    fake.world.migrationExit = 1;
    fake.world.logEvents = [
      'applying 0042_add_index',
      'connecting to postgresql://app:Sup3r-s3cret@db.internal:5432/app',
      'DB_PASSWORD=hunter2hunter2 from the environment',
      'registry token tok-ABCDEF123456 seen',
      'error: relation "devices" does not exist',
    ];
    const res = await rollout(fake, ['--no-emulator'], { env: { REGISTRY_PASSWORD: 'tok-ABCDEF123456' } });
    expectStoppedAfter(res, fake.world, 'migration');
    expect(res.report.failure.message).toBe([
      'migration container migration exited with code 1',
      'task task1: stopCode EssentialContainerExited; stoppedReason: Essential container in task exited',
      'last 5 log line(s) of ecs/migration/task1 in /ecs/staging/migration:',
      '  applying 0042_add_index',
      '  connecting to postgresql://app:[REDACTED]@db.internal:5432/app',
      '  DB_PASSWORD=[REDACTED] from the environment',
      '  registry token [REDACTED] seen',
      '  error: relation "devices" does not exist',
    ].join('\n'));
    expect(res.report.failure.halfDone).toEqual([]);
    for (const secret of ['Sup3r-s3cret', 'hunter2hunter2', 'tok-ABCDEF123456']) {
      expect(JSON.stringify(res.report)).not.toContain(secret);
      expect(res.out + res.err).not.toContain(secret);
    }
    // the rerun with a fixed migration runs it again (the failed one does not count), registers nothing
    fake.world.migrationExit = 0;
    fake.world.calls = [];
    const again = await rollout(fake, ['--no-emulator']);
    expect(again.exitCode).toBe(0);
    expect(ops(fake.world, 'RunTask')).toHaveLength(1);
    expect(ops(fake.world, 'RegisterTaskDefinition')).toHaveLength(0);
  });

  test('a long log is bounded: at most 20 lines and 4 KiB', async () => {
    const fake = fakeWorld();
    fake.world.migrationExit = 2;
    fake.world.logEvents = Array.from({ length: 40 }, (_, i) => `line ${i} ${'x'.repeat(300)}`);
    const res = await rollout(fake, ['--no-emulator']);
    const lines = res.report.failure.message.split('\n').filter((l) => l.startsWith('  '));
    expect(lines.length).toBeLessThanOrEqual(20);
    expect(lines.length).toBeGreaterThan(5);
    expect(Buffer.byteLength(lines.join('\n'))).toBeLessThanOrEqual(4096);
    expect(lines[lines.length - 1]).toMatch(/^ {2}line 39 x+$/);
  });

  test('no log stream: says so', async () => {
    const fake = fakeWorld();
    fake.world.migrationExit = 1;
    fake.world.faults.set('GetLogEvents', () => awsError('ResourceNotFoundException', 'The specified log stream does not exist.'));
    const res = await rollout(fake, ['--no-emulator']);
    expectStoppedAfter(res, fake.world, 'migration');
    expect(res.report.failure.message).toBe([
      'migration container migration exited with code 1',
      'task task1: stopCode EssentialContainerExited; stoppedReason: Essential container in task exited',
      'no log stream (ecs/migration/task1 in /ecs/staging/migration does not exist)',
    ].join('\n'));
  });

  test('TaskFailedToStart: stop code, reason and the task', async () => {
    const fake = fakeWorld();
    fake.world.migrationStopCode = 'TaskFailedToStart';
    const res = await rollout(fake, ['--no-emulator']);
    expectStoppedAfter(res, fake.world, 'migration');
    expect(res.report.failure.message.split('\n').slice(0, 2)).toEqual([
      'migration task failed to start: TaskFailedToStart (CannotPullContainerError: pull image manifest has been retried 5 time(s))',
      'task task1: stopCode TaskFailedToStart; stoppedReason: CannotPullContainerError: pull image manifest has been retried 5 time(s)',
    ]);
    expect(res.report.failure.halfDone).toEqual([]);
  });
});
