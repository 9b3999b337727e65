// The status verb against the scripted AWS world: matching the last successful release (exit 0, the call budget),
// drift (a manual change, a half-done run, an unknown revision), no successful release yet, unhealthy targets,
// emulator mode (target health not checkable, never shown as healthy), bad input.
import { fakeWorld, awsError, fakeClock, ROOT, OUTPUTS_FILE, OUTPUTS } from '../support/fake-aws.mjs';
import { CONFIG_ENV } from '../support/staging-config.cjs';
import { rollout, WEB, WORKERS, ecsName } from '../support/rollout.mjs';
import { main } from '../../runner/main.mjs';

async function status(fake, args = []) {
  const out = [];
  const err = [];
  fake.world.calls = [];
  fake.world.ledgerCalls = [];
  const res = await main(['status', '--outputs', OUTPUTS_FILE, ...args], {
    cwd: ROOT, env: { ...CONFIG_ENV }, clock: fakeClock(), createAws: () => fake.clients, write: (l) => out.push(l), writeErr: (l) => err.push(l),
    exec: async () => { throw new Error('no shell in unit tests'); },
  });
  return { ...res, out: out.join('\n'), err: err.join('\n'), json: args.includes('--json') ? JSON.parse(out.join('\n')) : null };
}
/** task-definition family of a catalog service */
const fam = (n) => OUTPUTS.service_catalog[n].task_family;
/** the status rows: the tiers in order, each in the runner's order */
const ROWS = [...WEB, ...WORKERS];
const row = (json, n) => json.services.find((s) => s.name === n);
const opsOf = (world) => [...world.ledgerCalls, ...world.calls].map((c) => c.op);

/** r1 everywhere (passed), then r2 with a new api image. */
async function twoReleases(fake, r2Faults = () => {}) {
  expect((await rollout(fake, ['--no-emulator', '--release', 'r1'])).exitCode).toBe(0);
  fake.world.images.api = `sha256:${'e'.repeat(64)}`;
  fake.world.images.frontend = `sha256:${'f'.repeat(64)}`;
  r2Faults(fake.world);
  return rollout(fake, ['--no-emulator', '--release', 'r2'], { clock: fakeClock(Date.UTC(2026, 0, 2)) });
}

