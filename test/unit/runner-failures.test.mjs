// Failures of a rollout against scripted AWS: every failure mode of the migration and the tiers, timeouts,
// interruption and dry run. Each failure test asserts that no later step called AWS and later steps are `not-run`.
import { fakeWorld, fakeClock, stepsThatCalled, OUTPUTS } from '../support/fake-aws.mjs';
import { WEB, WORKERS, FAMILIES, ecsName, rollout, ops, stepOf, expectStoppedAfter } from '../support/rollout.mjs';

describe('migration failures stop the rollout before any service is touched', () => {
  test('exit code 1: fails with the exit code and the last log lines', async () => {
    const fake = fakeWorld();
    fake.world.migrationExit = 1;
    fake.world.logEvents = ['sqlalchemy.exc.OperationalError: could not connect to server'];
    const res = await rollout(fake, ['--no-emulator']);
    expectStoppedAfter(res, fake.world, 'migration');
    expect(res.report.failure.message).toBe([
      'migration container migration exited with code 1',
      'task task1: stopCode EssentialContainerExited; stoppedReason: Essential container in task exited',
      'last 1 log line(s) of ecs/migration/task1 in /ecs/staging/migration:',
      '  sqlalchemy.exc.OperationalError: could not connect to server',
    ].join('\n'));
    expect(res.report.failure.halfDone).toEqual([]);
    expect(ops(fake.world, 'UpdateService')).toHaveLength(0);
  });

  test('RunTask failures: fails with every failure reason', async () => {
    const fake = fakeWorld();
    fake.world.runTaskFailures = [{ arn: 'arn:aws:ecs:us-east-1:123456789012:cluster/staging', reason: 'RESOURCE:ENI', detail: 'no free IP in subnet' }];
    const res = await rollout(fake, ['--no-emulator']);
    expectStoppedAfter(res, fake.world, 'migration');
    expect(res.report.failure.message).toBe('RunTask failed: arn:aws:ecs:us-east-1:123456789012:cluster/staging: RESOURCE:ENI (no free IP in subnet)');
    // RunTask answered: nothing was started, so nothing is left half-done
    expect(res.report.failure).toMatchObject({ operation: 'RunTask', halfDone: [] });
  });

  test('TaskFailedToStart: fails with the stop code and reason', async () => {
    const fake = fakeWorld();
    fake.world.migrationStopCode = 'TaskFailedToStart';
    const res = await rollout(fake, ['--no-emulator']);
    expectStoppedAfter(res, fake.world, 'migration');
    expect(res.report.failure.message).toMatch(/^migration task failed to start: TaskFailedToStart \(CannotPullContainerError: /);
  });

  test('a stopped container without an exit code fails', async () => {
    const fake = fakeWorld();
    fake.world.migrationExit = undefined;
    const res = await rollout(fake, ['--no-emulator']);
    expectStoppedAfter(res, fake.world, 'migration');
    expect(res.report.failure.message).toMatch(/^migration container migration stopped without an exit code/);
  });

  test('timeout: fails after --migration-timeout and says the task was left running', async () => {
    const fake = fakeWorld();
    fake.world.migrationDescribesUntilStop = Infinity;
    const clock = fakeClock();
    const t0 = clock.now();
    const res = await rollout(fake, ['--no-emulator', '--migration-timeout', '30', '--poll-interval', '2'], { clock });
    expectStoppedAfter(res, fake.world, 'migration');
    expect(res.report.failure.message).toMatch(/^migration timed out after 30\.0 s \(task arn:aws:ecs:.*task\/staging\/task1 is RUNNING; it was not stopped\)$/);
    expect(res.report.failure.halfDone).toEqual([{ step: 'migration', operation: 'RunTask', state: 'changed', what: expect.stringMatching(/^migration task arn:.*task1 was left running \(not stopped by the runner\)$/) }]);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(30_000);
    expect(clock.now() - t0).toBeLessThan(40_000);
    expect(ops(fake.world, 'DescribeTasks').length).toBeGreaterThanOrEqual(15);
  });

  test('a failed migration is not mistaken for a finished one on the rerun', async () => {
    const fake = fakeWorld();
    fake.world.migrationExit = 1;
    await rollout(fake, ['--no-emulator']);
    fake.world.migrationExit = 0;
    fake.world.calls = [];
    const res = await rollout(fake, ['--no-emulator']);
    expect(res.exitCode).toBe(0);
    expect(ops(fake.world, 'RunTask')).toHaveLength(1);
  });
});

describe('tier failures', () => {
  test('circuit-breaker rollback of api fails tier:app with events and stopped-task reasons; workers untouched', async () => {
    const api = ecsName('api');
    const fake = fakeWorld({
      serviceScript: {
        [api]: (svc, world) => {
          const [mine, old] = svc.deployments;
          if (svc.polls >= 2 && mine.status === 'PRIMARY') {
            svc.deployments = [{ ...old, status: 'PRIMARY', id: 'ecs-svc/rb', rolloutState: 'IN_PROGRESS', rolloutStateReason: 'ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/0.' }, { ...mine, status: 'ACTIVE', rolloutState: 'FAILED', rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.' }];
            svc.taskDefinition = old.taskDefinition;
            svc.events.unshift({ createdAt: new Date(5), message: '(service staging-api) deployment ecs-svc/1 deployment failed: tasks failed to start.' });
            world.tasks.set('arn:aws:ecs:us-east-1:123456789012:task/staging/svc1', {
              taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/staging/svc1', taskDefinitionArn: mine.taskDefinition, group: `service:${api}`,
              desiredStatus: 'STOPPED', lastStatus: 'STOPPED', startedBy: mine.id, stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited',
              containers: [{ name: 'api', exitCode: 3, reason: 'ModuleNotFoundError' }], describes: 0,
            });
          }
        },
      },
    });
    const res = await rollout(fake, ['--no-emulator']);
    expectStoppedAfter(res, fake.world, 'tier:app');
    expect(res.report.failure.service).toBe('api');
    const msg = res.report.failure.message;
    expect(msg).toMatch(/^api \(staging-api\): deployment ecs-svc\/\d+ FAILED: ECS deployment circuit breaker: tasks failed to start\./);
    expect(msg).toContain('last service events:');
    expect(msg).toContain('deployment failed: tasks failed to start.');
    expect(msg).toMatch(/stopped tasks:\n {2}svc1: EssentialContainerExited Essential container in task exited; api exit 3 \(ModuleNotFoundError\)/);
    expect(stepOf(res.report, 'tier:app').services.find((s) => s.name === 'api')).toMatchObject({ status: 'failed' });
    for (const w of WORKERS) expect(fake.world.calls.some((c) => c.op === 'UpdateService' && c.input.service === ecsName(w))).toBe(false);
  });

  test('one UpdateService of a wave fails: every update settles first, the failure names updated and not updated services', async () => {
    const fake = fakeWorld();
    const ecs = fake.clients.ecs;
    const orig = ecs.send;
    let inFlight = 0;
    ecs.send = async function (cmd, opts) {
      if (cmd.constructor.name === 'UpdateServiceCommand') {
        if (cmd.input.service === ecsName('frontend')) {
          // as the SDK raises it: a 4xx answer, so AWS refused it (nothing changed)
          const e = new Error('User is not authorized to perform: ecs:UpdateService'); e.name = 'AccessDeniedException';
          e.$metadata = { httpStatusCode: 400 }; e.$fault = 'client'; throw e;
        }
        inFlight += 1;
        await new Promise((r) => setTimeout(r, 25)); // still in flight when frontend's call has failed
        inFlight -= 1;
      }
      return orig.call(this, cmd, opts);
    };
    const res = await rollout(fake, ['--no-emulator']);
    expect(inFlight).toBe(0);
    expectStoppedAfter(res, fake.world, 'tier:app');
    expect(res.report.failure.service).toBe('frontend');
    const msg = res.report.failure.message;
    expect(msg).toMatch(new RegExp(`^UpdateService failed for 1 of ${WEB.length} service\\(s\\) of the wave`));
    expect(msg).toContain('not updated: frontend: AccessDeniedException: User is not authorized to perform: ecs:UpdateService');
    const updated = WEB.filter((n) => n !== 'frontend');
    expect(msg).toContain(`updated (left deploying to the release, not waited for): ${updated.map((n) => `${n} (-> ${OUTPUTS.service_catalog[n].task_family}:2)`).join(', ')}`);
    const app = stepOf(res.report, 'tier:app');
    expect(app.services.find((s) => s.name === 'frontend')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^UpdateService failed: AccessDeniedException/) });
    for (const n of updated) {
      expect(app.services.find((s) => s.name === n)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^updated to staging-\w+:2 but not waited for/) });
      expect(fake.world.services.get(ecsName(n)).taskDefinition).toMatch(/:2$/);
    }
  });

  test('unhealthy targets: the tier times out with the target health reasons', async () => {
    const admin = OUTPUTS.service_catalog.admin.target_group_arn;
    const fake = fakeWorld();
    fake.world.targetHealth.set(admin, () => [{ Target: { Id: '10.0.1.9', Port: 8080 }, TargetHealth: { State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch', Description: 'Health checks failed with these codes: [503]' } }]);
    const res = await rollout(fake, ['--no-emulator', '--service-timeout', '20']);
    expectStoppedAfter(res, fake.world, 'tier:app');
    expect(res.report.failure).toMatchObject({ service: 'admin' });
    expect(res.report.failure.message).toMatch(/^admin \(staging-admin\): not stable after 20\.0 s \(running 1\/1, COMPLETED, targets 0\/1 healthy; 10\.0\.1\.9:8080 unhealthy \(Target\.ResponseCodeMismatch: Health checks failed with these codes: \[503\]\)\)/);
    const app = stepOf(res.report, 'tier:app');
    expect(app.services.filter((s) => s.status === 'passed').map((s) => s.name).sort()).toEqual(['api', 'frontend']);
  });

  test('a deployment whose tasks keep stopping fails at --max-failed-tasks', async () => {
    const n = ecsName('notification-service');
    const fake = fakeWorld({ serviceScript: { [n]: (svc) => { svc.deployments[0].failedTasks = svc.polls; } } });
    const res = await rollout(fake, ['--no-emulator', '--max-failed-tasks', '3']);
    expectStoppedAfter(res, fake.world, 'tier:workers');
    expect(res.report.failure.message).toMatch(/^notification-service \(staging-notification-service\): tasks keep stopping: 3 failed tasks in deployment ecs-svc\/\d+/);
    // the fetcher's wave never started
    expect(fake.world.calls.some((c) => c.op === 'UpdateService' && c.input.service === ecsName('tracker-fetcher-2'))).toBe(false);
    expect(ops(fake.world, 'DescribeMountTargets')).toHaveLength(0);
  });

  test('a rollout that never completes times out after --service-timeout', async () => {
    const f = ecsName('frontend');
    const fake = fakeWorld({ serviceScript: { [f]: (svc) => { svc.deployments[0].runningCount = 0; } } });
    const clock = fakeClock();
    const res = await rollout(fake, ['--no-emulator', '--service-timeout', '60', '--poll-interval', '5'], { clock });
    expectStoppedAfter(res, fake.world, 'tier:app');
    expect(res.report.failure.message).toMatch(/^frontend \(staging-frontend\): not stable after 60\.0 s \(running 0\/1, IN_PROGRESS, 2 deployments\)/);
    // never silent for 30 s: a line says what is awaited and for how long, though nothing changed
    const beats = res.out.split('\n').filter((l) => l.includes('[tier:app] still waiting'));
    expect(beats.length).toBeGreaterThanOrEqual(1);
    expect(beats[0]).toMatch(/\[tier:app\] still waiting \(30\.0 s of 60\.0 s\) for .*frontend: running 0\/1, IN_PROGRESS, 2 deployments/);
    // polls were batched: one DescribeServices per poll for the whole wave
    const polls = ops(fake.world, 'DescribeServices').filter((c) => c.step === 'tier:app');
    expect(polls.length).toBeGreaterThanOrEqual(12);
    expect(polls.length).toBeLessThanOrEqual(16);
  });

  test('EFS mount targets that never become available block the fetcher', async () => {
    const fake = fakeWorld();
    fake.world.mountTargets = [{ MountTargetId: 'fsmt-1', LifeCycleState: 'creating' }];
    const res = await rollout(fake, ['--no-emulator', '--service-timeout', '10']);
    expectStoppedAfter(res, fake.world, 'tier:workers');
    expect(res.report.failure).toMatchObject({ service: 'tracker-fetcher-2', message: `EFS ${OUTPUTS.efs_file_system_id} mount targets not available after 10.0 s (fsmt-1 creating); tracker-fetcher-2 not started` });
    expect(fake.world.calls.some((c) => c.op === 'UpdateService' && c.input.service === ecsName('tracker-fetcher-2'))).toBe(false);
  });
});

describe('interruption and dry run', () => {
  test('Ctrl-C during the app tier: exit 130, report interrupted, half-done services named, nothing later', async () => {
    const fake = fakeWorld({ serviceScript: { [ecsName('api')]: () => {} } }); // api never completes
    const ac = new AbortController();
    const clock = fakeClock();
    const sleep = clock.sleep;
    clock.sleep = async (ms, signal) => {
      if (fake.world.step === 'tier:app' && ops(fake.world, 'DescribeServices').length > 3) ac.abort();
      return sleep(ms, signal);
    };
    const res = await rollout(fake, ['--no-emulator'], { clock, signal: ac.signal });
    expect(res.exitCode).toBe(130);
    expect(res.report.status).toBe('interrupted');
    expect(res.report.failure.step).toBe('tier:app');
    expect(res.report.failure.message).toMatch(/^interrupted \(Ctrl-C\) during tier:app; left half-done: staging-api was updated to staging-api:2 but not yet stable$/);
    expect(stepOf(res.report, 'tier:workers')).toMatchObject({ status: 'not-run', reason: 'not started: interrupted during tier:app' });
    expect(stepsThatCalled(fake.world)).not.toContain('tier:workers');
  });

  test('Ctrl-C during the migration names the running task; the rerun waits for it instead of starting another', async () => {
    const fake = fakeWorld();
    fake.world.migrationDescribesUntilStop = Infinity;
    const ac = new AbortController();
    const clock = fakeClock();
    const sleep = clock.sleep;
    clock.sleep = async (ms, signal) => {
      if (ops(fake.world, 'DescribeTasks').length >= 2) ac.abort();
      return sleep(ms, signal);
    };
    const res = await rollout(fake, ['--no-emulator'], { clock, signal: ac.signal });
    expect(res.exitCode).toBe(130);
    expect(res.report.failure.message).toMatch(/^interrupted \(Ctrl-C\) during migration; left half-done: migration task arn:aws:ecs:.*task\/staging\/task1 may still be running \(last status RUNNING\)$/);
    expect(stepsThatCalled(fake.world)).not.toContain('tier:app');

    fake.world.calls = [];
    // still running when the rerun looks for it, stopped (exit 0) on the describe after
    fake.world.migrationDescribesUntilStop = [...fake.world.tasks.values()][0].describes + 2;
    const again = await rollout(fake, ['--no-emulator']);
    expect(again.exitCode).toBe(0);
    expect(ops(fake.world, 'RunTask')).toHaveLength(0);
    expect(again.out).toMatch(/a migration task for release rel1 is already running \(.*task1\); waiting for it instead of starting another/);
    expect(stepOf(again.report, 'migration').status).toBe('passed');
  });

  test('--dry-run prints the plan with what would change and makes no changing call', async () => {
    const fake = fakeWorld();
    const res = await rollout(fake, ['--dry-run', '--no-emulator']);
    expect(res.exitCode).toBe(0);
    for (const op of ['RegisterTaskDefinition', 'RunTask', 'UpdateService']) expect(ops(fake.world, op)).toHaveLength(0);
    expect(res.out).toContain('DRY RUN: nothing will be changed');
    expect(res.out).toContain(`-> skipped: dry run: ${FAMILIES} revision(s) would be registered, 0 reused`);
    expect(res.out).toMatch(/api: dry run: would update staging-api from staging-api:1 to the release revision \(not registered yet\), desired 0 -> 1/);
    expect(res.out).toMatch(/-> skipped: dry run: the migration would run once its task definition is registered/);
  });

  test('--dry-run after a rollout reports everything unchanged', async () => {
    const fake = fakeWorld();
    await rollout(fake, ['--no-emulator']);
    fake.world.calls = [];
    const res = await rollout(fake, ['--dry-run', '--no-emulator']);
    expect(res.exitCode).toBe(0);
    expect(res.out).toMatch(/api: already at staging-api:2 with 1 desired, stable/);
    expect(res.out).toMatch(/migration for release rel1 already succeeded/);
    expect(fake.world.calls.every((c) => /^(Describe|List|Get)/.test(c.op))).toBe(true);
  });

  test('--dry-run shows per service what its new revision changes, as diff does: a new image, only where it is used', async () => {
    const fake = fakeWorld();
    await rollout(fake, ['--no-emulator']);
    fake.world.images.frontend = `sha256:${'e'.repeat(64)}`;
    fake.world.calls = [];
    const res = await rollout(fake, ['--dry-run', '--no-emulator', '--release', 'rel2']);
    expect(res.exitCode).toBe(0);
    expect(res.out).toMatch(/frontend: dry run: would update staging-frontend from staging-frontend:2 to the release revision \(not registered yet\)/);
    expect(res.out).toMatch(/desired 1 -> 1\n {10}image {2}\S+@sha256:b{64} -> \S+@sha256:e{64}\n/);
    const app = stepOf(res.report, 'tier:app').services;
    expect(app.filter((v) => v.changes).map((v) => [v.name, v.changes.length])).toEqual([['frontend', 1]]);
    expect(stepOf(res.report, 'tier:workers').services.filter((v) => v.changes)).toEqual([]);
    expect(fake.world.calls.every((c) => /^(Describe|List|Get)/.test(c.op))).toBe(true);
  });

  test('--only tier:app after a rollout looks up the release revisions without registering', async () => {
    const fake = fakeWorld();
    await rollout(fake, ['--no-emulator']);
    fake.world.calls = [];
    const res = await rollout(fake, ['--no-emulator', '--only', 'tier:app']);
    expect(res.exitCode).toBe(0);
    // the preflight stays selected under --only (it checks the secrets of the app tier's containers)
    expect(stepsThatCalled(fake.world)).toEqual(['preflight', 'tier:app']);
    expect(ops(fake.world, 'RegisterTaskDefinition')).toHaveLength(0);
    expect(stepOf(res.report, 'tier:app').services.every((s) => s.status === 'unchanged')).toBe(true);
  });

  test('--dry-run with a missing ECS service: reported, the other steps still read, and the run exits 1', async () => {
    const fake = fakeWorld();
    fake.world.services.delete(ecsName('frontend'));
    const res = await rollout(fake, ['--dry-run', '--no-emulator']);
    expect(res.exitCode).toBe(1);
    expect(res.report.status).toBe('failed');
    expect(res.report.failure.step).toBe('tier:app');
    expect(res.report.failure.message).toMatch(/^dry run: could not read the current state of tier:app: ECS service staging-frontend not found in cluster/);
    expect(stepOf(res.report, 'tier:app').status).toBe('failed');
    // a dry run goes on reading: the workers tier still says what would change
    expect(stepOf(res.report, 'tier:workers')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(new RegExp(`^dry run: ${WORKERS.length} service\\(s\\) would be updated \\(`)) });
    expect(res.out).toMatch(/FAILED \(exit 1\)/);
    for (const op of ['RegisterTaskDefinition', 'RunTask', 'UpdateService']) expect(ops(fake.world, op)).toHaveLength(0);
  });

  test('--skip images=REASON: the report and the summary carry the given reason', async () => {
    const fake = fakeWorld();
    const res = await rollout(fake, ['--no-emulator', '--skip', 'images=Docker is not available (no daemon socket)', '--skip', 'smoke']);
    expect(res.exitCode).toBe(0);
    expect(stepOf(res.report, 'images')).toMatchObject({ status: 'skipped', reason: 'Docker is not available (no daemon socket)' });
    expect(stepOf(res.report, 'smoke')).toMatchObject({ status: 'skipped', reason: 'skipped with --skip' });
    expect(res.out).toMatch(/^images +skipped +- +Docker is not available \(no daemon socket\)$/m);
  });

  test('--only tier:app before any release fails: no revision to roll out', async () => {
    const fake = fakeWorld();
    const res = await rollout(fake, ['--no-emulator', '--only', 'tier:app']);
    expect(res.exitCode).toBe(1);
    expect(res.report.failure.message).toBe(`no task definition revision for release rel1 of ${WEB.join(', ')}: run the task-definitions step first`);
    expect(ops(fake.world, 'UpdateService')).toHaveLength(0);
  });
});
