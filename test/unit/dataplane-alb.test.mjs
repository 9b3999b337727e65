// The local ALB (scripts/lib/dataplane/alb.mjs) against real HTTP servers on 127.0.0.1 as targets. The ELBv2
// reads are answered by a scripted client with the shapes moto_server gives for what the stack creates (string
// priorities, the default rule with IsDefault, conditions in both the Values and the *Config form, target group
// attributes); DescribeTargetHealth goes through the real fault proxy and is parsed by the real ELBv2 SDK client.
// Times run at timeScale 0.05 (interval 5 s -> 250 ms); no assertion is on a timing, only on states reached.
import http from 'node:http';
import { ElasticLoadBalancingV2Client, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { startFaultProxy } from '../../scripts/lib/fault-proxy.mjs';
import { freePort } from '../../scripts/lib/moto.mjs';
import { startLocalAlb, parseMatcher, wildcard } from '../../scripts/lib/dataplane/alb.mjs';

const ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012';
const LB = `${ARN}:loadbalancer/app/staging-alb/5dce3fe0923a095b`;
const LISTENER = `${ARN}:listener/app/staging-alb/5dce3fe0923a095b/e101b54216f2b417`;
const TG = {
  api: `${ARN}:targetgroup/staging-api/1111111111111111`,
  frontend: `${ARN}:targetgroup/staging-frontend/2222222222222222`,
  admin: `${ARN}:targetgroup/staging-admin/3333333333333333`,
};
const SCALE = 0.05;

const targetGroup = (name, port, path, matcher) => ({
  TargetGroupArn: TG[name], TargetGroupName: `staging-${name}`, Protocol: 'HTTP', Port: port, VpcId: 'vpc-1',
  HealthCheckProtocol: 'HTTP', HealthCheckPort: 'traffic-port', HealthCheckEnabled: true, HealthCheckIntervalSeconds: 5,
  HealthCheckTimeoutSeconds: 3, HealthyThresholdCount: 2, UnhealthyThresholdCount: 2, HealthCheckPath: path,
  Matcher: { HttpCode: matcher }, LoadBalancerArns: [LB], TargetType: 'ip',
});
const forward = (name) => [{ Type: 'forward', TargetGroupArn: TG[name] }];
const rule = (priority, conditions, actions) => ({ RuleArn: `${LISTENER}/r${priority}`, Priority: String(priority), Conditions: conditions, Actions: actions, IsDefault: false });

/** The stack's shape: api on /api/* and /health (priority 10), admin on /admin and /admin/* (20), frontend default. */
function world() {
  return {
    loadBalancers: [{ LoadBalancerArn: LB, LoadBalancerName: 'staging-alb', Type: 'application' }],
    lbAttributes: [{ Key: 'idle_timeout.timeout_seconds', Value: '5' }],
    listeners: [{ ListenerArn: LISTENER, LoadBalancerArn: LB, Port: 80, Protocol: 'HTTP', DefaultActions: forward('frontend') }],
    rules: [ // not in priority order, as a listing need not be
      rule(20, [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/admin', '/admin/*'] } }], forward('admin')),
      rule(40, [{ Field: 'path-pattern', Values: ['/api/v2/*'] }], [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '418', ContentType: 'text/plain', MessageBody: 'never: priority 10 wins' } }]),
      rule(10, [{ Field: 'path-pattern', Values: ['/api/*', '/health'] }], forward('api')),
      rule(3, [{ Field: 'host-header', HostHeaderConfig: { Values: ['*.admin.example'] } }], forward('admin')),
      rule(30, [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/gone?'] } }], [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '410', ContentType: 'text/plain', MessageBody: 'gone' } }]),
      rule(5, [{ Field: 'host-header', HostHeaderConfig: { Values: ['OLD.example'] } }, { Field: 'path-pattern', Values: ['/*'] }],
        [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', Host: 'new.example', StatusCode: 'HTTP_301' } }]),
      { RuleArn: `${LISTENER}/default`, Priority: 'default', Conditions: [], Actions: forward('frontend'), IsDefault: true },
    ],
    targetGroups: [targetGroup('api', 8000, '/health', '200'), targetGroup('frontend', 3000, '/', '200-399'), targetGroup('admin', 8080, '/admin/health', '200,302')],
    tgAttributes: { deregistration_delay: '5' },
  };
}

/** A scripted ELBv2 client: `send` answers the Describe calls the ALB makes from `w`. */
function fakeElbv2(w) {
  const sent = [];
  return {
    sent,
    async send(command) {
      const name = command.constructor.name.replace(/Command$/, '');
      const input = command.input ?? {};
      sent.push(name);
      switch (name) {
        case 'DescribeLoadBalancers': return { LoadBalancers: w.loadBalancers };
        case 'DescribeLoadBalancerAttributes': return { Attributes: w.lbAttributes };
        case 'DescribeListeners': return { Listeners: w.listeners.filter((l) => l.LoadBalancerArn === input.LoadBalancerArn) };
        case 'DescribeRules': return { Rules: w.rules };
        case 'DescribeTargetGroups':
          return { TargetGroups: input.TargetGroupArns ? w.targetGroups.filter((t) => input.TargetGroupArns.includes(t.TargetGroupArn)) : w.targetGroups.filter((t) => t.LoadBalancerArns.includes(input.LoadBalancerArn)) };
        case 'DescribeTargetGroupAttributes':
          return { Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: w.tgAttributes.deregistration_delay }, { Key: 'stickiness.enabled', Value: 'false' }] };
        default: throw new Error(`unexpected ${name}`);
      }
    },
  };
}

/** A target: an HTTP server echoing who answered, with a health status the test sets ('hang': never answer). */
async function target(name) {
  const t = { name, healthStatus: 200, seen: [], hangPaths: new Set() };
  t.server = http.createServer((req, res) => {
    t.seen.push(req.url);
    if (req.url === t.healthPath) {
      if (t.healthStatus === 'hang') return;
      res.writeHead(t.healthStatus, { 'content-type': 'text/plain', 'x-target': name });
      return res.end('health');
    }
    if (t.hangPaths.has(req.url)) return;
    res.writeHead(200, { 'content-type': 'application/json', 'x-target': name });
    res.end(JSON.stringify({ name, url: req.url, headers: req.headers }));
  });
  await new Promise((r) => t.server.listen(0, '127.0.0.1', r));
  t.port = t.server.address().port;
  t.ref = { id: '127.0.0.1', port: t.port };
  return t;
}

const get = (url, headers = {}) => new Promise((resolve, reject) => {
  const req = http.get(url, { headers, agent: false }, (res) => {
    let body = '';
    res.on('data', (c) => { body += c; });
    res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body, json: () => JSON.parse(body) }));
  });
  req.on('error', reject);
});

/** Resolves with the TargetHealth once the target reaches `state` (and `reason`, when given). */
function reach(alb, tgArn, ref, state, reason, timeoutMs = 8000) {
  const now = alb.health(tgArn).find((d) => d.Target.Id === ref.id && d.Target.Port === ref.port)?.TargetHealth;
  const hit = (h) => h && h.State === state && (reason === undefined || h.Reason === reason);
  if (hit(now)) return Promise.resolve(now);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`target ${ref.id}:${ref.port} did not reach ${state} ${reason ?? ''}; it is ${JSON.stringify(alb.health(tgArn))}`)); }, timeoutMs);
    const off = alb.onChange((arn, t, h) => {
      if (arn === tgArn && t.Id === ref.id && t.Port === ref.port && hit(h)) { clearTimeout(timer); off(); resolve(h); }
    });
  });
}

