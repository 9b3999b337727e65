// HTTP smoke checks (api-health, login, database over HTTP) against REAL local HTTP servers started here.
import { jest } from '@jest/globals';
import http from 'node:http';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { createSmokeContext, runCheck } from '../../runner/smoke/index.mjs';
import { apiHealthCheck } from '../../runner/smoke/checks/api-health.mjs';
import { loginCheck, PLAIN_HTTP_REFUSAL } from '../../runner/smoke/checks/login.mjs';
import { databaseCheck } from '../../runner/smoke/checks/database.mjs';
import { run as runSmokeStep } from '../../runner/steps/smoke.mjs';
import { detectCapabilities } from '../../runner/lib/emulator.mjs';
import { outputsFor, smokeSettings, capabilitiesLacking } from '../support/smoke.mjs';

const USERNAME = 'smoke-user@example.test';
const PASSWORD = 'pw-9fK2!"quoted"&amp;-s3cr3t';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:staging-smoke-user-AbCdEf';

/** A fixture server whose routes the test sets; it records every request. */
async function startServer(routes) {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, body, headers: req.headers });
      const route = routes[`${req.method} ${req.url}`];
      if (!route) { res.writeHead(404); res.end('no route'); return; }
      route(req, res, body);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

const fast = { timeoutSeconds: 0.5, attempts: 2, retryDelaySeconds: 0.01 };
function smokeConfig(extra = {}) {
  return {
    healthPath: '/health', expectHealthBody: 'ok', loginPath: '/api/auth/login',
    databaseCheck: 'http', databaseCheckPath: '/api/db-check',
    fetcherAnisetteCheck: 'log', fetcherAnisetteLogPattern: 'anisette reachable',
    checks: { 'api-health': fast, login: fast, database: fast },
    // the local test servers speak plain HTTP: these tests accept that (the refusal is tested on its own)
    allowPlainHttpLogin: true,
    ...extra,
  };
}
function ctxFor(server, { secretString, smoke } = {}) {
  const secrets = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const sm = mockClient(secrets);
  sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: secretString ?? JSON.stringify({ username: USERNAME, password: PASSWORD }) });
  const sctx = createSmokeContext({
    ...httpOnly(server),
    smoke: smokeSettings(smokeConfig(smoke)),
    capabilities: detectCapabilities({ emulator: false }),
    aws: { secrets },
    release: 'abc1234',
    log: LOG,
  });
  return { sctx, sm };
}

/** The runner's parsed outputs with the ALB at `server`, and no catalog services (only the HTTP checks apply). */
function httpOnly(server) {
  return { outputs: outputsFor(undefined, { alb_url: server.url, secret_arns: { smoke_user: SECRET_ARN } }), catalog: [] };
}

/** The runner's logger shape, printing to the console (spied on below). */
const LOG = { info: (m) => console.log(m), warn: (m) => console.log(m), progress: () => {} };

let server;
let logSpy;
afterEach(async () => { await server?.close(); server = undefined; logSpy?.mockRestore(); });
beforeEach(() => { logSpy = jest.spyOn(console, 'log').mockImplementation(() => {}); });

