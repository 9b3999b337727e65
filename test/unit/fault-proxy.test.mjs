// The fault-injecting proxy (scripts/lib/fault-proxy.mjs) against a tiny local HTTP server standing in for moto:
// forwarding, recording, each fault kind as the real SDK clients parse it, rule conditions, the seeded RNG.
import http from 'node:http';
import { ECSClient, DescribeServicesCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EFSClient, DescribeMountTargetsCommand } from '@aws-sdk/client-efs';
import { isThrottlingError } from '@smithy/core/retry';
import { startFaultProxy, seededRandom, rewriteJson, isMutating, classify } from '../../scripts/lib/fault-proxy.mjs';

const HEALTH_XML = '<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeTargetHealthResult>' +
  '<TargetHealthDescriptions/></DescribeTargetHealthResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></DescribeTargetHealthResponse>';

let upstream;
let upstreamSeen;
let proxy;
const cfg = () => ({ region: 'us-east-1', endpoint: proxy.endpoint, maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

beforeAll(async () => {
  upstreamSeen = [];
  upstream = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      upstreamSeen.push({ target: req.headers['x-amz-target'] ?? null, body });
      if (String(req.headers['content-type']).includes('x-www-form-urlencoded')) {
        res.writeHead(200, { 'content-type': 'text/xml' });
        return res.end(HEALTH_XML);
      }
      if (req.url.includes('mount-targets')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ MountTargets: [{ MountTargetId: 'fsmt-1', FileSystemId: 'fs-1', LifeCycleState: 'available' }] }));
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ services: [{ serviceName: 'web', status: 'ACTIVE', desiredCount: 1, deployments: [] }], failures: [] }));
    });
  });
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await new Promise((r) => upstream.close(r));
});
beforeEach(async () => {
  upstreamSeen.length = 0;
  proxy = await startFaultProxy({ target: upstream.address().port, seed: 7 });
});
afterEach(async () => { await proxy.close(); });

test('forwards and records service, operation, protocol, statuses and times', async () => {
  const ecs = new ECSClient(cfg());
  const out = await ecs.send(new DescribeServicesCommand({ cluster: 'c', services: ['web'] }));
  expect(out.services[0].serviceName).toBe('web');
  const efs = new EFSClient(cfg());
  expect((await efs.send(new DescribeMountTargetsCommand({ FileSystemId: 'fs-1' }))).MountTargets).toHaveLength(1);
  expect(upstreamSeen).toHaveLength(2);
  expect(proxy.calls.map((c) => [c.service, c.operation, c.protocol, c.upstreamStatus, c.status, c.fault])).toEqual([
    ['ecs', 'DescribeServices', 'json', 200, 200, null],
    ['elasticfilesystem', 'DescribeMountTargets', 'rest', 200, 200, null],
  ]);
  expect(JSON.parse(proxy.calls[0].body)).toMatchObject({ cluster: 'c', services: ['web'] });
  expect(proxy.calls[0].repliedAt).toBeGreaterThanOrEqual(proxy.calls[0].at);
  expect(proxy.take()).toMatchObject({ total: 2, byOperation: { DescribeServices: 1, DescribeMountTargets: 1 } });
  expect(proxy.take().total).toBe(0);
});

test('throttle: the JSON and the query protocol shapes are parsed by the SDK as throttling', async () => {
  proxy.setRules([{ service: ['ecs', 'elasticloadbalancing'], fault: { kind: 'throttle' } }]);
  const e1 = await new ECSClient(cfg()).send(new DescribeServicesCommand({ cluster: 'c', services: ['web'] })).catch((e) => e);
  expect({ name: e1.name, status: e1.$metadata.httpStatusCode, throttling: isThrottlingError(e1) }).toEqual({ name: 'ThrottlingException', status: 400, throttling: true });
  const e2 = await new ElasticLoadBalancingV2Client(cfg()).send(new DescribeTargetHealthCommand({ TargetGroupArn: 'arn:tg' })).catch((e) => e);
  expect({ name: e2.name, status: e2.$metadata.httpStatusCode, throttling: isThrottlingError(e2), message: e2.message }).toEqual({ name: 'Throttling', status: 400, throttling: true, message: 'Rate exceeded' });
  expect(upstreamSeen).toHaveLength(0);
  expect(proxy.calls.map((c) => [c.operation, c.protocol, c.status, c.upstreamStatus, c.fault])).toEqual([
    ['DescribeServices', 'json', 400, null, 'throttle'], ['DescribeTargetHealth', 'query', 400, null, 'throttle'],
  ]);
});

