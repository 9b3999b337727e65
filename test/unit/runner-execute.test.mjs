// Execution of a full rollout against scripted AWS (the fake world of test/support/fake-aws.mjs): success and
// reruns, step modules given by the registry map, throttling, emulator mode.
import { main } from '../../runner/main.mjs';
import { InputError } from '../../runner/lib/errors.mjs';
import { fakeWorld, fakeClock, ROOT, OUTPUTS_FILE, OUTPUTS } from '../support/fake-aws.mjs';
import { CONFIG_ENV } from '../support/staging-config.cjs';
import { STEP_IDS, WEB, WORKERS, FAMILIES, ecsName, rollout, ops, stepOf, expectStoppedAfter } from '../support/rollout.mjs';

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
    expect(regs).toHaveLength(FAMILIES);
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
      taskDefinition: expect.stringMatching(new RegExp(`task-definition/${OUTPUTS.migration_task_family}:2$`)),
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
    const independent = WORKERS.filter((n) => OUTPUTS.service_catalog[n].depends_on.length === 0);
    expect(independent.length).toBeGreaterThan(1);
    for (const k of independent) expect(idx(k)).toBeLessThan(efs);
    for (const u of updates) expect(u.input).toMatchObject({ cluster: OUTPUTS.cluster_name, desiredCount: 1, forceNewDeployment: false, taskDefinition: expect.stringMatching(/:2$/) });
    // batched describes, at most 10 per call
    for (const d of ops(world, 'DescribeServices')) expect(d.input.services.length).toBeLessThanOrEqual(10);
    // target health only for web services
    expect(ops(world, 'DescribeTargetHealth').map((c) => c.input.TargetGroupArn).sort()).toEqual(WEB.map((n) => OUTPUTS.service_catalog[n].target_group_arn).sort());

    // report (docs/contract.md section 7)
    expect(r).toMatchObject({ schemaVersion: 1, release: 'rel1', environment: OUTPUTS.environment, status: 'passed', exitCode: 0, failure: null });
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
    expect(app.checks.filter((c) => c.name.endsWith(':targets')).map((c) => c.status)).toEqual(WEB.map(() => 'passed'));
    expect(stepOf(r, 'tier:workers').checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'efs-mount-targets', status: 'passed', evidence: `2 mount target(s) of ${OUTPUTS.efs_file_system_id} available` })]));
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
      cwd: ROOT, env: { ...CONFIG_ENV }, clock: fakeClock(), createAws: () => fake.clients, write: () => {}, writeErr: () => {},
      steps: fake.steps({ images: null, smoke: null }), writeArtifacts: async () => ({}),
    });
    expect(res.exitCode).toBe(0);
    // services on the api image and the migration get a new revision; the others keep theirs (same digest)
    const regs = ops(fake.world, 'RegisterTaskDefinition').map((c) => c.input.family).sort();
    const onApi = Object.values(OUTPUTS.service_catalog).filter((s) => s.enabled && s.image === 'api');
    expect(regs).toEqual([...onApi.map((s) => s.task_family), OUTPUTS.migration_task_family].sort());
    expect(ops(fake.world, 'RunTask')).toHaveLength(1);
    expect(ops(fake.world, 'UpdateService').map((c) => c.input.service).sort()).toEqual(onApi.map((s) => s.ecs_service_name).sort());
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

describe('step modules given by the registry map', () => {
  const inputError = (msg) => new InputError(msg);

  test('an images step rejecting its configuration before anything changed: exit 2, nothing later runs', async () => {
    const fake = fakeWorld();
    const res = await rollout(fake, ['--no-emulator'], { modules: { images: { run: async () => { throw inputError('images.api.context: build context does not exist'); } } } });
    expect(res.exitCode).toBe(2);
    expect(res.report).toMatchObject({ status: 'failed', exitCode: 2, failure: { step: 'images', message: 'InputError: images.api.context: build context does not exist' } });
    // only the preflight's reads (secret metadata) came before
    expect(fake.world.calls.filter((c) => c.op !== 'DescribeSecret')).toHaveLength(0);
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
    expect(ops(fake.world, 'RegisterTaskDefinition')).toHaveLength(FAMILIES + 4); // + the 4 throttled attempts
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
    expect(tierServices).toHaveLength(FAMILIES - 1); // every enabled service
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
    expect(registered).toHaveLength(FAMILIES);
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
