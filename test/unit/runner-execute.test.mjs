// Execution of a full rollout against scripted AWS (aws-sdk-client-mock): success, reruns, every failure
// mode of migration and tiers, throttling, timeouts, interruption, dry run, emulator mode.
// Each failure test asserts that no later step called AWS and later steps are `not-run`.
import { main } from '../../runner/lib/main.mjs';
import { InputError } from '../../runner/lib/errors.mjs';
import { fakeWorld, fakeClock, stepsThatCalled, ROOT, OUTPUTS_FILE, OUTPUTS } from './runner-fake-aws.mjs';

const STEP_IDS = ['images', 'task-definitions', 'migration', 'tier:app', 'tier:workers', 'smoke'];
const WEB = ['api', 'frontend', 'admin'];
const WORKERS = ['anisette', 'tracker-fetcher-2', 'unified-geofence', 'notification-service', 'materialized-view-service'];
const ecsName = (n) => OUTPUTS.service_catalog[n].ecs_service_name;

/** Run the runner in-process against the fake world. */
async function rollout(fake, args = [], { clock = fakeClock(), signal, env = {}, modules = {} } = {}) {
  const out = [];
  const err = [];
  const res = await main(
    ['--outputs', OUTPUTS_FILE, '--release', 'rel1', '--poll-interval', '1', ...args],
    {
      cwd: ROOT, env, clock, signal,
      createAws: () => fake.clients,
      write: (l) => out.push(l), writeErr: (l) => err.push(l),
      exec: async () => { throw new Error('no shell in unit tests'); },
      steps: fake.steps({ images: null, smoke: null, ...modules }),
      writeArtifacts: async () => ({}),
    },
  );
  return { ...res, out: out.join('\n'), err: err.join('\n') };
}

const ops = (world, op) => world.calls.filter((c) => c.op === op);
const stepOf = (report, id) => report.steps.find((s) => s.id === id);

/** A failed step: later steps are not-run and made no AWS call. */
function expectStoppedAfter(res, world, failedStep) {
  expect(res.exitCode).toBe(1);
  expect(res.report.status).toBe('failed');
  expect(res.report.failure.step).toBe(failedStep);
  const later = STEP_IDS.slice(STEP_IDS.indexOf(failedStep) + 1);
  for (const id of later) {
    expect(stepOf(res.report, id)).toMatchObject({ status: 'not-run', reason: `not started: ${failedStep} failed` });
  }
  const called = stepsThatCalled(world);
  for (const id of later) expect(called).not.toContain(id);
}

