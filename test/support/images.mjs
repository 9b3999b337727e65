// Fixtures of the image step's unit tests: a workspace with build contexts, the stack outputs, a scripted
// registry v2 API, a scripted docker command runner, an ECR mock and the step context; temp dirs removed afterAll.
import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';

export const PASSWORD = 'pw-Xq81-very-secret';
export const USER = 'AWS';
export const ECR_HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
export const sha = (s) => 'sha256:' + createHash('sha256').update(s).digest('hex');


/** temporary directories of this file, removed after the tests */
export const tempDirs = [];
export const tempDir = (prefix) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A config file in a temp dir with one build context per image key (Dockerfile inside). */
export function makeWorkspace({ keys = ['api', 'frontend', 'admin', 'anisette'], missingContext = [], missingDockerfile = [] } = {}) {
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

export const service = (name, image, enabled = true, disabledReason = null) => ({ name, image, enabled, disabledReason });
export const CATALOG = [
  service('api', 'api'),
  service('frontend', 'frontend'),
  service('admin', 'admin'),
  service('anisette', 'anisette'),
  service('tracker-fetcher-2', 'api'),
];

export function outputs(keys = ['api', 'frontend', 'admin', 'anisette'], mutable = {}) {
  return {
    repositoryUrls: Object.fromEntries(keys.map((k) => [k, `${ECR_HOST}/staging/${k}`])),
    repositoryMutableTags: Object.fromEntries(keys.map((k) => [k, mutable[k] ?? false])),
  };
}

/** In-memory registry speaking enough of the v2 API; Basic auth (or Bearer when `bearer`). */
export function fakeRegistry({ bearer = false, password = PASSWORD, headDigest = true } = {}) {
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
export function fakeExec(reg, { fail = {}, printDigest = true, onBuild } = {}) {
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

export function ecrMock({ error } = {}) {
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

export function makeCtx({ ws, reg, ex, ecr, catalog = CATALOG, outs, options = {}, env = {} }) {
  const lines = [];
  const ctx = {
    outputs: outs ?? outputs(),
    catalog,
    release: 'rollout-head',
    imageTag: 'release' in options ? options.release : 'r1',
    options: { dryRun: false, imageRegistry: null, convenienceTag: null, imageConcurrency: 2, ...options },
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
export function visibleText(lines, result, calls) {
  return JSON.stringify({ lines, result, argv: calls.map((c) => c.argv) });
}
