// The database host's password hand-over, run for real: the Python part of the user data against a fake `aws`
// CLI, a fake `sudo psql` and a local IMDSv2 stand-in. Proves: the password is generated on the host, reused
// when the secret already has one, never passed on a command line, and the secret is written only on change.
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { spawn, spawnSync } from 'child_process';
import { AddressInfo } from 'net';
import { databaseUserData } from '../../stacks/database-user-data';
import { cacheSecretValue, databaseSecretValue } from '../../lib/config/contract.cjs';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:staging/database-AbCdEf';
const CACHE_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:staging/cache-XyZ';
const CACHE = { secretArn: CACHE_ARN, userId: 'staging-app', host: 'master.staging-valkey.abc.use1.cache.amazonaws.com', port: 6379, replicationGroupId: 'staging-valkey' };
const python = /<<'PY'\n([\s\S]*?)\nPY\n/.exec(databaseUserData({
  secretArn: SECRET_ARN, volumeId: 'vol-0abc', region: 'us-east-1', pgVersion: '15', dbName: 'app', user: 'app', vpcCidr: '10.40.0.0/16', cache: CACHE,
}))![1];

// the interpreter itself, not a version-manager shim (a pyenv shim puts its own bin, with a real `aws`, first on PATH)
const probe = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
const hasPython = !probe.error && probe.status === 0;
const PYTHON = hasPython ? probe.stdout.trim() : 'python3';
let dir: string;
let server: http.Server;
let imds: string;
let tokenRequests = 0;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'db-bootstrap-'));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  // fake aws: logs its argv; get-secret-value answers from secret.json (cache-secret.json for the cache secret)
  // or ResourceNotFoundException; put-secret-value copies the file:// argument there; elasticache modify-user
  // records its --cli-input-json file (and its mode) in modify-user.json
  fs.writeFileSync(path.join(bin, 'aws'), `#!/usr/bin/env python3
import json, os, sys
d = ${JSON.stringify(dir)}
open(os.path.join(d, 'argv.log'), 'a').write(json.dumps(sys.argv[1:]) + '\\n')
if 'describe-replication-groups' in sys.argv:
    # the group is still creating at the first look of a boot, available with its endpoint at the second
    n = os.path.join(d, 'describes.count')
    count = int(open(n).read()) if os.path.exists(n) else 0
    open(n, 'w').write(str(count + 1))
    status = 'creating' if count % 2 == 0 else 'available'
    endpoint = {'PrimaryEndpoint': {'Address': ${JSON.stringify(CACHE.host)}, 'Port': 6379}} if status == 'available' else {}
    print(json.dumps({'ReplicationGroups': [{'ReplicationGroupId': sys.argv[sys.argv.index('--replication-group-id') + 1], 'Status': status, 'NodeGroups': [endpoint]}]})); sys.exit(0)
if 'describe-users' in sys.argv:
    # the user's authentication type: "iam" as Terraform creates it, until modify-user sets a password
    a = os.path.join(d, 'user-auth.txt')
    mode = open(a).read().strip() if os.path.exists(a) else 'iam'
    print(json.dumps({'Users': [{'UserId': sys.argv[sys.argv.index('--user-id') + 1], 'Authentication': {'Type': mode}}]})); sys.exit(0)
if 'modify-user' in sys.argv:
    src = sys.argv[sys.argv.index('--cli-input-json') + 1]
    assert src.startswith('file://'), src
    open(os.path.join(d, 'modes.log'), 'a').write(oct(os.stat(src[7:]).st_mode & 0o777) + '\\n')
    open(os.path.join(d, 'user-auth.txt'), 'w').write('password')
    open(os.path.join(d, 'modify-user.json'), 'w').write(open(src[7:]).read()); sys.exit(0)
sid = sys.argv[sys.argv.index('--secret-id') + 1]
store = os.path.join(d, 'cache-secret.json' if sid == ${JSON.stringify(CACHE_ARN)} else 'secret.json')
if 'get-secret-value' in sys.argv:
    if not os.path.exists(store):
        sys.stderr.write('An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation\\n'); sys.exit(254)
    print(open(store).read()); sys.exit(0)
if 'put-secret-value' in sys.argv:
    src = sys.argv[sys.argv.index('--secret-string') + 1]
    assert src.startswith('file://'), src
    st = os.stat(src[7:])
    open(os.path.join(d, 'modes.log'), 'a').write(oct(st.st_mode & 0o777) + '\\n')
    open(store, 'w').write(open(src[7:]).read()); sys.exit(0)
sys.exit(2)
`, { mode: 0o755 });
  // fake sudo: records the SQL it is given on stdin and its argv
  fs.writeFileSync(path.join(bin, 'sudo'), `#!/bin/bash\necho "$*" >> ${JSON.stringify(path.join(dir, 'argv.log'))}\ncat >> ${JSON.stringify(path.join(dir, 'sql.log'))}\n`, { mode: 0o755 });
  server = http.createServer((req, res) => {
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      tokenRequests++;
      res.end('tok-123');
    } else if (req.url === '/latest/meta-data/local-ipv4' && req.headers['x-aws-ec2-metadata-token'] === 'tok-123') {
      res.end('10.40.0.10');
    } else {
      res.statusCode = 401;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  imds = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

function runBootstrap(cache = true): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // the variables the bash part exports (cache.auth "iam" renders CACHE_SECRET_ARN empty)
  const cacheEnv = { CACHE_SECRET_ARN: cache ? CACHE.secretArn : '', CACHE_USER_ID: cache ? CACHE.userId : '', CACHE_PORT: cache ? String(CACHE.port) : '', CACHE_GROUP_ID: cache ? CACHE.replicationGroupId : '', CACHE_WAIT_SECONDS: '0' };
  return new Promise((resolve) => {
    const child = spawn(PYTHON, ['-'], {
      env: { PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, SECRET_ARN, REGION: 'us-east-1', DB_NAME: 'app', DB_USER: 'app', IMDS_ENDPOINT: imds, TMPDIR: dir, ...cacheEnv },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(python);
  });
}

/** Without python3 the check cannot run: record it as skipped (never counted as passed) and say so. */
function skippedWithoutPython(test: string): boolean {
  if (hasPython) return false;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../../scripts/lib/skips.cjs').recordSkip({ suite: 'stack-database-bootstrap', test, reason: 'python3 is not installed' });
  return true;
}

const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8') : '');

describe('database bootstrap (python3)', () => {
  test('first boot: generates a password, sets it in PostgreSQL, writes the secret through a private file', async () => {
    if (skippedWithoutPython('first boot')) return;
    const run = await runBootstrap();
    expect([run.code, run.stderr]).toEqual([0, '']);
    const secret = JSON.parse(read('secret.json'));
    expect(secret.password).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    // exactly the declared shape (lib/config/contract.cjs), url included
    expect(secret).toEqual(databaseSecretValue({ host: '10.40.0.10', port: 5432, dbname: 'app', username: 'app', password: secret.password }));
    expect(secret.url).toBe(`postgresql://app:${secret.password}@10.40.0.10:5432/app?sslmode=require`);
    // cache.auth "password": the cache secret has the declared shape, and ModifyUser got the same password by file
    const cache = JSON.parse(read('cache-secret.json'));
    expect(cache.password).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(cache.password).not.toBe(secret.password);
    expect(cache).toEqual(cacheSecretValue({ host: CACHE.host, port: 6379, username: 'staging-app', password: cache.password, replicationGroupId: 'staging-valkey', region: 'us-east-1' }));
    expect(JSON.parse(read('modify-user.json'))).toEqual({ UserId: 'staging-app', AuthenticationMode: { Type: 'password', Passwords: [cache.password] } });
    expect(read('argv.log')).not.toContain(cache.password);
    expect(run.stdout).not.toContain(cache.password);
    // it waited for the replication group to be available (looked twice), by the id it was given
    expect(read('argv.log').split('\n').filter((l) => l.includes('describe-replication-groups'))).toEqual([expect.stringContaining('"--replication-group-id", "staging-valkey"'), expect.stringContaining('"--replication-group-id", "staging-valkey"')]);
    expect(read('sql.log')).toContain(`ALTER ROLE app WITH LOGIN PASSWORD '${secret.password}';`);
    // statement logging is off in the session that carries the password, so it never reaches PostgreSQL's log
    const sql = read('sql.log');
    expect(sql.indexOf("SET log_statement = 'none';")).toBeGreaterThanOrEqual(0);
    expect(sql.indexOf("SET log_statement = 'none';")).toBeLessThan(sql.indexOf('ALTER ROLE app WITH LOGIN PASSWORD'));
    // the password never appears on a command line, in output, or in a world-readable file
    expect(read('argv.log')).not.toContain(secret.password);
    expect(run.stdout).not.toContain(secret.password);
    expect(read('modes.log').trim().split('\n')).toEqual(['0o600', '0o600', '0o600']);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.json') && !['secret.json', 'cache-secret.json', 'modify-user.json'].includes(f))).toEqual([]); // temp file removed
    expect(tokenRequests).toBe(1); // IMDSv2: token first
  });

  test('later boot (replaced host, same data volume): keeps the password, does not rewrite an unchanged secret', async () => {
    if (skippedWithoutPython('later boot')) return;
    const before = JSON.parse(read('secret.json'));
    const cacheBefore = JSON.parse(read('cache-secret.json'));
    const puts = () => read('argv.log').split('\n').filter((l) => l.includes('put-secret-value')).length;
    const putsBefore = puts();
    fs.rmSync(path.join(dir, 'modify-user.json'));
    const run = await runBootstrap();
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(JSON.parse(read('secret.json'))).toEqual(before);
    expect(JSON.parse(read('cache-secret.json'))).toEqual(cacheBefore);
    // the cache user already authenticates with that password: nothing to set (the 15-minute timer runs this too)
    expect(read('modify-user.json')).toBe('');
    expect(run.stdout).toContain('cache user credentials are current');
    expect(puts()).toBe(putsBefore);
    expect(read('sql.log').split(`PASSWORD '${before.password}'`).length - 1).toBe(2);
  });

  test('a recreated cache user (back to IAM authentication) gets the kept password again', async () => {
    if (skippedWithoutPython('recreated cache user')) return;
    const cacheBefore = JSON.parse(read('cache-secret.json'));
    fs.writeFileSync(path.join(dir, 'user-auth.txt'), 'iam');
    const run = await runBootstrap();
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(JSON.parse(read('modify-user.json'))).toEqual({ UserId: 'staging-app', AuthenticationMode: { Type: 'password', Passwords: [cacheBefore.password] } });
    expect(JSON.parse(read('cache-secret.json'))).toEqual(cacheBefore);
    expect(run.stdout).not.toContain(cacheBefore.password);
  });

  test('rotation: a password removed from the cache secret is regenerated, written and set in the cache', async () => {
    if (skippedWithoutPython('rotation')) return;
    const cacheBefore = JSON.parse(read('cache-secret.json'));
    const { password: _old, ...rest } = cacheBefore;
    fs.writeFileSync(path.join(dir, 'cache-secret.json'), JSON.stringify(rest));
    fs.rmSync(path.join(dir, 'modify-user.json'));
    const run = await runBootstrap();
    expect([run.code, run.stderr]).toEqual([0, '']);
    const after = JSON.parse(read('cache-secret.json'));
    expect(after.password).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(after.password).not.toBe(cacheBefore.password);
    expect(JSON.parse(read('modify-user.json')).AuthenticationMode.Passwords).toEqual([after.password]);
  });

  test('a password with URL-special characters is URL-encoded in the url keys as the contract declares', async () => {
    if (skippedWithoutPython('url encoding')) return;
    const odd = "p@ss/w:rd?#%!'()* ~";
    fs.writeFileSync(path.join(dir, 'secret.json'), JSON.stringify({ password: odd }));
    fs.writeFileSync(path.join(dir, 'cache-secret.json'), JSON.stringify({ password: odd }));
    const run = await runBootstrap();
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(JSON.parse(read('secret.json'))).toEqual(databaseSecretValue({ host: '10.40.0.10', port: 5432, dbname: 'app', username: 'app', password: odd }));
    expect(JSON.parse(read('cache-secret.json'))).toEqual(cacheSecretValue({ host: CACHE.host, port: 6379, username: 'staging-app', password: odd, replicationGroupId: 'staging-valkey', region: 'us-east-1' }));
    expect(new URL(JSON.parse(read('secret.json')).url).password).not.toContain('@');
    expect(decodeURIComponent(new URL(JSON.parse(read('secret.json')).url).password)).toBe(odd);
  });

  test('cache.auth "iam": the cache is not touched', async () => {
    if (skippedWithoutPython('iam mode')) return;
    const argvBefore = read('argv.log');
    const run = await runBootstrap(false);
    expect([run.code, run.stderr]).toEqual([0, '']);
    const added = read('argv.log').slice(argvBefore.length);
    expect(added).not.toMatch(/elasticache|cache-XyZ/);
  });

  test('an unreadable secret (other than not-found) stops the bootstrap without generating a password', async () => {
    if (skippedWithoutPython('unreadable secret')) return;
    fs.writeFileSync(path.join(dir, 'bin', 'aws'), '#!/bin/bash\necho "An error occurred (AccessDeniedException)" >&2\nexit 254\n', { mode: 0o755 });
    const sqlBefore = read('sql.log');
    const run = await runBootstrap();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot read the database secret: An error occurred (AccessDeniedException)');
    expect(read('sql.log')).toBe(sqlBefore);
  });
});

describe('database bootstrap (bash): the credentials step is installed and re-run by a systemd timer', () => {
  const script = databaseUserData({
    secretArn: SECRET_ARN, volumeId: 'vol-0abc', region: 'us-east-1', pgVersion: '15', dbName: 'app', user: 'app', vpcCidr: '10.40.0.0/16', cache: CACHE,
  });
  const heredoc = (file: string, tag: string) => new RegExp(`cat > ${file.replace(/[.]/g, '\\.')} <<'${tag}'\\n([\\s\\S]*?)\\n${tag}\\n`).exec(script)?.[1] ?? '';

  test('the script parses (bash -n)', () => {
    const r = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    expect([r.status, r.stderr]).toEqual([0, '']);
  });

  test('the Python part is the installed credentials program, run through its unit at boot and then by the timer every 15 minutes', () => {
    expect(heredoc('/usr/local/sbin/staging-rollout-credentials', 'PY')).toBe(python);
    const service = heredoc('/etc/systemd/system/staging-rollout-credentials.service', 'UNIT');
    expect(service).toMatch(/^Type=oneshot$/m);
    expect(service).toMatch(/^EnvironmentFile=\/etc\/staging-rollout\/credentials\.env$/m);
    expect(service).toMatch(/^ExecStart=\/usr\/local\/sbin\/staging-rollout-credentials$/m);
    const timer = heredoc('/etc/systemd/system/staging-rollout-credentials.timer', 'UNIT');
    expect(timer).toMatch(/^OnUnitActiveSec=15min$/m);
    expect(timer).toMatch(/^WantedBy=timers\.target$/m);
    const order = ['chmod 700 /usr/local/sbin/staging-rollout-credentials', 'systemctl daemon-reload', 'systemctl start staging-rollout-credentials.service', 'systemctl enable --now staging-rollout-credentials.timer'].map((x) => script.indexOf(x));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  test('the environment file carries every variable the program reads, and no password', () => {
    const env = /mkdir -p \/etc\/staging-rollout\nprintf '%s\\n' ([\s\S]*?)\n  > \/etc\/staging-rollout\/credentials\.env/.exec(script)?.[1] ?? '';
    expect(env).not.toBe('');
    const names = [...env.matchAll(/"([A-Z_]+)=/g)].map((m) => m[1]);
    const read = [...new Set([...python.matchAll(/os\.environ(?:\.get\(|\[)'([A-Z_]+)'/g)].map((m) => m[1]))].filter((n) => n !== 'IMDS_ENDPOINT' && !n.startsWith('CACHE_WAIT'));
    expect(names).toEqual(expect.arrayContaining(read));
    expect(env.toLowerCase()).not.toContain('password');
  });
});