describe('a full rollout', () => {
  test('registers pinned revisions, migrates, updates tiers in order with gates, and reports', async () => {
    const fake = fakeWorld();
    // 5 lines, served 2 per GetLogEvents page: each printed once, in order
    fake.world.logEvents = ['INFO  [alembic] Context impl PostgresqlImpl.', 'INFO  [alembic] Running upgrade 1a -> 2b', 'INFO  [alembic] Running upgrade 2b -> 3c', 'INFO  [alembic] Running upgrade 3c -> 4d', 'INFO  [alembic] done'];
    const res = await rollout(fake, ['--no-emulator']);
    expect(res.err).toBe('');
    expect(res.exitCode).toBe(0);
    const { world } = fake;
    const r = res.report;

    // task definitions: one new revision per family, image pinned by digest
    const regs = ops(world, 'RegisterTaskDefinition');
    expect(regs).toHaveLength(9);
    for (const c of regs) {
      const fam = c.input.family;
      const svc = Object.values(OUTPUTS.service_catalog).find((s) => s.task_family === fam);
      const key = svc ? svc.image : 'api';
      const container = c.input.containerDefinitions.find((d) => d.name === (svc ? svc.container_name : 'migration'));
      expect(container.image).toBe(`${OUTPUTS.repository_urls[key]}@${world.images[key]}`);
      expect(c.input.tags).toEqual(expect.arrayContaining([{ key: 'staging-rollout:release', value: 'rel1' }]));
      expect(c.input).not.toHaveProperty('taskDefinitionArn');
      expect(c.input).not.toHaveProperty('revision');
    }

    // migration: Fargate, private subnets, tasks SG, no public IP, the config's command
    const runs = ops(world, 'RunTask');
    expect(runs).toHaveLength(1);
    expect(runs[0].input).toMatchObject({
      cluster: OUTPUTS.cluster_name, launchType: 'FARGATE', startedBy: 'rollout/rel1',
      taskDefinition: expect.stringMatching(/task-definition\/staging-migration:2$/),
      networkConfiguration: { awsvpcConfiguration: { subnets: OUTPUTS.private_subnet_ids, securityGroups: [OUTPUTS.tasks_security_group_id], assignPublicIp: 'DISABLED' } },
      overrides: { containerOverrides: [{ name: 'migration', command: ['alembic', 'upgrade', 'head'] }] },
    });
    // log lines streamed once each, in order
    const logLines = res.out.split('\n').filter((l) => l.includes('[migration] |'));
    expect(logLines.map((l) => l.split('| ')[1])).toEqual(world.logEvents);

    // updates: app before workers; fetcher after anisette is stable and after the EFS check
    const updates = ops(world, 'UpdateService');
    expect(updates.map((u) => u.input.service).sort()).toEqual([...WEB, ...WORKERS].map(ecsName).sort());
    const idx = (n) => world.calls.findIndex((c) => c.op === 'UpdateService' && c.input.service === ecsName(n));
    for (const w of WEB) for (const k of WORKERS) expect(idx(w)).toBeLessThan(idx(k));
    const fetcher = idx('tracker-fetcher-2');
    const anisetteStable = world.calls.findIndex((c, i) => i > idx('anisette') && c.op === 'DescribeServices' && c.input.services.includes(ecsName('anisette'))
      && world.calls.slice(i + 1).every((d) => d.op !== 'DescribeServices' || !d.input.services.includes(ecsName('anisette'))));
    expect(anisetteStable).toBeGreaterThan(-1);
    expect(anisetteStable).toBeLessThan(fetcher);
    const efs = world.calls.findIndex((c) => c.op === 'DescribeMountTargets');
    expect(efs).toBeGreaterThan(idx('anisette'));
    expect(efs).toBeLessThan(fetcher);
    // other workers start together with anisette, before the fetcher
    for (const k of ['unified-geofence', 'notification-service', 'materialized-view-service']) expect(idx(k)).toBeLessThan(efs);
    for (const u of updates) expect(u.input).toMatchObject({ cluster: OUTPUTS.cluster_name, desiredCount: 1, forceNewDeployment: false, taskDefinition: expect.stringMatching(/:2$/) });
    // batched describes, at most 10 per call
    for (const d of ops(world, 'DescribeServices')) expect(d.input.services.length).toBeLessThanOrEqual(10);
    // target health only for web services
    expect(ops(world, 'DescribeTargetHealth').map((c) => c.input.TargetGroupArn).sort()).toEqual(WEB.map((n) => OUTPUTS.service_catalog[n].target_group_arn).sort());

    // report (docs/contract.md section 7)
    expect(r).toMatchObject({ schemaVersion: 1, release: 'rel1', environment: 'staging', status: 'passed', exitCode: 0, failure: null });
    expect(r.steps.map((s) => s.id)).toEqual(STEP_IDS);
    expect(stepOf(r, 'images')).toMatchObject({ status: 'skipped', reason: 'not implemented (no module for step kind "images" in runner/steps/index.mjs)' });
    expect(stepOf(r, 'smoke')).toMatchObject({ status: 'skipped', reason: 'not implemented (no module for step kind "smoke" in runner/steps/index.mjs)' });
    for (const id of ['task-definitions', 'migration', 'tier:app', 'tier:workers']) expect(stepOf(r, id).status).toBe('passed');
    const app = stepOf(r, 'tier:app');
    expect(app.services.map((s) => s.name).sort()).toEqual([...WEB].sort());
    for (const s of app.services) {
      expect(s).toMatchObject({ status: 'passed', running: 1, desired: 1, rolloutState: 'COMPLETED', taskDefinitionArn: expect.stringMatching(/:2$/) });
      expect(Date.parse(s.finishedAt)).toBeGreaterThanOrEqual(Date.parse(s.startedAt));
    }
    expect(app.checks.filter((c) => c.name.endsWith(':targets')).map((c) => c.status)).toEqual(['passed', 'passed', 'passed']);
    expect(stepOf(r, 'tier:workers').checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'efs-mount-targets', status: 'passed', evidence: '2 mount target(s) of fs-0a1b2c3d available' })]));
    expect(stepOf(r, 'migration').checks).toEqual([
      expect.objectContaining({ name: 'migration-exit-code', status: 'passed' }),
      expect.objectContaining({ name: 'migration-logs', status: 'passed', evidence: '5 log lines streamed' }),
    ]);
    expect(res.out).toMatch(/PASSED \(exit 0\)/);
  });

  test('an immediate rerun of the same release changes nothing', async () => {
    const fake = fakeWorld();
    const first = await rollout(fake, ['--no-emulator']);
    expect(first.exitCode).toBe(0);
    fake.world.calls = [];
    const second = await rollout(fake, ['--no-emulator']);
    expect(second.exitCode).toBe(0);
    const { world } = fake;
    for (const op of ['RegisterTaskDefinition', 'RunTask', 'UpdateService']) expect(ops(world, op)).toHaveLength(0);
    expect(stepOf(second.report, 'migration')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^migration for release rel1 already succeeded \(task task1, exit code 0\)$/) });
    for (const id of ['tier:app', 'tier:workers']) {
      for (const s of stepOf(second.report, id).services) expect(s).toMatchObject({ status: 'unchanged', reason: expect.stringMatching(/^already at staging-.*:2 with 1 desired, stable$/) });
    }
    expect(stepOf(second.report, 'task-definitions').services.every((s) => s.status === 'unchanged')).toBe(true);
    // far fewer calls than the first run
    expect(world.calls.length).toBeLessThan(first.report.steps.length * 10);
  });

  test('a new release after a release reuses nothing stale: new revisions, new migration, updates', async () => {
    const fake = fakeWorld();
    expect((await rollout(fake, ['--no-emulator'])).exitCode).toBe(0);
    fake.world.calls = [];
    fake.world.images.api = `sha256:${'e'.repeat(64)}`;
    const res = await main(['--outputs', OUTPUTS_FILE, '--release', 'rel2', '--poll-interval', '0', '--no-emulator'], {
      cwd: ROOT, env: {}, clock: fakeClock(), createAws: () => fake.clients, write: () => {}, writeErr: () => {},
      steps: fake.steps({ images: null, smoke: null }), writeArtifacts: async () => ({}),
    });
    expect(res.exitCode).toBe(0);
    // services on the api image and the migration get a new revision; the others keep theirs (same digest)
    const regs = ops(fake.world, 'RegisterTaskDefinition').map((c) => c.input.family).sort();
    expect(regs).toEqual(['staging-api', 'staging-materialized-view-service', 'staging-migration', 'staging-notification-service', 'staging-tracker-fetcher-2', 'staging-unified-geofence']);
    expect(ops(fake.world, 'RunTask')).toHaveLength(1);
    expect(ops(fake.world, 'UpdateService').map((c) => c.input.service).sort()).toEqual(regs.filter((f) => f !== 'staging-migration'));
  });

  test('rolling back to an earlier release reuses its identical older revision', async () => {
    const fake = fakeWorld();
    await rollout(fake, ['--no-emulator']);
    const apiV1 = fake.world.images.api;
    fake.world.images.api = `sha256:${'e'.repeat(64)}`;
    await rollout(fake, ['--no-emulator', '--release', 'rel2']);
    fake.world.images.api = apiV1;
    fake.world.calls = [];
    const back = await rollout(fake, ['--no-emulator', '--release', 'rel1', '--only', 'task-definitions']);
    expect(back.exitCode).toBe(0);
    expect(ops(fake.world, 'RegisterTaskDefinition')).toHaveLength(0);
    expect(stepOf(back.report, 'task-definitions').services.find((s) => s.name === 'api')).toMatchObject({ status: 'unchanged', taskDefinitionArn: expect.stringMatching(/staging-api:2$/) });
  });
});

