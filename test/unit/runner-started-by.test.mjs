// ECS startedBy sanitising shared by the migration step and the smoke one-off tasks.
import { startedByFor, STARTED_BY_MAX } from '../../runner/lib/started-by.mjs';
import { migrationStartedBy } from '../../runner/steps/migration.mjs';

const VALID = /^[A-Za-z0-9_/-]+$/;

describe('startedByFor', () => {
  test.each([
    ['rollout/', '3f2a9c1d0e4b'],
    ['rollout/', 'v1.2.3'],
    ['smoke-database-', 'v1.2.3+build.7'],
    ['smoke-anisette-probe-', 'release/2026.11.25 rc1'],
    ['smoke-anisette-probe-', 'a'.repeat(40)],
  ])('%s%s is valid for ECS: allowed characters only, at most 36', (prefix, release) => {
    const v = startedByFor(prefix, release);
    expect(v).toMatch(VALID);
    expect(v.length).toBeLessThanOrEqual(STARTED_BY_MAX);
    expect(v.startsWith(prefix.replace(/[^A-Za-z0-9_/-]/g, '_').slice(0, 20))).toBe(true);
  });

  test('short clean values are unchanged; disallowed characters become _', () => {
    expect(startedByFor('rollout/', 'rel1')).toBe('rollout/rel1');
    expect(startedByFor('smoke-database-', 'v1.2.3')).toBe('smoke-database-v1_2_3');
  });

  test('long values are deterministic and still distinct when they share a long prefix', () => {
    const a = startedByFor('smoke-anisette-probe-', `${'0'.repeat(30)}a`);
    const b = startedByFor('smoke-anisette-probe-', `${'0'.repeat(30)}b`);
    expect(a).toHaveLength(STARTED_BY_MAX);
    expect(a).not.toBe(b);
    expect(startedByFor('smoke-anisette-probe-', `${'0'.repeat(30)}a`)).toBe(a);
  });

  test('the migration uses the shared sanitiser', () => {
    expect(migrationStartedBy('v1.2.3')).toBe('rollout/v1_2_3');
    expect(migrationStartedBy('f'.repeat(40))).toBe(startedByFor('rollout/', 'f'.repeat(40)));
  });
});
