// Load balancer construct: ALB, target groups per web service, listeners (plain HTTP vs redirect + HTTPS),
// rules from each service's routing.
import { Block, Synth, enabledServices, stagingWith, synth } from '../support/stack';

const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-1111-2222-3333-444455556666';
let s: Synth;
beforeAll(() => {
  s = synth();
});

function tgOf(x: Synth, service: string): Block {
  return x.find('aws_lb_target_group', 'name', `staging-${service}`);
}

test('ALB in the public subnets with the ALB SG', () => {
  const [lb] = s.bodies('aws_lb');
  expect(lb).toMatchObject({ name: 'staging-alb', load_balancer_type: 'application', internal: false, drop_invalid_header_fields: true });
  expect(lb.subnets.map((r: string) => s.byRef(r).tags.Tier)).toEqual(['public', 'public']);
  expect(lb.security_groups.map((r: string) => s.byRef(r).name)).toEqual(['staging-alb']);
});

test('one IP target group per enabled web service with the config\'s fast health check and deregistration delay', () => {
  const web = enabledServices().filter((x) => x.kind === 'web');
  expect(s.count('aws_lb_target_group')).toBe(web.length);
  for (const w of web) {
    const tg = tgOf(s, w.name);
    expect(tg).toMatchObject({ port: w.port, protocol: 'HTTP', target_type: 'ip', deregistration_delay: '5' });
    expect(tg.health_check).toMatchObject({ path: w.healthCheckPath, interval: 5, timeout: 3, healthy_threshold: 2, unhealthy_threshold: 2, port: 'traffic-port' });
  }
  const slow = synth(stagingWith((r) => { r.loadBalancer.healthCheck.intervalSeconds = 10; r.loadBalancer.deregistrationDelaySeconds = 20; }));
  expect(tgOf(slow, 'api')).toMatchObject({ deregistration_delay: '20', health_check: expect.objectContaining({ interval: 10 }) });
});

test('without a certificate: one plain HTTP listener forwarding to the default route, rules on it', () => {
  const listeners = s.bodies('aws_lb_listener');
  expect(listeners).toHaveLength(1);
  expect(listeners[0]).toMatchObject({ port: 80, protocol: 'HTTP' });
  expect(listeners[0].default_action).toEqual([{ type: 'forward', target_group_arn: `\${${s.address('aws_lb_target_group', tgOf(s, 'frontend'))}.arn}` }]);
  const rules = s.bodies('aws_lb_listener_rule');
  expect(rules).toHaveLength(2);
  const byPriority = Object.fromEntries(rules.map((r) => [r.priority, r]));
  expect(byPriority[10].condition).toEqual([{ path_pattern: { values: ['/api/*', '/health'] } }]);
  expect(byPriority[10].action).toEqual([{ type: 'forward', target_group_arn: `\${${s.address('aws_lb_target_group', tgOf(s, 'api'))}.arn}` }]);
  expect(byPriority[20].condition).toEqual([{ path_pattern: { values: ['/admin', '/admin/*'] } }]);
  for (const r of rules) expect(s.byRef(r.listener_arn)).toBe(listeners[0]);
  expect(s.json.output.alb_url.value).toMatch(/^http:\/\/\$\{aws_lb\.[^.]+\.dns_name\}$/);
});

test('with a certificate: HTTP redirects to HTTPS, rules on the HTTPS listener, https URL', () => {
  const x = synth(stagingWith((r) => { r.loadBalancer.certificateArn = CERT; }));
  const http = x.find('aws_lb_listener', 'port', 80);
  const https = x.find('aws_lb_listener', 'port', 443);
  expect(http.default_action).toEqual([{ type: 'redirect', redirect: { protocol: 'HTTPS', port: '443', status_code: 'HTTP_301' } }]);
  expect(https).toMatchObject({ protocol: 'HTTPS', certificate_arn: CERT, ssl_policy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' });
  for (const r of x.bodies('aws_lb_listener_rule')) expect(x.byRef(r.listener_arn)).toBe(https);
  expect(x.json.output.alb_url.value).toMatch(/^https:\/\//);
});

test('host routing: host_header conditions from the catalog; no default route gives a fixed 404', () => {
  const x = synth(stagingWith((r) => {
    r.loadBalancer.routing = 'host';
    r.services.api.routing = { hostHeader: 'api.staging.example.com', priority: 10 };
    r.services.admin.routing = { hostHeader: 'admin.staging.example.com', priority: 20 };
    r.services.frontend.routing = { hostHeader: 'staging.example.com', priority: 30 };
  }));
  const rules = x.bodies('aws_lb_listener_rule');
  expect(rules.map((r) => [r.priority, r.condition]).sort()).toEqual([
    [10, [{ host_header: { values: ['api.staging.example.com'] } }]],
    [20, [{ host_header: { values: ['admin.staging.example.com'] } }]],
    [30, [{ host_header: { values: ['staging.example.com'] } }]],
  ]);
  expect(x.bodies('aws_lb_listener')[0].default_action[0]).toMatchObject({ type: 'fixed-response', fixed_response: { status_code: '404' } });
});

test('long names are shortened to 32 characters with a stable hash', () => {
  const x = synth(stagingWith((r) => { r.namePrefix = 'staging-long-env'; r.services['a-very-long-web-service-name'] = { ...r.services.admin, routing: { pathPatterns: ['/x/*'], priority: 30 } }; }));
  const names = x.bodies('aws_lb_target_group').map((t) => t.name);
  for (const n of names) expect(n.length).toBeLessThanOrEqual(32);
  expect(new Set(names).size).toBe(names.length);
  const again = synth(stagingWith((r) => { r.namePrefix = 'staging-long-env'; r.services['a-very-long-web-service-name'] = { ...r.services.admin, routing: { pathPatterns: ['/x/*'], priority: 30 } }; }));
  expect(again.bodies('aws_lb_target_group').map((t) => t.name)).toEqual(names);
});
