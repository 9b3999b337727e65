'use strict';
// THE config the unit tests run against, and the stack outputs that go with it: every test that reads "the
// staging config" reads it here, and derives its expectations from it (docs/testing.md, "Tests follow the config").
//   - config/staging.json by default; $STAGING_ROLLOUT_CONFIG names another file (the variable main.ts and the
//     runner read too, so a runner started by a test without --config reads the same file).
//     scripts/add-a-worker.mjs runs the suites that use this helper against a copy with one more worker.
//   - the outputs: test/fixtures/outputs/*.json (npm run fixtures) for the shipped config; for another config the
//     same generator writes them once per config content into a cache under the system temp directory.
// CommonJS, so that the .ts tests (ts-jest, CommonJS) and the .mjs tests import the same module.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');
const configLib = require('../../lib/config/index.cjs');

const REPO = path.resolve(__dirname, '..', '..');
/** The shipped staging config. */
const SHIPPED_CONFIG_FILE = path.join(REPO, 'config', 'staging.json');
/** The config file under test (absolute). */
const CONFIG_FILE = process.env.STAGING_ROLLOUT_CONFIG ? path.resolve(REPO, process.env.STAGING_ROLLOUT_CONFIG) : SHIPPED_CONFIG_FILE;
/** Whether the config under test is the shipped one. */
const IS_SHIPPED = CONFIG_FILE === SHIPPED_CONFIG_FILE;
/** How the tests name it in sources: "config/staging.json" when it is the shipped one. */
const CONFIG_SOURCE = IS_SHIPPED ? 'config/staging.json' : CONFIG_FILE;

const loaded = configLib.loadConfigFile(CONFIG_FILE);

/** The environment a runner started by a test gets, so that it reads the config under test without --config. */
const CONFIG_ENV = Object.freeze(IS_SHIPPED ? {} : { STAGING_ROLLOUT_CONFIG: CONFIG_FILE });

/** A deep copy of the config's raw JSON (its overlays merged, when it extends another). @returns {any} */
function stagingRaw() {
  return structuredClone(loaded.raw);
}

/** The shipped config/staging.json's raw JSON, for what is generated from it and committed (docs/app-contract.md). */
function shippedRaw() {
  return JSON.parse(fs.readFileSync(SHIPPED_CONFIG_FILE, 'utf8'));
}

/** The config through lib/config's normaliser: `{ config, services }` (a fresh copy each call). */
function stagingConfig() {
  return configLib.normalizeConfig(stagingRaw(), { source: CONFIG_SOURCE });
}

/** Enabled services of the config under test, in catalog order; of one tier when `tier` is given. @param {string} [tier] */
function enabledServices(tier) {
  return stagingConfig().services.filter((s) => s.enabled && (tier === undefined || s.tier === tier));
}

const SHIPPED_OUTPUTS_DIR = path.join(REPO, 'test', 'fixtures', 'outputs');

/**
 * What the generated outputs depend on: the config's content and every source of the stack and the generator
 * (main.ts, stacks/, lib/config/, scripts/outputs-fixtures.mjs, scripts/lib/foundation/synth.mjs), so that a
 * changed stack is never read from the cache.
 */
function outputsKey() {
  const hash = crypto.createHash('sha256').update(JSON.stringify(loaded.raw));
  const sources = (/** @type {string} */ dir) => fs.readdirSync(path.join(REPO, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|cjs|mjs|json)$/.test(e.name)).map((e) => path.join(e.parentPath, e.name));
  const files = [...sources('stacks'), ...sources('lib/config'), ...['main.ts', 'scripts/outputs-fixtures.mjs', 'scripts/lib/foundation/synth.mjs'].map((f) => path.join(REPO, f))].sort();
  for (const f of files) hash.update(f).update(fs.readFileSync(f));
  return hash.digest('hex').slice(0, 16);
}

/** The directory holding foundation.json and foundation.plain.json for the config under test. */
function outputsDir() {
  if (IS_SHIPPED) return SHIPPED_OUTPUTS_DIR;
  const key = outputsKey();
  const dir = path.join(os.tmpdir(), 'staging-rollout-test-outputs', key);
  if (fs.existsSync(path.join(dir, 'foundation.plain.json'))) return dir;
  // generated once per config content; concurrent workers each write a temp dir and the first rename wins
  const tmp = `${dir}.${process.pid}.${Date.now()}`;
  const res = spawnSync(process.execPath, [path.join(REPO, 'scripts', 'outputs-fixtures.mjs'), '--config', CONFIG_FILE, '--out', tmp], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  if (res.status !== 0) throw new Error(`outputs for ${CONFIG_FILE}: scripts/outputs-fixtures.mjs failed (exit ${res.status}): ${res.stderr || res.error}`);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another worker was first
  }
  return dir;
}

/**
 * The outputs file for the config under test, as the runner's --outputs takes it: relative to the repository for
 * the committed fixture, absolute otherwise.
 * @param {'foundation.json' | 'foundation.plain.json'} [name] foundation.json: `terraform output -json` form
 */
function outputsFile(name = 'foundation.json') {
  const file = path.join(outputsDir(), name);
  return IS_SHIPPED ? path.relative(REPO, file) : file;
}

/** The outputs' values (the plain form) for the config under test, a fresh copy each call. @returns {any} */
function outputsPlain() {
  return JSON.parse(fs.readFileSync(path.join(outputsDir(), 'foundation.plain.json'), 'utf8'));
}

module.exports = {
  REPO, SHIPPED_CONFIG_FILE, CONFIG_FILE, CONFIG_SOURCE, IS_SHIPPED, CONFIG_ENV,
  stagingRaw, shippedRaw, stagingConfig, enabledServices, outputsFile, outputsPlain,
};
