// The application contract's one table (lib/config/contract.cjs): every mapped variable comes from a key its
// secret declares, the value builders produce exactly the declared keys, a table that does not fit stops the
// synth, and cache.auth takes only "password" or "iam" (exit 2 at synth).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import {
  SECRET_SHAPES, SECRET_VARIABLES, assertMapping, mappingProblems, cacheSecretValue, databaseSecretValue, containerContract, injectedNames,
} from '../../lib/config/contract.cjs';
import { parseConfig } from '../../stacks/config';
import { REPO, stagingWith } from '../support/stack';

const declared = (secret: keyof typeof SECRET_SHAPES, mode?: 'password' | 'iam') =>
  Object.entries(SECRET_SHAPES[secret].keys).filter(([, k]) => !k.mode || k.mode === mode).map(([n]) => n).sort();

describe('the mapping table', () => {
  test('every variable maps from a key its secret declares, with a string value, in both cache modes', () => {
    expect(mappingProblems(SECRET_VARIABLES, SECRET_SHAPES)).toEqual([]);
    for (const v of SECRET_VARIABLES) {
      const key = (SECRET_SHAPES[v.secret].keys as Record<string, { example: unknown; mode?: string }>)[v.key];
      expect([v.name, typeof key?.example, key?.mode]).toEqual([v.name, 'string', undefined]);
    }
    expect(SECRET_VARIABLES.map((v) => v.name)).toEqual(expect.arrayContaining(['DATABASE_URL', 'PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE', 'PGSSLMODE', 'REDIS_URL', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_USERNAME']));
  });

  test('the value builders (what the bootstrap and Terraform write) produce exactly the declared keys', () => {
    const db = databaseSecretValue({ host: 'h', port: 5432, dbname: 'd', username: 'u', password: 'p' });
    expect(Object.keys(db).sort()).toEqual(declared('database'));
    expect(Object.keys(cacheSecretValue({ host: 'h', port: 6379, username: 'u', password: 'p', replicationGroupId: 'g', region: 'r' })).sort()).toEqual(declared('cache', 'password'));
    expect(Object.keys(cacheSecretValue({ host: 'h', port: 6379, username: 'u', replicationGroupId: 'g', region: 'r' })).sort()).toEqual(declared('cache', 'iam'));
    for (const v of SECRET_VARIABLES) {
      const value = v.secret === 'database' ? db : cacheSecretValue({ host: 'h', port: 1, username: 'u', replicationGroupId: 'g', region: 'r' });
      expect([v.name, typeof (value as Record<string, unknown>)[v.key]]).toEqual([v.name, 'string']);
    }
  });

  test('a variable mapped from a key the secret lacks is caught, and stops the synth with the variable, secret and key', () => {
    const bad = [...SECRET_VARIABLES, { name: 'PGAPPNAME', secret: 'database' as const, key: 'application_name', description: '' }];
    expect(mappingProblems(bad, SECRET_SHAPES)).toEqual([expect.stringMatching(/^PGAPPNAME \(from secret database, JSON key "application_name"\): the database secret declares no such key/)]);
    expect(() => assertMapping(bad, SECRET_SHAPES)).toThrow(/fix SECRET_VARIABLES or SECRET_SHAPES/);
    // a key that only exists in one cache mode may not be mapped (REDIS_PASSWORD would be missing with "iam")
    expect(mappingProblems([{ name: 'REDIS_PASSWORD', secret: 'cache', key: 'password' }], SECRET_SHAPES)).toEqual([expect.stringContaining('only with cache.auth "password"')]);
  });

  test('containers: secrets with mapped variables arrive as those, free-form ones whole; PORT for containers with a port', () => {
    const c = containerContract({ secrets: ['database', 'cache', 'app'], port: 8000 });
    expect(c.environment).toEqual({ PORT: '8000' });
    expect(c.secrets.map((x) => x.name)).toEqual([...SECRET_VARIABLES.map((v) => v.name), 'APP_SECRET']);
    expect(c.secrets.find((x) => x.name === 'APP_SECRET')).toEqual({ name: 'APP_SECRET', secret: 'app', key: null });
    expect(containerContract({ secrets: [], port: null })).toEqual({ environment: {}, secrets: [] });
    expect(injectedNames()).toEqual(expect.arrayContaining(['PORT', 'DATABASE_URL', 'APP_SECRET', 'SMOKE_USER_SECRET']));
  });
});

describe('config', () => {
  test('cache.auth defaults to "password"; "iam" is accepted', () => {
    expect(parseConfig(stagingWith()).config.cache.auth).toBe('password');
    expect(parseConfig(stagingWith((r) => { r.cache.auth = 'iam'; })).config.cache.auth).toBe('iam');
  });

  test('a service environment may not set a variable the stack injects', () => {
    expect(() => parseConfig(stagingWith((r) => { r.services.api.environment = { DATABASE_URL: 'postgresql://x' }; }), 'config/staging.json'))
      .toThrow('config/staging.json: services.api.environment.DATABASE_URL: DATABASE_URL is set by the stack (docs/app-contract.md); remove it from environment');
  });

  test('a service environment name that looks like a secret is refused, naming file, service, key and the way out', () => {
    for (const k of ['DB_PASSWORD', 'api_secret', 'GITHUB_TOKEN', 'Stripe_Key', 'PASSWORD', 'secret', 'TOKEN', 'KEY']) {
      let message = '';
      try {
        parseConfig(stagingWith((r) => { r.services.api.environment = { [k]: 'hunter2-value' }; }), 'config/staging.json');
      } catch (e) { message = (e as Error).message; }
      expect(message).toContain(`config/staging.json: services.api.environment.${k}: ${k} looks like a secret`);
      expect(message).toContain('put the value in the "app" secret');
      expect(message).toContain('add "app" to this service\'s secrets');
      expect(message).not.toContain('hunter2-value');
    }
  });

  test('names that only name a secret, or merely end in those letters, stay plain', () => {
    const names = ['AWS_ACCESS_KEY_ID', 'KEY_PREFIX', 'TOKEN_URL', 'SECRET_NAME', 'PUBLIC_PASSKEY', 'MONKEY', 'KEYS'];
    const env = Object.fromEntries(names.map((n) => [n, 'x']));
    expect(parseConfig(stagingWith((r) => { r.services.api.environment = env; }), 'config/staging.json').config.services.api.environment).toEqual(env);
  });

  test('cache.auth with an unknown value: the synth exits 2 naming file, key and the allowed values, and writes nothing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cache-auth-'));
    try {
      const file = path.join(dir, 'bad.json');
      fs.writeFileSync(file, JSON.stringify(stagingWith((r) => { r.cache.auth = 'token'; })));
      const out = path.join(dir, 'out');
      const r = spawnSync(process.execPath, ['-r', path.join(REPO, 'scripts/lib/ts-register.cjs'), path.join(REPO, 'main.ts')], {
        cwd: REPO, encoding: 'utf8', env: { ...process.env, STAGING_ROLLOUT_CONFIG: file, CDKTF_OUTDIR: out },
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`${file}: cache.auth: must be one of "password", "iam", got "token"`);
      expect(fs.existsSync(path.join(out, 'stacks'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
