// Decision logic of the image step with the command runner, HTTP (registry v2 API) and ECR injected.
import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { run as runStep } from '../../runner/steps/images.mjs';
import { InputError, InterruptedError } from '../../runner/lib/errors.mjs';
import { parsePushDigest } from '../../runner/images/docker.mjs';
import { parseRegistryAddress, splitRepositoryUrl, MANIFEST_ACCEPT } from '../../runner/images/registry.mjs';
import { neededImages } from '../../runner/images/targets.mjs';
import { pool } from '../../runner/images/publish.mjs';
import { toCommandRunner } from '../../runner/images/exec.mjs';
import { plannedImageRefs } from '../../runner/images/run.mjs';
import { parseCliArgs, main as cliMain } from '../../runner/images/cli.mjs';

const PASSWORD = 'pw-Xq81-very-secret';
const USER = 'AWS';
const ECR_HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const sha = (s) => 'sha256:' + createHash('sha256').update(s).digest('hex');

// ---------------------------------------------------------------- fixtures

/** temporary directories of this file, removed after the tests */
const tempDirs = [];
const tempDir = (prefix) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A config file in a temp dir with one build context per image key (Dockerfile inside). */
function makeWorkspace({ keys = ['api', 'frontend', 'admin', 'anisette'], missingContext = [], missingDockerfile = [] } = {}) {
  const dir = tempDir('images-unit-');
  const images = {};
  for (const k of keys) {
    images[k] = { context: `../app/${k}`, dockerfile: 'Dockerfile' };
    if (missingContext.includes(k)) continue;
    fs.mkdirSync(path.join(dir, 'app', k), { recursive: true });
    if (!missingDockerfile.includes(k)) fs.writeFileSync(path.join(dir, 'app', k, 'Dockerfile'), 'FROM scratch\n');
  }
  const config = { environment: 'staging', images, migration: { image: 'api' } };
  const configPath = path.join(dir, 'config', 'staging.json');
  fs.mkdirSync(path.dirname(configPath));
  fs.writeFileSync(configPath, JSON.stringify(config));
  return { dir, config, configPath };
}

const service = (name, image, enabled = true, disabledReason = null) => ({ name, image, enabled, disabledReason });
const CATALOG = [
  service('api', 'api'),
  service('frontend', 'frontend'),
  service('admin', 'admin'),
  service('anisette', 'anisette'),
  service('tracker-fetcher-2', 'api'),
];

function outputs(keys = ['api', 'frontend', 'admin', 'anisette'], mutable = {}) {
  return {
    repositoryUrls: Object.fromEntries(keys.map((k) => [k, `${ECR_HOST}/staging/${k}`])),
    repositoryMutableTags: Object.fromEntries(keys.map((k) => [k, mutable[k] ?? false])),
  };
}

/** In-memory registry speaking enough of the v2 API; Basic auth (or Bearer when `bearer`). */
function fakeRegistry({ bearer = false, password = PASSWORD, headDigest = true } = {}) {
  const manifests = new Map(); // "name:ref" -> { body, mediaType, digest }
  const requests = [];
  const add = (name, tag, content = `${name}:${tag}`) => {
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, content }));
    const m = { body, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: sha(body) };
    manifests.set(`${name}:${tag}`, m);
    manifests.set(`${name}:${m.digest}`, m);
    return m.digest;
  };
  const basicOk = 'Basic ' + Buffer.from(`${USER}:${password}`).toString('base64');
  const fetch = jest.fn(async (url, init = {}) => {
    const u = new URL(url);
    const method = init.method ?? 'GET';
    const auth = init.headers?.Authorization;
    requests.push({ method, url, accept: init.headers?.Accept, auth });
    if (u.pathname === '/token') {
      if (auth !== basicOk) return new Response('{"errors":[{"code":"DENIED","message":"bad creds"}]}', { status: 401 });
      return Response.json({ token: `tok:${u.searchParams.get('scope')}` });
    }
    const authorised = bearer ? /^Bearer tok:/.test(auth ?? '') : auth === basicOk;
    if (!authorised) {
      const challenge = bearer
        ? `Bearer realm="${u.origin}/token",service="fake",scope="x"`
        : 'Basic realm="fake"';
      return new Response(method === 'HEAD' ? null : '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', { status: 401, headers: { 'WWW-Authenticate': challenge } });
    }
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(u.pathname);
    if (!m) return new Response('not found', { status: 404 });
    const [, name, ref] = m;
    const key = `${name}:${decodeURIComponent(ref)}`;
    if (method === 'PUT') {
      const body = Buffer.from(init.body);
      const entry = { body, mediaType: init.headers['Content-Type'], digest: sha(body) };
      manifests.set(key, entry);
      return new Response(null, { status: 201, headers: { 'Docker-Content-Digest': entry.digest } });
    }
    const entry = manifests.get(key);
    if (!entry) return new Response(method === 'HEAD' ? null : '{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', { status: 404 });
    const headers = { 'Content-Type': entry.mediaType, ...(headDigest || method === 'GET' ? { 'Docker-Content-Digest': entry.digest } : {}) };
    return new Response(method === 'HEAD' ? null : entry.body, { status: 200, headers });
  });
  return { fetch, manifests, requests, add };
}

