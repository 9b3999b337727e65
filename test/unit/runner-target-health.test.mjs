// One reading of target health for the tier step and the smoke target-groups check.
import { judgeTargets } from '../../runner/aws/target-health.mjs';

const t = (id, State) => ({ Target: { Id: id, Port: 80 }, TargetHealth: { State } });

describe('judgeTargets', () => {
  test('draining targets are ignored; the rest must all be healthy and at least desired', () => {
    expect(judgeTargets([t('a', 'healthy'), t('b', 'draining')], 1)).toMatchObject({ ok: true, healthy: [t('a', 'healthy')], bad: [], draining: [t('b', 'draining')] });
    expect(judgeTargets([t('b', 'draining')], 1).ok).toBe(false);
    expect(judgeTargets([t('a', 'healthy'), t('c', 'initial')], 1)).toMatchObject({ ok: false, bad: [t('c', 'initial')] });
    expect(judgeTargets([t('a', 'healthy')], 2).ok).toBe(false);
    expect(judgeTargets(undefined, 0).ok).toBe(true);
  });
});
