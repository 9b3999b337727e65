// The runner's third mode: the local data plane (every task a real container). The runner is not in emulator
// mode there (every check is performed), and the report names, once, what one machine cannot prove, from the one
// list in lib/emulator-gaps.json: not as checks, so nothing of it is counted as passed or skipped.
import { createRequire } from 'node:module';
import { detectCapabilities, dataplaneNote, DATAPLANE_ENV, NOT_PROVABLE_LOCALLY, TERRAFORM_GAPS } from '../../runner/lib/emulator.mjs';
import { renderSummary } from '../../runner/report/summary.mjs';
import { verdict } from '../../runner/lib/verdict.mjs';
import { formatSummary } from '../../runner/lib/execute.mjs';

const require = createRequire(import.meta.url);
const gaps = require('../../lib/emulator-gaps.json');
const LOOPBACK = { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' };

describe('detectCapabilities: the local data plane', () => {
  test('the harness variable turns the data plane on and emulator mode off, even on a loopback endpoint', () => {
    const caps = detectCapabilities({ emulator: null, env: { ...LOOPBACK, [DATAPLANE_ENV]: 'npm run local' } });
    expect(caps.emulator).toBe(false);
    expect(caps.dataplane).toBe(true);
    expect(caps.source).toMatch(/local data plane/);
    for (const gap of Object.keys(gaps.checks)) expect([gap, caps.lacks(/** @type {any} */ (gap))]).toEqual([gap, false]);
  });

  test('--emulator still wins over the variable; without it, loopback means emulator mode as before', () => {
    expect(detectCapabilities({ emulator: true, env: { ...LOOPBACK, [DATAPLANE_ENV]: '1' } })).toMatchObject({ emulator: true, dataplane: false });
    expect(detectCapabilities({ emulator: null, env: LOOPBACK })).toMatchObject({ emulator: true, dataplane: false });
    expect(detectCapabilities({ emulator: null, env: {} })).toMatchObject({ emulator: false, dataplane: false });
  });

  test('what cannot be proven locally is the one list of lib/emulator-gaps.json, each with a reason', () => {
    expect(NOT_PROVABLE_LOCALLY).toEqual(gaps.dataplane.notProvable);
    const note = dataplaneNote({ source: 'x' });
    expect(note.notProvable.map((n) => n.name)).toEqual(Object.keys(gaps.dataplane.notProvable));
    for (const n of note.notProvable) expect(n.reason.length).toBeGreaterThan(40);
    expect(note.terraformGaps).toEqual(TERRAFORM_GAPS.map((g) => ({ ...g })));
  });
});

describe('reports of a data-plane run', () => {
  const report = () => ({
    schemaVersion: 1, release: 'r1', environment: 'staging', status: 'passed', exitCode: 0, failure: null,
    startedAt: '2026-12-07T10:00:00.000Z', finishedAt: '2026-12-07T10:01:00.000Z', durationMs: 60000, awsCalls: 80, images: {},
    dataplane: dataplaneNote({ source: 'the local data plane (test)' }),
    steps: [
      { id: 'images', title: 'Images', status: 'passed', reason: null, startedAt: null, finishedAt: null, durationMs: 1, services: [],
        checks: [{ name: 'image:api', status: 'passed', reason: null, evidence: 'pushed', durationMs: 1 }],
        notApplicable: [{ name: 'image:api:staging-latest', reason: 'repository staging/api has immutable tags' }] },
      { id: 'smoke', title: 'Smoke', status: 'passed', reason: null, startedAt: null, finishedAt: null, durationMs: 1, services: [],
        checks: [{ name: 'api-health', status: 'passed', reason: null, evidence: 'HTTP 200', durationMs: 1 }] },
    ],
  });

  test('the verdict says where it ran and claims no unproven check', () => {
    expect(verdict(/** @type {any} */ (report()))).toBe('PASSED on the local data plane');
  });

  test('the summary names every not-provable item once, and the policy ruled-out tag as not applicable', () => {
    const md = renderSummary(report());
    expect(md).toContain('on the local data plane, not AWS');
    expect(md).toContain('### Not provable locally');
    for (const name of Object.keys(gaps.dataplane.notProvable)) expect(md.split(`\`${name}\``).length - 1).toBe(1);
    expect(md).toMatch(/Not applicable \(a policy, not a check\): `image:api:staging-latest`/);
    // the image push is the images step's check, not a smoke check: counted apart
    expect(md).toMatch(/Checks \*\*2\*\* passed · \*\*0\*\* failed · \*\*0\*\* skipped; of them the smoke step's: \*\*1\*\* passed · \*\*0\*\* failed · \*\*0\*\* skipped/);
    expect(md).toContain('| `images` | `image:api` | ✅ passed |');
  });

  test('the console summary lists them under "not provable locally", apart from skipped checks', () => {
    const text = formatSummary(/** @type {any} */ (report()));
    expect(text).toMatch(/^PASSED \(exit 0\) on the local data plane in /m);
    expect(text).toContain('not provable locally');
    expect(text).not.toContain('checks skipped');
  });
});