describe('migration failures stop the rollout before any service is touched', () => {
  test('exit code 1: fails with the exit code and the last log lines', async () => {
    const fake = fakeWorld();
    fake.world.migrationExit = 1;
    fake.world.logEvents = ['sqlalchemy.exc.OperationalError: could not connect to server'];
    const res = await rollout(fake, ['--no-emulator']);
    expectStoppedAfter(res, fake.world, 'migration');
    expect(res.report.failure.message).toMatch(/^migration container migration exited with code 1; last log lines:\n {2}sqlalchemy\.exc\.OperationalError: could not connect to server$/);
    expect(ops(fake.world, 'UpdateService')).toHaveLength(0);
  });

  test('RunTask failures: fails with every failure reason', async () => {
    const fake = fakeWorld();
    fake.world.runTaskFailures = [{ arn: 'arn:aws:ecs:us-east-1:123456789012:cluster/staging', reason: 'RESOURCE:ENI', detail: 'no free IP in subnet' }];
    const res = await rollout(fake, ['--no-emulator']);
    expectStoppedAfter(res, fake.world, 'migration');
    expect(res.report.failure.message).toBe('RunTask failed: arn:aws:ecs:us-east-1:123456789012:cluster/staging: RESOURCE:ENI (no free IP in subnet)');
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
          const e = new Error('User is not authorized to perform: ecs:UpdateService'); e.name = 'AccessDeniedException'; throw e;
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
    expect(msg).toMatch(/^UpdateService failed for 1 of 3 service\(s\) of the wave/);
    expect(msg).toContain('not updated: frontend: AccessDeniedException: User is not authorized to perform: ecs:UpdateService');
    expect(msg).toMatch(/updated \(left deploying to the release, not waited for\): api \(-> staging-api:2\), admin \(-> staging-admin:2\)/);
    const app = stepOf(res.report, 'tier:app');
    expect(app.services.find((s) => s.name === 'frontend')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^UpdateService failed: AccessDeniedException/) });
    for (const n of ['api', 'admin']) {
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
    expect(res.report.failure).toMatchObject({ service: 'tracker-fetcher-2', message: 'EFS fs-0a1b2c3d mount targets not available after 10.0 s (fsmt-1 creating); tracker-fetcher-2 not started' });
    expect(fake.world.calls.some((c) => c.op === 'UpdateService' && c.input.service === ecsName('tracker-fetcher-2'))).toBe(false);
  });
});

