// The image step against real software: dockerd (Debian docker.io), a local registry (Debian docker-registry)
// with htpasswd basic auth whose credentials are the ones moto's ECR GetAuthorizationToken returns, and ECR
// repositories created in moto (one with mutable tags, one immutable). Two FROM-scratch images with a static
// busybox are built, pushed, checked in the registry through its v2 API, and a second run skips both.
//
// Docker unavailable: the tests are reported SKIPPED with the reason (console + .work/it/skipped.jsonl);
// with CI=true (or STAGING_ROLLOUT_REQUIRE_INTEGRATION=1, set by .ci/run) they FAIL instead, because CI on these machines must run them (scripts/ci/docker.sh sets up).
import { jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { CreateRepositoryCommand } from '@aws-sdk/client-ecr';
import { run as runStep } from '../../runner/steps/images.mjs';
import { zxExec } from '../../runner/lib/runtime.mjs';
import { startMoto } from '../../scripts/lib/moto.mjs';
import { ROOT, dockerUnavailable, skipOrFail, ecrClient, startRegistry, makeContext, git } from '../fixtures/images/harness.mjs';

const require = createRequire(import.meta.url);
const { itDir } = require('../../scripts/lib/skips.cjs');

jest.setTimeout(300_000);

const SUITE = 'images (docker + registry)';
const REGION = 'us-east-1';

const env = {
  /** @type {string|null} */ unavailable: null,
  /** @type {any} */ moto: null,
  endpoint: '',
  /** @type {any} */ registry: null,
  work: '',
  /** @type {Record<string,string>} */ repoUris: {},
  timings: /** @type {Record<string, number>} */ ({}),
};

/** @param {string} test */
const unavailable = (test) => skipOrFail(env.unavailable, SUITE, test);

beforeAll(async () => {
  env.unavailable = dockerUnavailable();
  if (env.unavailable) return;

  // moto: the shared one from the integration global setup, else our own
  if (process.env.STAGING_ROLLOUT_IT_ENDPOINT) env.endpoint = process.env.STAGING_ROLLOUT_IT_ENDPOINT;
  else {
    env.moto = await startMoto();
    env.endpoint = env.moto.endpoint;
  }
  const ecr = ecrClient(env.endpoint, REGION);
  const prefix = `images-it-${process.pid}-${Date.now().toString(36)}`;
  for (const [key, mutability] of [['api', 'MUTABLE'], ['frontend', 'IMMUTABLE']]) {
    const r = await ecr.send(new CreateRepositoryCommand({ repositoryName: `${prefix}/${key}`, imageTagMutability: mutability }));
    env.repoUris[key] = /** @type {string} */ (r.repository?.repositoryUri);
  }
  // the registry's credentials are the ones ECR hands out (moto's GetAuthorizationToken)
  env.registry = await startRegistry(ecr);

  // build contexts: fixtures copied into two git repositories, plus the static busybox
  env.work = fs.mkdtempSync(path.join(os.tmpdir(), 'images-it-work-'));
  for (const key of ['api', 'frontend']) makeContext(key, path.join(env.work, 'app', key), `${key} ${prefix}`);
  fs.mkdirSync(path.join(env.work, 'config'));
  // a small overlay over staging (the CLI validates the whole config): its image contexts resolve against
  // this file, the inherited ones (admin, anisette; not needed here) against config/staging.json
  fs.writeFileSync(
    path.join(env.work, 'config', 'it.json'),
    JSON.stringify({
      extends: path.relative(path.join(env.work, 'config'), path.join(ROOT, 'config', 'staging.json')),
      environment: 'it',
      images: { api: { context: '../app/api' }, frontend: { context: '../app/frontend', dockerfile: 'Dockerfile' } },
      migration: { image: 'api' },
    }),
  );
}, 120_000);

afterAll(async () => {
  if (env.registry) await env.registry.stop();
  if (env.work) fs.rmSync(env.work, { recursive: true, force: true });
  if (env.moto) await env.moto.stop();
  if (Object.keys(env.timings).length) {
    fs.mkdirSync(itDir(), { recursive: true });
    fs.writeFileSync(path.join(itDir(), 'images-timings.json'), JSON.stringify(env.timings, null, 2) + '\n');
    console.log(`image step timings (ms): ${JSON.stringify(env.timings)}`);
  }
});

/** Runner-like context; the registry address comes from configuration (STAGING_ROLLOUT_IMAGE_REGISTRY). */
function context(calls) {
  const real = zxExec(); // zx, as in production
  const lines = [];
  return {
    lines,
    ctx: {
      outputs: { repositoryUrls: env.repoUris, repositoryMutableTags: { api: true, frontend: false } },
      catalog: [
        { name: 'api', image: 'api', enabled: true, disabledReason: null },
        { name: 'frontend', image: 'frontend', enabled: true, disabledReason: null },
      ],
      release: 'unused-runner-release',
      options: { release: null, dryRun: false, imageRegistry: null, convenienceTag: null, imageConcurrency: null },
      config: JSON.parse(fs.readFileSync(path.join(env.work, 'config', 'it.json'), 'utf8')),
      configPath: path.join(env.work, 'config', 'it.json'),
      signal: new AbortController().signal,
      aws: { ecr: ecrClient(env.endpoint, REGION) },
      exec: Object.assign(async (cmd, args, opts) => { calls.push({ argv: [cmd, ...args], input: opts?.input }); return real(cmd, args, opts); }, { stdin: true }),
      env: { STAGING_ROLLOUT_IMAGE_REGISTRY: env.registry.address, STAGING_ROLLOUT_CONVENIENCE_TAG: 'it-latest' },
      log: { info: (m) => lines.push(m), warn: (m) => lines.push(m), progress: () => {} },
      state: { halfDone: [] },
    },
  };
}

const repoName = (key) => env.repoUris[key].slice(env.repoUris[key].indexOf('/') + 1);
const gitSha = (key) => git(path.join(env.work, 'app', key), 'rev-parse', '--short=12', 'HEAD');

/** @type {any} */
let first = null;

describe(SUITE, () => {
  test('first run builds and pushes both images; the registry has the tags and the recorded digests', async () => {
    if (unavailable('first run builds and pushes')) return;
    const calls = [];
    const { ctx, lines } = context(calls);
    const t0 = Date.now();
    const result = await runStep(ctx);
    env.timings.firstBuildAndPushMs = Date.now() - t0;
    if (result.status !== 'passed') console.error(lines.join('\n'));
    expect(result.status).toBe('passed');

    for (const key of ['api', 'frontend']) {
      const img = ctx.state.images[key];
      const tag = gitSha(key);
      const host = env.registry.host;
      expect(img).toMatchObject({ status: 'pushed', tag, uri: `${host}/${repoName(key)}:${tag}` });
      expect(img.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
      const head = await env.registry.head(repoName(key), tag);
      expect(head).toEqual({ status: 200, digest: img.digest });
      expect(await env.registry.tags(repoName(key))).toContain(tag);
    }
    // convenience tag: mutable repository tagged, immutable one not (and says why)
    expect((await env.registry.head(repoName('api'), 'it-latest')).digest).toBe(ctx.state.images.api.digest);
    expect((await env.registry.head(repoName('frontend'), 'it-latest')).status).toBe(404);
    expect(result.checks.find((c) => c.name === 'image:frontend:it-latest')).toBeUndefined();
    expect(result.details.notApplicable).toContainEqual({ name: 'image:frontend:it-latest', reason: expect.stringMatching(/immutable tags/) });
    // login happened once, with the password on stdin only
    const logins = calls.filter((c) => c.argv.includes('login'));
    expect(logins).toHaveLength(1);
    expect(logins[0].input).toBe(env.registry.creds.password);
    for (const c of calls) expect(c.argv.join(' ')).not.toContain(env.registry.creds.password);
    expect(lines.join('\n')).not.toContain(env.registry.creds.password);
    expect(calls.filter((c) => c.argv.includes('build'))).toHaveLength(2);
    first = ctx.state.images;
  });

  test('second run of the same release skips both images (no docker command) with the same digests', async () => {
    if (unavailable('second run skips both')) return;
    expect(first).not.toBeNull();
    const calls = [];
    const { ctx } = context(calls);
    const t0 = Date.now();
    const result = await runStep(ctx);
    env.timings.skippingRerunMs = Date.now() - t0;

    expect(result.status).toBe('passed');
    expect(result.reason).toMatch(/already in the registry; nothing built/);
    for (const key of ['api', 'frontend']) {
      expect(ctx.state.images[key]).toMatchObject({ status: 'skipped-exists', digest: first[key].digest, tag: first[key].tag });
    }
    expect(calls.filter((c) => c.argv[0] === 'docker')).toHaveLength(0);
    expect(result.details.images.api.convenienceTag.status).toBe('unchanged');
  });

  test('standalone CLI --dry-run reports both images as already present and changes nothing', async () => {
    if (unavailable('standalone CLI dry run')) return;
    const outputsFile = path.join(env.work, 'outputs.json');
    const jsonFile = path.join(env.work, 'dry-run.json');
    // a complete outputs file (the CLI validates it like the runner does): the contract fixture, with this test's
    // environment (the CLI refuses another environment's outputs), repositories and only the two services whose
    // images it builds
    const fixture = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'outputs', 'foundation.json'), 'utf8'));
    fs.writeFileSync(outputsFile, JSON.stringify({
      ...fixture,
      environment: { value: 'it' },
      region: { value: REGION },
      repository_urls: { value: env.repoUris },
      repository_mutable_tags: { value: { api: true, frontend: false } },
      service_catalog: { value: { api: fixture.service_catalog.value.api, frontend: fixture.service_catalog.value.frontend } },
    }));
    const r = spawnSync(process.execPath, [path.join(ROOT, 'runner', 'rollout.mjs'), 'images', '--config', path.join(env.work, 'config', 'it.json'), '--outputs', outputsFile, '--dry-run', '--convenience-tag', 'it-latest', '--report', jsonFile], {
      encoding: 'utf8',
      env: { ...process.env, AWS_ENDPOINT_URL: env.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: REGION, STAGING_ROLLOUT_IMAGE_REGISTRY: env.registry.address },
    });
    expect({ status: r.status, stderr: r.stderr }).toMatchObject({ status: 0 });
    expect(r.stdout).toMatch(/images: skipped: dry run: 0 to build and push, 2 already in the registry/);
    const out = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
    expect(out.images.api).toMatchObject({ status: 'skipped-exists', digest: first.api.digest });
    expect(out.images.frontend).toMatchObject({ status: 'skipped-exists', digest: first.frontend.digest });
    expect(r.stdout + r.stderr).not.toContain(env.registry.creds.password);
    // the same with another environment's outputs (the fixture's own, staging): refused before anything is built
    const other = path.join(env.work, 'outputs-staging.json');
    fs.writeFileSync(other, JSON.stringify({ ...JSON.parse(fs.readFileSync(outputsFile, 'utf8')), environment: { value: 'staging' } }));
    const refused = spawnSync(process.execPath, [path.join(ROOT, 'runner', 'rollout.mjs'), 'images', '--config', path.join(env.work, 'config', 'it.json'), '--outputs', other, '--dry-run'], {
      encoding: 'utf8', env: { ...process.env, AWS_ENDPOINT_URL: env.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: REGION },
    });
    expect({ status: refused.status, err: refused.stderr }).toEqual({ status: 2, err: expect.stringContaining('is environment "it", but the stack outputs') });
  });

  test('a build error fails the step with docker\'s own error output and pushes nothing', async () => {
    if (unavailable('build error fails the step')) return;
    // a new commit whose Dockerfile copies a file that does not exist
    const dir = path.join(env.work, 'app', 'api');
    fs.appendFileSync(path.join(dir, 'Dockerfile'), 'COPY missing-file.txt /missing\n');
    git(dir, 'commit', '-q', '-am', 'broken');
    const calls = [];
    const { ctx } = context(calls);
    const result = await runStep(ctx);

    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/docker build of api failed/);
    expect(result.reason).toMatch(/missing-file\.txt/); // docker's own message names the file
    expect(ctx.state.images.api.status).toBe('failed');
    expect((await env.registry.head(repoName('api'), gitSha('api'))).status).toBe(404);
    expect(ctx.state.images.frontend.status).toBe('skipped-exists');
  });
});
