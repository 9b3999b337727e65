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
// This file composes the local ALB; its parts, one concern each: alb-elbv2.mjs (the load balancer read from the
// ELBv2 API, and the DescribeTargetHealth overlay), alb-rules.mjs (listener rule matching), alb-health.mjs
// (targets, health checks, load balancing over them), alb-proxy.mjs (the listener serving requests).
import { freePort } from '../moto.mjs';
import { readLoadBalancer, targetHealthOverlay } from './alb-elbv2.mjs';
import { targetRegistry } from './alb-health.mjs';
import { serveListener } from './alb-proxy.mjs';

export { REASONS, parseMatcher } from './alb-health.mjs';
export { wildcard, compileConditions } from './alb-rules.mjs';
export { describeTargetHealthXml } from './alb-elbv2.mjs';

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
  const spec = await readLoadBalancer(elbv2, { loadBalancerArn: o.loadBalancerArn, log });
  const { lb, lbArn, listener, rules, targetGroups } = spec;
  const targets = targetRegistry(targetGroups, { scale, log });
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? await freePort();
  const server = await serveListener({ rules, defaultAction: spec.defaultAction, pickTarget: targets.pickTarget, idleMs: spec.idleSeconds * 1000 * scale, host, port });
  const { url } = server;
  log(`local ALB: ${lb.LoadBalancerName} HTTP:${listener.Port} on ${url} (${rules.length} rules, ${targetGroups.size} target groups)`);

  return {
    url,
    loadBalancerArn: lbArn,
    targetGroups,
    register: targets.register,
    deregister: targets.deregister,
    health: targets.health,
    onChange: targets.onChange,
    overlays: [targetHealthOverlay(targetGroups, targets.health)],
    close: async () => {
      targets.close();
      await server.close();
    },
  };
}