/**
 * Scripted command runner of the runner's Exec shape (cmd, args, opts). `docker push` adds the manifest to the
 * fake registry like a real push would and prints the digest line.
 */
function fakeExec(reg, { fail = {}, printDigest = true, onBuild } = {}) {
  const calls = [];
  const exec = jest.fn(async (cmd, args, opts = {}) => {
    const argv = [cmd, ...args];
    calls.push({ argv, opts });
    const sub = args[args.indexOf('--config') >= 0 ? 2 : 0];
    if (cmd === 'docker' && fail[sub]) return { exitCode: 1, stdout: '', stderr: fail[sub] };
    if (cmd === 'docker' && sub === 'login') {
      return opts.input === PASSWORD ? { exitCode: 0, stdout: 'Login Succeeded\n', stderr: '' } : { exitCode: 1, stdout: '', stderr: 'Error response from daemon: login attempt failed: unauthorized' };
    }
    if (cmd === 'docker' && sub === 'build') {
      if (onBuild) await onBuild(argv);
      return { exitCode: 0, stdout: 'Successfully built abc\n', stderr: '' };
    }
    if (cmd === 'docker' && sub === 'push') {
      const ref = argv[argv.length - 1];
      const host = ref.slice(0, ref.indexOf('/'));
      const nameTag = ref.slice(ref.indexOf('/') + 1);
      const [name, tag] = nameTag.split(':');
      const digest = reg.add(name, tag, `built ${host}/${name}`);
      return { exitCode: 0, stdout: printDigest ? `${tag}: digest: ${digest} size: 528\n` : 'pushed\n', stderr: '' };
    }
    if (cmd === 'docker' && sub === 'logout') return { exitCode: 0, stdout: '', stderr: '' };
    if (cmd === 'git' && args.includes('rev-parse')) return { exitCode: 0, stdout: `c0ffee${path.basename(args[1]).length}\n`, stderr: '' };
    if (cmd === 'git' && args.includes('status')) return { exitCode: 0, stdout: '', stderr: '' };
    return { exitCode: 127, stdout: '', stderr: `unexpected command ${argv.join(' ')}` };
  });
  exec.stdin = true; // this exec writes opts.input to the command's stdin
  return { exec, calls, docker: (sub) => calls.filter((c) => c.argv[0] === 'docker' && c.argv.includes(sub)) };
}

function ecrMock({ error } = {}) {
  const ecr = new ECRClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const mock = mockClient(ecr);
  if (error) mock.on(GetAuthorizationTokenCommand).rejects(error);
  else {
    mock.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [{ authorizationToken: Buffer.from(`${USER}:${PASSWORD}`).toString('base64'), proxyEndpoint: `https://${ECR_HOST}` }],
    });
  }
  return { ecr, mock };
}

function makeCtx({ ws, reg, ex, ecr, catalog = CATALOG, outs, options = {}, env = {} }) {
  const lines = [];
  const ctx = {
    outputs: outs ?? outputs(),
    catalog,
    release: 'rollout-head',
    options: { release: 'r1', dryRun: false, imageRegistry: null, convenienceTag: null, imageConcurrency: 2, ...options },
    config: ws.config,
    configPath: ws.configPath,
    aws: { ecr },
    exec: ex.exec,
    fetch: reg.fetch,
    env,
    log: { info: (m) => lines.push(m), warn: (m) => lines.push(m), progress: (m) => lines.push(m) },
    signal: new AbortController().signal,
    state: { halfDone: [] },
  };
  return { ctx, lines };
}