let alb; let targets = [];
const start = async (w = world(), extra = {}) => {
  alb = await startLocalAlb({ elbv2: fakeElbv2(w), timeScale: SCALE, ...extra });
  return alb;
};
const newTarget = async (name, healthPath) => {
  const t = await target(name);
  t.healthPath = healthPath;
  targets.push(t);
  return t;
};
afterEach(async () => {
  await alb?.close();
  alb = undefined;
  await Promise.all(targets.map((t) => { t.server.closeAllConnections(); return new Promise((r) => t.server.close(r)); }));
  targets = [];
});

test('reads the listener\'s target groups with their health checks and deregistration delay', async () => {
  await start();
  expect(alb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(alb.loadBalancerArn).toBe(LB);
  expect([...alb.targetGroups.keys()].sort()).toEqual(Object.values(TG).sort());
  expect(alb.targetGroups.get(TG.admin)).toEqual({
    arn: TG.admin, name: 'staging-admin', port: 8080, protocol: 'HTTP', deregistrationDelaySeconds: 5,
    healthCheck: { enabled: true, protocol: 'HTTP', port: 'traffic-port', path: '/admin/health', intervalSeconds: 5, timeoutSeconds: 3, healthyThreshold: 2, unhealthyThreshold: 2, matcher: '200,302' },
  });
  expect(alb.health(TG.api)).toEqual([]);
  expect(() => alb.register(`${ARN}:targetgroup/other/9`, { id: '10.0.0.1' })).toThrow(/not one of this load balancer's/);
});

test('a start it cannot serve fails naming why: several load balancers, none, no HTTP listener, an unserved condition', async () => {
  const two = world();
  two.loadBalancers.push({ LoadBalancerArn: `${LB}2`, LoadBalancerName: 'other-alb', Type: 'application' });
  await expect(startLocalAlb({ elbv2: fakeElbv2(two) })).rejects.toThrow(/2 application load balancers \(staging-alb, other-alb\); pass loadBalancerArn/);
  const none = world();
  none.loadBalancers = [];
  await expect(startLocalAlb({ elbv2: fakeElbv2(none) })).rejects.toThrow(/no application load balancer/);
  const tls = world();
  tls.listeners = [{ ...tls.listeners[0], Port: 443, Protocol: 'HTTPS' }];
  await expect(startLocalAlb({ elbv2: fakeElbv2(tls) })).rejects.toThrow(/has no HTTP listener \(it has: HTTPS:443\)/);
  const odd = world();
  odd.rules.push(rule(50, [{ Field: 'source-ip', SourceIpConfig: { Values: ['10.0.0.0/8'] } }], forward('api')));
  await expect(startLocalAlb({ elbv2: fakeElbv2(odd) })).rejects.toThrow(/rule 50 .* condition field "source-ip" is not served locally/);
  const bad = world();
  bad.targetGroups[0].Matcher = { HttpCode: '2xx' };
  await expect(startLocalAlb({ elbv2: fakeElbv2(bad) })).rejects.toThrow(/matcher "2xx"/);
  // chosen by ARN among several
  const chosen = await startLocalAlb({ elbv2: fakeElbv2(two), loadBalancerArn: LB });
  expect(chosen.loadBalancerArn).toBe(LB);
  await chosen.close();
});

test('routes by priority, path pattern and host header; default action; fixed-response; redirect; X-Forwarded-*', async () => {
  await start();
  const api = await newTarget('api', '/health');
  const fe = await newTarget('frontend', '/');
  const admin = await newTarget('admin', '/admin/health');
  alb.register(TG.api, api.ref);
  alb.register(TG.frontend, fe.ref);
  alb.register(TG.admin, admin.ref);
  await Promise.all([reach(alb, TG.api, api.ref, 'healthy'), reach(alb, TG.frontend, fe.ref, 'healthy'), reach(alb, TG.admin, admin.ref, 'healthy')]);

  const who = async (path, headers) => (await get(`${alb.url}${path}`, headers)).headers['x-target'] ?? null;
  expect(await who('/api/users?x=1')).toBe('api');
  expect(await who('/health')).toBe('api');
  expect(await who('/healthz')).toBe('frontend'); // no partial match
  expect(await who('/api/v2/thing')).toBe('api'); // priority 10 before 40
  expect(await who('/admin')).toBe('admin');
  expect(await who('/admin/users')).toBe('admin');
  expect(await who('/administrator')).toBe('frontend');
  expect(await who('/API/users')).toBe('frontend'); // path patterns are case-sensitive
  expect(await who('/')).toBe('frontend');
  expect(await who('/api/users', { host: 'eu.Admin.example:8443' })).toBe('admin'); // host rule (priority 3), any case, port dropped
  const echoed = (await get(`${alb.url}/api/echo?q=1`, { 'x-forwarded-for': '203.0.113.9' })).json();
  expect(echoed.url).toBe('/api/echo?q=1');
  expect(echoed.headers).toMatchObject({
    'x-forwarded-for': '203.0.113.9, 127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-port': alb.url.split(':')[2],
    'x-amzn-trace-id': expect.stringMatching(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/),
  });

  const gone = await get(`${alb.url}/gone1`);
  expect([gone.status, gone.headers['content-type'], gone.body]).toEqual([410, 'text/plain', 'gone']);
  expect((await get(`${alb.url}/gone12`)).headers['x-target']).toBe('frontend'); // `?` is exactly one character
  const moved = await get(`${alb.url}/a/b?c=d`, { host: 'old.example' });
  expect([moved.status, moved.headers.location]).toEqual([301, 'https://new.example/a/b?c=d']);
});

test('health: initial -> healthy -> unhealthy on a 500 with ELB\'s reason -> healthy again; the matcher decides', async () => {
  await start();
  const api = await newTarget('api', '/health');
  const states = [];
  alb.onChange((arn, t, h) => { if (arn === TG.api) states.push([t.Id, t.Port, h.State, h.Reason ?? null]); });
  alb.register(TG.api, api.ref);
  expect(alb.health(TG.api)).toEqual([{
    Target: { Id: '127.0.0.1', Port: api.port }, HealthCheckPort: String(api.port),
    TargetHealth: { State: 'initial', Reason: 'Elb.RegistrationInProgress', Description: 'Target registration is in progress' },
  }]);
  await reach(alb, TG.api, api.ref, 'healthy');
  expect(alb.health(TG.api)[0].TargetHealth).toEqual({ State: 'healthy' });
  api.healthStatus = 500;
  const down = await reach(alb, TG.api, api.ref, 'unhealthy');
  expect(down).toEqual({ State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch', Description: 'Health checks failed with these codes: [500]' });
  api.healthStatus = 200;
  await reach(alb, TG.api, api.ref, 'healthy');
  expect(states).toEqual([
    ['127.0.0.1', api.port, 'initial', 'Elb.RegistrationInProgress'],
    ['127.0.0.1', api.port, 'initial', 'Elb.InitialHealthChecking'],
    ['127.0.0.1', api.port, 'healthy', null],
    ['127.0.0.1', api.port, 'unhealthy', 'Target.ResponseCodeMismatch'],
    ['127.0.0.1', api.port, 'healthy', null],
  ]);
  // the health checker's request, as ELB sends it
  expect(api.seen).toContain('/health');

  // "200,302" accepts a redirect; "200" does not
  const admin = await newTarget('admin', '/admin/health');
  admin.healthStatus = 302;
  alb.register(TG.admin, admin.ref);
  await reach(alb, TG.admin, admin.ref, 'healthy');
  api.healthStatus = 302;
  expect(await reach(alb, TG.api, api.ref, 'unhealthy')).toMatchObject({ Description: 'Health checks failed with these codes: [302]' });
});

test('health: a target that does not answer is Target.Timeout, one that refuses is Target.FailedHealthChecks', async () => {
  await start();
  const slow = await newTarget('api', '/health');
  slow.healthStatus = 'hang';
  alb.register(TG.api, slow.ref);
  expect(await reach(alb, TG.api, slow.ref, 'unhealthy')).toEqual({ State: 'unhealthy', Reason: 'Target.Timeout', Description: 'Request timed out' });
  const closed = { id: '127.0.0.1', port: await freePort() };
  alb.register(TG.frontend, closed);
  expect(await reach(alb, TG.frontend, closed, 'unhealthy')).toEqual({ State: 'unhealthy', Reason: 'Target.FailedHealthChecks', Description: 'Health checks failed' });
  // fail-open: its only target is unhealthy, so it still gets the request, which it refuses: 502
  const r = await get(`${alb.url}/`);
  expect(r.status).toBe(502);
  expect(r.body).toContain('502 Bad Gateway');
});

test('round robin over healthy targets; an unhealthy one gets none; every one unhealthy: fail-open to all', async () => {
  await start();
  const a = await newTarget('a', '/health');
  const b = await newTarget('b', '/health');
  alb.register(TG.api, a.ref);
  alb.register(TG.api, b.ref);
  alb.register(TG.api, a.ref); // twice: still one target
  expect(alb.health(TG.api)).toHaveLength(2);
  await Promise.all([reach(alb, TG.api, a.ref, 'healthy'), reach(alb, TG.api, b.ref, 'healthy')]);
  const spread = async (n) => {
    const got = [];
    for (let i = 0; i < n; i += 1) got.push((await get(`${alb.url}/api/x`)).headers['x-target']);
    return got;
  };
  const four = await spread(4);
  expect(four.filter((x) => x === 'a')).toHaveLength(2);
  expect(four.filter((x) => x === 'b')).toHaveLength(2);
  expect(four[0]).not.toBe(four[1]);
  b.healthStatus = 500;
  await reach(alb, TG.api, b.ref, 'unhealthy');
  expect(await spread(3)).toEqual(['a', 'a', 'a']);
  a.healthStatus = 500;
  await reach(alb, TG.api, a.ref, 'unhealthy');
  expect(new Set(await spread(4))).toEqual(new Set(['a', 'b']));
});

test('deregister: draining (no new requests) for the deregistration delay, then gone; 503 without targets', async () => {
  await start();
  expect((await get(`${alb.url}/api/x`)).status).toBe(503);
  const a = await newTarget('a', '/health');
  const b = await newTarget('b', '/health');
  alb.register(TG.api, a.ref);
  alb.register(TG.api, b.ref);
  await Promise.all([reach(alb, TG.api, a.ref, 'healthy'), reach(alb, TG.api, b.ref, 'healthy')]);
  const gone = reach(alb, TG.api, a.ref, 'unused');
  alb.deregister(TG.api, a.ref);
  expect(alb.health(TG.api).find((d) => d.Target.Port === a.port).TargetHealth)
    .toEqual({ State: 'draining', Reason: 'Target.DeregistrationInProgress', Description: 'Target deregistration is in progress' });
  expect([(await get(`${alb.url}/api/x`)).headers['x-target'], (await get(`${alb.url}/api/y`)).headers['x-target']]).toEqual(['b', 'b']);
  expect(await gone).toEqual({ State: 'unused', Reason: 'Target.NotRegistered', Description: 'Target is not registered to the target group' });
  expect(alb.health(TG.api).map((d) => d.Target.Port)).toEqual([b.port]);
  alb.deregister(TG.api, b.ref);
  const r = await get(`${alb.url}/api/x`); // only a draining target left: no target for new requests
  expect(r.status).toBe(503);
  expect(r.body).toContain('503 Service Temporarily Unavailable');
  // registered again while draining: health-checked from the start
  alb.register(TG.api, b.ref);
  expect(alb.health(TG.api)[0].TargetHealth.State).toBe('initial');
  await reach(alb, TG.api, b.ref, 'healthy');
});

test('504 when a target does not answer within the idle timeout', async () => {
  await start(); // idle_timeout.timeout_seconds 5, scaled
  const a = await newTarget('api', '/health');
  a.hangPaths.add('/api/slow');
  alb.register(TG.api, a.ref);
  await reach(alb, TG.api, a.ref, 'healthy');
  const r = await get(`${alb.url}/api/slow`);
  expect(r.status).toBe(504);
  expect(r.body).toContain('504 Gateway Time-out');
  expect((await get(`${alb.url}/api/fast`)).status).toBe(200);
});

test('the overlay answers DescribeTargetHealth through the fault proxy, as the ELBv2 SDK parses it; other groups go to the emulator', async () => {
  await start();
  const upstreamSeen = [];
  const emulator = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      upstreamSeen.push(body);
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end('<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeTargetHealthResult><TargetHealthDescriptions/></DescribeTargetHealthResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></DescribeTargetHealthResponse>');
    });
  });
  await new Promise((r) => emulator.listen(0, '127.0.0.1', r));
  const proxy = await startFaultProxy({ target: emulator.address().port, rules: alb.overlays });
  try {
    const client = new ElasticLoadBalancingV2Client({ region: 'us-east-1', endpoint: proxy.endpoint, maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const ok = await newTarget('api', '/health');
    const bad = await newTarget('api', '/health');
    bad.healthStatus = 500;
    alb.register(TG.api, ok.ref);
    alb.register(TG.api, bad.ref);
    await Promise.all([reach(alb, TG.api, ok.ref, 'healthy'), reach(alb, TG.api, bad.ref, 'unhealthy')]);
    const out = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: TG.api }));
    expect(out.TargetHealthDescriptions).toEqual(alb.health(TG.api));
    expect(out.TargetHealthDescriptions.map((d) => [d.Target.Port, d.TargetHealth.State, d.TargetHealth.Reason, d.TargetHealth.Description])).toEqual([
      [ok.port, 'healthy', undefined, undefined],
      [bad.port, 'unhealthy', 'Target.ResponseCodeMismatch', 'Health checks failed with these codes: [500]'],
    ]);
    // asked for targets by id: an unregistered one is unused / Target.NotRegistered
    const some = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: TG.api, Targets: [{ Id: '127.0.0.1', Port: bad.port }, { Id: '10.9.9.9', Port: 8000 }] }));
    expect(some.TargetHealthDescriptions.map((d) => [d.Target.Id, d.TargetHealth.State, d.TargetHealth.Reason])).toEqual([
      ['127.0.0.1', 'unhealthy', 'Target.ResponseCodeMismatch'], ['10.9.9.9', 'unused', 'Target.NotRegistered'],
    ]);
    expect(upstreamSeen).toHaveLength(0);
    const other = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: `${ARN}:targetgroup/not-this-alb/9` }));
    expect(other.TargetHealthDescriptions).toEqual([]);
    expect(upstreamSeen).toHaveLength(1);
    expect(proxy.calls.map((c) => [c.operation, c.fault, c.status])).toEqual([
      ['DescribeTargetHealth', 'dataplane:elbv2-target-health', 200], ['DescribeTargetHealth', 'dataplane:elbv2-target-health', 200],
      ['DescribeTargetHealth', 'dataplane:elbv2-target-health', 200],
    ]);
  } finally {
    await proxy.close();
    await new Promise((r) => emulator.close(r));
  }
});

