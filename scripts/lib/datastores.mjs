// Real PostgreSQL 15 (TLS only, SCRAM) and Redis 7 (TLS only, `default` user off, one ACL user with a password)
// on free ports: the one home of the data stores of the application contract test, `npm run local`'s data plane
// and the bench. They listen on 127.0.0.1 and on any `listen` address (the data plane's Docker bridge gateway,
// which its containers reach), and accept clients from 127.0.0.1 and `clientCidrs` (the bridge's subnet). A
// self-signed certificate generated here (every address in its SANs) serves both; `caFile` is what a client
// trusts.
// PostgreSQL refuses to run as root: as root, the cluster is owned by and run as the `postgres` user.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const PG_BIN = process.env.PG_BIN || '/usr/lib/postgresql/15/bin';

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = /** @type {net.AddressInfo} */ (srv.address()); srv.close(() => resolve(port)); });
  });
}

/** What is missing to run the datastores here (empty when everything is present). */
export function missingDatastoreTools() {
  const missing = [];
  if (!fs.existsSync(path.join(PG_BIN, 'initdb'))) missing.push(`PostgreSQL 15 (${PG_BIN}/initdb; apt-get install postgresql)`);
  for (const [cmd, pkg] of [['redis-server', 'redis-server'], ['openssl', 'openssl']]) {
    if (spawnSync(cmd, ['--version']).error) missing.push(`${cmd} (apt-get install ${pkg})`);
  }
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) missing.push('a "postgres" user to run PostgreSQL as (it refuses root)');
  return missing;
}