/** Everything a human or a log could see: log lines, step result, argv of every command. */
function visibleText(lines, result, calls) {
  return JSON.stringify({ lines, result, argv: calls.map((c) => c.argv) });
}

// ---------------------------------------------------------------- tests

describe('images step: build, push, skip', () => {
  test('builds and pushes missing tags, records the pushed digest, logs in with the password on stdin only', async () => {
    const ws = makeWorkspace();
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx, lines } = makeCtx({ ws, reg, ex, ecr });

    const result = await runStep(ctx);

    expect(result.status).toBe('passed');
    expect(Object.keys(ctx.state.images).sort()).toEqual(['admin', 'anisette', 'api', 'frontend']);
    for (const [key, img] of Object.entries(ctx.state.images)) {
      expect(img).toMatchObject({ uri: `${ECR_HOST}/staging/${key}:r1`, tag: 'r1', status: 'pushed' });
      // the recorded digest is the one the registry now holds for the tag
      expect(img.digest).toBe(reg.manifests.get(`staging/${key}:r1`).digest);
    }
    // one login for the one registry host, password only on stdin
    const logins = ex.docker('login');
    expect(logins).toHaveLength(1);
    expect(logins[0].opts.input).toBe(PASSWORD);
    expect(logins[0].argv).toContain('--password-stdin');
    expect(logins[0].argv[logins[0].argv.length - 1]).toBe(ECR_HOST);
    for (const c of ex.calls) expect(c.argv.join(' ')).not.toContain(PASSWORD);
    expect(visibleText(lines, result, ex.calls)).not.toContain(PASSWORD);
    // a private docker config dir, never ~/.docker, and it is removed afterwards
    const configDir = logins[0].argv[logins[0].argv.indexOf('--config') + 1];
    expect(configDir).toContain('staging-rollout-docker-');
    expect(fs.existsSync(configDir)).toBe(false);
    // each image built from its own context and Dockerfile, then pushed
    const builds = ex.docker('build');
    expect(builds.map((b) => b.argv[b.argv.length - 1]).sort()).toEqual(['admin', 'anisette', 'api', 'frontend'].map((k) => path.join(ws.dir, 'app', k)));
    for (const b of builds) expect(b.argv[b.argv.indexOf('--file') + 1]).toBe(path.join(b.argv[b.argv.length - 1], 'Dockerfile'));
    // no platform in the config: built for the task definitions' cpuArchitecture X86_64
    for (const b of builds) expect(b.argv[b.argv.indexOf('--platform') + 1]).toBe('linux/amd64');
    expect(ex.docker('push')).toHaveLength(4);
  });

  test('a platform set in the config wins over the linux/amd64 default', async () => {
    const ws = makeWorkspace({ keys: ['api', 'frontend'] });
    ws.config.images.frontend.platform = 'linux/arm64';
    fs.writeFileSync(ws.configPath, JSON.stringify(ws.config));
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api'), service('frontend', 'frontend')], outs: outputs(['api', 'frontend']) });
    await runStep(ctx);
    const platformOf = (k) => { const b = ex.docker('build').find((x) => x.argv[x.argv.length - 1] === path.join(ws.dir, 'app', k)); return b.argv.filter((a, i) => b.argv[i - 1] === '--platform'); };
    expect(platformOf('frontend')).toEqual(['linux/arm64']);
    expect(platformOf('api')).toEqual(['linux/amd64']);
  });

  test('skips build and push when the tag exists, recording the registry digest; no docker command runs', async () => {
    const ws = makeWorkspace();
    const reg = fakeRegistry();
    const existing = Object.fromEntries(['api', 'frontend', 'admin', 'anisette'].map((k) => [k, reg.add(`staging/${k}`, 'r1')]));
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr });

    const result = await runStep(ctx);

    expect(result.status).toBe('passed');
    expect(result.reason).toMatch(/already in the registry/);
    for (const [k, d] of Object.entries(existing)) expect(ctx.state.images[k]).toMatchObject({ status: 'skipped-exists', digest: d, tag: 'r1' });
    expect(ex.calls.filter((c) => c.argv[0] === 'docker')).toHaveLength(0);
    // the existence check is a HEAD on the manifest with the manifest media types accepted
    const heads = reg.requests.filter((r) => r.method === 'HEAD' && r.url.includes('/manifests/r1'));
    expect(heads.length).toBeGreaterThanOrEqual(4);
    for (const h of heads.filter((r) => r.auth)) expect(h.accept).toBe(MANIFEST_ACCEPT);
  });

  test('builds only the images whose tag is missing', async () => {
    const ws = makeWorkspace();
    const reg = fakeRegistry();
    const apiDigest = reg.add('staging/api', 'r1');
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr });

    await runStep(ctx);

    expect(ctx.state.images.api).toMatchObject({ status: 'skipped-exists', digest: apiDigest });
    expect(ex.docker('build').map((b) => path.basename(b.argv[b.argv.length - 1])).sort()).toEqual(['admin', 'anisette', 'frontend']);
  });

  test('records the digest with a HEAD after push when docker does not print it', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry({ headDigest: true });
    const ex = fakeExec(reg, { printDigest: false });
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']) });

    const result = await runStep(ctx);

    expect(result.status).toBe('passed');
    expect(ctx.state.images.api.digest).toBe(reg.manifests.get('staging/api:r1').digest);
    expect(reg.requests.filter((r) => r.method === 'HEAD' && r.url.endsWith('/v2/staging/api/manifests/r1') && r.auth).length).toBe(2);
  });

  test('a registry that omits Docker-Content-Digest on HEAD: the digest comes from a GET of the manifest', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry({ headDigest: false });
    const d = reg.add('staging/api', 'r1', 'no digest header');
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']) });

    await runStep(ctx);

    expect(ctx.state.images.api).toMatchObject({ status: 'skipped-exists', digest: d });
    expect(reg.requests.some((r) => r.method === 'GET' && r.url.endsWith('/v2/staging/api/manifests/r1'))).toBe(true);
  });

  test('images of disabled services are not built and are reported with the reason; migration image is built', async () => {
    const ws = makeWorkspace();
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const catalog = [
      service('api', 'api', false, 'disabled in config'),
      service('frontend', 'frontend'),
      service('admin', 'admin'),
      service('anisette', 'anisette', false, 'disabled in config'),
      service('tracker-fetcher-2', 'api', false, 'dependency anisette is disabled'),
    ];
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog });

    const result = await runStep(ctx);

    expect(Object.keys(ctx.state.images).sort()).toEqual(['admin', 'api', 'frontend']); // api: migration
    expect(result.details.images.api.usedBy).toEqual(['migration']);
    const anisette = result.checks.find((c) => c.name === 'image:anisette');
    expect(anisette).toMatchObject({ status: 'skipped' });
    expect(anisette.reason).toMatch(/disabled services: anisette \(disabled in config\)/);
    expect(ex.docker('build').some((b) => b.argv.join(' ').includes('anisette'))).toBe(false);
  });

  test('builds run in parallel, never more than the concurrency bound', async () => {
    const ws = makeWorkspace();
    const reg = fakeRegistry();
    let inFlight = 0;
    let maxInFlight = 0;
    const ex = fakeExec(reg, {
      onBuild: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
      },
    });
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, options: { imageConcurrency: 2 } });

    await runStep(ctx);

    expect(ex.docker('build')).toHaveLength(4);
    expect(maxInFlight).toBe(2);
  });

  test('pool keeps at most `limit` tasks in flight and runs every item', async () => {
    let inFlight = 0;
    let max = 0;
    const done = [];
    await pool([1, 2, 3, 4, 5], 3, async (i) => {
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      done.push(i);
      inFlight--;
    });
    expect(max).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('images step: convenience tag', () => {
  test('mutable repository: the convenience tag points at the release digest (same manifest, no rebuild)', async () => {
    const ws = makeWorkspace({ keys: ['api', 'frontend'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const catalog = [service('api', 'api'), service('frontend', 'frontend')];
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog, outs: outputs(['api', 'frontend'], { api: true, frontend: false }) });

    const result = await runStep(ctx);

    expect(result.status).toBe('passed');
    expect(reg.manifests.get('staging/api:staging-latest').digest).toBe(ctx.state.images.api.digest);
    expect(result.details.images.api.convenienceTag).toMatchObject({ tag: 'staging-latest', status: 'updated', digest: ctx.state.images.api.digest });
    // immutable repository: not tagged, reported skipped with the reason
    expect(reg.manifests.has('staging/frontend:staging-latest')).toBe(false);
    const fe = result.checks.find((c) => c.name === 'image:frontend:staging-latest');
    expect(fe.status).toBe('skipped');
    expect(fe.reason).toMatch(/immutable tags/);
    expect(reg.requests.filter((r) => r.method === 'PUT').map((r) => r.url)).toEqual([`https://${ECR_HOST}/v2/staging/api/manifests/staging-latest`]);
  });

  test('an up-to-date convenience tag is left alone; the configured tag name is used', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    ws.config.imageConvenienceTag = 'stg-current';
    const reg = fakeRegistry();
    reg.add('staging/api', 'r1', 'same');
    reg.add('staging/api', 'stg-current', 'same');
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api'], { api: true }) });

    const result = await runStep(ctx);

    expect(result.details.images.api.convenienceTag).toMatchObject({ tag: 'stg-current', status: 'unchanged' });
    expect(reg.requests.filter((r) => r.method === 'PUT')).toHaveLength(0);
  });

  test('a convenience tag equal to the release tag is a configuration error', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr, mock } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']), options: { release: 'staging-latest' } });
    await expect(runStep(ctx)).rejects.toThrow('the convenience tag "staging-latest" equals the release tag of image api; choose another convenience tag or release');
    expect(mock.calls()).toHaveLength(0);
  });

  test('a command killed by Ctrl-C is an interruption even when it only looks like a failed command', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ac = new AbortController();
    const ex = fakeExec(reg);
    const base = ex.exec.getMockImplementation();
    ex.exec.mockImplementation(async (cmd, args, opts) => {
      if (args.includes('build')) {
        ac.abort();
        return { exitCode: null, stdout: '', stderr: '' };
      }
      return base(cmd, args, opts);
    });
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']) });
    ctx.signal = ac.signal;
    await expect(runStep(ctx)).rejects.toBeInstanceOf(InterruptedError);
  });

  test('an invalid convenience tag is a configuration error before anything runs', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr, mock } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']), env: { STAGING_ROLLOUT_CONVENIENCE_TAG: '-bad tag' } });

    await expect(runStep(ctx)).rejects.toThrow(new InputError('STAGING_ROLLOUT_CONVENIENCE_TAG: "-bad tag" is not a valid image tag (letters, digits, _ . -; at most 128; not starting with . or -)'));
    expect(ex.calls).toHaveLength(0);
    expect(mock.calls()).toHaveLength(0);
  });
});

