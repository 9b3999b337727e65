// The local load balancer of the data plane: the ALB Terraform created in the emulator, served on 127.0.0.1.
// It reads the load balancer's HTTP listener, its rules and target groups from the ELBv2 API (moto stores what
// Terraform created; read once at start), routes requests to the targets the engine registers (container IPs)
// and health-checks them with each target group's settings, with ELB's states and reason codes. ELBv2
// DescribeTargetHealth is answered from these health checks by a fault-proxy overlay, so the runner reads the
// health of real targets through the API it reads on AWS.
//
// What it does as ALB does:
//   - rules by priority (lowest first), then the listener's default action; conditions path-pattern
//     (case-sensitive, `*` and `?`, on the path without the query), host-header (case-insensitive, port
//     dropped), http-request-method, http-header; actions forward (TargetGroupArn or weighted ForwardConfig),
//     fixed-response and redirect (#{protocol} #{host} #{port} #{path} #{query})
//   - round robin over healthy targets; fail-open when every registered target is unhealthy; 503 when a group
//     has no registered target (draining ones take no new requests); 502 when the target refuses or breaks the
//     connection; 504 when it does not answer within the load balancer's idle timeout
//   - X-Forwarded-For (appended), X-Forwarded-Proto, X-Forwarded-Port, X-Amzn-Trace-Id
//   - health checks every HealthCheckIntervalSeconds, HealthCheckTimeoutSeconds each, HealthyThresholdCount
//     consecutive successes to become healthy, UnhealthyThresholdCount failures to become unhealthy; the
//     matcher's codes ("200", "200-399", "200,302"); states initial (Elb.RegistrationInProgress, then
//     Elb.InitialHealthChecking), healthy, unhealthy (Target.ResponseCodeMismatch, Target.Timeout,
//     Target.FailedHealthChecks), draining (Target.DeregistrationInProgress) for the deregistration delay,
//     then gone (unused, Target.NotRegistered)
// Only the HTTP listener is served: HTTPS listeners need the certificate's private key, which ACM never hands
// out. The local data plane's stack has no certificate (config/local.json), so its HTTP listener carries the
// rules and is what the smoke step uses; with a certificate the HTTP listener's redirect to HTTPS is answered
// as ALB answers it, and the HTTPS listener is not served (logged at start).
import http from 'node:http';
import https from 'node:https';
import crypto from 'node:crypto';
import {
  DescribeLoadBalancersCommand, DescribeLoadBalancerAttributesCommand, DescribeListenersCommand, DescribeRulesCommand,
  DescribeTargetGroupsCommand, DescribeTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { freePort } from '../moto.mjs';

/**
 * @typedef {import('../fault-proxy.mjs').Rule} Rule
 * @typedef {import('@aws-sdk/client-elastic-load-balancing-v2').TargetHealthDescription} TargetHealthDescription
 * @typedef {{ State: string, Reason?: string, Description?: string }} TargetHealth  as the SDK's, as plain strings
 * @typedef {import('@aws-sdk/client-elastic-load-balancing-v2').Action} Action
 * @typedef {import('@aws-sdk/client-elastic-load-balancing-v2').RuleCondition} RuleCondition
 * @typedef {{ id: string, port?: number }} TargetRef
 */

/**
 * @typedef {object} TargetGroupSpec
 * @property {string} arn
 * @property {string} name
 * @property {number} port                          the traffic port (a target registered without one uses it)
 * @property {string} protocol                      HTTP or HTTPS (to the targets)
 * @property {{ enabled: boolean, protocol: string, port: string, path: string, intervalSeconds: number,
 *   timeoutSeconds: number, healthyThreshold: number, unhealthyThreshold: number, matcher: string }} healthCheck
 *   port: 'traffic-port' or a number as a string
 * @property {number} deregistrationDelaySeconds    attribute deregistration_delay.timeout_seconds
 */

/**
 * @typedef {object} LocalAlb
 * @property {string} url                            http://HOST:PORT, the HTTP listener
 * @property {string} loadBalancerArn
 * @property {Map<string, TargetGroupSpec>} targetGroups  by ARN, every group the listener's rules forward to
 * @property {(tgArn: string, target: TargetRef) => void} register     id = the target's IP; port default: the group's
 * @property {(tgArn: string, target: TargetRef) => void} deregister   draining for the deregistration delay, then gone
 * @property {(tgArn: string) => TargetHealthDescription[]} health     as DescribeTargetHealth (draining included)
 * @property {(fn: (tgArn: string, target: { Id: string, Port: number }, state: TargetHealth) => void) => () => void} onChange
 *   called on every change of a target's TargetHealth (state, reason); returns the unsubscriber
 * @property {Rule[]} overlays                       fault-proxy rules answering ELBv2 DescribeTargetHealth
 * @property {() => Promise<void>} close
 */

export const REASONS = Object.freeze({
  registering: { Reason: 'Elb.RegistrationInProgress', Description: 'Target registration is in progress' },
  initial: { Reason: 'Elb.InitialHealthChecking', Description: 'Initial health checks in progress' },
  timeout: { Reason: 'Target.Timeout', Description: 'Request timed out' },
  failed: { Reason: 'Target.FailedHealthChecks', Description: 'Health checks failed' },
  draining: { Reason: 'Target.DeregistrationInProgress', Description: 'Target deregistration is in progress' },
  notRegistered: { Reason: 'Target.NotRegistered', Description: 'Target is not registered to the target group' },
  disabled: { Reason: 'Target.HealthCheckDisabled', Description: 'Health checks are disabled' },
});

/** @param {number} code */
const mismatch = (code) => ({ Reason: 'Target.ResponseCodeMismatch', Description: `Health checks failed with these codes: [${code}]` });

/**
 * A matcher's HTTP codes ("200", "200-399", "200,302") as a predicate.
 * @param {string} matcher @returns {(code: number) => boolean}
 */
export function parseMatcher(matcher) {
  const parts = String(matcher).split(',').map((p) => p.trim());
  const ranges = parts.map((p) => {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(p);
    if (!m) throw new Error(`local ALB: health check matcher "${matcher}": "${p}" is not an HTTP code or range (e.g. "200", "200-399", "200,302")`);
    return [Number(m[1]), Number(m[2] ?? m[1])];
  });
  return (code) => ranges.some(([lo, hi]) => code >= lo && code <= hi);
}

/**
 * An ALB wildcard pattern (`*` any characters, `?` one) as an anchored regular expression.
 * @param {string} pattern @param {boolean} caseInsensitive
 */
export function wildcard(pattern, caseInsensitive) {
  const body = [...pattern].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, caseInsensitive ? 'is' : 's');
}