describe('status', () => {
  test('every enabled service on the last successful release: exit 0, tier order, within 4 calls per 10 services + the ledger read', async () => {
    const fake = fakeWorld();
    expect((await twoReleases(fake)).exitCode).toBe(0);
    const res = await status(fake, ['--no-emulator', '--json']);
    expect(res.exitCode).toBe(0);
    const r = res.json;
    expect(r).toMatchObject({ ok: true, drift: [], exitCode: 0, lastSuccessful: { release: 'r2', kind: 'rollout' }, latest: { release: 'r2', outcome: 'passed' } });
    expect(r.services.map((s) => s.name)).toEqual(ROWS);
    for (const s of r.services) expect(s).toMatchObject({ enabled: true, release: 'r2', releaseFrom: 'ledger', matches: true, stable: true, drift: null, rolloutState: 'COMPLETED' });
    expect(r.services.find((s) => s.name === 'api')).toMatchObject({ taskDefinition: `${fam('api')}:3`, revision: 3, running: 1, desired: 1, targets: { state: 'healthy' } });
    expect(r.services.find((s) => s.name === 'anisette').targets.state).toBe('none');
    // one DescribeServices per 10 services + one DescribeTargetHealth per web service, plus the one-page ledger read
    // ... plus the lock's read (who holds it)
    const calls = [...Array(Math.ceil(ROWS.length / 10)).fill('DescribeServices'), ...WEB.map(() => 'DescribeTargetHealth'), 'GetParameter', 'GetParametersByPath'];
    expect(opsOf(fake.world).sort()).toEqual(calls.sort());
    expect(calls.length - 2).toBeLessThanOrEqual(4 * Math.ceil(ROWS.length / 10));
    expect(res.verbReport).toEqual(r);
  });

  test('the table: one row per service, the last successful release, the verdict', async () => {
    const fake = fakeWorld();
    await twoReleases(fake);
    const res = await status(fake, ['--no-emulator']);
    const lines = res.out.split('\n');
    expect(lines[0]).toBe(`Status of ${OUTPUTS.environment} (cluster ${OUTPUTS.cluster_name})`);
    expect(lines[1]).toBe('last successful release: r2 (rollout 20260102T000000000Z-rollout-r2, finished 2026-01-02T00:00:00.000Z)'.replace('finished 2026-01-02T00:00:00.000Z', `finished ${res.verbReport.lastSuccessful.finishedAt}`));
    expect(lines[3]).toMatch(/^service\s+tier\s+release\s+revision\s+running\s+rollout\s+targets\s+since$/);
    expect(lines.slice(4, 4 + ROWS.length).map((l) => l.trim().split(/\s+/)[0])).toEqual(ROWS);
    expect(lines.find((l) => l.startsWith('  api '))).toMatch(new RegExp(`^ {2}api\\s+app\\s+r2\\s+${fam('api')}:3\\s+1/1\\s+COMPLETED\\s+healthy\\s+`));
    expect(lines.at(-1)).toMatch(/^OK \(exit 0\): every enabled service runs release r2 and is stable; \d+ AWS API calls$/);
  });

  test('drift: a service set back by hand to r1 is named with both releases; exit 1', async () => {
    const fake = fakeWorld();
    await twoReleases(fake);
    const r1Api = fake.world.tds.get(fam('api'))[1].taskDefinitionArn;
    const svc = fake.world.services.get(ecsName('api'));
    svc.taskDefinition = r1Api;
    svc.deployments = [{ ...svc.deployments[0], taskDefinition: r1Api }];
    const res = await status(fake, ['--no-emulator', '--json']);
    expect(res.exitCode).toBe(1);
    expect(res.json.drift).toEqual(['api']);
    expect(row(res.json, 'api')).toMatchObject({ name: 'api', release: 'r1', matches: false, drift: `runs ${fam('api')}:2 (release r1) instead of ${fam('api')}:3 (release r2)` });
    expect(opsOf(fake.world)).not.toContain('DescribeTaskDefinition'); // r1's revision is in the ledger
    const table = await status(fake, ['--no-emulator']);
    expect(table.out).toContain(`! api: runs ${fam('api')}:2 (release r1) instead of ${fam('api')}:3 (release r2)`);
    expect(table.out.split('\n').at(-1)).toMatch(/^NOT OK \(exit 1\): 1 service\(s\) differ from release r2 or are not stable: api;/);
  });

  test('drift from a half-done run: r2 failed at the EFS gate of the workers tier; what it reached runs r2, the rest r1', async () => {
    const fake = fakeWorld();
    const r2 = await twoReleases(fake, (world) => world.faults.set('DescribeMountTargets', () => awsError('AccessDeniedException', 'no')));
    expect(r2.exitCode).toBe(1);
    const res = await status(fake, ['--no-emulator', '--json']);
    expect(res.exitCode).toBe(1);
    expect(res.json).toMatchObject({ lastSuccessful: { release: 'r1' }, latest: { release: 'r2', outcome: 'failed' } });
    // the services r2 changed and reached before the EFS gate failed run r2; admin's, anisette's and the
    // fetcher's revisions are the same in both releases (their images did not change, or they were not reached)
    const changedInR2 = (n) => ['api', 'frontend'].includes(OUTPUTS.service_catalog[n].image);
    const gated = (n) => OUTPUTS.service_catalog[n].depends_on.length > 0 || OUTPUTS.service_catalog[n].needs_data; // behind a gate of the workers tier
    expect(res.json.drift).toEqual(ROWS.filter((n) => changedInR2(n) && !(WORKERS.includes(n) && gated(n))));
    expect(res.json.services.find((s) => s.name === 'tracker-fetcher-2')).toMatchObject({ release: 'r1', matches: true, drift: null });
    expect(row(res.json, 'api').drift).toBe(`runs ${fam('api')}:3 (release r2) instead of ${fam('api')}:2 (release r1)`);
    expect((await status(fake, ['--no-emulator'])).out).toMatch(/newest ledger entry: rollout r2 failed at \S+ \(20260102T000000000Z-rollout-r2\)/);
  });

  test('a revision no ledger entry names: one DescribeTaskDefinition (its release tag), cached by ARN', async () => {
    const fake = fakeWorld();
    await twoReleases(fake);
    const first = fake.world.tds.get(fam('api'))[0].taskDefinitionArn; // the bootstrap revision
    for (const n of ['api']) {
      const svc = fake.world.services.get(ecsName(n));
      svc.taskDefinition = first;
      svc.deployments = [{ ...svc.deployments[0], taskDefinition: first }];
    }
    const res = await status(fake, ['--no-emulator', '--json']);
    expect(res.exitCode).toBe(1);
    expect(row(res.json, 'api')).toMatchObject({ release: null, releaseFrom: null, drift: `runs ${fam('api')}:1 (release unknown) instead of ${fam('api')}:3 (release r2)` });
    expect(opsOf(fake.world).filter((o) => o === 'DescribeTaskDefinition')).toHaveLength(1);
  });

  test('not stable: a deployment still in progress, unhealthy targets', async () => {
    const fake = fakeWorld();
    await twoReleases(fake);
    const svc = fake.world.services.get(ecsName('frontend'));
    svc.deployments = [{ ...svc.deployments[0], rolloutState: 'IN_PROGRESS' }, { ...svc.deployments[0], status: 'ACTIVE', id: 'old' }];
    svc.updated = 0; // the fake's deployment script leaves it as it is
    const tg = OUTPUTS.service_catalog.admin.target_group_arn;
    fake.world.targetHealth.set(tg, () => [{ Target: { Id: '10.0.0.9', Port: 80 }, TargetHealth: { State: 'unhealthy', Reason: 'Target.FailedHealthChecks' } }]);
    const res = await status(fake, ['--no-emulator', '--json']);
    expect(res.exitCode).toBe(1);
    expect(res.json.drift).toEqual(ROWS.filter((n) => n === 'frontend' || n === 'admin'));
    expect(row(res.json, 'frontend').drift).toBe('not stable: rollout IN_PROGRESS, 2 deployment(s), running 1/1');
    expect(row(res.json, 'admin').drift).toBe('targets not healthy: 0 healthy, 10.0.0.9 unhealthy (Target.FailedHealthChecks)');
  });

  test('no successful release yet: exit 1 with that reason', async () => {
    const fake = fakeWorld();
    const res = await status(fake, ['--no-emulator', '--json']);
    expect(res.exitCode).toBe(1);
    expect(res.json).toMatchObject({ ok: false, lastSuccessful: null, latest: null, drift: [], verdict: 'no successful release in the ledger /staging/releases yet' });
    fake.world.faults.set('UpdateService', () => awsError('AccessDeniedException', 'no'));
    await rollout(fake, ['--no-emulator']);
    const after = await status(fake, ['--no-emulator']);
    expect(after.exitCode).toBe(1);
    expect(after.out.split('\n').at(-1)).toMatch(/^NOT OK \(exit 1\): no successful release in the ledger \/staging\/releases yet \(newest entry: 20260101T000000000Z-rollout-rel1, failed\);/);
  });

  test('emulator mode: target health and rollout state are not checkable, never shown as healthy; no DescribeTargetHealth', async () => {
    const fake = fakeWorld();
    await twoReleases(fake);
    const res = await status(fake, ['--emulator', '--json']);
    expect(res.exitCode).toBe(0);
    const api = res.json.services[0];
    expect(api.targets).toEqual({ state: 'not-checkable', detail: expect.stringMatching(/^not checkable here: emulator: no task runs/) });
    expect(api.rolloutState).toBeNull();
    expect(opsOf(fake.world)).not.toContain('DescribeTargetHealth');
    const table = await status(fake, ['--emulator']);
    expect(table.out).toMatch(new RegExp(`^ {2}api\\s+app\\s+r2\\s+${fam('api')}:3\\s+1/1\\s+n/c\\s+n/c\\s+`, 'm'));
    expect(table.out).toContain('n/c: not checkable here (emulator mode: --emulator)');
    expect(table.out).not.toContain('healthy');
  });

  test('bad input exits 2 before any AWS call; an AWS error exits 1 with the reason', async () => {
    const fake = fakeWorld();
    const bad = await status(fake, ['--bogus']);
    expect({ exit: bad.exitCode, err: bad.err }).toEqual({ exit: 2, err: 'error: unknown flag --bogus (see --help)' });
    const missing = await main(['status', '--outputs', 'nope.json'], { cwd: ROOT, env: {}, createAws: () => fake.clients, write: () => {}, writeErr: () => {} });
    expect(missing.exitCode).toBe(2);
    expect(opsOf(fake.world)).toEqual([]);
    await twoReleases(fake);
    fake.world.faults.set('DescribeServices', () => awsError('AccessDeniedException', 'denied'));
    const denied = await status(fake, ['--no-emulator']);
    expect(denied.exitCode).toBe(1);
    expect(denied.err).toBe('error: denied');
  });
});
