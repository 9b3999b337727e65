// The secrets preflight (runner/steps/preflight.mjs) through the whole runner against the fake AWS world: it runs
// first, reads only secret metadata (DescribeSecret, never GetSecretValue), waits a bounded time for the database
// host's credentials, and stops the rollout before any change when a secret an operator sets has no value.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fakeWorld, fakeClock, OUTPUTS } from '../support/fake-aws.mjs';
import { rollout, ops, stepOf, expectStoppedAfter, STEP_IDS, secretUsers } from '../support/rollout.mjs';
import { stagingConfig, CONFIG_FILE } from '../support/staging-config.cjs';

const ARN = OUTPUTS.secret_arns;
const READ_ONLY = /^(Describe|List|Get)/;
const describes = (world, arn) => ops(world, 'DescribeSecret').filter((c) => !arn || c.input.SecretId === arn);
/** Every AWS call so far only read, and no secret value was read. */
const onlyReads = (world) => {
  expect(world.calls.filter((c) => !READ_ONLY.test(c.op)).map((c) => c.op)).toEqual([]);
  expect(ops(world, 'GetSecretValue')).toHaveLength(0);
};
const tmp = mkdtempSync(path.join(tmpdir(), 'runner-preflight-'));
/** An outputs file with the ALB on https (the login check then sends credentials, so it needs the smoke user). */
function httpsOutputs() {
  const file = path.join(tmp, 'https-outputs.json');
  writeFileSync(file, JSON.stringify({ ...OUTPUTS, alb_url: 'https://staging.example.com' }));
  return file;
}

/** A config with cache.auth "iam": Terraform writes the cache secret (with "password" the database host does). */
function iamCacheConfig() {
  const file = path.join(tmp, 'iam-cache.json');
  writeFileSync(file, JSON.stringify({ extends: CONFIG_FILE, cache: { auth: 'iam' } }));
  return file;
}

