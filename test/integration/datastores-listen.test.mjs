// scripts/lib/datastores.mjs listening on an extra address (as on a Docker bridge's gateway): 127.0.0.2 (a
// loopback address every Linux has) stands in for it. Real PostgreSQL and Redis, reached there with TLS and the
// certificate verified against the address (the SANs), with the role's and the ACL user's passwords; bad input
// is refused with a message naming the option. Needs no Docker and no moto.
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { missingDatastoreTools, startDatastores } from '../../scripts/lib/datastores.mjs';

const require = createRequire(import.meta.url);
const { recordSkip } = require('../../scripts/lib/skips.cjs');

const EXTRA = '127.0.0.2';
const missing = [...missingDatastoreTools(), ...['psql', 'redis-cli'].filter((c) => spawnSync(c, ['--version']).error)];
if (missing.length) {
  if (process.env.CI === 'true' || process.env.STAGING_ROLLOUT_REQUIRE_INTEGRATION === '1') throw new Error(`datastores-listen needs on CI: ${missing.join('; ')}`);
  recordSkip({ suite: 'datastores-listen', reason: `missing: ${missing.join('; ')}` });
}
const maybe = missing.length ? describe.skip : describe;

maybe('datastores on an extra address', () => {
  const database = { dbname: 'appdb', username: 'app_user', password: `db-${crypto.randomBytes(9).toString('base64url')}'"` };
  const cache = { username: 'stack-app', password: `c-${crypto.randomBytes(9).toString('base64url')}` };
  /** @type {Awaited<ReturnType<typeof startDatastores>>} */ let ds;
  /** @type {string[]} */ const lines = [];
  beforeAll(async () => {
    ds = await startDatastores({ database, cache, listen: [EXTRA], clientCidrs: [`${EXTRA}/32`], log: (l) => lines.push(l) });
  }, 60000);
  afterAll(async () => { if (ds) await ds.stop(); });

  test('reports both addresses, one port each, and logs no password', () => {
    expect(ds.pg.hosts).toEqual(['127.0.0.1', EXTRA]);
    expect(ds.redis.hosts).toEqual(['127.0.0.1', EXTRA]);
    expect(ds.pg.host).toBe('127.0.0.1');
    expect(lines.join('\n')).toContain(`${EXTRA}:${ds.pg.port}`);
    expect(lines.join('\n')).not.toContain(database.password);
    expect(lines.join('\n')).not.toContain(cache.password);
  });

  test('PostgreSQL on the extra address: TLS verified against the address, SCRAM password', () => {
    const r = spawnSync('psql', ['-X', '-t', '-A', '-c', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'], {
      encoding: 'utf8',
      env: { ...process.env, PGHOST: EXTRA, PGPORT: String(ds.pg.port), PGUSER: database.username, PGDATABASE: database.dbname,
        PGPASSWORD: database.password, PGSSLMODE: 'verify-full', PGSSLROOTCERT: ds.caFile },
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('t');
  });

  test('PostgreSQL on the extra address refuses plain TCP (hostssl only)', () => {
    const plain = spawnSync('psql', ['-X', '-c', 'SELECT 1'], { encoding: 'utf8',
      env: { ...process.env, PGHOST: EXTRA, PGPORT: String(ds.pg.port), PGUSER: database.username, PGDATABASE: database.dbname, PGPASSWORD: database.password, PGSSLMODE: 'disable' } });
    expect(plain.status).not.toBe(0);
    expect(plain.stderr).toMatch(/no pg_hba.conf entry/);
  });

  test('Redis on the extra address: TLS verified, the ACL user authenticates, default user is off', () => {
    const cli = (/** @type {string[]} */ args) => spawnSync('redis-cli', ['--tls', '--cacert', ds.caFile, '-h', EXTRA, '-p', String(ds.redis.port), '--no-auth-warning', ...args], { encoding: 'utf8' });
    const ok = cli(['--user', cache.username, '--pass', cache.password, 'PING']);
    expect(ok.stdout.trim()).toBe('PONG');
    const anon = cli(['PING']);
    expect(anon.stdout).toMatch(/NOAUTH|NOPERM/);
  });
});

describe('datastores input', () => {
  test('a non-IPv4 listen address and a bad CIDR are refused, naming the option', async () => {
    const spec = { database: { dbname: 'd', username: 'u', password: 'p' }, cache: { username: 'c', password: 'p' } };
    await expect(startDatastores({ ...spec, listen: ['bridge0'] })).rejects.toThrow(/listen: "bridge0" is not an IPv4 address/);
    await expect(startDatastores({ ...spec, clientCidrs: ['172.18.0.0/33'] })).rejects.toThrow(/clientCidrs: "172.18.0.0\/33" is not an IPv4 CIDR/);
  });
  (missing.length ? test.skip : test)('an address this machine does not have is refused with the fix', async () => {
    const spec = { database: { dbname: 'd', username: 'u', password: 'p' }, cache: { username: 'c', password: 'p' } };
    await expect(startDatastores({ ...spec, listen: ['192.0.2.77'] })).rejects.toThrow(/192\.0\.2\.77 is not an address of this machine.*ip -4 addr/);
  });
});
