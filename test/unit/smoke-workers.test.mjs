// The smoke `workers` check against scripted ECS (aws-sdk-client-mock), catalog from the config under test
// (test/support/staging-config.cjs).
import { jest } from '@jest/globals';
import { DescribeServicesCommand, ListTasksCommand, DescribeTasksCommand } from '@aws-sdk/client-ecs';
import { runCheck } from '../../runner/smoke/index.mjs';
import { workersCheck, stoppedTaskError } from '../../runner/smoke/checks/workers.mjs';
import { RAW, setup, WORKERS, describeAll, ecsService } from '../support/smoke.mjs';

afterEach(() => jest.restoreAllMocks());

describe('workers', () => {
  test('every enabled worker and support service at running == desired, no stopped tasks: passed', async () => {
    const { sctx, mocks } = setup();
    describeAll(mocks.ecs);
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const rec = await runCheck(workersCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    const asked = mocks.ecs.commandCalls(DescribeServicesCommand).flatMap((c) => c.args[0].input.services);
    expect(asked.sort()).toEqual(WORKERS.map((n) => `staging-${n}`).sort());
    for (const n of WORKERS) expect(rec.evidence).toContain(`${n} 1/1`);
    expect(mocks.ecs.commandCalls(ListTasksCommand).map((c) => c.args[0].input.desiredStatus)).toEqual(WORKERS.map(() => 'STOPPED'));
  });

  test('a disabled service is not checked and is named as such', async () => {
    const raw = structuredClone(RAW); raw.services.anisette.enabled = false;
    const { sctx, mocks } = setup({ raw });
    describeAll(mocks.ecs);
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const rec = await runCheck(workersCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    const asked = mocks.ecs.commandCalls(DescribeServicesCommand).flatMap((c) => c.args[0].input.services);
    expect(asked).not.toContain('staging-anisette');
    expect(asked).not.toContain('staging-tracker-fetcher-2');
    expect(rec.evidence).toMatch(/not checked: .*tracker-fetcher-2 \(disabled: dependency anisette is disabled\)/);
  });

  test('a support service the plan does not roll out (fetcher disabled, anisette enabled) is not checked', async () => {
    const raw = structuredClone(RAW); raw.services['tracker-fetcher-2'].enabled = false;
    const { sctx, mocks } = setup({ raw });
    describeAll(mocks.ecs, { anisette: { running: 0, desired: 0 } }); // the tier step never started it
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const rec = await runCheck(workersCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    const asked = mocks.ecs.commandCalls(DescribeServicesCommand).flatMap((c) => c.args[0].input.services);
    expect(asked).not.toContain('staging-anisette');
    expect(asked).toContain('staging-unified-geofence');
    expect(rec.evidence).toMatch(/not checked: .*anisette \(not needed: support service and no enabled service depends on anisette\)/);
  });

  test('the runner\'s plan decides: a service in a tier step\'s skippedServices is not checked', async () => {
    const s = setup();
    s.ctx.plan = { steps: [{ kind: 'tier', tier: 'workers', skippedServices: [{ name: 'notification-service', reason: 'not needed: test plan' }] }] };
    describeAll(s.mocks.ecs, { 'notification-service': { running: 0, desired: 0 } });
    s.mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const sctx = s.sctx;
    const rec = await runCheck(workersCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    const asked = s.mocks.ecs.commandCalls(DescribeServicesCommand).flatMap((c) => c.args[0].input.services);
    expect(asked).not.toContain('staging-notification-service');
    expect(asked).toContain('staging-anisette');
    expect(rec.evidence).toContain('notification-service (not needed: test plan)');
  });

  test('running below desired is retried a bounded number of times, then passes once it catches up', async () => {
    const { sctx, mocks } = setup();
    let n = 0;
    mocks.ecs.on(DescribeServicesCommand).callsFake((input) => {
      n += 1;
      return { services: input.services.map((s) => ecsService(s.replace(/^staging-/, ''), { running: n === 1 && s === 'staging-anisette' ? 0 : 1 })) };
    });
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const rec = await runCheck(workersCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    expect(rec.attempts).toBe(2);
  });

  test('still below desired after every attempt: failed, naming the service', async () => {
    const { sctx, mocks } = setup();
    describeAll(mocks.ecs, { 'unified-geofence': { running: 0, desired: 1 } });
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const rec = await runCheck(workersCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.attempts).toBe(3);
    expect(rec.reason).toMatch(/unified-geofence: running 0 of desired 1/);
  });

  test('ECS desired count differs from the catalog: failed (a tier that never set counts is not "running == desired")', async () => {
    const { sctx, mocks } = setup();
    describeAll(mocks.ecs, { 'notification-service': { running: 0, desired: 0 } });
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const rec = await runCheck(workersCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toMatch(/notification-service: desired 0 in ECS, catalog says 1/);
  });

  test('a task stopped with an error since the release began fails at once; older ones and normal scale-ins do not count', async () => {
    const { sctx, mocks } = setup();
    describeAll(mocks.ecs);
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    mocks.ecs.on(ListTasksCommand, { serviceName: 'staging-anisette' }).resolves({ taskArns: ['arn:task/staging/old', 'arn:task/staging/new', 'arn:task/staging/scalein'] });
    mocks.ecs.on(DescribeTasksCommand).resolves({ tasks: [
      { taskArn: 'arn:task/staging/old', stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: old', stoppedAt: new Date('2026-11-25T09:00:00Z'), containers: [] },
      { taskArn: 'arn:task/staging/new', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', stoppedAt: new Date('2026-11-25T10:05:00Z'), containers: [{ name: 'anisette', exitCode: 137 }] },
      { taskArn: 'arn:task/staging/scalein', stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1)', stoppedAt: new Date('2026-11-25T10:06:00Z'), containers: [{ name: 'anisette', exitCode: 143 }] },
    ] });
    const rec = await runCheck(workersCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.attempts).toBe(1);
    expect(rec.reason).toMatch(/anisette: task new stopped with an error: essential container exited with code 137/);
    expect(rec.reason).not.toMatch(/task old|task scalein/);
  });

  test('a missing ECS service fails without retrying', async () => {
    const { sctx, mocks } = setup();
    mocks.ecs.on(DescribeServicesCommand).callsFake((input) => ({
      services: input.services.filter((s) => s !== 'staging-unified-geofence').map((s) => ecsService(s.replace(/^staging-/, ''))),
      failures: [{ arn: 'staging-unified-geofence', reason: 'MISSING' }],
    }));
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const rec = await runCheck(workersCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.attempts).toBe(1);
    expect(rec.reason).toMatch(/unified-geofence: ECS service not found/);
  });

  test('DescribeServices is batched at most 10 services a call', async () => {
    const raw = structuredClone(RAW);
    for (let i = 0; i < 12; i++) raw.services[`w${i}`] = { tier: 'workers', kind: 'worker', image: 'api', command: ['x'], desiredCount: 1, secrets: [] };
    const { sctx, mocks } = setup({ raw });
    describeAll(mocks.ecs);
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const rec = await runCheck(workersCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    const sizes = mocks.ecs.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input.services.length);
    const total = WORKERS.length + 12;
    expect(sizes).toEqual([10, total - 10]);
    expect(total).toBeGreaterThan(10);
    expect(total).toBeLessThanOrEqual(20);
  });

  test('emulator: counts it can see are verified, but a pass is reported as skipped with the reason', async () => {
    const { sctx, mocks } = setup({ emulator: true });
    describeAll(mocks.ecs);
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const rec = await runCheck(workersCheck(sctx.settings), sctx);
    expect(rec.status).toBe('skipped');
    expect(rec.reason).toMatch(/^not checkable here: emulator: .*runningCount/);
    expect(rec.evidence).toMatch(/^partly verified: running\/desired: anisette 1\/1/);
  });

  test('emulator: a desired count the tier step never set is still a failure', async () => {
    const { sctx, mocks } = setup({ emulator: true });
    describeAll(mocks.ecs, { anisette: { running: 0, desired: 0 } });
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const rec = await runCheck(workersCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toMatch(/anisette: desired 0 in ECS, catalog says 1/);
  });

  test('stoppedTaskError classifies stop reasons', () => {
    expect(stoppedTaskError({ stopCode: 'TaskFailedToStart', stoppedReason: 'ResourceInitializationError: secrets' })).toMatch(/failed to start: ResourceInitializationError/);
    expect(stoppedTaskError({ stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Task failed ELB health checks in (target-group x)' })).toMatch(/ELB health checks/);
    expect(stoppedTaskError({ stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1)' })).toBeNull();
    expect(stoppedTaskError({ stopCode: 'UserInitiated', containers: [{ name: 'c', reason: 'OutOfMemoryError: Container killed' }] })).toMatch(/container c: OutOfMemoryError/);
  });
});