describe('images step: bad input and failures', () => {
  test('missing context and missing Dockerfile: one clear error naming both, before any command or AWS call', async () => {
    const ws = makeWorkspace({ missingContext: ['admin'], missingDockerfile: ['frontend'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr, mock } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr });

    const err = await runStep(ctx).catch((e) => e);

    expect(err).toBeInstanceOf(InputError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(`images.admin.context: build context ${path.join(ws.dir, 'app', 'admin')} does not exist or is not a directory`);
    expect(err.message).toContain(`images.frontend.dockerfile: ${path.join(ws.dir, 'app', 'frontend', 'Dockerfile')} does not exist or is not a file`);
    expect(err.message).toContain('nothing was built');
    expect(ex.calls).toHaveLength(0);
    expect(mock.calls()).toHaveLength(0);
    expect(reg.requests).toHaveLength(0);
  });

  test('a needed image without a repository URL output is a configuration error', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: { repositoryUrls: {}, repositoryMutableTags: {} } });
    await expect(runStep(ctx)).rejects.toThrow(/stack output repository_urls has no entry for image "api"/);
  });

  test('ECR GetAuthorizationToken denied: the step fails with the AWS error, nothing is built', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const denied = Object.assign(new Error('User is not authorized to perform: ecr:GetAuthorizationToken'), { name: 'AccessDeniedException' });
    const { ecr } = ecrMock({ error: denied });
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']) });

    const result = await runStep(ctx);

    expect(result.status).toBe('failed');
    expect(result.reason).toBe('ECR GetAuthorizationToken failed: AccessDeniedException: User is not authorized to perform: ecr:GetAuthorizationToken');
    expect(ex.calls).toHaveLength(0);
    expect(ctx.state.images).toBeUndefined();
  });

  test('registry rejects the credentials on the tag check: fails with the registry answer, nothing built', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry({ password: 'another-password' });
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx, lines } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']) });

    const result = await runStep(ctx);

    expect(result.status).toBe('failed');
    expect(result.reason).toBe(`registry ${ECR_HOST} refused HEAD /v2/staging/api/manifests/r1 (HTTP 401): Unauthorized`);
    expect(ex.docker('build')).toHaveLength(0);
    expect(visibleText(lines, result, ex.calls)).not.toContain(PASSWORD);
  });

  test('docker login failure: the step fails with docker\'s own stderr and builds nothing', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg, { fail: { login: 'Error response from daemon: Get "https://x/v2/": denied: bad token' } });
    const { ecr } = ecrMock();
    const { ctx, lines } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']) });

    const result = await runStep(ctx);

    expect(result.status).toBe('failed');
    expect(result.reason).toContain('docker login to ' + ECR_HOST + ' failed (exit 1)');
    expect(result.reason).toContain('Error response from daemon: Get "https://x/v2/": denied: bad token');
    expect(ex.docker('build')).toHaveLength(0);
    expect(ctx.state.images.api.status).toBe('failed');
    expect(visibleText(lines, result, ex.calls)).not.toContain(PASSWORD);
  });

  test('build error: failed with the build output; images not yet started are not started', async () => {
    const ws = makeWorkspace({ keys: ['api', 'frontend', 'admin'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg, { fail: { build: 'COPY failed: file not found in build context: stat app.py: file does not exist' } });
    const { ecr } = ecrMock();
    const catalog = [service('api', 'api'), service('frontend', 'frontend'), service('admin', 'admin')];
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog, outs: outputs(['api', 'frontend', 'admin']), options: { imageConcurrency: 1 } });

    const result = await runStep(ctx);

    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/^image api: docker build of api failed \(exit 1\)/);
    expect(result.reason).toContain('COPY failed: file not found in build context');
    expect(ctx.state.images.api).toMatchObject({ status: 'failed' });
    expect(ctx.state.images.frontend).toMatchObject({ status: 'skipped' });
    expect(result.details.images.frontend.reason).toMatch(/^not started: image api:/);
    expect(ex.docker('build')).toHaveLength(1);
    expect(ex.docker('push')).toHaveLength(0);
    expect(result.checks.find((c) => c.name === 'image:api').status).toBe('failed');
  });

  test('push denied: failed with docker\'s stderr, no digest recorded, no convenience tag', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg, { fail: { push: 'denied: User is not authorized to perform: ecr:InitiateLayerUpload' } });
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api'], { api: true }) });

    const result = await runStep(ctx);

    expect(result.status).toBe('failed');
    expect(result.reason).toContain('denied: User is not authorized to perform: ecr:InitiateLayerUpload');
    expect(ctx.state.images.api.digest).toBeUndefined();
    expect(result.details.images.api.convenienceTag.status).toBe('skipped');
    expect(reg.requests.filter((r) => r.method === 'PUT')).toHaveLength(0);
  });

  test('an aborted run is an interruption, not a failure', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ac = new AbortController();
    const ex = fakeExec(reg, {
      onBuild: async () => {
        ac.abort();
        throw Object.assign(new Error('aborted'), { name: 'AbortError' });
      },
    });
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']) });
    ctx.signal = ac.signal;
    await expect(runStep(ctx)).rejects.toBeInstanceOf(InterruptedError);
  });
});