test('weighted ForwardConfig, method and header conditions; a group without health checks is unavailable and routed to', async () => {
  const w = world();
  w.rules.push(
    rule(1, [{ Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['DELETE'] } }], [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '405', ContentType: 'text/plain' } }]),
    rule(2, [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Canary', Values: ['y*'] } }],
      [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: TG.api, Weight: 1 }, { TargetGroupArn: TG.admin, Weight: 2 }, { TargetGroupArn: TG.frontend, Weight: 0 }] } }]),
  );
  w.targetGroups[2].HealthCheckEnabled = false; // admin
  await start(w);
  const api = await newTarget('api', '/health');
  const admin = await newTarget('admin', '/admin/health');
  alb.register(TG.api, api.ref);
  alb.register(TG.admin, admin.ref);
  expect(alb.health(TG.admin)[0].TargetHealth).toEqual({ State: 'unavailable', Reason: 'Target.HealthCheckDisabled', Description: 'Health checks are disabled' });
  await reach(alb, TG.api, api.ref, 'healthy');
  const del = await new Promise((resolve, reject) => {
    const req = http.request(`${alb.url}/api/x`, { method: 'DELETE', agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end();
  });
  expect(del).toBe(405);
  const got = [];
  for (let i = 0; i < 6; i += 1) got.push((await get(`${alb.url}/`, { 'x-canary': 'Yes' })).headers['x-target']);
  expect(got.filter((x) => x === 'api')).toHaveLength(2);
  expect(got.filter((x) => x === 'admin')).toHaveLength(4);
  expect((await get(`${alb.url}/`, { 'x-canary': 'no' })).status).toBe(503); // no match: the default, frontend, has no target
  expect(admin.seen).not.toContain('/admin/health'); // no health check sent
});

test('matcher and wildcard rules', () => {
  const m = parseMatcher('200,302-304');
  expect([200, 201, 302, 303, 304, 305, 500].map(m)).toEqual([true, false, true, true, true, false, false]);
  expect([199, 200, 399, 400].map(parseMatcher('200-399'))).toEqual([false, true, true, false]);
  expect(() => parseMatcher('200-')).toThrow(/is not an HTTP code or range/);
  expect(wildcard('/api/*', false).test('/api/a/b')).toBe(true);
  expect(wildcard('/api/*', false).test('/api')).toBe(false);
  expect(wildcard('/a.c', false).test('/abc')).toBe(false); // `.` is literal
  expect(wildcard('/a?c', false).test('/abc')).toBe(true);
  expect(wildcard('*.Example.COM', true).test('x.example.com')).toBe(true);
});