/** @param {string} cmd @param {string[]} args @param {import('node:child_process').SpawnSyncOptions} [opts] */
function must(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** @param {() => boolean | Promise<boolean>} ok @param {number} ms @param {string} what */
async function waitFor(ok, ms, what) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${ms} ms`);
}

/**
 * Start both datastores. `database` = { dbname, username, password } (the role is created with it),
 * `cache` = { username, password } (the ACL user).
 * @param {{ database: { dbname: string, username: string, password: string }, cache: { username: string, password: string },
 *   listen?: string[], clientCidrs?: string[], dir?: string, log?: (line: string) => void }} spec
 *   listen: more IPv4 addresses to listen on (same ports); clientCidrs: more networks allowed to connect;
 *   dir: where their files go (default: a new temp directory; removed by stop() either way)
 */
export async function startDatastores(spec) {
  const missing = missingDatastoreTools();
  if (missing.length) throw new Error(`data stores: missing ${missing.join(', ')}`);
  const listen = spec.listen ?? [];
  const cidrs = spec.clientCidrs ?? [];
  for (const a of listen) {
    if (!net.isIPv4(a)) throw new Error(`data stores: listen: ${JSON.stringify(a)} is not an IPv4 address`);
  }
  for (const c of cidrs) {
    const [ip, bits] = c.split('/');
    if (!net.isIPv4(ip) || !/^([0-9]|[12][0-9]|3[0-2])$/.test(bits ?? '')) throw new Error(`data stores: clientCidrs: ${JSON.stringify(c)} is not an IPv4 CIDR (a.b.c.d/0-32)`);
  }
  if (spec.dir) fs.mkdirSync(spec.dir, { recursive: true });
  const dir = spec.dir ? fs.mkdtempSync(path.join(spec.dir, 'stores-')) : fs.mkdtempSync(path.join(os.tmpdir(), 'app-contract-'));
  fs.chmodSync(dir, 0o755);
  const addresses = ['127.0.0.1', ...listen];
  const asRoot = process.getuid?.() === 0;
  const pgUser = asRoot ? 'postgres' : null;
  const asPg = (/** @type {string} */ cmd, /** @type {string[]} */ args) => /** @type {[string, string[]]} */ (pgUser ? ['runuser', ['-u', pgUser, '--', cmd, ...args]] : [cmd, args]);
  /** @type {import('node:child_process').ChildProcess[]} */
  const children = [];
  let pgPidFile = '';
  const stop = async () => {
    // PostgreSQL's fast shutdown (SIGINT) straight to the postmaster (runuser would sit between)
    try { process.kill(Number(fs.readFileSync(pgPidFile, 'utf8').split('\n')[0]), 'SIGINT'); } catch { /* not started */ }
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => { const t = setTimeout(() => { c.kill('SIGKILL'); r(null); }, 5000); c.once('exit', () => { clearTimeout(t); r(null); }); }))));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    // certificate: CN and SAN for localhost and 127.0.0.1
    const crt = path.join(dir, 'server.crt'); const key = path.join(dir, 'server.key');
    must('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', `subjectAltName=DNS:localhost,${addresses.map((a) => `IP:${a}`).join(',')}`, '-keyout', key, '-out', crt]);
    const caFile = path.join(dir, 'ca.crt');
    fs.copyFileSync(crt, caFile);

    // PostgreSQL: TLS on, only hostssl + SCRAM from 127.0.0.1, superuser over the socket only
    const pgdata = path.join(dir, 'pg'); const sock = path.join(dir, 'sock');
    pgPidFile = path.join(pgdata, 'postmaster.pid');
    fs.mkdirSync(pgdata, { mode: 0o700 }); fs.mkdirSync(sock);
    const pgKey = path.join(dir, 'pg.key'); const pgCrt = path.join(dir, 'pg.crt');
    fs.copyFileSync(key, pgKey); fs.copyFileSync(crt, pgCrt); fs.chmodSync(pgKey, 0o600);
    if (pgUser) for (const p of [pgdata, sock, pgKey, pgCrt]) must('chown', [pgUser, p]);
    must(...asPg(path.join(PG_BIN, 'initdb'), ['-D', pgdata, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C']));
    fs.writeFileSync(path.join(pgdata, 'pg_hba.conf'), ['local all postgres trust', ...['127.0.0.1/32', ...cidrs].map((c) => `hostssl all all ${c} scram-sha-256`), ''].join('\n'));
    const pgPort = await freePort();
    const pg = spawn(...asPg(path.join(PG_BIN, 'postgres'), ['-D', pgdata, '-p', String(pgPort), '-k', sock, '-c', `listen_addresses=${addresses.join(',')}`,
      '-c', 'ssl=on', '-c', `ssl_cert_file=${pgCrt}`, '-c', `ssl_key_file=${pgKey}`, '-c', 'password_encryption=scram-sha-256', '-c', 'fsync=off']), { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(pg);
    let pgLog = ''; pg.stderr?.on('data', (d) => { pgLog += d; });
    await waitFor(() => spawnSync(path.join(PG_BIN, 'pg_isready'), ['-h', sock, '-p', String(pgPort)]).status === 0 || pg.exitCode !== null, 20000, 'PostgreSQL');
    // an address this machine lacks: PostgreSQL only warns (it runs on the others), Redis exits. Neither is
    // acceptable (the containers would not reach it); no interface list shows a fresh Docker bridge's address
    // reliably, so bind() is the judge
    const unbound = (/** @type {string} */ text) => listen.find((a) => text.includes(`could not bind IPv4 address "${a}"`) || text.includes(`socket ${a}:`) && /Cannot assign requested address/.test(text));
    const notMine = (/** @type {string} */ a) => new Error(`data stores: listen: ${a} is not an address of this machine (ip -4 addr lists them)`);
    if (unbound(pgLog)) throw notMine(/** @type {string} */ (unbound(pgLog)));
    if (pg.exitCode !== null) throw new Error(`data stores: PostgreSQL exited at start (port ${pgPort}): ${pgLog.trim().split('\n').slice(-3).join(' | ')}`);
    /** SQL on stdin as the superuser over the socket; returns the rows, unaligned, one per line */
    const psql = (/** @type {string} */ sql, db = 'postgres') => must(...asPg(path.join(PG_BIN, 'psql'), ['-h', sock, '-p', String(pgPort), '-U', 'postgres', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-d', db]), { input: sql });
    const { dbname, username, password } = spec.database;
    // the password on stdin, with statement logging off (as the stack's bootstrap does)
    psql(`SET log_statement = 'none';\nCREATE ROLE "${username}" LOGIN PASSWORD '${password.replace(/'/g, "''")}';\nCREATE DATABASE "${dbname}" OWNER "${username}";\n`);

    // Redis: TLS only (port 0), the default user off, one ACL user with a password (as the stack's RBAC user)
    const redisPort = await freePort();
    const conf = path.join(dir, 'redis.conf');
    fs.writeFileSync(conf, [
      'port 0', `tls-port ${redisPort}`, `bind ${addresses.join(' ')}`,
      // the `default` user is off and the one user has a password; protected mode would still refuse every
      // non-loopback client (it looks at the default user only)
      ...(listen.length ? ['protected-mode no'] : []), `tls-cert-file ${crt}`, `tls-key-file ${key}`, `tls-ca-cert-file ${caFile}`,
      'tls-auth-clients no', `dir ${dir}`, 'save ""', 'appendonly no',
      'user default off nopass -@all',
      `user ${spec.cache.username} on >${spec.cache.password} ~* &* +@all -@admin`, '',
    ].join('\n'), { mode: 0o600 });
    const redis = spawn('redis-server', [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(redis);
    let redisLog = ''; redis.stdout?.on('data', (d) => { redisLog += d; }); redis.stderr?.on('data', (d) => { redisLog += d; });
    await waitFor(() => /Ready to accept connections/.test(redisLog) || redis.exitCode !== null, 20000, 'Redis');
    if (unbound(redisLog)) throw notMine(/** @type {string} */ (unbound(redisLog)));
    if (redis.exitCode !== null) throw new Error(`data stores: Redis exited at start (port ${redisPort}): ${redisLog.trim().split('\n').slice(-3).join(' | ')}`);
    spec.log?.(`data stores: PostgreSQL 15 on ${addresses.map((a) => `${a}:${pgPort}`).join(', ')}; Redis 7 on ${addresses.map((a) => `${a}:${redisPort}`).join(', ')} (TLS only)`);
    return {
      dir, caFile,
      pg: { host: '127.0.0.1', port: pgPort, hosts: addresses, socket: sock, psql },
      redis: { host: '127.0.0.1', port: redisPort, hosts: addresses },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