describe('secrets preflight', () => {
  test('runs first; every needed secret current: passed, one DescribeSecret per secret, in parallel, no value read', async () => {
    const fake = fakeWorld();
    const res = await rollout(fake, ['--no-emulator']);
    expect(res.exitCode).toBe(0);
    expect(res.report.steps.map((s) => s.id)).toEqual(STEP_IDS);
    expect(stepOf(res.report, 'preflight')).toMatchObject({ status: 'passed', reason: null });
    // the keys the services and the migration list; the login check is not sent over plain http: no smoke user
    const { config, services } = stagingConfig();
    const needed = [...new Set([...services.filter((s) => s.enabled).flatMap((s) => s.secrets), ...config.migration.secrets])];
    const described = describes(fake.world).map((c) => c.input.SecretId);
    expect([...described].sort()).toEqual(needed.map((k) => ARN[k]).sort());
    expect(fake.world.calls.slice(0, needed.length).every((c) => c.step === 'preflight')).toBe(true);
    expect(ops(fake.world, 'GetSecretValue')).toHaveLength(0);
    const keyOf = (arn) => Object.keys(ARN).find((k) => ARN[k] === arn);
    expect(res.out).toContain(`[preflight] ${needed.length} secrets have a current value: ${described.map(keyOf).join(', ')}`);
  });

  test('the smoke user is checked when the login check will send credentials (https, real AWS), not on the emulator', async () => {
    const aws = fakeWorld();
    await rollout(aws, ['--no-emulator', '--outputs', httpsOutputs()]);
    expect(describes(aws.world, ARN.smoke_user)).toHaveLength(1);
    const emu = fakeWorld();
    await rollout(emu, ['--emulator', '--outputs', httpsOutputs()]);
    expect(describes(emu.world, ARN.smoke_user)).toHaveLength(0);
  });

  test('the database secret appears within the timeout: waits, saying so, then the rollout goes on', async () => {
    const fake = fakeWorld();
    const clock = fakeClock();
    const t0 = clock.now();
    fake.world.secrets.set(ARN.database, { current: (w) => describes(w, ARN.database).length >= 4 });
    const res = await rollout(fake, ['--no-emulator'], { clock });
    expect(res.exitCode).toBe(0);
    expect(res.out).toContain('[preflight] waiting for the database host to publish its credentials (secret database, up to 10m 00s)');
    expect(res.out).toMatch(/\[preflight\] the database host published its credentials after /);
    expect(describes(fake.world, ARN.database)).toHaveLength(4);
    // first look, then the wait: its first probe at once, then every 5 s at the fastest (--poll-interval is 1 s here)
    expect(stepOf(res.report, 'preflight').durationMs).toBe(10_000);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(10_000);
    expect(stepOf(res.report, 'migration').status).toBe('passed');
  });

  test('the database secret never appears: fails after --secrets-timeout with the reason, before any change', async () => {
    const fake = fakeWorld();
    fake.world.secrets.set(ARN.database, { current: false });
    const res = await rollout(fake, ['--no-emulator', '--secrets-timeout', '60']);
    expectStoppedAfter(res, fake.world, 'preflight');
    expect(res.report.failure.message).toMatch(/^secret database \(staging\/database\) still has no current value after 1m 00s: the database host publishes its credentials at its first boot/);
    expect(res.report.failure.message).toContain('--secrets-timeout SEC waits longer');
    expect(stepOf(res.report, 'preflight').durationMs).toBeGreaterThanOrEqual(60_000);
    onlyReads(fake.world);
  });

  test('Ctrl-C while waiting for the database host: interrupted in the preflight, nothing changed', async () => {
    const fake = fakeWorld();
    const stop = new AbortController();
    fake.world.secrets.set(ARN.database, { current: (w) => {
      if (describes(w, ARN.database).length >= 3) stop.abort();
      return false;
    } });
    const res = await rollout(fake, ['--no-emulator'], { signal: stop.signal });
    expect(res.exitCode).toBe(130);
    expect(res.report).toMatchObject({ status: 'interrupted', failure: { step: 'preflight' } });
    expect(res.report.steps.filter((x) => x.id !== 'preflight').every((x) => x.status === 'not-run')).toBe(true);
    onlyReads(fake.world);
  });

  test('an operator-set secret without a value: exit 1 at once, naming it and the command that sets it; nothing changed', async () => {
    const fake = fakeWorld();
    fake.world.secrets.set(ARN.app, { current: false });
    fake.world.secrets.set(ARN.database, { current: false }); // not waited for: the rollout cannot go on anyway
    const res = await rollout(fake, ['--no-emulator']);
    expectStoppedAfter(res, fake.world, 'preflight');
    const msg = res.report.failure.message;
    expect(msg).toMatch(new RegExp(`^secret app \\(${OUTPUTS.environment}/app\\) has no current value: an operator sets it, Terraform never does; needed by ${secretUsers('app').join(', ')}\\.`));
    expect(msg).toContain('aws secretsmanager put-secret-value --region us-east-1 --secret-id staging/app --secret-string file://app.json && rm app.json');
    expect(msg).toContain('umask 077');
    expect(msg).toContain('secret database has no current value yet either');
    expect(describes(fake.world)).toHaveLength(3); // one round, no wait
    expect(stepOf(res.report, 'images')).toMatchObject({ status: 'not-run', reason: 'not started: preflight failed' });
    onlyReads(fake.world);
    expect(res.out).toMatch(/failure in preflight:\n {2}secret app \(staging\/app\) has no current value/);
    // names, never ARNs, in what the runner prints
    for (const arn of Object.values(ARN)) expect(res.out + JSON.stringify(res.report)).not.toContain(arn);
  });

  test('cache.auth "password" (default): a cache secret without a value is waited for like the database secret (the database host writes both)', async () => {
    const fake = fakeWorld();
    fake.world.secrets.set(ARN.cache, { current: false });
    const res = await rollout(fake, ['--no-emulator', '--dry-run']);
    expect(stepOf(res.report, 'preflight')).toMatchObject({ status: 'passed', reason: expect.stringMatching(/^dry run: cache has no current value yet; a real run waits up to 10m 00s for the database host/) });
  });

  test('the smoke user missing (login check will run) names its JSON shape; with cache.auth "iam" the cache secret names the foundation apply', async () => {
    const fake = fakeWorld();
    fake.world.secrets.set(ARN.smoke_user, { current: false });
    fake.world.secrets.set(ARN.cache, { current: false });
    const res = await rollout(fake, ['--no-emulator', '--outputs', httpsOutputs(), '--config', iamCacheConfig()]);
    expectStoppedAfter(res, fake.world, 'preflight');
    expect(res.report.failure.message).toMatch(/secret cache \(staging\/cache\) has no current value: Terraform writes it with the foundation stack/);
    expect(res.report.failure.message).toContain('smoke-user.json)   # {"username": "...", "password": "..."}');
    onlyReads(fake.world);
  });

  test('a deleted or missing secret fails at once with what to do', async () => {
    const fake = fakeWorld();
    fake.world.secrets.set(ARN.database, { current: true, deleted: true });
    fake.world.secrets.set(ARN.cache, { missing: true });
    const res = await rollout(fake, ['--no-emulator']);
    expectStoppedAfter(res, fake.world, 'preflight');
    expect(res.report.failure.message).toContain('secret database (staging/database) is scheduled for deletion');
    expect(res.report.failure.message).toContain('aws secretsmanager restore-secret --secret-id staging/database');
    expect(res.report.failure.message).toContain('secret cache (staging/cache) does not exist');
  });

  test('a secret deleted while waiting ends the wait at once', async () => {
    const fake = fakeWorld();
    // no value at first; deleted for good from the third look on
    fake.world.secrets.set(ARN.database, { current: false, get missing() { return describes(fake.world, ARN.database).length >= 3; } });
    const clock = fakeClock();
    const t0 = clock.now();
    const res = await rollout(fake, ['--no-emulator'], { clock });
    expectStoppedAfter(res, fake.world, 'preflight');
    expect(res.report.failure.message).toContain('secret database (staging/database) does not exist');
    expect(clock.now() - t0).toBe(5_000);
    expect(describes(fake.world, ARN.database)).toHaveLength(3);
  });

  test('--dry-run performs the check: a missing app secret exits 1, a missing database secret is reported, not waited for', async () => {
    const app = fakeWorld();
    app.world.secrets.set(ARN.app, { current: false });
    const a = await rollout(app, ['--no-emulator', '--dry-run']);
    expect(a.exitCode).toBe(1);
    expect(stepOf(a.report, 'preflight').reason).toMatch(/^dry run: could not read the current state of preflight: secret app \(staging\/app\) has no current value/);
    onlyReads(app.world);

    const db = fakeWorld();
    db.world.secrets.set(ARN.database, { current: false });
    const d = await rollout(db, ['--no-emulator', '--dry-run']);
    expect(d.exitCode).toBe(0);
    expect(stepOf(d.report, 'preflight')).toMatchObject({ status: 'passed', reason: expect.stringMatching(/^dry run: database has no current value yet; a real run waits up to 10m 00s for the database host to publish its credentials/) });
    expect(describes(db.world, ARN.database)).toHaveLength(1);
    expect(d.out).toMatch(/1\. preflight\n {5}secret database: has a current value \(needed by /);
  });

  test('--skip preflight: no secret is looked at; --only images: nothing that needs a secret, skipped with the reason', async () => {
    const skip = fakeWorld();
    skip.world.secrets.set(ARN.app, { current: false });
    const s = await rollout(skip, ['--no-emulator', '--skip', 'preflight']);
    expect(s.exitCode).toBe(0);
    expect(stepOf(s.report, 'preflight')).toMatchObject({ status: 'skipped', reason: 'skipped with --skip' });
    expect(describes(skip.world)).toHaveLength(0);

    const only = fakeWorld();
    const o = await rollout(only, ['--no-emulator', '--only', 'images'], { modules: { images: { run: async () => ({ status: 'passed' }) } } });
    expect(stepOf(o.report, 'preflight')).toMatchObject({ status: 'skipped', reason: 'no selected step starts a container that lists a secret' });
    expect(describes(only.world)).toHaveLength(0);
  });

  test('--only migration checks only the secrets the migration lists', async () => {
    const fake = fakeWorld();
    fake.world.secrets.set(ARN.app, { current: false });
    const res = await rollout(fake, ['--no-emulator', '--only', 'migration']);
    // the migration lists database only: app is not looked at
    expect(stepOf(res.report, 'preflight').status).toBe('passed');
    expect(describes(fake.world).map((c) => c.input.SecretId)).toEqual([ARN.database]);
  });
});