describe('images step: dry run', () => {
  test('says what would be built, skipped or tagged and runs no docker command', async () => {
    const ws = makeWorkspace({ keys: ['api', 'frontend'] });
    const reg = fakeRegistry();
    const d = reg.add('staging/frontend', 'r1');
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const catalog = [service('api', 'api'), service('frontend', 'frontend')];
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog, outs: outputs(['api', 'frontend'], { api: true }), options: { dryRun: true } });

    const result = await runStep(ctx);

    expect(result.status).toBe('skipped');
    expect(result.reason).toBe('dry run: 1 to build and push, 1 already in the registry');
    expect(result.details.images.api).toMatchObject({ action: 'build-and-push', digest: null });
    expect(result.details.images.api.reason).toMatch(/^dry run: would build .*Dockerfile and push 123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/staging\/api:r1$/);
    expect(result.details.images.api.convenienceTag.status).toBe('would-update');
    expect(result.details.images.frontend).toMatchObject({ status: 'skipped-exists', digest: d, action: 'none' });
    expect(result.details.images.frontend.convenienceTag.reason).toMatch(/immutable/);
    expect(ex.calls.filter((c) => c.argv[0] === 'docker')).toHaveLength(0);
    expect(reg.requests.filter((r) => r.method !== 'HEAD')).toHaveLength(0);
  });
});

