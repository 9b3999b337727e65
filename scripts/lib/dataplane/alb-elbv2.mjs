// The local ALB and the ELBv2 API: the load balancer as the emulator stores what Terraform created (read once at
// start, straight from moto: these reads are not the runner's), and DescribeTargetHealth answered from the local
// health checks by a fault-proxy overlay, in the query protocol's XML, so the runner reads real targets' health
// through the API it reads on AWS.
import crypto from 'node:crypto';
import {
  DescribeLoadBalancersCommand, DescribeLoadBalancerAttributesCommand, DescribeListenersCommand, DescribeRulesCommand,
  DescribeTargetGroupsCommand, DescribeTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { compileConditions, finalAction, forwardsTo } from './alb-rules.mjs';
import { parseMatcher, REASONS } from './alb-health.mjs';

/**
 * @typedef {import('../fault-proxy.mjs').Rule} Rule
 * @typedef {import('@aws-sdk/client-elastic-load-balancing-v2').TargetHealthDescription} TargetHealthDescription
 * @typedef {import('@aws-sdk/client-elastic-load-balancing-v2').Action} Action
 * @typedef {import('./alb.mjs').TargetGroupSpec} TargetGroupSpec
 * @typedef {import('./alb-rules.mjs').RequestFacts} RequestFacts
 */

/**
 * @typedef {object} LoadBalancerSpec what the local ALB serves
 * @property {any} lb                   the load balancer as DescribeLoadBalancers shows it
 * @property {string} lbArn
 * @property {number} idleSeconds       attribute idle_timeout.timeout_seconds
 * @property {any} listener             the HTTP listener served
 * @property {{ priority: number, matches: (r: RequestFacts) => boolean, action: Action }[]} rules  lowest priority first
 * @property {Action} defaultAction
 * @property {Map<string, TargetGroupSpec>} targetGroups  by ARN, every group the listener's rules forward to
 */

/**
 * Every page of a Describe call with Marker/NextMarker.
 * @template T
 * @param {(marker: string | undefined) => Promise<{ NextMarker?: string } & Record<string, any>>} page @param {string} key
 * @returns {Promise<T[]>}
 */
async function all(page, key) {
  /** @type {T[]} */
  const out = [];
  let marker;
  do {
    const r = await page(marker);
    out.push(...(r[key] ?? []));
    marker = r.NextMarker;
  } while (marker);
  return out;
}

/**
 * Read the load balancer, its HTTP listener, rules and target groups from the emulator.
 * @param {{ send: (c: any) => Promise<any> }} elbv2
 * @param {{ loadBalancerArn?: string, log: (line: string) => void }} o
 * @returns {Promise<LoadBalancerSpec>}
 */
export async function readLoadBalancer(elbv2, { loadBalancerArn, log }) {
  // --- the load balancer as the emulator stores it
  const lbs = (await all((Marker) => elbv2.send(new DescribeLoadBalancersCommand({ Marker })), 'LoadBalancers'))
    .filter((/** @type {any} */ lb) => (lb.Type ?? 'application') === 'application');
  /** @type {any} */
  let lb;
  if (loadBalancerArn) {
    lb = lbs.find((/** @type {any} */ x) => x.LoadBalancerArn === loadBalancerArn);
    if (!lb) throw new Error(`local ALB: load balancer ${loadBalancerArn} is not in the emulator (it has: ${lbs.map((/** @type {any} */ x) => x.LoadBalancerArn).join(', ') || 'none'})`);
  } else if (lbs.length === 1) {
    lb = lbs[0];
  } else {
    throw new Error(lbs.length === 0
      ? 'local ALB: the emulator has no application load balancer (apply the stack first)'
      : `local ALB: the emulator has ${lbs.length} application load balancers (${lbs.map((/** @type {any} */ x) => x.LoadBalancerName).join(', ')}); pass loadBalancerArn`);
  }
  const lbArn = String(lb.LoadBalancerArn);
  const lbAttrs = (await elbv2.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: lbArn }))).Attributes ?? [];
  const idleSeconds = Number(lbAttrs.find((/** @type {any} */ a) => a.Key === 'idle_timeout.timeout_seconds')?.Value ?? 60);

  const listeners = await all((Marker) => elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn, Marker })), 'Listeners');
  const httpListeners = listeners.filter((/** @type {any} */ l) => l.Protocol === 'HTTP');
  const listener = /** @type {any} */ (httpListeners.find((/** @type {any} */ l) => l.Port === 80) ?? httpListeners[0]);
  if (!listener) {
    throw new Error(`local ALB: load balancer ${lb.LoadBalancerName} has no HTTP listener (it has: ${listeners.map((/** @type {any} */ l) => `${l.Protocol}:${l.Port}`).join(', ') || 'none'}); ` +
      'only HTTP listeners are served locally (an HTTPS listener needs the certificate\'s private key)');
  }
  for (const l of listeners) {
    if (l !== listener) log(`local ALB: listener ${l.Protocol}:${l.Port} is not served (only the HTTP listener ${listener.Port} is)`);
  }
  const where = `listener HTTP:${listener.Port} of ${lb.LoadBalancerName}`;
  const rawRules = (await all((Marker) => elbv2.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn, Marker })), 'Rules'))
    .filter((/** @type {any} */ r) => !r.IsDefault && r.Priority !== 'default')
    .sort((/** @type {any} */ a, /** @type {any} */ b) => Number(a.Priority) - Number(b.Priority));
  const rules = rawRules.map((/** @type {any} */ r) => {
    const name = `rule ${r.Priority} (${r.RuleArn}) of ${where}`;
    return { priority: Number(r.Priority), matches: compileConditions(r.Conditions ?? [], name), action: finalAction(r.Actions ?? [], name) };
  });
  const defaultAction = finalAction(listener.DefaultActions ?? [], `default action of ${where}`);

  // --- target groups: every one an action forwards to (and those attached to the load balancer)
  const wanted = new Set([defaultAction, ...rules.map((r) => r.action)].flatMap(forwardsTo).map((f) => f.arn));
  const attached = await all((Marker) => elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lbArn, Marker })), 'TargetGroups');
  const missing = [...wanted].filter((arn) => !attached.some((/** @type {any} */ t) => t.TargetGroupArn === arn));
  const extra = missing.length ? (await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: missing }))).TargetGroups ?? [] : [];
  /** @type {Map<string, TargetGroupSpec>} */
  const targetGroups = new Map();
  for (const t of [...attached, ...extra]) {
    const attrs = (await elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: t.TargetGroupArn }))).Attributes ?? [];
    const delay = attrs.find((/** @type {any} */ a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
    const spec = {
      arn: String(t.TargetGroupArn),
      name: String(t.TargetGroupName),
      port: Number(t.Port),
      protocol: String(t.Protocol ?? 'HTTP'),
      healthCheck: {
        enabled: t.HealthCheckEnabled !== false,
        protocol: String(t.HealthCheckProtocol ?? t.Protocol ?? 'HTTP'),
        port: String(t.HealthCheckPort ?? 'traffic-port'),
        path: String(t.HealthCheckPath ?? '/'),
        intervalSeconds: Number(t.HealthCheckIntervalSeconds ?? 30),
        timeoutSeconds: Number(t.HealthCheckTimeoutSeconds ?? 5),
        healthyThreshold: Number(t.HealthyThresholdCount ?? 5),
        unhealthyThreshold: Number(t.UnhealthyThresholdCount ?? 2),
        matcher: String(t.Matcher?.HttpCode ?? '200'),
      },
      deregistrationDelaySeconds: Number(delay ?? 300),
    };
    parseMatcher(spec.healthCheck.matcher); // a bad matcher fails the start, naming it
    targetGroups.set(spec.arn, spec);
  }
  for (const arn of wanted) {
    if (!targetGroups.has(arn)) throw new Error(`local ALB: ${where} forwards to target group ${arn}, which the emulator does not have`);
  }
  return { lb, lbArn, idleSeconds, listener, rules, defaultAction, targetGroups };
}