describe('step modules of other engineers', () => {
  const inputError = (msg) => new InputError(msg);

  test('an images step rejecting its configuration before anything changed: exit 2, nothing later runs', async () => {
    const fake = fakeWorld();
    const res = await rollout(fake, ['--no-emulator'], { modules: { images: { run: async () => { throw inputError('images.api.context: build context does not exist'); } } } });
    expect(res.exitCode).toBe(2);
    expect(res.report).toMatchObject({ status: 'failed', exitCode: 2, failure: { step: 'images', message: 'InputError: images.api.context: build context does not exist' } });
    expect(fake.world.calls).toHaveLength(0);
  });

  test('an input error after a step changed something is a failure (exit 1)', async () => {
    const fake = fakeWorld();
    const res = await rollout(fake, ['--no-emulator'], { modules: { smoke: { run: async () => { throw inputError('smoke.loginPath: bad'); } } } });
    expect(res.exitCode).toBe(1);
    expect(res.report.failure.step).toBe('smoke');
  });

  test('images state feeds the task definitions: digest from the images step wins over the registry lookup', async () => {
    const fake = fakeWorld();
    const digest = `sha256:${'f'.repeat(64)}`;
    const images = { run: async (ctx) => {
      ctx.state.images = Object.fromEntries(ctx.step.imageKeys.map((k) => [k, { uri: `${ctx.outputs.repositoryUrls[k]}:${ctx.release}`, tag: ctx.release, digest, status: 'pushed' }]));
      return { status: 'passed' };
    } };
    const res = await rollout(fake, ['--no-emulator'], { modules: { images } });
    expect(res.exitCode).toBe(0);
    expect(ops(fake.world, 'DescribeImages')).toHaveLength(0);
    for (const c of ops(fake.world, 'RegisterTaskDefinition')) expect(c.input.containerDefinitions[0].image).toMatch(new RegExp(`@${digest}$`));
    expect(res.report.images.api).toEqual({ uri: `${OUTPUTS.repository_urls.api}:rel1`, tag: 'rel1', digest, status: 'pushed' });
  });

  test('a step that returns skipped without a reason still gets one; an invalid result fails the step', async () => {
    const fake = fakeWorld();
    const res = await rollout(fake, ['--no-emulator'], { modules: { smoke: { run: async () => ({ status: 'skipped' }) } } });
    expect(stepOf(res.report, 'smoke')).toMatchObject({ status: 'skipped', reason: 'step skipped without giving a reason' });
    const bad = await rollout(fakeWorld(), ['--no-emulator'], { modules: { smoke: { run: async () => ({ status: 'ok' }) } } });
    expect(bad.exitCode).toBe(1);
    expect(stepOf(bad.report, 'smoke')).toMatchObject({ status: 'failed', reason: 'step returned an invalid result: {"status":"ok"}' });
  });
});