/** @param {RuleCondition} c @returns {string[]} */
const valuesOf = (c) => {
  switch (c.Field) {
    case 'path-pattern': return c.PathPatternConfig?.Values ?? c.Values ?? [];
    case 'host-header': return c.HostHeaderConfig?.Values ?? c.Values ?? [];
    case 'http-request-method': return c.HttpRequestMethodConfig?.Values ?? c.Values ?? [];
    case 'http-header': return c.HttpHeaderConfig?.Values ?? c.Values ?? [];
    default: return c.Values ?? [];
  }
};

/**
 * A rule's conditions as one predicate over a request (conditions AND, values of one condition OR).
 * @param {RuleCondition[]} conditions @param {string} where names the rule in an error
 * @returns {(r: { path: string, host: string, method: string, headers: http.IncomingHttpHeaders }) => boolean}
 */
export function compileConditions(conditions, where) {
  const tests = conditions.map((c) => {
    const values = valuesOf(c);
    if (c.Field === 'path-pattern') {
      const res = values.map((v) => wildcard(v, false));
      return (/** @type {any} */ r) => res.some((re) => re.test(r.path));
    }
    if (c.Field === 'host-header') {
      const res = values.map((v) => wildcard(v, true));
      return (/** @type {any} */ r) => res.some((re) => re.test(r.host));
    }
    if (c.Field === 'http-request-method') return (/** @type {any} */ r) => values.includes(r.method);
    if (c.Field === 'http-header') {
      const name = String(c.HttpHeaderConfig?.HttpHeaderName ?? '').toLowerCase();
      const res = values.map((v) => wildcard(v, true));
      return (/** @type {any} */ r) => {
        const got = r.headers[name];
        return got !== undefined && [got].flat().some((g) => res.some((re) => re.test(String(g))));
      };
    }
    throw new Error(`local ALB: ${where}: condition field "${c.Field}" is not served locally (served: path-pattern, host-header, http-request-method, http-header)`);
  });
  return (r) => tests.every((t) => t(r));
}