/** @param {string} s */
const xml = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * DescribeTargetHealth's reply, in the query protocol's XML as the SDK parses it.
 * @param {TargetHealthDescription[]} descriptions
 */
export function describeTargetHealthXml(descriptions) {
  const member = (/** @type {TargetHealthDescription} */ d) => {
    const t = d.Target ?? { Id: '' };
    const h = d.TargetHealth ?? {};
    return '<member>' +
      `<Target><Id>${xml(t.Id ?? '')}</Id>${t.Port !== undefined ? `<Port>${t.Port}</Port>` : ''}${t.AvailabilityZone ? `<AvailabilityZone>${xml(t.AvailabilityZone)}</AvailabilityZone>` : ''}</Target>` +
      (d.HealthCheckPort ? `<HealthCheckPort>${xml(d.HealthCheckPort)}</HealthCheckPort>` : '') +
      `<TargetHealth>${h.State ? `<State>${h.State}</State>` : ''}${h.Reason ? `<Reason>${h.Reason}</Reason>` : ''}${h.Description ? `<Description>${xml(h.Description)}</Description>` : ''}</TargetHealth>` +
      '</member>';
  };
  return '<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeTargetHealthResult>' +
    `<TargetHealthDescriptions>${descriptions.map(member).join('')}</TargetHealthDescriptions></DescribeTargetHealthResult>` +
    `<ResponseMetadata><RequestId>${crypto.randomUUID()}</RequestId></ResponseMetadata></DescribeTargetHealthResponse>`;
}

/**
 * The fault-proxy rule answering DescribeTargetHealth for this load balancer's target groups (others: the
 * emulator answers).
 * @param {Map<string, TargetGroupSpec>} targetGroups
 * @param {(tgArn: string) => TargetHealthDescription[]} health  as DescribeTargetHealth (draining included)
 * @returns {Rule}
 */
export function targetHealthOverlay(targetGroups, health) {
  return {
    name: 'dataplane:elbv2-target-health',
    service: 'elasticloadbalancing',
    operation: 'DescribeTargetHealth',
    fault: {
      kind: 'overlay',
      async handle(call) {
        const params = new URLSearchParams(call.body);
        const tgArn = params.get('TargetGroupArn') ?? '';
        if (!targetGroups.has(tgArn)) return undefined; // not this load balancer's: the emulator answers
        const all = health(tgArn);
        /** @type {any[]} */
        let out = all;
        const asked = [];
        for (let i = 1; params.has(`Targets.member.${i}.Id`); i += 1) {
          const p = params.get(`Targets.member.${i}.Port`);
          asked.push({ Id: String(params.get(`Targets.member.${i}.Id`)), Port: p ? Number(p) : undefined });
        }
        if (asked.length) {
          const tg = /** @type {TargetGroupSpec} */ (targetGroups.get(tgArn));
          out = asked.map((a) => all.find((d) => d.Target?.Id === a.Id && d.Target?.Port === (a.Port ?? tg.port)) ?? {
            Target: { Id: a.Id, Port: a.Port ?? tg.port },
            HealthCheckPort: tg.healthCheck.port === 'traffic-port' ? String(a.Port ?? tg.port) : tg.healthCheck.port,
            TargetHealth: { State: 'unused', ...REASONS.notRegistered },
          });
        }
        return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': crypto.randomUUID() }, body: describeTargetHealthXml(/** @type {TargetHealthDescription[]} */ (out)) };
      },
    },
  };
}