describe('images step: tags and registry address', () => {
  test('without an explicit release each image is tagged with the git commit of its context', async () => {
    const ws = makeWorkspace({ keys: ['api', 'frontend'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const catalog = [service('api', 'api'), service('frontend', 'frontend')];
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog, outs: outputs(['api', 'frontend']), options: { release: null } });

    await runStep(ctx);

    // the fake git answers c0ffee<length of the context dir name>
    expect(ctx.state.images.api.tag).toBe('c0ffee3');
    expect(ctx.state.images.frontend.tag).toBe('c0ffee8');
    const revParse = ex.calls.filter((c) => c.argv.includes('rev-parse'));
    for (const c of revParse) expect(c.argv).toContain('--short=12');
    expect(revParse.map((c) => c.argv[2]).sort()).toEqual([path.join(ws.dir, 'app', 'api'), path.join(ws.dir, 'app', 'frontend')]);
    const build = ex.docker('build').find((b) => b.argv.includes(path.join(ws.dir, 'app', 'api')));
    expect(build.argv).toContain('org.opencontainers.image.revision=c0ffee3');
  });

  test('plannedImageRefs gives the references the step would use, without registry or docker', async () => {
    const ws = makeWorkspace({ keys: ['api', 'frontend'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const refs = await plannedImageRefs({ config: ws.config, configPath: ws.configPath, services: [service('api', 'api'), service('frontend', 'frontend')], outputs: outputs(['api', 'frontend']), exec: ex.exec, env: {} });
    expect(refs).toEqual({
      api: { repository: `${ECR_HOST}/staging/api`, tag: 'c0ffee3', uri: `${ECR_HOST}/staging/api:c0ffee3` },
      frontend: { repository: `${ECR_HOST}/staging/frontend`, tag: 'c0ffee8', uri: `${ECR_HOST}/staging/frontend:c0ffee8` },
    });
    expect(ex.calls.filter((c) => c.argv[0] === 'docker')).toHaveLength(0);
    expect(reg.requests).toHaveLength(0);
  });

  test('a context with uncommitted changes and no explicit release is refused', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    ex.exec.mockImplementation(async (cmd, args) => {
      if (args.includes('rev-parse')) return { exitCode: 0, stdout: 'abc1234\n', stderr: '' };
      if (args.includes('status')) return { exitCode: 0, stdout: ' M main.py\n', stderr: '' };
      return { exitCode: 127, stdout: '', stderr: 'unexpected' };
    });
    const { ecr, mock } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']), options: { release: null } });

    await expect(runStep(ctx)).rejects.toThrow(/image api: build context .* has uncommitted changes, so commit abc1234 does not describe it; commit them or pass a release \(--release TAG\)/);
    expect(mock.calls()).toHaveLength(0);
  });

  test('registry address from configuration replaces the repository host, http scheme honoured', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    ws.config.imageRegistry = 'http://127.0.0.1:5999';
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']) });

    await runStep(ctx);

    expect(ctx.state.images.api.uri).toBe('127.0.0.1:5999/staging/api:r1');
    expect(reg.requests.every((r) => r.url.startsWith('http://127.0.0.1:5999/v2/'))).toBe(true);
    expect(ex.docker('login')[0].argv.at(-1)).toBe('127.0.0.1:5999');
  });

  test('the environment variable wins over the config key, and a bad address is a clear error', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    ws.config.imageRegistry = 'http://127.0.0.1:5999';
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']), env: { STAGING_ROLLOUT_IMAGE_REGISTRY: 'mirror.example.com/path' } });
    await expect(runStep(ctx)).rejects.toThrow('STAGING_ROLLOUT_IMAGE_REGISTRY: "mirror.example.com/path" is not a registry address (expected "host[:port]" or "http(s)://host[:port]", no path)');
  });

  test('bearer-token registries: the challenge is followed with the same credentials', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry({ bearer: true });
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api'], { api: true }) });

    const result = await runStep(ctx);

    expect(result.status).toBe('passed');
    const tokenReqs = reg.requests.filter((r) => r.url.includes('/token'));
    expect(tokenReqs.map((r) => new URL(r.url).searchParams.get('scope'))).toEqual(['repository:staging/api:pull', 'repository:staging/api:pull,push']);
    expect(result.details.images.api.convenienceTag.status).toBe('updated');
  });
});

