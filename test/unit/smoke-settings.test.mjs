// The `smoke` config section and the capability switch: defaults, precise errors.
import { readFileSync } from 'node:fs';
import { normalizeSmokeConfig, SmokeConfigError, CHECK_DEFAULTS } from '../../runner/smoke/settings.mjs';
import { resolveCapabilities, CAPABILITY_NAMES } from '../../runner/smoke/capabilities.mjs';
import { createRedactor, REDACTED } from '../../runner/smoke/redact.mjs';

const RAW = JSON.parse(readFileSync(new URL('../../config/staging.json', import.meta.url), 'utf8'));

describe('normalizeSmokeConfig', () => {
  test('the staging config normalises with its own values and default timings', () => {
    const s = normalizeSmokeConfig(RAW.smoke, { source: 'config/staging.json' });
    expect(s).toMatchObject({ healthPath: RAW.smoke.healthPath, expectHealthBody: RAW.smoke.expectHealthBody, databaseCheck: RAW.smoke.databaseCheck, databaseCheckCommand: RAW.smoke.databaseCheckCommand, fetcherAnisetteCheck: 'log' });
    expect(Object.keys(s.checks).sort()).toEqual(Object.keys(CHECK_DEFAULTS).sort());
    for (const t of Object.values(s.checks)) { expect(t.attempts).toBeGreaterThanOrEqual(1); expect(t.timeoutSeconds).toBeGreaterThan(0); }
  });

  test('allowPlainHttpLogin defaults to false (fail closed) and accepts a boolean', () => {
    expect(normalizeSmokeConfig({ fetcherAnisetteCheck: 'off' }).allowPlainHttpLogin).toBe(false);
    expect(normalizeSmokeConfig({ fetcherAnisetteCheck: 'off', allowPlainHttpLogin: true }).allowPlainHttpLogin).toBe(true);
  });

  test.each([
    [{ healthPath: 'health' }, 'config/x.json: smoke.healthPath: must be a path starting with "/", got "health"'],
    [{ databaseCheck: 'sql' }, 'config/x.json: smoke.databaseCheck: must be one of "http", "task", got "sql"'],
    [{ databaseCheck: 'http' }, 'config/x.json: smoke.databaseCheckPath: is required when smoke.databaseCheck is "http" (an API path that queries the database), got undefined'],
    [{ databaseCheckCommand: [] }, 'config/x.json: smoke.databaseCheckCommand: must be a non-empty array of non-empty strings, got []'],
    [{ fetcherAnisetteCheck: 'log' }, 'config/x.json: smoke.fetcherAnisetteLogPattern: is required when smoke.fetcherAnisetteCheck is "log", got undefined'],
    [{ fetcherAnisetteCheck: 'off', checks: { 'api-healt': {} } }, 'config/x.json: smoke.checks.api-healt: is not a check (known: api-health, login, database, workers, fetcher-anisette, logs, target-groups), got "api-healt"'],
    [{ fetcherAnisetteCheck: 'off', checks: { logs: { attempts: 0 } } }, 'config/x.json: smoke.checks.logs.attempts: must be an integer 1-20, got 0'],
    [{ fetcherAnisetteCheck: 'off', taskTimeoutSeconds: -1 }, 'config/x.json: smoke.taskTimeoutSeconds: must be a positive number, got -1'],
    ['yes', 'config/x.json: smoke: must be an object, got "yes"'],
    [{ fetcherAnisetteCheck: 'off', allowPlainHttpLogin: 'yes' }, 'config/x.json: smoke.allowPlainHttpLogin: must be true or false, got "yes"'],
  ])('bad input %j -> precise error', (raw, message) => {
    expect(() => normalizeSmokeConfig(raw, { source: 'config/x.json' })).toThrow(new SmokeConfigError(message));
  });
});

describe('resolveCapabilities', () => {
  test('real AWS by default: no gaps', () => {
    const c = resolveCapabilities({ options: {} });
    expect(c.emulator).toBe(false);
    for (const n of CAPABILITY_NAMES) expect(c.gaps[n]).toBeNull();
  });
  test('options.emulator: every capability has a gap reason', () => {
    const c = resolveCapabilities({ options: { emulator: true } });
    for (const n of CAPABILITY_NAMES) expect(c.gaps[n]).toMatch(/^emulator: /);
  });
  test('options.emulator must be boolean', () => {
    expect(() => resolveCapabilities({ options: { emulator: 'yes' } })).toThrow('options.emulator: must be a boolean, got "yes"');
  });
  test('the runner\'s switch: its reasons are used; ALB HTTP is a gap whenever emulator is on', async () => {
    const { detectCapabilities, EMULATOR_GAPS } = await import('../../runner/lib/emulator.mjs');
    const on = resolveCapabilities({ capabilities: detectCapabilities({ emulator: true }) });
    expect(on.gaps.targetHealth).toBe(EMULATOR_GAPS['target-health']);
    expect(on.gaps.containerLogs).toBe(EMULATOR_GAPS['container-logs']);
    expect(on.gaps.albHttp).toMatch(/ALB/);
    const off = resolveCapabilities({ capabilities: detectCapabilities({ emulator: false }) });
    for (const n of CAPABILITY_NAMES) expect(off.gaps[n]).toBeNull();
  });
});

describe('redactor', () => {
  test('replaces every registered secret, its JSON-escaped and URL-encoded forms, in nested values', () => {
    const r = createRedactor();
    r.add('p"a ss');
    const out = r.deep({ a: 'x p"a ss y', b: ['{"password":"p\\"a ss"}', 'u=p%22a%20ss'], n: 3 });
    expect(out).toEqual({ a: `x ${REDACTED} y`, b: [`{"password":"${REDACTED}"}`, `u=${REDACTED}`], n: 3 });
  });
});
