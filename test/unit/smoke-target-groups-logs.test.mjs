// The smoke `target-groups`, `logs` and `fetcher-anisette` checks against scripted ELBv2, CloudWatch Logs and ECS.
import { jest } from '@jest/globals';
import { DescribeServicesCommand, DescribeTasksCommand, RunTaskCommand, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { runCheck } from '../../runner/smoke/index.mjs';
import { targetGroupsCheck } from '../../runner/smoke/checks/target-groups.mjs';
import { logsCheck } from '../../runner/smoke/checks/logs.mjs';
import { fetcherAnisetteCheck } from '../../runner/smoke/checks/fetcher-anisette.mjs';
import { RAW, RELEASE_START, setup, ecsService, describeAll } from '../support/smoke.mjs';

afterEach(() => jest.restoreAllMocks());

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

  test('a service this run left unchanged (deployed before the release start): its log events since its deployment count', async () => {
    const { sctx, mocks } = setup();
    const before = new Date(RELEASE_START.getTime() - 3_600_000);
    describeAll(mocks.ecs, { 'unified-geofence': { createdAt: before } });
    // a quiet worker: it wrote its lines when it started, an hour before this (re)run
    mocks.logs.on(FilterLogEventsCommand).callsFake((input) => {
      const quiet = input.logGroupName.endsWith('/unified-geofence');
      const at = quiet ? before.getTime() + 2000 : RELEASE_START.getTime() + 5000;
      return { events: at >= (input.startTime ?? 0) ? [{ logStreamName: 's', timestamp: at, message: 'ready' }] : [] };
    });
    const rec = await runCheck(logsCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    const calls = mocks.logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input);
    expect(calls.find((c) => c.logGroupName.endsWith('/unified-geofence')).startTime).toBe(before.getTime());
    expect(calls.find((c) => c.logGroupName.endsWith('/api')).startTime).toBe(RELEASE_START.getTime());
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
