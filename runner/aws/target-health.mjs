// One reading of ELB target health for the tier step and the smoke `target-groups` check: `draining` targets
// (old tasks leaving after a deployment) are ignored; every other target must be `healthy`, and at least the
// service's desired count of them must be.
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { send } from './send.mjs';

/** @typedef {import('@aws-sdk/client-elastic-load-balancing-v2').TargetHealthDescription} TargetHealthDescription */
/** @typedef {{ ok: boolean, healthy: TargetHealthDescription[], bad: TargetHealthDescription[], draining: TargetHealthDescription[] }} TargetVerdict */

/**
 * @param {TargetHealthDescription[] | undefined} descriptions DescribeTargetHealth TargetHealthDescriptions
 * @param {number} desired
 * @returns {TargetVerdict}
 */
export function judgeTargets(descriptions, desired) {
  const all = descriptions ?? [];
  const draining = all.filter((d) => d?.TargetHealth?.State === 'draining');
  const counted = all.filter((d) => d?.TargetHealth?.State !== 'draining');
  const healthy = counted.filter((d) => d?.TargetHealth?.State === 'healthy');
  const bad = counted.filter((d) => d?.TargetHealth?.State !== 'healthy');
  return { ok: bad.length === 0 && healthy.length >= desired, healthy, bad, draining };
}

/** ` (Reason: Description)` of a target's health, or ''. @param {TargetHealthDescription} d */
export function healthReason(d) {
  const h = d.TargetHealth;
  return h?.Reason ? ` (${h.Reason}${h.Description ? `: ${h.Description}` : ''})` : '';
}

/**
 * DescribeTargetHealth of one target group, judged.
 * @param {import('./send.mjs').CallContext} ctx
 * @param {import('@aws-sdk/client-elastic-load-balancing-v2').ElasticLoadBalancingV2Client} elbv2
 * @param {string} targetGroupArn @param {number} desired
 * @returns {Promise<TargetVerdict>}
 */
export async function targetGroupHealth(ctx, elbv2, targetGroupArn, desired) {
  const res = await send(ctx, elbv2, new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  return judgeTargets(res.TargetHealthDescriptions, desired);
}