test('error: 503 ServiceUnavailable by default, retried by the SDK (maxAttempts) and then raised', async () => {
  proxy.setRules([{ operation: 'DescribeServices', fault: { kind: 'error' } }]);
  const ecs = new ECSClient({ ...cfg(), maxAttempts: 3, retryStrategy: undefined });
  const e = await ecs.send(new DescribeServicesCommand({ cluster: 'c', services: ['web'] })).catch((x) => x);
  expect({ name: e.name, status: e.$metadata.httpStatusCode, message: e.message, attempts: e.$metadata.attempts }).toEqual({ name: 'ServiceUnavailable', status: 503, message: 'injected server error', attempts: 3 });
  const e2 = await new ElasticLoadBalancingV2Client(cfg()).send(new DescribeTargetHealthCommand({ TargetGroupArn: 'arn:tg' })).then(() => 'ok');
  expect(e2).toBe('ok'); // the rule names one operation only
});

test('from / times / after / when select which calls are faulted', async () => {
  const ecs = new ECSClient(cfg());
  const describe = () => ecs.send(new DescribeServicesCommand({ cluster: 'c', services: ['web'] })).then(() => 'ok', (e) => e.name);
  proxy.setRules([{ operation: 'DescribeServices', from: 2, times: 2, fault: { kind: 'error', status: 500, code: 'InternalFailure' } }]);
  expect([await describe(), await describe(), await describe(), await describe()]).toEqual(['ok', 'InternalFailure', 'InternalFailure', 'ok']);

  proxy.setRules([{ operation: 'DescribeServices', after: { operation: 'UpdateService' }, fault: { kind: 'throttle' } }]);
  expect(await describe()).toBe('ok');
  await ecs.send(new UpdateServiceCommand({ cluster: 'c', service: 'web', desiredCount: 1 })).catch(() => {});
  expect(await describe()).toBe('ThrottlingException');
  proxy.setRules([{ operation: 'DescribeServices', after: { operation: 'UpdateService' }, fault: { kind: 'throttle' } }]);
  expect(await describe()).toBe('ok'); // only calls after the rule was set count

  proxy.setRules([{ operation: 'DescribeServices', when: (c) => c.body.includes('"api"'), fault: { kind: 'throttle' } }]);
  expect(await describe()).toBe('ok');
  expect(await ecs.send(new DescribeServicesCommand({ cluster: 'c', services: ['api'] })).then(() => 'ok', (e) => e.name)).toBe('ThrottlingException');
});

test('delay: the call is applied upstream first, the reply is held; waitFor sees the upstream answer', async () => {
  proxy.setRules([{ operation: 'UpdateService', fault: { kind: 'delay', ms: 400 } }]);
  const ecs = new ECSClient(cfg());
  const t0 = Date.now();
  const pending = ecs.send(new UpdateServiceCommand({ cluster: 'c', service: 'web', desiredCount: 1 }));
  const applied = await proxy.waitFor((c) => c.operation === 'UpdateService', { on: 'upstream', timeoutMs: 2000 });
  expect(Date.now() - t0).toBeLessThan(300);
  expect(applied.repliedAt).toBeNull();
  expect(upstreamSeen).toHaveLength(1);
  await pending;
  expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
  expect(applied).toMatchObject({ status: 200, fault: 'delay' });
  expect(await proxy.waitFor((c) => c.operation === 'UpdateService', { on: 'reply' })).toBe(applied);
  await expect(proxy.waitFor((c) => c.operation === 'RunTask', { timeoutMs: 50 })).rejects.toThrow(/no matching call/);
  await expect(proxy.waitFor((c) => c.operation === 'UpdateService', { since: applied.seq, timeoutMs: 50 })).rejects.toThrow(/no matching call/);
});

test('rewrite and reply: what the emulator cannot produce', async () => {
  proxy.setRules([
    { name: 'failed-deployment', operation: 'DescribeServices', fault: { kind: 'rewrite', rewrite: rewriteJson((d) => { d.services[0].deployments = [{ id: 'ecs-svc/1', status: 'PRIMARY', rolloutState: 'FAILED' }]; }) } },
    { operation: 'DescribeTargetHealth', fault: { kind: 'reply', body: HEALTH_XML.replace('<TargetHealthDescriptions/>', '<TargetHealthDescriptions><member><Target><Id>10.0.0.1</Id><Port>80</Port></Target><TargetHealth><State>unhealthy</State><Reason>Target.FailedHealthChecks</Reason></TargetHealth></member></TargetHealthDescriptions>') } },
  ]);
  const out = await new ECSClient(cfg()).send(new DescribeServicesCommand({ cluster: 'c', services: ['web'] }));
  expect(out.services[0].deployments).toEqual([{ id: 'ecs-svc/1', status: 'PRIMARY', rolloutState: 'FAILED' }]);
  const th = await new ElasticLoadBalancingV2Client(cfg()).send(new DescribeTargetHealthCommand({ TargetGroupArn: 'arn:tg' }));
  expect(th.TargetHealthDescriptions).toEqual([{ Target: { Id: '10.0.0.1', Port: 80 }, TargetHealth: { State: 'unhealthy', Reason: 'Target.FailedHealthChecks' } }]);
  expect(upstreamSeen).toHaveLength(1); // reply does not forward
  expect(proxy.calls.map((c) => c.fault)).toEqual(['failed-deployment', 'reply']);
});

