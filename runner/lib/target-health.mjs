// One reading of ELB target health for the tier step and the smoke `target-groups` check: `draining` targets
// (old tasks leaving after a deployment) are ignored; every other target must be `healthy`, and at least the
// service's desired count of them must be.

/**
 * @param {any[] | undefined} descriptions DescribeTargetHealth TargetHealthDescriptions
 * @param {number} desired
 * @returns {{ ok: boolean, healthy: any[], bad: any[], draining: any[] }}
 */
export function judgeTargets(descriptions, desired) {
  const all = descriptions ?? [];
  const draining = all.filter((d) => d?.TargetHealth?.State === 'draining');
  const counted = all.filter((d) => d?.TargetHealth?.State !== 'draining');
  const healthy = counted.filter((d) => d?.TargetHealth?.State === 'healthy');
  const bad = counted.filter((d) => d?.TargetHealth?.State !== 'healthy');
  return { ok: bad.length === 0 && healthy.length >= desired, healthy, bad, draining };
}
