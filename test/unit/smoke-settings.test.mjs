// The `smoke` config section (lib/config's normaliser) and the checks' emulator gaps: defaults, precise errors.
import configLib from '../../lib/config/index.cjs';
import { missingCapability } from '../../runner/smoke/capabilities.mjs';
import { buildChecks } from '../../runner/smoke/index.mjs';
import { detectCapabilities, EMULATOR_GAPS } from '../../runner/lib/emulator.mjs';
import { createRedactor, REDACTED } from '../../runner/smoke/redact.mjs';
import { stagingRaw } from '../support/staging-config.cjs';

const RAW = stagingRaw();
const { normalizeSmoke: normalizeSmokeConfig, ConfigError, CHECK_DEFAULTS } = configLib;
const GAPS = Object.keys(EMULATOR_GAPS);

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
    expect(() => normalizeSmokeConfig(raw, { source: 'config/x.json' })).toThrow(ConfigError);
    expect(() => normalizeSmokeConfig(raw, { source: 'config/x.json' })).toThrow(new Error(message));
  });

  test('a misspelt key is an error naming it and the keys allowed, not silently ignored', () => {
    expect(() => normalizeSmokeConfig({ fetcherAnisetteCheck: 'off', healthpath: '/x' }, { source: 'config/x.json' }))
      .toThrow(/^config\/x\.json: smoke\.healthpath: unknown key \(allowed: healthPath, expectHealthBody, /);
  });
});

describe('missingCapability over the runner\'s Capabilities', () => {
  test('real AWS: no gap is missing', () => {
    const c = detectCapabilities({ emulator: false });
    expect(c.emulator).toBe(false);
    for (const g of GAPS) expect(missingCapability(c, [g])).toBeNull();
  });
  test('emulator: every gap has its reason', () => {
    const c = detectCapabilities({ emulator: true });
    for (const g of GAPS) expect(missingCapability(c, [g])).toMatch(/^not checkable here: emulator: /);
  });
  test('the runner\'s switch: its reasons are used; ALB HTTP is a gap whenever emulator is on', () => {
    const on = detectCapabilities({ emulator: true });
    expect(missingCapability(on, ['target-health'])).toBe(`not checkable here: ${EMULATOR_GAPS['target-health']}`);
    expect(missingCapability(on, ['container-logs'])).toBe(`not checkable here: ${EMULATOR_GAPS['container-logs']}`);
    expect(missingCapability(on, ['alb-http'])).toMatch(/ALB/);
    expect(missingCapability(on, [])).toBeNull();
  });
  test('every gap a check names (needs, passNeeds) is one of lib/emulator-gaps.json `checks`', () => {
    for (const mode of [{ databaseCheck: 'task', fetcherAnisetteCheck: 'probe' }, { databaseCheck: 'http', databaseCheckPath: '/db', fetcherAnisetteCheck: 'log', fetcherAnisetteLogPattern: 'x' }]) {
      const named = buildChecks(normalizeSmokeConfig({ ...RAW.smoke, ...mode })).flatMap((d) => [...d.needs, ...(d.passNeeds ?? [])]);
      expect(named.length).toBeGreaterThan(0);
      for (const g of named) expect(GAPS).toContain(g);
    }
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