test('probability: the seeded RNG gives the same fault sequence for the same seed, about the given share', async () => {
  const seq = (seed) => { const r = seededRandom(seed); return Array.from({ length: 5 }, r); };
  expect(seq(3)).toEqual(seq(3));
  expect(seq(3)).not.toEqual(seq(4));
  const r = seededRandom(11);
  const hits = Array.from({ length: 2000 }, r).filter((x) => x < 0.3).length;
  expect(hits / 2000).toBeGreaterThan(0.26);
  expect(hits / 2000).toBeLessThan(0.34);

  const pattern = async () => {
    const p = await startFaultProxy({ target: upstream.address().port, seed: 42, rules: [] });
    p.setRules([{ operation: 'DescribeServices', probability: 0.5, fault: { kind: 'throttle' } }]);
    const ecs = new ECSClient({ ...cfg(), endpoint: p.endpoint });
    const out = [];
    for (let i = 0; i < 12; i++) out.push(await ecs.send(new DescribeServicesCommand({ cluster: 'c', services: ['web'] })).then(() => 0, () => 1));
    await p.close();
    return out;
  };
  const a = await pattern();
  expect(await pattern()).toEqual(a);
  expect(a).toContain(0);
  expect(a).toContain(1);
});

test('classify and isMutating', () => {
  expect(classify({ authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host', 'x-amz-target': 'secretsmanager.DescribeSecret' }, 'POST', '/', '{}'))
    .toEqual({ service: 'secretsmanager', operation: 'DescribeSecret', protocol: 'json', path: '/' });
  expect(classify({}, 'POST', '/', 'Action=DescribeTargetGroups&Version=2015-12-01').operation).toBe('DescribeTargetGroups');
  expect(classify({}, 'GET', '/x/y?z=1', '')).toMatchObject({ operation: 'GET /x/y', protocol: 'rest' });
  expect(['RunTask', 'UpdateService', 'RegisterTaskDefinition', 'StopTask', 'PutImage'].every(isMutating)).toBe(true);
  expect(['DescribeServices', 'DescribeTasks', 'ListTasks', 'GetLogEvents', 'DescribeSecret'].some(isMutating)).toBe(false);
});

test('rules given to startFaultProxy apply from the first call (the documented option)', async () => {
  const p = await startFaultProxy({ target: upstream.address().port, rules: [{ name: 'boom', operation: 'DescribeServices', times: 1, fault: { kind: 'error', status: 500, code: 'InternalFailure' } }] });
  try {
    const ecs = new ECSClient({ ...cfg(), endpoint: p.endpoint });
    await expect(ecs.send(new DescribeServicesCommand({ cluster: 'c', services: ['web'] }))).rejects.toMatchObject({ name: 'InternalFailure' });
    expect((await ecs.send(new DescribeServicesCommand({ cluster: 'c', services: ['web'] }))).services[0].serviceName).toBe('web');
    expect(p.calls.map((c) => c.fault)).toEqual(['boom', null]);
  } finally {
    await p.close();
  }
});

test('overlay: handle() sees the emulator reply through forward() (sent once), answers with its own or keeps it', async () => {
  let forwards = 0;
  proxy.addRule({
    operation: 'DescribeServices',
    fault: {
      kind: 'overlay',
      async handle(call, forward) {
        const a = await forward();
        const b = await forward(); // the same reply: the request reaches the emulator once
        forwards += a === b ? 1 : 2;
        const data = JSON.parse(a.body.toString('utf8'));
        if (JSON.parse(call.body).services[0] === 'keep') return undefined;
        data.services[0].runningCount = 3;
        return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(data) };
      },
    },
  });
  const ecs = new ECSClient(cfg());
  const out = await ecs.send(new DescribeServicesCommand({ cluster: 'c', services: ['web'] }));
  expect(out.services[0].runningCount).toBe(3);
  const kept = await ecs.send(new DescribeServicesCommand({ cluster: 'c', services: ['keep'] }));
  expect(kept.services[0].runningCount).toBeUndefined();
  expect(forwards).toBe(2);
  expect(upstreamSeen).toHaveLength(2);
  expect(proxy.calls.map((c) => [c.fault, c.upstreamStatus, c.status])).toEqual([['overlay', 200, 200], ['overlay', 200, 200]]);
});

test('overlay: an overlay that never forwards answers alone; the emulator sees nothing', async () => {
  proxy.addRule({ operation: 'UpdateService', fault: { kind: 'overlay', handle: async () => ({ status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ service: { serviceName: 'local' } }) }) } });
  const out = await new ECSClient(cfg()).send(new UpdateServiceCommand({ cluster: 'c', service: 'web', desiredCount: 1 }));
  expect(out.service.serviceName).toBe('local');
  expect(upstreamSeen).toHaveLength(0);
  expect(proxy.calls[0].upstreamStatus).toBeNull();
});
