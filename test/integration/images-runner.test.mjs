// The image step inside the real runner: `node runner/rollout.mjs --only images` against the foundation applied
// in moto (its repository_urls and repository_mutable_tags), a local registry with the credentials moto's ECR
// hands out (address from configuration: STAGING_ROLLOUT_IMAGE_REGISTRY), and real dockerd. The runner's own
// exec, logger and report are used; a second run builds nothing.
//
// Needs the applied foundation (integration global setup) and Docker. Without them the tests are recorded as
// skipped with the reason; with CI=true or STAGING_ROLLOUT_REQUIRE_INTEGRATION=1 a missing Docker fails.
import { jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT, dockerUnavailable, skipOrFail, ecrClient, startRegistry, makeContext, git } from '../fixtures/images/harness.mjs';

const require = createRequire(import.meta.url);
const { requireFoundation } = require('../../scripts/lib/it-env.cjs');
const { itDir } = require('../../scripts/lib/skips.cjs');

jest.setTimeout(300_000);

const SUITE = 'images via runner (rollout.mjs --only images)';

const env = {
  /** @type {any} */ foundation: null,
  /** @type {string|null} */ unavailable: null,
  /** @type {any} */ registry: null,
  work: '',
  configFile: '',
  /** @type {Record<string, string>} */ repositoryUrls: {},
  /** @type {Record<string, boolean>} */ mutable: {},
  /** @type {string[]} */ expectedKeys: [],
  timings: /** @type {Record<string, number>} */ ({}),
};

beforeAll(async () => {
  env.foundation = requireFoundation(SUITE); // records the skip when the foundation is not applied
  if (!env.foundation) return;
  env.unavailable = dockerUnavailable();
  if (env.unavailable) return;
  const outputs = env.foundation.outputs;
  const plain = (/** @type {string} */ k) => (outputs[k] && typeof outputs[k] === 'object' && 'value' in outputs[k] ? outputs[k].value : outputs[k]);
  env.repositoryUrls = plain('repository_urls');
  env.mutable = plain('repository_mutable_tags');
  const catalog = plain('service_catalog');
  const config = JSON.parse(fs.readFileSync(env.foundation.configPath, 'utf8'));
  env.expectedKeys = Object.keys(config.images).filter(
    (k) => k === (config.migration?.image ?? 'api') || Object.values(catalog).some((s) => s.enabled && s.image === k),
  );

  env.registry = await startRegistry(ecrClient(env.foundation.endpoint, env.foundation.region));
  // the same config the foundation was built from, with build contexts that exist: one git repository each
  env.work = fs.mkdtempSync(path.join(os.tmpdir(), 'images-runner-it-'));
  for (const key of Object.keys(config.images)) {
    makeContext(key === 'frontend' ? 'frontend' : 'api', path.join(env.work, 'app', key), `${key} ${path.basename(env.work)}`);
    config.images[key] = { ...config.images[key], context: `../app/${key}`, dockerfile: 'Dockerfile' };
  }
  fs.mkdirSync(path.join(env.work, 'config'));
  env.configFile = path.join(env.work, 'config', 'staging.json');
  fs.writeFileSync(env.configFile, JSON.stringify(config, null, 2));
}, 120_000);

afterAll(async () => {
  if (env.registry) await env.registry.stop();
  if (env.work) fs.rmSync(env.work, { recursive: true, force: true });
  if (Object.keys(env.timings).length) {
    fs.mkdirSync(itDir(), { recursive: true });
    fs.writeFileSync(path.join(itDir(), 'images-runner-timings.json'), JSON.stringify(env.timings, null, 2) + '\n');
    console.log(`runner --only images timings (ms): ${JSON.stringify(env.timings)}`);
  }
});

/** @param {string} test */
function skipped(test) {
  if (!env.foundation) return true; // skip already recorded by requireFoundation
  return skipOrFail(env.unavailable, SUITE, test);
}

/** @param {string} reportFile */
function rollout(reportFile) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [
    path.join(ROOT, 'runner', 'rollout.mjs'), '--only', 'images', '--outputs', env.foundation.outputsFile,
    '--config', env.configFile, '--report', reportFile,
  ], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, STAGING_ROLLOUT_IMAGE_REGISTRY: env.registry.address },
  });
  return { ...r, ms: Date.now() - t0, report: fs.existsSync(reportFile) ? JSON.parse(fs.readFileSync(reportFile, 'utf8')) : null };
}

const repoName = (/** @type {string} */ key) => env.repositoryUrls[key].slice(env.repositoryUrls[key].indexOf('/') + 1);

/** @type {any} */
let firstReport = null;

describe(SUITE, () => {
  test('the runner builds and pushes every image of the enabled services and reports tags and digests', async () => {
    if (skipped('first run')) return;
    const r = rollout(path.join(env.work, 'report-1.json'));
    env.timings.runnerFirstMs = r.ms;
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.any(String) }); // diff shows stderr
    const report = r.report;
    expect(report.status).toBe('passed');
    expect(report.steps.find((s) => s.id === 'images')).toMatchObject({ status: 'passed' });
    expect(report.steps.filter((s) => s.id !== 'images').every((s) => s.status === 'skipped')).toBe(true);
    expect(Object.keys(report.images).sort()).toEqual([...env.expectedKeys].sort());
    for (const key of env.expectedKeys) {
      const img = report.images[key];
      const tag = git(path.join(env.work, 'app', key), 'rev-parse', '--short=12', 'HEAD');
      expect(img).toMatchObject({ status: 'pushed', tag, uri: `${env.registry.host}/${repoName(key)}:${tag}` });
      expect(await env.registry.head(repoName(key), tag)).toEqual({ status: 200, digest: img.digest });
      // convenience tag exactly where the foundation made the repository mutable
      const latest = await env.registry.head(repoName(key), 'staging-latest');
      if (env.mutable[key] === true) expect(latest.digest).toBe(img.digest);
      else expect(latest.status).toBe(404);
    }
    expect(r.stdout + r.stderr).not.toContain(env.registry.creds.password);
    firstReport = report;
  });

  test('a second run of the same release builds nothing and reports the same digests', async () => {
    if (skipped('second run')) return;
    expect(firstReport).not.toBeNull();
    const r = rollout(path.join(env.work, 'report-2.json'));
    env.timings.runnerRerunMs = r.ms;
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.any(String) }); // diff shows stderr
    for (const key of env.expectedKeys) {
      expect(r.report.images[key]).toMatchObject({ status: 'skipped-exists', digest: firstReport.images[key].digest });
    }
  });
});
