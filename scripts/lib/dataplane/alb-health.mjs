// The local ALB's targets and their health checks, as ELB runs them: every HealthCheckIntervalSeconds a GET of
// the health check path with HealthCheckTimeoutSeconds, HealthyThresholdCount consecutive successes to become
// healthy, UnhealthyThresholdCount failures to become unhealthy, the matcher's codes ("200", "200-399",
// "200,302"); states initial (Elb.RegistrationInProgress, then Elb.InitialHealthChecking), healthy, unhealthy
// (Target.ResponseCodeMismatch, Target.Timeout, Target.FailedHealthChecks), draining
// (Target.DeregistrationInProgress) for the deregistration delay, then gone (unused, Target.NotRegistered).
// pickTarget is the load balancing over them: round robin over healthy targets, fail-open over all registered.
import http from 'node:http';
import https from 'node:https';

/**
 * @typedef {import('@aws-sdk/client-elastic-load-balancing-v2').TargetHealthDescription} TargetHealthDescription
 * @typedef {import('./alb.mjs').TargetHealth} TargetHealth
 * @typedef {import('./alb.mjs').TargetRef} TargetRef
 * @typedef {import('./alb.mjs').TargetGroupSpec} TargetGroupSpec
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
 * The targets of a load balancer's target groups, health-checked.
 * @param {Map<string, TargetGroupSpec>} targetGroups
 * @param {{ scale: number, log: (line: string) => void }} o  scale multiplies every interval, timeout and delay
 */
export function targetRegistry(targetGroups, { scale, log }) {
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

  return {
    register,
    deregister,
    health,
    pickTarget,
    /** @param {(tgArn: string, target: { Id: string, Port: number }, state: TargetHealth) => void} fn */
    onChange(fn) {
      listenersOnChange.add(fn);
      return () => { listenersOnChange.delete(fn); };
    },
    close() {
      closed = true;
      for (const g of targets.values()) for (const t of g.values()) stopChecks(t);
      listenersOnChange.clear();
    },
  };
}