describe('throttling', () => {
  test('a throttling storm is retried with backoff and the rollout succeeds', async () => {
    const fake = fakeWorld();
    fake.world.throttle.set('DescribeServices', 6);
    fake.world.throttle.set('RegisterTaskDefinition', 4);
    fake.world.throttle.set('UpdateService', 3);
    const res = await rollout(fake, ['--no-emulator']);
    expect(res.exitCode).toBe(0);
    expect(res.out.match(/throttled \(ThrottlingException\)/g)).toHaveLength(13);
    expect(ops(fake.world, 'RegisterTaskDefinition')).toHaveLength(9 + 4);
  });

  test('throttling that does not stop fails the step with the error, and nothing later runs', async () => {
    const fake = fakeWorld();
    fake.world.throttle.set('RunTask', 100);
    const res = await rollout(fake, ['--no-emulator']);
    expectStoppedAfter(res, fake.world, 'migration');
    expect(res.report.failure.message).toBe('ThrottlingException: Rate exceeded');
    expect(ops(fake.world, 'RunTask')).toHaveLength(8);
  });
});

describe('emulator mode', () => {
  // moto: the service's taskDefinition changes, the deployments list does not
  const motoServices = () => Object.fromEntries([...WEB, ...WORKERS].map((n) => [ecsName(n), (svc) => { svc.runningCount = svc.desiredCount; svc.deployments = [svc.deployments[1] ?? svc.deployments[0]]; }]));

  test('checks the emulator cannot show are skipped with reasons, never passed; no target health call', async () => {
    const fake = fakeWorld({ serviceScript: motoServices(), containerMemory: 512 });
    const res = await rollout(fake, [], { env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' } });
    expect(res.exitCode).toBe(0);
    expect(res.out).toContain('mode: EMULATOR (AWS_ENDPOINT_URL=http://127.0.0.1:5000 is a loopback address)');
    expect(ops(fake.world, 'DescribeTargetHealth')).toHaveLength(0);
    expect(ops(fake.world, 'RunTask')).toHaveLength(1);
    const checks = res.report.steps.flatMap((s) => s.checks);
    for (const n of WEB) {
      expect(checks.find((c) => c.name === `${n}:targets`)).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^emulator: no task runs/) });
    }
    for (const n of [...WEB, ...WORKERS]) {
      expect(checks.find((c) => c.name === `${n}:rollout`)).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^emulator: UpdateService does not start an ECS deployment/) });
      expect(checks.find((c) => c.name === `${n}:running`)).toMatchObject({ status: 'skipped' });
    }
    // no running count or rollout state is claimed for services whose containers never ran
    const tierServices = res.report.steps.filter((x) => x.id.startsWith('tier:')).flatMap((x) => x.services);
    expect(tierServices).toHaveLength(8);
    for (const s of tierServices) expect(s).toMatchObject({ status: 'passed', running: null, rolloutState: null, desired: 1 });
    expect(checks.find((c) => c.name === 'migration-exit-code')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^emulator:/) });
    expect(checks.filter((c) => c.status === 'passed').map((c) => c.name)).toEqual(['efs-mount-targets']);
    expect(res.out).toMatch(/checks skipped \(not proven\):/);
  });

  test('a passed step with skipped checks stays passed, and its reason says how many checks were not proven', async () => {
    const fake = fakeWorld({ serviceScript: motoServices(), containerMemory: 512 });
    const res = await rollout(fake, ['--emulator']);
    expect(res.exitCode).toBe(0);
    for (const step of res.report.steps.filter((x) => x.status === 'passed')) {
      const skipped = step.checks.filter((c) => c.status === 'skipped').map((c) => c.name);
      if (!skipped.length) { expect(step.reason).toBeNull(); continue; }
      expect(step.reason).toMatch(new RegExp(`^passed; ${skipped.length} checks? skipped \\(not proven\\): `));
      expect(step.reason).toContain(skipped[0]);
      if (skipped.length > 4) expect(step.reason).toMatch(new RegExp(`\\+${skipped.length - 4} more$`));
    }
    const mig = stepOf(res.report, 'migration');
    expect(mig.status).toBe('passed');
    expect(mig.reason).toBe(`passed; 2 checks skipped (not proven): migration-exit-code, migration-logs`);
    // app tier: 3 services x (targets, rollout, running) skipped
    expect(stepOf(res.report, 'tier:app').reason).toMatch(/^passed; 9 checks skipped \(not proven\): .* \+5 more$/);
    // the summary table shows the note next to the step
    expect(res.out).toMatch(/^migration +passed +\S+( \S+)? +passed; 2 checks skipped \(not proven\)/m);
  });

  test('a step that already states its unproven checks (smoke) is not noted twice', async () => {
    const checks = [{ name: 'workers', status: 'passed', evidence: 'ok' }, { name: 'login', status: 'skipped', reason: 'emulator: no HTTP' }];
    const smoke = { run: async () => ({ status: 'passed', reason: 'passed; 1 check skipped (not proven): login', checks }) };
    const fake = fakeWorld({ serviceScript: motoServices(), containerMemory: 512 });
    const res = await rollout(fake, ['--emulator'], { modules: { smoke } });
    expect(stepOf(res.report, 'smoke')).toMatchObject({ status: 'passed', reason: 'passed; 1 check skipped (not proven): login' });
  });

  test('release revisions keep the container-level memoryReservation of the family (moto RunTask needs it); the migration runs in emulator mode', async () => {
    const fake = fakeWorld({ serviceScript: motoServices(), containerMemory: 384 });
    const res = await rollout(fake, ['--emulator']);
    expect(res.exitCode).toBe(0);
    const registered = ops(fake.world, 'RegisterTaskDefinition');
    expect(registered).toHaveLength(9);
    for (const r of registered) {
      expect(r.input.containerDefinitions).toHaveLength(1);
      expect(r.input.containerDefinitions[0].memoryReservation).toBe(384);
      expect(r.input.containerDefinitions[0].image).toMatch(/@sha256:[a-f0-9]{64}$/);
    }
    expect(ops(fake.world, 'RunTask')).toHaveLength(1);
    expect(stepOf(res.report, 'migration').status).toBe('passed');
  });

  test('the runner does not require a container-level memory: a family without one still runs the migration', async () => {
    const fake = fakeWorld({ containerMemory: null });
    const res = await rollout(fake, ['--no-emulator']);
    expect(res.exitCode).toBe(0);
    expect(ops(fake.world, 'RunTask')).toHaveLength(1);
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
    expect(res.out).toMatch(/staging-api: register a new revision|-> skipped: dry run: 9 revision\(s\) would be registered, 0 reused/);
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

  test('--only tier:app after a rollout looks up the release revisions without registering', async () => {
    const fake = fakeWorld();
    await rollout(fake, ['--no-emulator']);
    fake.world.calls = [];
    const res = await rollout(fake, ['--no-emulator', '--only', 'tier:app']);
    expect(res.exitCode).toBe(0);
    expect(stepsThatCalled(fake.world)).toEqual(['tier:app']);
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
    expect(stepOf(res.report, 'tier:workers')).toMatchObject({ status: 'skipped', reason: 'dry run: nothing changed' });
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
    expect(res.report.failure.message).toBe('no task definition revision for release rel1 of api, frontend, admin: run the task-definitions step first');
    expect(ops(fake.world, 'UpdateService')).toHaveLength(0);
  });
});