describe('api-health', () => {
  test('healthy: 200 with the expected body passes, evidence names the URL and status', async () => {
    server = await startServer({ 'GET /health': (q, s) => { s.writeHead(200); s.end('{"status":"ok"}'); } });
    const { sctx } = ctxFor(server);
    const rec = await runCheck(apiHealthCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    expect(rec.evidence).toContain(`${server.url}/health`);
    expect(rec.evidence).toContain('HTTP 200');
    expect(rec.attempts).toBe(1);
    expect(server.requests.map((r) => r.url)).toEqual(['/health']);
  });

  test('unhealthy: 503 fails after the bounded number of attempts', async () => {
    server = await startServer({ 'GET /health': (q, s) => { s.writeHead(503); s.end('db down'); } });
    const { sctx } = ctxFor(server);
    const rec = await runCheck(apiHealthCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toMatch(/HTTP 503/);
    expect(rec.reason).toMatch(/after 2 attempts/);
    expect(rec.attempts).toBe(2);
    expect(server.requests).toHaveLength(2);
    expect(rec.evidence).toContain('db down');
  });

  test('recovers: first attempt 502, second 200 passes on the retry', async () => {
    let n = 0;
    server = await startServer({ 'GET /health': (q, s) => { n += 1; s.writeHead(n === 1 ? 502 : 200); s.end('ok'); } });
    const { sctx } = ctxFor(server);
    const rec = await runCheck(apiHealthCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    expect(rec.attempts).toBe(2);
  });

  test('slow: a response slower than the timeout fails with a timeout reason', async () => {
    server = await startServer({ 'GET /health': (q, s) => { const t = setTimeout(() => { if (!s.destroyed) { s.writeHead(200); s.end('ok'); } }, 2000); s.on('close', () => clearTimeout(t)); } });
    const { sctx } = ctxFor(server);
    const t0 = Date.now();
    const rec = await runCheck(apiHealthCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toMatch(/timed out after 500 ms/);
    expect(rec.timeoutMs).toBe(500);
    expect(Date.now() - t0).toBeLessThan(1900); // two 0.5 s attempts, not the 2 s the server takes
  });

  test('wrong body: 200 without the expected text fails and shows what came back', async () => {
    server = await startServer({ 'GET /health': (q, s) => { s.writeHead(200); s.end('<html>maintenance</html>'); } });
    const { sctx } = ctxFor(server);
    const rec = await runCheck(apiHealthCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toBe('body does not contain "ok" (after 2 attempts)');
    expect(rec.evidence).toContain('maintenance');
  });

  test('the health path comes from config', async () => {
    server = await startServer({ 'GET /healthz': (q, s) => { s.writeHead(204); s.end(); } });
    const { sctx } = ctxFor(server, { smoke: { healthPath: '/healthz', expectHealthBody: null } });
    const rec = await runCheck(apiHealthCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    expect(server.requests[0].url).toBe('/healthz');
  });

  test('connection refused fails with the cause', async () => {
    server = await startServer({});
    const url = server.url;
    await server.close(); server = undefined;
    const { sctx } = ctxFor({ url });
    const rec = await runCheck(apiHealthCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toMatch(/ECONNREFUSED/);
  });
});

describe('login', () => {
  const everything = (rec) => JSON.stringify(rec) + logSpy.mock.calls.flat().join('\n');

  test('accepted: posts the Secrets Manager credentials and passes; the credentials appear nowhere in the output', async () => {
    server = await startServer({ 'POST /api/auth/login': (q, s, body) => {
      const b = JSON.parse(body);
      const ok = b.username === USERNAME && b.password === PASSWORD;
      s.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      s.end(JSON.stringify(ok ? { token: 'tok-123', echo: b.password } : { error: 'bad' }));
    } });
    const { sctx, sm } = ctxFor(server);
    const rec = await runCheck(loginCheck(sctx.settings), sctx);
    sctx.log(`debug line that mentions ${PASSWORD} and ${USERNAME}`);
    expect(rec.status).toBe('passed');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(server.requests[0].headers['content-type']).toBe('application/json');
    const out = everything(rec);
    expect(out).not.toContain(PASSWORD);
    expect(out).not.toContain(USERNAME);
    expect(out).not.toContain('tok-123'); // the response body (a token) is never kept
    expect(out).toContain('[REDACTED]');
  });

  test('refused: 401 fails at once (no retry) and still leaks nothing', async () => {
    server = await startServer({ 'POST /api/auth/login': (q, s) => { s.writeHead(401); s.end(`invalid password ${PASSWORD} for ${USERNAME}`); } });
    const { sctx } = ctxFor(server);
    const rec = await runCheck(loginCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toBe('login refused: HTTP 401');
    expect(rec.attempts).toBe(1);
    expect(server.requests).toHaveLength(1);
    const out = everything(rec);
    expect(out).not.toContain(PASSWORD);
    expect(out).not.toContain(USERNAME);
  });

  test('a malformed secret fails with a precise reason that does not quote the value', async () => {
    server = await startServer({});
    const { sctx } = ctxFor(server, { secretString: `password=${PASSWORD}` });
    const rec = await runCheck(loginCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toBe(`secret ${SECRET_ARN} is not JSON {"username": string, "password": string} (value not shown)`);
    expect(everything(rec)).not.toContain(PASSWORD);
    expect(server.requests).toHaveLength(0);
  });

  test('a secret missing the password field fails without sending a request', async () => {
    server = await startServer({});
    const { sctx } = ctxFor(server, { secretString: JSON.stringify({ username: USERNAME }) });
    const rec = await runCheck(loginCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toMatch(/is not JSON \{"username": string, "password": string\}/);
    expect(everything(rec)).not.toContain(USERNAME);
    expect(server.requests).toHaveLength(0);
  });

  test('plain http:// alb_url without smoke.allowPlainHttpLogin: fails closed, no secret read, no request sent', async () => {
    server = await startServer({ 'POST /api/auth/login': (q, s) => { s.writeHead(200); s.end('{}'); } });
    for (const smoke of [{ allowPlainHttpLogin: undefined }, { allowPlainHttpLogin: false }]) {
      const { sctx, sm } = ctxFor(server, { smoke });
      expect(sctx.settings.allowPlainHttpLogin).toBe(false);
      const rec = await runCheck(loginCheck(sctx.settings), sctx);
      expect(rec.status).toBe('failed');
      expect(rec.reason).toBe(PLAIN_HTTP_REFUSAL);
      expect(rec.reason).toBe('refusing to send the smoke user\'s credentials over plain HTTP: set loadBalancer.certificateArn, or smoke.allowPlainHttpLogin: true to accept the risk on staging');
      expect(rec.attempts).toBe(1);
      expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    }
    expect(server.requests).toHaveLength(0);
  });

  test('an https:// alb_url is not refused (the request is attempted)', async () => {
    const { sctx, sm } = ctxFor({ url: 'https://127.0.0.1:9' }, { smoke: { allowPlainHttpLogin: false } });
    const rec = await runCheck(loginCheck(sctx.settings), sctx);
    expect(rec.reason).not.toBe(PLAIN_HTTP_REFUSAL);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  test('server error 500 is retried, then fails', async () => {
    server = await startServer({ 'POST /api/auth/login': (q, s) => { s.writeHead(500); s.end(); } });
    const { sctx } = ctxFor(server);
    const rec = await runCheck(loginCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.attempts).toBe(2);
    expect(rec.reason).toMatch(/HTTP 500/);
  });
});

describe('database over HTTP', () => {
  test('2xx from the database endpoint passes', async () => {
    server = await startServer({ 'GET /api/db-check': (q, s) => { s.writeHead(200); s.end('{"db":"ok"}'); } });
    const { sctx } = ctxFor(server);
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    expect(rec.evidence).toContain('/api/db-check -> HTTP 200');
  });

  test('500 from the database endpoint fails', async () => {
    server = await startServer({ 'GET /api/db-check': (q, s) => { s.writeHead(500); s.end('connection refused to postgres'); } });
    const { sctx } = ctxFor(server);
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toMatch(/database endpoint answered HTTP 500/);
  });
});

describe('emulator mode', () => {
  test('HTTP checks are skipped with the reason and send no request', async () => {
    server = await startServer({ 'GET /health': (q, s) => { s.writeHead(200); s.end('ok'); } });
    const { sctx, sm } = ctxFor(server);
    sctx.caps = detectCapabilities({ emulator: true });
    for (const def of [apiHealthCheck(sctx.settings), loginCheck(sctx.settings), databaseCheck(sctx.settings)]) {
      const rec = await runCheck(def, sctx);
      expect(rec.status).toBe('skipped');
      expect(rec.reason).toMatch(/^not checkable here: emulator: .*ALB/);
    }
    expect(server.requests).toHaveLength(0);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  test('login over plain HTTP without allowPlainHttpLogin: the emulator skip comes first (skipped, not failed)', async () => {
    server = await startServer({});
    const { sctx } = ctxFor(server, { smoke: { allowPlainHttpLogin: false } });
    sctx.caps = detectCapabilities({ emulator: true });
    const rec = await runCheck(loginCheck(sctx.settings), sctx);
    expect(rec.status).toBe('skipped');
    expect(rec.reason).toMatch(/^not checkable here: emulator: /);
  });
});

describe('smoke step over HTTP', () => {
  test('an app that echoes the password in any response: the step result and the console never show it', async () => {
    const leak = `debug: last login ${USERNAME} / ${PASSWORD}`;
    server = await startServer({
      'GET /health': (q, s) => { s.writeHead(503); s.end(leak); },
      'POST /api/auth/login': (q, s) => { s.writeHead(200); s.end(leak); },
      'GET /api/db-check': (q, s) => { s.writeHead(500); s.end(leak); },
    });
    const secrets = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const sm = mockClient(secrets);
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: USERNAME, password: PASSWORD }) });
    const res = await runSmokeStep({
      ...httpOnly(server),
      smoke: smokeSettings(smokeConfig()),
      capabilities: capabilitiesLacking({ 'target-health': 'n/a', 'container-exit-code': 'n/a', 'container-logs': 'n/a' }),
      aws: { secrets }, release: 'abc1234', log: LOG,
    });
    const by = Object.fromEntries(res.checks.map((c) => [c.name, c]));
    expect(by['api-health'].status).toBe('failed');
    expect(by.login.status).toBe('passed');
    expect(by.database.status).toBe('failed');
    expect(res.status).toBe('failed');
    expect(by['api-health'].evidence).toContain('[REDACTED]');
    const out = JSON.stringify(res) + logSpy.mock.calls.flat().join('\n');
    expect(out).not.toContain(PASSWORD);
    expect(out).not.toContain(USERNAME);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1); // read once, before the checks
  });

  test('plain HTTP without allowPlainHttpLogin: the step fails on login and never reads the smoke user secret', async () => {
    server = await startServer({ 'GET /health': (q, s) => { s.writeHead(200); s.end('ok'); }, 'GET /api/db-check': (q, s) => { s.writeHead(200); s.end('ok'); } });
    const secrets = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const sm = mockClient(secrets);
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: USERNAME, password: PASSWORD }) });
    const res = await runSmokeStep({
      ...httpOnly(server),
      smoke: smokeSettings(smokeConfig({ allowPlainHttpLogin: undefined })),
      capabilities: capabilitiesLacking({ 'target-health': 'n/a', 'container-exit-code': 'n/a', 'container-logs': 'n/a' }),
      aws: { secrets }, release: 'abc1234', log: LOG,
    });
    const by = Object.fromEntries(res.checks.map((c) => [c.name, c]));
    expect(by.login).toMatchObject({ status: 'failed', reason: PLAIN_HTTP_REFUSAL });
    expect(by['api-health'].status).toBe('passed');
    expect(res.status).toBe('failed');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(server.requests.some((r) => r.method === 'POST')).toBe(false);
  });
});