describe('standalone CLI', () => {
  test('flags parse into the step options; --no-convenience-tag means none', () => {
    expect(parseCliArgs(['--outputs', 'o.json', '--release=r9', '--image-registry', 'http://127.0.0.1:5000', '--no-convenience-tag', '--image-concurrency', '3', '--dry-run'])).toMatchObject({
      outputs: 'o.json', release: 'r9', imageRegistry: 'http://127.0.0.1:5000', convenienceTag: false, imageConcurrency: 3, dryRun: true,
    });
    expect(() => parseCliArgs(['--release'])).toThrow('--release needs a value');
    expect(() => parseCliArgs(['--bogus'])).toThrow('unknown flag --bogus (see --help)');
  });

  test('bad input exits 2 with the reason on stderr', async () => {
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await cliMain(['--bogus'])).toBe(2);
      expect(await cliMain(['--outputs', '/nonexistent/outputs.json', '--config', 'config/staging.json'])).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toContain('--outputs /nonexistent/outputs.json: cannot read (no such file)');
    } finally {
      err.mockRestore();
    }
  });
});

describe('helpers', () => {
  test('a docker config directory from configuration is used and kept', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const dockerDir = tempDir('images-unit-docker-');
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']), env: { STAGING_ROLLOUT_DOCKER_CONFIG: dockerDir } });
    await runStep(ctx);
    for (const c of ex.calls.filter((c) => c.argv[0] === 'docker')) expect(c.argv.slice(1, 3)).toEqual(['--config', dockerDir]);
    expect(fs.existsSync(dockerDir)).toBe(true);
  });


  test('an injected exec that does not declare stdin support never receives the password; stdin commands go to the stdin runner', async () => {
    const exec = jest.fn(async () => ({ exitCode: 0, stdout: 'ok', stderr: '' }));
    const stdinRunner = jest.fn(async () => ({ exitCode: 0, stdout: 'Login Succeeded', stderr: '' }));
    const run = toCommandRunner(exec, { stdinRunner });
    await run(['docker', 'login', '--username', 'AWS', '--password-stdin', 'h'], { input: PASSWORD });
    await run(['docker', 'push', 'h/x:1']);
    expect(stdinRunner).toHaveBeenCalledWith(['docker', 'login', '--username', 'AWS', '--password-stdin', 'h'], { input: PASSWORD });
    expect(exec).toHaveBeenCalledTimes(1);
    expect(exec).toHaveBeenCalledWith('docker', ['push', 'h/x:1'], {});
    expect(JSON.stringify(exec.mock.calls)).not.toContain(PASSWORD);
    // one that declares it gets the input itself
    const exec2 = Object.assign(jest.fn(async () => ({ exitCode: 0, stdout: '', stderr: '' })), { stdin: true });
    await toCommandRunner(exec2, { stdinRunner })(['docker', 'login'], { input: PASSWORD });
    expect(exec2).toHaveBeenCalledWith('docker', ['login'], { input: PASSWORD });
    expect(stdinRunner).toHaveBeenCalledTimes(1);
  });


  test('parsePushDigest picks the line of the pushed tag', () => {
    const d1 = sha('a');
    const d2 = sha('b');
    expect(parsePushDigest(`abc: Pushed\nold: digest: ${d1} size: 1\nr1: digest: ${d2} size: 528\n`, 'r1')).toBe(d2);
    expect(parsePushDigest('no digest here', 'r1')).toBeNull();
  });

  test('registry address and repository URL parsing', () => {
    expect(parseRegistryAddress('127.0.0.1:5000')).toEqual({ scheme: 'https', host: '127.0.0.1:5000' });
    expect(parseRegistryAddress('http://localhost:5000/')).toEqual({ scheme: 'http', host: 'localhost:5000' });
    expect(() => parseRegistryAddress('ftp://x')).toThrow(/not a registry address/);
    expect(splitRepositoryUrl(`${ECR_HOST}/staging/api`)).toEqual({ host: ECR_HOST, name: 'staging/api' });
    expect(() => splitRepositoryUrl('no-slash')).toThrow(/not a repository URL/);
  });

  test('neededImages rejects a service image that is not a configured image key', () => {
    expect(() => neededImages({ api: { context: 'x' } }, [service('web', 'web')])).toThrow('service web: image "web" is not a key of config images (api)');
  });
});
