// The smoke step end to end over scripted AWS (capabilities, verdicts, Ctrl-C), and the context it builds.
import { jest } from '@jest/globals';
import { ListTasksCommand, DescribeTasksCommand, RunTaskCommand, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import http from 'node:http';
import { detectCapabilities, dataplaneNote, DATAPLANE_ENV } from '../../runner/lib/emulator.mjs';
import { verdict } from '../../runner/lib/verdict.mjs';
import { renderSummary } from '../../runner/report/summary.mjs';
import { createSmokeContext } from '../../runner/smoke/index.mjs';
import { run as runSmokeStep } from '../../runner/steps/smoke.mjs';
import { RAW, RELEASE_START, setup, describeAll, capabilitiesLacking, outputsFor } from '../support/smoke.mjs';

afterEach(() => jest.restoreAllMocks());

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
    ctx.capabilities = capabilitiesLacking({ 'alb-http': 'no ALB in this test' });
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
    ctx.capabilities = capabilitiesLacking({ 'alb-http': 'no ALB in this test' });
    realAwsHappyPath(mocks);
    const res = await runSmokeStep(ctx);
    expect(res.status).toBe('passed');
    expect(res.reason).toBe('passed; 3 checks skipped (not proven): api-health, login, database');
    for (const c of res.checks) expect(typeof c.durationMs).toBe('number');
  });

  test('the local data plane with anisette disabled (so tracker-fetcher-2 too): every check that runs passes for real; fetcher-anisette is skipped, never claimed', async () => {
    // the config's rule (lib/config/graph.cjs): a service whose dependsOn names a disabled service is disabled too
    const raw = structuredClone(RAW); raw.services.anisette.enabled = false;
    // the local ALB's part: the app's health, login and database endpoints
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const routes = { 'GET /health': '{"status":"ok"}', 'POST /api/auth/login': '{"token":"t"}', 'GET /api/db': '{"db":"ok"}' };
        const body = routes[`${req.method} ${req.url}`];
        res.writeHead(body ? 200 : 404);
        res.end(body ?? 'no route');
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { ctx, mocks } = setup({ raw, smoke: { databaseCheck: 'http', databaseCheckPath: '/api/db', allowPlainHttpLogin: true } });
      ctx.outputs = outputsFor(raw, { alb_url: `http://127.0.0.1:${server.address().port}`, secret_arns: { smoke_user: 'arn:secret' } });
      ctx.catalog = ctx.outputs.catalog;
      ctx.capabilities = detectCapabilities({ emulator: null, env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', [DATAPLANE_ENV]: '1' } });
      expect(ctx.capabilities).toMatchObject({ emulator: false, dataplane: true });
      realAwsHappyPath(mocks);
      mocks.secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'smoke', password: 'pw' }) });
      const res = await runSmokeStep(ctx);
      const by = Object.fromEntries(res.checks.map((c) => [c.name, [c.status, c.reason]]));
      expect(by).toEqual({
        'api-health': ['passed', null], login: ['passed', null], database: ['passed', null], workers: ['passed', null], logs: ['passed', null], 'target-groups': ['passed', null],
        'fetcher-anisette': ['skipped', 'service tracker-fetcher-2 is disabled (dependency anisette is disabled)'],
      });
      expect(res.status).toBe('passed');
      expect(res.reason).toBe('passed; 1 check skipped (not proven): fetcher-anisette');
      // neither disabled service was looked at: no log read of the fetcher, no DescribeServices naming either
      expect(mocks.logs.calls().map((c) => c.args[0].input.logGroupName)).not.toContain('/ecs/staging/tracker-fetcher-2');
      const asked = mocks.ecs.commandCalls(DescribeServicesCommand).flatMap((c) => c.args[0].input.services);
      expect(asked.filter((n) => /anisette|tracker-fetcher/.test(n))).toEqual([]);
      // the run's verdict and summary say it: not proven, and not "every check ran for real"
      const report = { status: 'passed', dataplane: dataplaneNote(ctx.capabilities), steps: [{ id: 'smoke', title: 'Smoke', status: res.status, reason: res.reason, checks: res.checks, services: [] }] };
      expect(verdict(/** @type {any} */ (report))).toBe('PASSED on the local data plane (1 check not proven)');
      const md = renderSummary(/** @type {any} */ (report));
      expect(md).toContain('service tracker-fetcher-2 is disabled (dependency anisette is disabled)');
      expect(md).toContain('Every check above but the 1 skipped (each with its reason) ran for real on the local data plane');
      expect(md).not.toContain('Every check above ran for real');
    } finally {
      await new Promise((r) => { server.closeAllConnections(); server.close(r); });
    }
  });

  test('bad smoke config never reaches the step: the one normaliser (lib/config) rejects it naming the key', () => {
    expect(() => setup({ smoke: { databaseCheck: 'sql' } })).toThrow(/smoke\.databaseCheck: must be one of "http", "task", got "sql"/);
  });

  test('a release start that is not a time: the step fails naming it, and calls no AWS API', async () => {
    const { ctx, mocks } = setup();
    ctx.releaseStartedAt = 'yesterday';
    const res = await runSmokeStep(ctx);
    expect(res).toMatchObject({ status: 'failed', reason: 'smoke configuration: release start: not a valid time, got "yesterday"', checks: [] });
    expect(mocks.ecs.calls()).toHaveLength(0);
  });

  test('Ctrl-C: an aborted signal stops retries and the check fails as interrupted', async () => {
    const { ctx, mocks } = setup();
    ctx.capabilities = capabilitiesLacking({ 'alb-http': 'x', 'container-exit-code': 'x' });
    const ac = new AbortController(); ac.abort(new Error('SIGINT'));
    ctx.signal = ac.signal;
    realAwsHappyPath(mocks);
    const res = await runSmokeStep(ctx);
    expect(res.status).toBe('failed');
    for (const c of res.checks.filter((x) => x.status !== 'skipped')) expect(c.reason).toBe('interrupted before the check finished');
  });
});

describe('the smoke context reads the runner\'s parsed outputs and catalog (one shape)', () => {
  test('camelCase outputs as given, cluster from clusterName, services from ctx.catalog with their AWS identifiers', () => {
    const { ctx, outputs } = setup();
    const sctx = createSmokeContext(ctx);
    expect(sctx.outputs).toBe(outputs);
    expect(sctx.cluster).toBe(outputs.clusterName);
    expect(sctx.outputs).toMatchObject({ albUrl: 'http://alb.invalid', privateSubnetIds: ['subnet-a', 'subnet-b'], tasksSecurityGroupId: 'sg-tasks', secretArns: { smoke_user: 'arn:secret' } });
    expect(sctx.services.map((s) => s.name)).toEqual(ctx.catalog.map((s) => s.name));
    expect(sctx.services.find((s) => s.name === 'api')).toMatchObject({
      ecsServiceName: 'staging-api', taskFamily: 'staging-api', containerName: 'api', logGroupName: '/ecs/staging/api', rolledOut: true, notRolledOutReason: null,
    });
  });

  test('the catalog is ctx.catalog (the plan\'s services), not re-read from outputs.service_catalog', () => {
    const { ctx } = setup();
    ctx.catalog = ctx.catalog.filter((s) => s.name === 'api');
    expect(createSmokeContext(ctx).services.map((s) => s.name)).toEqual(['api']);
  });
});