/** The action that answers (ALB runs them by Order; authenticate-* are not served). @param {Action[]} actions @param {string} where */
function finalAction(actions, where) {
  const sorted = [...actions].sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0));
  const unsupported = sorted.find((a) => !['forward', 'fixed-response', 'redirect'].includes(String(a.Type)));
  if (unsupported) throw new Error(`local ALB: ${where}: action type "${unsupported.Type}" is not served locally (served: forward, fixed-response, redirect)`);
  const last = sorted[sorted.length - 1];
  if (!last) throw new Error(`local ALB: ${where} has no action`);
  return last;
}

/** Target group ARNs an action forwards to, with weights. @param {Action} a @returns {{ arn: string, weight: number }[]} */
const forwardsTo = (a) => {
  if (a.Type !== 'forward') return [];
  if (a.TargetGroupArn) return [{ arn: a.TargetGroupArn, weight: 1 }];
  return (a.ForwardConfig?.TargetGroups ?? []).filter((t) => t.TargetGroupArn).map((t) => ({ arn: String(t.TargetGroupArn), weight: t.Weight ?? 1 }));
};

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

/** ALB's own error pages. @param {number} status */
const errorPage = (status) => {
  const title = { 502: '502 Bad Gateway', 503: '503 Service Temporarily Unavailable', 504: '504 Gateway Time-out' }[status] ?? String(status);
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`;
};

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

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
 * Start the local ALB.
 * @param {object} o
 * @param {import('@aws-sdk/client-elastic-load-balancing-v2').ElasticLoadBalancingV2Client | { send: (c: any) => Promise<any> }} o.elbv2
 *   to the emulator directly (never the proxy: these reads are not the runner's)
 * @param {string} [o.loadBalancerArn]  default: the only application load balancer the emulator has
 * @param {string} [o.host]             default 127.0.0.1
 * @param {number} [o.port]             default: a free port
 * @param {number} [o.timeScale]        multiplies every interval, timeout and delay (default 1; tests use less)
 * @param {(line: string) => void} [o.log]
 * @returns {Promise<LocalAlb>}
 */
export async function startLocalAlb(o) {
  const { elbv2 } = o;
  const log = o.log ?? (() => {});
  const scale = o.timeScale ?? 1;
  if (!(scale > 0)) throw new Error(`local ALB: timeScale must be a positive number, got ${o.timeScale}`);

  // --- the load balancer as the emulator stores it
  const lbs = (await all((Marker) => elbv2.send(new DescribeLoadBalancersCommand({ Marker })), 'LoadBalancers'))
    .filter((/** @type {any} */ lb) => (lb.Type ?? 'application') === 'application');
  /** @type {any} */
  let lb;
  if (o.loadBalancerArn) {
    lb = lbs.find((/** @type {any} */ x) => x.LoadBalancerArn === o.loadBalancerArn);
    if (!lb) throw new Error(`local ALB: load balancer ${o.loadBalancerArn} is not in the emulator (it has: ${lbs.map((/** @type {any} */ x) => x.LoadBalancerArn).join(', ') || 'none'})`);
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

  // --- targets and their health
  /**
   * @typedef {object} Target
   * @property {string} id @property {number} port @property {string} key
   * @property {TargetHealth} health
   * @property {number} ok   consecutive successes   @property {number} bad  consecutive failures
   * @property {NodeJS.Timeout | null} timer
   * @property {(() => void) | null} abort   cancels the health check in flight
   * @property {number} inflight  requests being served
   */
  /** @type {Map<string, Map<string, Target>>} */
  const targets = new Map([...targetGroups.keys()].map((arn) => [arn, new Map()]));
  /** @type {Map<string, number>} */
  const cursor = new Map();
  /** @type {Set<(tgArn: string, target: { Id: string, Port: number }, state: TargetHealth) => void>} */
  const listenersOnChange = new Set();
  let closed = false;

  /** @param {string} tgArn */
  const groupOf = (tgArn) => {
    const g = targets.get(tgArn);
    if (!g) throw new Error(`local ALB: target group ${tgArn} is not one of this load balancer's (${[...targetGroups.keys()].join(', ')})`);
    return g;
  };
  /** @param {string} tgArn @param {Target} t @param {TargetHealth} health */
  const setHealth = (tgArn, t, health) => {
    const before = t.health;
    if (before && before.State === health.State && before.Reason === health.Reason && before.Description === health.Description) return;
    t.health = health;
    const tg = /** @type {TargetGroupSpec} */ (targetGroups.get(tgArn));
    log(`local ALB: ${tg.name} ${t.key}: ${before?.State ?? 'unused'} -> ${health.State}${health.Reason ? ` (${health.Reason})` : ''}`);
    for (const fn of [...listenersOnChange]) {
      try {
        fn(tgArn, { Id: t.id, Port: t.port }, { ...health });
      } catch (e) {
        log(`local ALB: an onChange listener failed: ${/** @type {Error} */ (e).message}`);
      }
    }
  };

  /**
   * One health check: resolves null when it passed, else the failure's reason.
   * @param {TargetGroupSpec} tg @param {Target} t @returns {Promise<TargetHealth | null>}
   */
  const probe = (tg, t) => new Promise((resolve) => {
    const hc = tg.healthCheck;
    const okCode = parseMatcher(hc.matcher);
    const port = hc.port === 'traffic-port' ? t.port : Number(hc.port);
    const client = hc.protocol === 'HTTPS' ? https : http;
    let done = false;
    const finish = (/** @type {TargetHealth | null} */ r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      t.abort = null;
      resolve(r);
    };
    const req = client.request({
      host: t.id, port, method: 'GET', path: hc.path, agent: false,
      headers: { host: `${t.id}:${port}`, 'user-agent': 'ELB-HealthChecker/2.0', connection: 'close' },
      ...(hc.protocol === 'HTTPS' ? { rejectUnauthorized: false } : {}),
    }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      finish(okCode(code) ? null : { State: 'unhealthy', ...mismatch(code) });
      req.destroy();
    });
    const timer = setTimeout(() => { finish({ State: 'unhealthy', ...REASONS.timeout }); req.destroy(); }, hc.timeoutSeconds * 1000 * scale);
    req.on('error', () => finish({ State: 'unhealthy', ...REASONS.failed }));
    t.abort = () => { finish(null); req.destroy(); };
    req.end();
  });

  /** @param {string} tgArn @param {Target} t */
  const checkLoop = async (tgArn, t) => {
    const tg = /** @type {TargetGroupSpec} */ (targetGroups.get(tgArn));
    const hc = tg.healthCheck;
    if (closed || t.health.State === 'draining' || groupOf(tgArn).get(t.key) !== t) return;
    if (t.health.Reason === REASONS.registering.Reason) setHealth(tgArn, t, { State: 'initial', ...REASONS.initial });
    const started = Date.now();
    const failure = await probe(tg, t);
    if (closed || t.health.State === 'draining' || groupOf(tgArn).get(t.key) !== t) return;
    if (failure === null) {
      t.ok += 1;
      t.bad = 0;
      if (t.health.State !== 'healthy' && t.ok >= hc.healthyThreshold) setHealth(tgArn, t, { State: 'healthy' });
    } else {
      t.bad += 1;
      t.ok = 0;
      if (t.health.State === 'unhealthy' || t.bad >= hc.unhealthyThreshold) setHealth(tgArn, t, failure);
    }
    const wait = Math.max(0, hc.intervalSeconds * 1000 * scale - (Date.now() - started));
    t.timer = setTimeout(() => { t.timer = null; void checkLoop(tgArn, t); }, wait);
  };

  /** @param {Target} t */
  const stopChecks = (t) => {
    if (t.timer) clearTimeout(t.timer);
    t.timer = null;
    t.abort?.();
  };

  /** @param {string} tgArn @param {TargetRef} ref */
  const register = (tgArn, ref) => {
    const g = groupOf(tgArn);
    const tg = /** @type {TargetGroupSpec} */ (targetGroups.get(tgArn));
    if (!ref || typeof ref.id !== 'string' || !ref.id) throw new Error(`local ALB: register in ${tg.name}: a target needs an id (its IP), got ${JSON.stringify(ref)}`);
    const port = ref.port ?? tg.port;
    const key = `${ref.id}:${port}`;
    const known = g.get(key);
    if (known && known.health.State !== 'draining') return; // registering twice changes nothing, as ELB
    if (known) stopChecks(known);
    /** @type {Target} */
    const t = { id: ref.id, port, key, health: /** @type {any} */ (null), ok: 0, bad: 0, timer: null, abort: null, inflight: 0 };
    g.set(key, t);
    if (!tg.healthCheck.enabled) {
      setHealth(tgArn, t, { State: 'unavailable', ...REASONS.disabled });
      return;
    }
    setHealth(tgArn, t, { State: 'initial', ...REASONS.registering });
    t.timer = setTimeout(() => { t.timer = null; void checkLoop(tgArn, t); }, 0);
  };

  /** @param {string} tgArn @param {TargetRef} ref */
  const deregister = (tgArn, ref) => {
    const g = groupOf(tgArn);
    const tg = /** @type {TargetGroupSpec} */ (targetGroups.get(tgArn));
    const key = `${ref.id}:${ref.port ?? tg.port}`;
    const t = g.get(key);
    if (!t || t.health.State === 'draining') return;
    stopChecks(t);
    setHealth(tgArn, t, { State: 'draining', ...REASONS.draining });
    // ELB shows the target draining for the whole delay (in-flight requests finish meanwhile), then drops it
    t.timer = setTimeout(() => {
      t.timer = null;
      if (g.get(key) !== t) return;
      g.delete(key);
      setHealth(tgArn, t, { State: 'unused', ...REASONS.notRegistered });
    }, tg.deregistrationDelaySeconds * 1000 * scale);
  };

  /** @param {string} tgArn @returns {TargetHealthDescription[]} */
  const health = (tgArn) => /** @type {TargetHealthDescription[]} */ (healthOf(tgArn));
  /** @param {string} tgArn */
  const healthOf = (tgArn) => {
    const tg = /** @type {TargetGroupSpec} */ (targetGroups.get(tgArn));
    return [...groupOf(tgArn).values()].map((t) => ({
      Target: { Id: t.id, Port: t.port },
      HealthCheckPort: tg.healthCheck.port === 'traffic-port' ? String(t.port) : tg.healthCheck.port,
      TargetHealth: { ...t.health },
    }));
  };

  /** The next target of a group: round robin over healthy ones, fail-open over all registered. @param {string} tgArn */
  const pickTarget = (tgArn) => {
    const live = [...groupOf(tgArn).values()].filter((t) => t.health.State !== 'draining');
    const healthy = live.filter((t) => t.health.State === 'healthy' || t.health.State === 'unavailable');
    const pool = healthy.length ? healthy : live; // fail-open: every target unhealthy -> all of them get traffic
    if (!pool.length) return null;
    const n = cursor.get(tgArn) ?? 0;
    cursor.set(tgArn, n + 1);
    return pool[n % pool.length];
  };

  /** @type {Map<Action, number>} */
  const weightedCursor = new Map();
  /** @param {Action} a */
  const groupFor = (a) => {
    const list = forwardsTo(a).filter((f) => f.weight > 0);
    if (list.length <= 1) return list[0]?.arn ?? null;
    const total = list.reduce((s, f) => s + f.weight, 0);
    const n = weightedCursor.get(a) ?? 0;
    weightedCursor.set(a, n + 1);
    let slot = n % total;
    for (const f of list) {
      if (slot < f.weight) return f.arn;
      slot -= f.weight;
    }
    return list[0].arn;
  };

  // --- the listener
  const idleMs = idleSeconds * 1000 * scale;
  const port = o.port ?? await freePort();
  const host = o.host ?? '127.0.0.1';
  const agent = new http.Agent({ keepAlive: true });

  /** @param {http.ServerResponse} res @param {number} status */
  const fail = (res, status) => {
    if (res.headersSent) return void res.destroy();
    const body = errorPage(status);
    res.writeHead(status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(body), server: 'awselb/2.0' });
    res.end(body);
  };

  /** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
  const serve = (req, res) => {
    const url = String(req.url ?? '/');
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const hostHeader = String(req.headers.host ?? '');
    const hostName = hostHeader.replace(/:\d+$/, '');
    const method = String(req.method ?? 'GET');
    const match = rules.find((r) => r.matches({ path, host: hostName, method, headers: req.headers }));
    const action = match ? match.action : defaultAction;

    if (action.Type === 'fixed-response') {
      const f = /** @type {import('@aws-sdk/client-elastic-load-balancing-v2').FixedResponseActionConfig} */ (action.FixedResponseConfig ?? {});
      const body = f.MessageBody ?? '';
      req.resume();
      res.writeHead(Number(f.StatusCode ?? 200), { 'content-type': f.ContentType ?? 'text/plain', 'content-length': Buffer.byteLength(body), server: 'awselb/2.0' });
      return void res.end(body);
    }
    if (action.Type === 'redirect') {
      const r = /** @type {import('@aws-sdk/client-elastic-load-balancing-v2').RedirectActionConfig} */ (action.RedirectConfig ?? {});
      // #{path} is the path without its leading '/' (Path's default is "/#{path}")
      const vars = { protocol: 'http', host: hostName || host, port: String(port), path: path.replace(/^\//, ''), query };
      const fill = (/** @type {string | undefined} */ v, /** @type {string} */ dflt) =>
        String(v ?? dflt).replace(/#\{(protocol|host|port|path|query)\}/g, (_, k) => /** @type {any} */ (vars)[k]);
      const proto = fill(r.Protocol, '#{protocol}').toLowerCase();
      const toPort = fill(r.Port, '#{port}');
      const toQuery = fill(r.Query, '#{query}');
      const defaultPort = (proto === 'https' && toPort === '443') || (proto === 'http' && toPort === '80');
      const location = `${proto}://${fill(r.Host, '#{host}')}${defaultPort ? '' : `:${toPort}`}${fill(r.Path, '/#{path}')}${toQuery ? `?${toQuery}` : ''}`;
      req.resume();
      res.writeHead(r.StatusCode === 'HTTP_302' ? 302 : 301, { location, 'content-length': 0, server: 'awselb/2.0' });
      return void res.end();
    }
    const tgArn = groupFor(action);
    const t = tgArn ? pickTarget(tgArn) : null;
    if (!t) { req.resume(); return fail(res, 503); }

    const client = String(req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const headers = { ...req.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    const xff = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = xff ? `${xff}, ${client}` : client;
    headers['x-forwarded-proto'] = 'http';
    headers['x-forwarded-port'] = String(port);
    headers['x-amzn-trace-id'] = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${crypto.randomBytes(12).toString('hex')}`;
    t.inflight += 1;
    let settled = false;
    const settle = () => { if (!settled) { settled = true; t.inflight -= 1; } };
    const up = http.request({ host: t.id, port: t.port, method, path: url, headers, agent }, (u) => {
      const out = { ...u.headers };
      for (const h of HOP_BY_HOP) delete out[h];
      res.writeHead(u.statusCode ?? 502, out);
      u.pipe(res);
      u.on('end', settle);
      u.on('error', () => { settle(); res.destroy(); });
    });
    up.setTimeout(idleMs, () => { settle(); fail(res, 504); up.destroy(); });
    up.on('error', () => { settle(); fail(res, 502); });
    res.on('close', () => { settle(); if (!res.writableFinished) up.destroy(); });
    req.pipe(up);
  };

  const server = http.createServer(serve);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(undefined));
  });
  const url = `http://${host}:${port}`;
  log(`local ALB: ${lb.LoadBalancerName} HTTP:${listener.Port} on ${url} (${rules.length} rules, ${targetGroups.size} target groups)`);

  /** @type {Rule} */
  const overlay = {
    name: 'dataplane:elbv2-target-health',
    service: 'elasticloadbalancing',
    operation: 'DescribeTargetHealth',
    fault: {
      kind: 'overlay',
      async handle(call) {
        const params = new URLSearchParams(call.body);
        const tgArn = params.get('TargetGroupArn') ?? '';
        if (!targets.has(tgArn)) return undefined; // not this load balancer's: the emulator answers
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

  return {
    url,
    loadBalancerArn: lbArn,
    targetGroups,
    register,
    deregister,
    health,
    onChange(fn) {
      listenersOnChange.add(fn);
      return () => { listenersOnChange.delete(fn); };
    },
    overlays: [overlay],
    close: () => new Promise((resolve) => {
      closed = true;
      for (const g of targets.values()) for (const t of g.values()) stopChecks(t);
      listenersOnChange.clear();
      server.close(() => resolve(undefined));
      server.closeAllConnections();
      agent.destroy();
    }),
  };
}
