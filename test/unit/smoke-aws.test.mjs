// AWS-side smoke checks against scripted AWS scenarios (aws-sdk-client-mock), catalog from config/staging.json.
import { jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ECSClient, DescribeServicesCommand, ListTasksCommand, DescribeTasksCommand, RunTaskCommand, StopTaskCommand,
  DescribeTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { CloudWatchLogsClient, FilterLogEventsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { ElasticLoadBalancingV2Client, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import catalogLib from '../../lib/config/index.cjs';
import { createSmokeContext, runCheck } from '../../runner/smoke/index.mjs';
import { capabilitySet } from '../../runner/smoke/capabilities.mjs';
import { workersCheck, stoppedTaskError } from '../../runner/smoke/checks/workers.mjs';
import { targetGroupsCheck } from '../../runner/smoke/checks/target-groups.mjs';
import { logsCheck } from '../../runner/smoke/checks/logs.mjs';
import { fetcherAnisetteCheck } from '../../runner/smoke/checks/fetcher-anisette.mjs';
import { databaseCheck, alembicState } from '../../runner/smoke/checks/database.mjs';
import { run as runSmokeStep } from '../../runner/steps/smoke.mjs';

const RAW = JSON.parse(readFileSync(new URL('../../config/staging.json', import.meta.url), 'utf8'));
const RELEASE_START = new Date('2026-11-25T10:00:00Z');
const creds = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const quick = { timeoutSeconds: 2, attempts: 3, retryDelaySeconds: 0.01 };

/** Stack outputs as the foundation would emit them for `raw`. */
function outputsFor(raw) {
  const { services } = catalogLib.normalizeConfig(raw, { source: 'test' });
  const service_catalog = {};
  for (const s of services) {
    const id = (v) => (s.enabled ? v : null);
    service_catalog[s.name] = {
      name: s.name, enabled: s.enabled, disabled_reason: s.disabledReason, tier: s.tier, kind: s.kind, image: s.image,
      depends_on: s.dependsOn, needs_data: s.needsData, desired_count: s.desiredCount,
      ecs_service_name: id(`staging-${s.name}`), task_family: id(`staging-${s.name}`), container_name: id(s.name),
      port: s.port, target_group_arn: s.kind === 'web' ? id(`arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/stg-${s.name}/abc`) : null,
      log_group_name: id(`/ecs/staging/${s.name}`), discovery_name: s.discoveryName,
    };
  }
  return {
    services,
    outputs: {
      cluster_name: 'staging', alb_url: 'http://alb.invalid', private_subnet_ids: ['subnet-a', 'subnet-b'],
      tasks_security_group_id: 'sg-tasks', secret_arns: { smoke_user: 'arn:secret' }, service_catalog,
    },
  };
}

function setup({ raw = RAW, smoke = {}, emulator = false, since = RELEASE_START, state = {} } = {}) {
  const ecs = new ECSClient(creds); const logs = new CloudWatchLogsClient(creds);
  const elbv2 = new ElasticLoadBalancingV2Client(creds); const secrets = new SecretsManagerClient(creds);
  const mocks = { ecs: mockClient(ecs), logs: mockClient(logs), elbv2: mockClient(elbv2), secrets: mockClient(secrets) };
  const { services, outputs } = outputsFor(raw);
  const smokeCfg = {
    ...raw.smoke, taskTimeoutSeconds: 0.3, taskPollSeconds: 0.01,
    checks: { workers: quick, logs: quick, 'fetcher-anisette': quick, 'target-groups': quick, database: quick },
    ...smoke,
  };
  const ctx = {
    outputs, catalog: services, config: { ...raw, smoke: smokeCfg }, options: { emulator }, release: 'abc1234',
    aws: { ecs, logs, elbv2, secrets }, state, releaseStartedAt: since ?? undefined, log: { info: () => {} },
  };
  return { ctx, get sctx() { return createSmokeContext(ctx); }, mocks, services, outputs };
}

const WORKERS = ['anisette', 'tracker-fetcher-2', 'unified-geofence', 'notification-service', 'materialized-view-service'];
function ecsService(name, { running = 1, desired = 1, createdAt = RELEASE_START } = {}) {
  return { serviceName: `staging-${name}`, serviceArn: `arn:aws:ecs:us-east-1:0:service/staging/staging-${name}`, status: 'ACTIVE',
    runningCount: running, desiredCount: desired, deployments: [{ status: 'PRIMARY', createdAt }] };
}
function describeAll(mock, overrides = {}) {
  mock.on(DescribeServicesCommand).callsFake((input) => ({
    services: input.services.map((n) => ecsService(n.replace(/^staging-/, ''), overrides[n.replace(/^staging-/, '')])),
    failures: [],
  }));
}

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
    expect(sizes).toEqual([10, 7]);
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

describe('target-groups', () => {
  const healthy = (id) => ({ Target: { Id: id, Port: 8000 }, TargetHealth: { State: 'healthy' } });
  test('every app-tier target group with only healthy targets, at least desired: passed', async () => {
    const { sctx, mocks } = setup();
    mocks.elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [healthy('10.0.1.5')] });
    const rec = await runCheck(targetGroupsCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    const tgs = mocks.elbv2.commandCalls(DescribeTargetHealthCommand).map((c) => c.args[0].input.TargetGroupArn);
    expect(tgs.map((a) => a.match(/stg-([a-z-]+)\//)[1]).sort()).toEqual(['admin', 'api', 'frontend']);
    for (const n of ['api', 'frontend', 'admin']) expect(rec.evidence).toContain(`${n} 1 healthy/1 desired`);
  });

  test('an unhealthy target fails with its state and reason', async () => {
    const { sctx, mocks } = setup();
    mocks.elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [healthy('10.0.1.5')] });
    mocks.elbv2.on(DescribeTargetHealthCommand, { TargetGroupArn: sctx.services.find((s) => s.name === 'admin').targetGroupArn }).resolves({
      TargetHealthDescriptions: [healthy('10.0.1.6'), { Target: { Id: '10.0.2.7', Port: 8080 }, TargetHealth: { State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch', Description: 'Health checks failed with these codes: [502]' } }],
    });
    const rec = await runCheck(targetGroupsCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toContain('admin: target 10.0.2.7:8080 is unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [502])');
    expect(rec.attempts).toBe(3);
  });

  test('draining targets (old tasks leaving) are ignored, as in the tier step; desired healthy still required', async () => {
    const draining = (id) => ({ Target: { Id: id, Port: 8000 }, TargetHealth: { State: 'draining', Reason: 'Target.DeregistrationInProgress' } });
    const { sctx, mocks } = setup();
    mocks.elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [healthy('10.0.1.5'), draining('10.0.1.4')] });
    const rec = await runCheck(targetGroupsCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    expect(rec.evidence).toContain('api 1 healthy/1 desired (1 draining, ignored)');
    expect(rec.attempts).toBe(1);

    const only = setup();
    only.mocks.elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [draining('10.0.1.4')] });
    const rec2 = await runCheck(targetGroupsCheck(only.sctx.settings), only.sctx);
    expect(rec2.status).toBe('failed');
    expect(rec2.reason).toMatch(/api: 0 healthy target\(s\), desired 1/);
    expect(rec2.reason).not.toMatch(/draining/);
  });

  test('fewer healthy targets than desired fails', async () => {
    const raw = structuredClone(RAW); raw.services.api.desiredCount = 2;
    const { sctx, mocks } = setup({ raw });
    mocks.elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [healthy('10.0.1.5')] });
    const rec = await runCheck(targetGroupsCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toMatch(/api: 1 healthy target\(s\), desired 2/);
  });

  test('emulator: skipped with the reason, no ELB call', async () => {
    const { sctx, mocks } = setup({ emulator: true });
    const rec = await runCheck(targetGroupsCheck(sctx.settings), sctx);
    expect(rec.status).toBe('skipped');
    expect(rec.reason).toMatch(/target health/);
    expect(mocks.elbv2.calls()).toHaveLength(0);
  });
});

describe('logs', () => {
  test('every started service has events since the release start: passed', async () => {
    const { sctx, mocks } = setup();
    mocks.logs.on(FilterLogEventsCommand).callsFake((input) => ({ events: [{ logStreamName: `ecs/${input.logGroupName.split('/').pop()}/t1`, timestamp: RELEASE_START.getTime() + 5000, message: 'started' }] }));
    const rec = await runCheck(logsCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    const calls = mocks.logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.logGroupName).sort()).toEqual(sctx.services.map((s) => `/ecs/staging/${s.name}`).sort());
    for (const c of calls) expect(c.startTime).toBe(RELEASE_START.getTime());
  });

  test('a support service the plan does not roll out (fetcher disabled, anisette enabled) is not looked up', async () => {
    const raw = structuredClone(RAW); raw.services['tracker-fetcher-2'].enabled = false;
    const { sctx, mocks } = setup({ raw });
    mocks.logs.on(FilterLogEventsCommand).resolves({ events: [{ logStreamName: 's', timestamp: RELEASE_START.getTime() + 1, message: 'x' }] });
    mocks.logs.on(FilterLogEventsCommand, { logGroupName: '/ecs/staging/anisette' }).resolves({ events: [] });
    const rec = await runCheck(logsCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    const groups = mocks.logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input.logGroupName);
    expect(groups).not.toContain('/ecs/staging/anisette');
    expect(groups).toContain('/ecs/staging/api');
  });

  test('a service without events fails, naming it and its log group', async () => {
    const { sctx, mocks } = setup();
    mocks.logs.on(FilterLogEventsCommand).resolves({ events: [{ logStreamName: 's', timestamp: 1, message: 'x' }] });
    mocks.logs.on(FilterLogEventsCommand, { logGroupName: '/ecs/staging/materialized-view-service' }).resolves({ events: [] });
    const rec = await runCheck(logsCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toBe(`materialized-view-service: no log events in /ecs/staging/materialized-view-service since ${RELEASE_START.toISOString()} (after 3 attempts)`);
  });

  test('without a runner release start, each service\'s PRIMARY deployment time is the lower bound', async () => {
    const { sctx, mocks } = setup({ since: null });
    const deployed = new Date('2026-11-25T11:11:11Z');
    mocks.ecs.on(DescribeServicesCommand).callsFake((input) => ({ services: input.services.map((n) => ecsService(n.replace(/^staging-/, ''), { createdAt: deployed })) }));
    mocks.logs.on(FilterLogEventsCommand).resolves({ events: [{ logStreamName: 's', timestamp: deployed.getTime(), message: 'x' }] });
    const rec = await runCheck(logsCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    for (const c of mocks.logs.commandCalls(FilterLogEventsCommand)) expect(c.args[0].input.startTime).toBe(deployed.getTime());
  });

  test('emulator: skipped with the reason, no Logs call', async () => {
    const { sctx, mocks } = setup({ emulator: true });
    const rec = await runCheck(logsCheck(sctx.settings), sctx);
    expect(rec.status).toBe('skipped');
    expect(rec.reason).toMatch(/log lines/);
    expect(mocks.logs.calls()).toHaveLength(0);
  });
});

describe('fetcher-anisette', () => {
  test('log mode: the configured line in the fetcher\'s log group since the release start passes', async () => {
    const { sctx, mocks } = setup();
    mocks.logs.on(FilterLogEventsCommand).resolves({ events: [{ logStreamName: 'ecs/tracker-fetcher-2/t9', timestamp: RELEASE_START.getTime() + 1, message: 'anisette reachable at http://anisette.staging.internal:6969' }] });
    const rec = await runCheck(fetcherAnisetteCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    const input = mocks.logs.commandCalls(FilterLogEventsCommand)[0].args[0].input;
    expect(input).toMatchObject({ logGroupName: '/ecs/staging/tracker-fetcher-2', filterPattern: '"anisette reachable"', startTime: RELEASE_START.getTime() });
    expect(rec.evidence).toContain('ecs/tracker-fetcher-2/t9');
  });

  test('log mode: no such line fails after bounded retries', async () => {
    const { sctx, mocks } = setup();
    mocks.logs.on(FilterLogEventsCommand).resolves({ events: [] });
    const rec = await runCheck(fetcherAnisetteCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.attempts).toBe(3);
    expect(rec.reason).toMatch(/no log line containing "anisette reachable" in \/ecs\/staging\/tracker-fetcher-2/);
  });

  test('anisette disabled (so the fetcher too): skipped with the reason, no AWS call', async () => {
    const raw = structuredClone(RAW); raw.services.anisette.enabled = false;
    const { sctx, mocks } = setup({ raw });
    const rec = await runCheck(fetcherAnisetteCheck(sctx.settings), sctx);
    expect(rec.status).toBe('skipped');
    expect(rec.reason).toBe('service tracker-fetcher-2 is disabled (dependency anisette is disabled)');
    expect(mocks.logs.calls()).toHaveLength(0);
  });

  test('probe mode: a one-off task from the fetcher\'s task definition in its network; exit 0 passes', async () => {
    const { sctx, mocks } = setup({ smoke: { fetcherAnisetteCheck: 'probe' }, state: { taskDefinitions: { 'tracker-fetcher-2': { arn: 'arn:aws:ecs:us-east-1:0:task-definition/staging-tracker-fetcher-2:7' } } } });
    mocks.ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: 'arn:aws:ecs:us-east-1:0:task/staging/probe1' }], failures: [] });
    mocks.ecs.on(DescribeTasksCommand).resolvesOnce({ tasks: [{ lastStatus: 'RUNNING' }] }).resolves({ tasks: [{ lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited', containers: [{ name: 'tracker-fetcher-2', exitCode: 0 }] }] });
    mocks.ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { containerDefinitions: [] } });
    const rec = await runCheck(fetcherAnisetteCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    const input = mocks.ecs.commandCalls(RunTaskCommand)[0].args[0].input;
    expect(input.taskDefinition).toBe('arn:aws:ecs:us-east-1:0:task-definition/staging-tracker-fetcher-2:7');
    expect(input.networkConfiguration.awsvpcConfiguration).toEqual({ subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-tasks'], assignPublicIp: 'DISABLED' });
    expect(input.overrides.containerOverrides[0].name).toBe('tracker-fetcher-2');
    expect(input.overrides.containerOverrides[0].command.join(' ')).toMatch(/ANISETTE_URL/);
  });
});

describe('database (one-off task)', () => {
  const TD = 'arn:aws:ecs:us-east-1:0:task-definition/staging-api:12';
  function taskScenario(mocks, { exitCode = 0, stopCode = 'EssentialContainerExited', lines = null, failures = [] } = {}) {
    mocks.ecs.on(RunTaskCommand).resolves(failures.length ? { tasks: [], failures } : { tasks: [{ taskArn: 'arn:aws:ecs:us-east-1:0:task/staging/db1' }], failures: [] });
    mocks.ecs.on(DescribeTasksCommand).resolves({ tasks: [{ lastStatus: 'STOPPED', stopCode, stoppedReason: stopCode === 'TaskFailedToStart' ? 'CannotPullContainerError: pull access denied' : 'Essential container in task exited', containers: [{ name: 'api', exitCode }] }] });
    mocks.ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { containerDefinitions: [{ name: 'api', logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/staging/api', 'awslogs-stream-prefix': 'ecs' } } }] } });
    if (lines) mocks.logs.on(GetLogEventsCommand).resolves({ events: lines.map((message) => ({ message })) });
    else mocks.logs.on(GetLogEventsCommand).rejects(Object.assign(new Error('The specified log stream does not exist.'), { name: 'ResourceNotFoundException' }));
  }
  const state = { taskDefinitions: { api: { arn: TD } } };

  test('`alembic current` exits 0 at the head revision: passed, with the head line as evidence', async () => {
    const { sctx, mocks } = setup({ state });
    taskScenario(mocks, { lines: ['INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.', '3f2a9c1d0b7e (head)'] });
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    expect(rec.evidence).toContain('3f2a9c1d0b7e (head)');
    const input = mocks.ecs.commandCalls(RunTaskCommand)[0].args[0].input;
    expect(input.taskDefinition).toBe(TD);
    expect(input.overrides.containerOverrides).toEqual([{ name: 'api', command: ['alembic', 'current'] }]);
    expect(input.launchType).toBe('FARGATE');
    expect(mocks.logs.commandCalls(GetLogEventsCommand)[0].args[0].input).toMatchObject({ logGroupName: '/ecs/staging/api', logStreamName: 'ecs/api/db1' });
  });

  test('exit 0 but a revision that is not head: failed', async () => {
    const { sctx, mocks } = setup({ state });
    taskScenario(mocks, { lines: ['1a2b3c4d5e6f'] });
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toBe('`alembic current`: database is not at the head revision');
  });

  test('exit 0 and no readable log: passed on the exit code, evidence says so', async () => {
    const { sctx, mocks } = setup({ state });
    taskScenario(mocks);
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    expect(rec.evidence).toMatch(/exited 0; task log not readable, exit code only/);
  });

  test('exit 1: failed with the exit code, not retried', async () => {
    const { sctx, mocks } = setup({ state });
    taskScenario(mocks, { exitCode: 1, lines: ['sqlalchemy.exc.OperationalError: could not connect'] });
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toBe('`alembic current`: task db1 exited with code 1');
    expect(rec.evidence).toMatch(/OperationalError/);
    expect(mocks.ecs.commandCalls(RunTaskCommand)).toHaveLength(1);
  });

  test('TaskFailedToStart: failed with the stop reason', async () => {
    const { sctx, mocks } = setup({ state });
    taskScenario(mocks, { stopCode: 'TaskFailedToStart', exitCode: undefined });
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toMatch(/task db1 failed to start: CannotPullContainerError/);
  });

  test('RunTask failures: failed with the failure reason', async () => {
    const { sctx, mocks } = setup({ state, smoke: { checks: { database: { timeoutSeconds: 2, attempts: 2, retryDelaySeconds: 0.01 } } } });
    taskScenario(mocks, { failures: [{ arn: 'arn:cap', reason: 'RESOURCE:MEMORY' }] });
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toMatch(/^RunTask failed: RESOURCE:MEMORY/);
    expect(rec.attempts).toBe(2);
  });

  test('a task that never stops: failed after the task timeout, and the task is stopped', async () => {
    const { sctx, mocks } = setup({ state });
    mocks.ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: 'arn:aws:ecs:us-east-1:0:task/staging/db2' }] });
    mocks.ecs.on(DescribeTasksCommand).resolves({ tasks: [{ lastStatus: 'RUNNING' }] });
    mocks.ecs.on(StopTaskCommand).resolves({});
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toMatch(/did not stop within 0.3s \(last status RUNNING\)/);
    expect(mocks.ecs.commandCalls(StopTaskCommand)[0].args[0].input.task).toBe('arn:aws:ecs:us-east-1:0:task/staging/db2');
  });

  test('a release like v1.2.3 gives a valid ECS startedBy (letters, digits, - _ /, at most 36)', async () => {
    const s = setup({ state });
    s.ctx.release = 'v1.2.3+build.2026-11-25T10:00';
    taskScenario(s.mocks, { lines: ['3f2a9c1d0b7e (head)'] });
    const rec = await runCheck(databaseCheck(s.sctx.settings), s.sctx);
    expect(rec.status).toBe('passed');
    const startedBy = s.mocks.ecs.commandCalls(RunTaskCommand)[0].args[0].input.startedBy;
    expect(startedBy).toMatch(/^smoke-database-v1_2_3[A-Za-z0-9_/-]*$/);
    expect(startedBy.length).toBeLessThanOrEqual(36);
  });

  test('without a release revision in state, the family (latest revision) is used', async () => {
    const { sctx, mocks } = setup();
    taskScenario(mocks, { lines: ['3f2a9c1d0b7e (head)'] });
    await runCheck(databaseCheck(sctx.settings), sctx);
    expect(mocks.ecs.commandCalls(RunTaskCommand)[0].args[0].input.taskDefinition).toBe('staging-api');
  });

  test('emulator: skipped (synthetic exit code), no task run', async () => {
    const { sctx, mocks } = setup({ emulator: true, state });
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('skipped');
    expect(rec.reason).toMatch(/exit code/);
    expect(mocks.ecs.calls()).toHaveLength(0);
  });

  test('alembicState reads `alembic current` output', () => {
    expect(alembicState(null).state).toBe('unknown');
    expect(alembicState(['no revision here']).state).toBe('unknown');
    expect(alembicState(['abcd1234 (head)'])).toEqual({ state: 'head', line: 'abcd1234 (head)' });
    expect(alembicState(['abcd1234'])).toEqual({ state: 'behind', line: 'abcd1234' });
  });
});

describe('smoke step', () => {
  function realAwsHappyPath(mocks) {
    describeAll(mocks.ecs);
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    mocks.elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: 'x' }, TargetHealth: { State: 'healthy' } }] });
    mocks.logs.on(FilterLogEventsCommand).resolves({ events: [{ logStreamName: 's', timestamp: RELEASE_START.getTime(), message: 'anisette reachable' }] });
  }

  test('emulator via the runner\'s capability switch: every check that cannot be answered is skipped with a reason; none passes', async () => {
    const { ctx, mocks } = setup();
    const { detectCapabilities } = await import('../../runner/lib/emulator.mjs');
    ctx.capabilities = detectCapabilities({ emulator: true });
    describeAll(mocks.ecs);
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const res = await runSmokeStep(ctx);
    expect(res.checks.map((c) => c.name)).toEqual(['api-health', 'login', 'database', 'workers', 'fetcher-anisette', 'logs', 'target-groups']);
    for (const c of res.checks) { expect(c.status).toBe('skipped'); expect(c.reason).toMatch(/^not checkable here: emulator: /); }
    expect(res.status).toBe('skipped');
    expect(res.reason).toMatch(/nothing was proven/);
  });

  test('real AWS: one failing check fails the step and names it; other checks still report', async () => {
    const { ctx, mocks } = setup({ smoke: { databaseCheck: 'task' }, state: { taskDefinitions: { api: { arn: 'arn:td/staging-api:3' } } } });
    ctx.capabilities = { emulator: false, gaps: { albHttp: 'no ALB in this test' } };
    realAwsHappyPath(mocks);
    mocks.ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: 'arn:task/staging/db3' }] });
    mocks.ecs.on(DescribeTasksCommand).resolves({ tasks: [{ lastStatus: 'STOPPED', containers: [{ name: 'api', exitCode: 2 }] }] });
    mocks.ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { containerDefinitions: [] } });
    const res = await runSmokeStep(ctx);
    const by = Object.fromEntries(res.checks.map((c) => [c.name, c.status]));
    expect(by).toEqual({ 'api-health': 'skipped', login: 'skipped', database: 'failed', workers: 'passed', 'fetcher-anisette': 'passed', logs: 'passed', 'target-groups': 'passed' });
    expect(res.status).toBe('failed');
    expect(res.reason).toBe('smoke check failed: database');
  });

  test('real AWS, all answerable checks pass: the step passes and lists the skipped ones', async () => {
    const { ctx, mocks } = setup({ smoke: { databaseCheck: 'http', databaseCheckPath: '/api/db' } });
    ctx.capabilities = { emulator: false, gaps: { albHttp: 'no ALB in this test' } };
    realAwsHappyPath(mocks);
    const res = await runSmokeStep(ctx);
    expect(res.status).toBe('passed');
    expect(res.reason).toBe('passed; 3 checks skipped (not proven): api-health, login, database');
    for (const c of res.checks) expect(typeof c.durationMs).toBe('number');
  });

  test('bad smoke config: the step fails with a reason naming the key, and calls no AWS API', async () => {
    const { ctx, mocks } = setup({ smoke: { databaseCheck: 'sql' } });
    const res = await runSmokeStep(ctx);
    expect(res.status).toBe('failed');
    expect(res.reason).toMatch(/smoke\.databaseCheck: must be one of "http", "task", got "sql"/);
    expect(mocks.ecs.calls()).toHaveLength(0);
  });

  test('Ctrl-C: an aborted signal stops retries and the check fails as interrupted', async () => {
    const { ctx, mocks } = setup();
    ctx.capabilities = { emulator: false, gaps: { albHttp: 'x', containerExit: 'x' } };
    const ac = new AbortController(); ac.abort(new Error('SIGINT'));
    ctx.signal = ac.signal;
    realAwsHappyPath(mocks);
    const res = await runSmokeStep(ctx);
    expect(res.status).toBe('failed');
    for (const c of res.checks.filter((x) => x.status !== 'skipped')) expect(c.reason).toBe('interrupted before the check finished');
  });
});

describe('the runner\'s parsed outputs (camelCase properties plus raw)', () => {
  test('are read like plain outputs', async () => {
    const { smokeOutputs } = await import('../../runner/smoke/context.mjs');
    const { outputs } = outputsFor(RAW);
    const parsed = { clusterName: 'staging', albUrl: 'http://alb.invalid', secretArns: { smoke_user: 'arn:secret' }, raw: outputs };
    expect(smokeOutputs(parsed)).toMatchObject({ cluster_name: 'staging', alb_url: 'http://alb.invalid', service_catalog: outputs.service_catalog });
    expect(smokeOutputs({ clusterName: 'c2', privateSubnetIds: ['s'] })).toMatchObject({ cluster_name: 'c2', private_subnet_ids: ['s'] });
    expect(smokeOutputs({ cluster_name: { value: 'c3', type: 'string', sensitive: false } })).toEqual({ cluster_name: 'c3' });
  });
});
