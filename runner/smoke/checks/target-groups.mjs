import { targetGroupHealth, healthReason } from '../../aws/target-health.mjs';

/** Every app-tier target group: only healthy targets (draining ones ignored), and at least the service's desired count of them. */
export function targetGroupsCheck(/** @type {import('../../../lib/config/index.cjs').SmokeSettings} */ settings) {
  const selected = (/** @type {import('../context.mjs').SmokeContext} */ sctx) => sctx.services.filter((s) => s.rolledOut && s.targetGroupArn);
  return /** @type {import('../suite.mjs').CheckDefinition} */ ({
    name: 'target-groups',
    needs: ['target-health'],
    timing: settings.checks['target-groups'],
    skipReason: (sctx) => (selected(sctx).length ? null : 'no rolled-out service has a target group'),
    async run(sctx, signal) {
      /** @type {string[]} */ const problems = [];
      /** @type {string[]} */ const seen = [];
      for (const s of selected(sctx)) {
        // draining targets (old tasks leaving) are ignored, as in the tier step
        const { healthy, bad: other, draining } = await targetGroupHealth({ signal }, sctx.aws.elbv2, /** @type {string} */ (s.targetGroupArn), s.desiredCount);
        seen.push(`${s.name} ${healthy.length} healthy/${s.desiredCount} desired${draining.length ? ` (${draining.length} draining, ignored)` : ''}`);
        for (const t of other.slice(0, 3)) {
          problems.push(`${s.name}: target ${t.Target?.Id ?? '?'}:${t.Target?.Port ?? '?'} is ${t.TargetHealth?.State ?? 'unknown'}${healthReason(t)}`);
        }
        if (healthy.length < s.desiredCount) problems.push(`${s.name}: ${healthy.length} healthy target(s), desired ${s.desiredCount}`);
      }
      const evidence = seen.join(', ');
      if (problems.length) return { status: 'failed', reason: problems.join('; '), evidence, retryable: true };
      return { status: 'passed', evidence };
    },
  });
}
