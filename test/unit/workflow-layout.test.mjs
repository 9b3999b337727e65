// The rollout job's checkout layout (.github/workflows/staging-rollout.yml: this repository and the application
// side by side) rebuilt in a temp directory from the parsed workflow, and the images step's context resolution
// (runner/images/targets.mjs resolveTargets, through the shared config reader) run in it: every build context of
// the workflow's config must be a directory of the application checkout.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import configLib from '../../lib/config/index.cjs';
import { resolveTargets } from '../../runner/images/targets.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WF = parse(readFileSync(join(ROOT, '.github/workflows/staging-rollout.yml'), 'utf8'));
const job = WF.jobs.rollout;
const checkouts = job.steps.filter((s) => String(s.uses ?? '').startsWith('actions/checkout@'));
const repoPath = checkouts.find((s) => !s.with?.repository)?.with?.path;
const appPath = checkouts.find((s) => s.with?.repository)?.with?.path;
const defaultConfig = /\|\|\s*'([^']+)'/.exec(WF.env.STAGING_ROLLOUT_CONFIG)?.[1];

let ws;
beforeEach(() => { ws = mkdtempSync(join(tmpdir(), 'workflow-layout-')); });
afterEach(() => rmSync(ws, { recursive: true, force: true }));

/** The workspace as the rollout job checks it out: the repository's config dir, the app with a Dockerfile per image. */
function layout(configDir = join(ROOT, 'config')) {
  cpSync(configDir, join(ws, repoPath, 'config'), { recursive: true });
  const configPath = join(ws, job.defaults.run['working-directory'], defaultConfig);
  const { config } = configLib.loadConfigFile(configPath);
  for (const key of Object.keys(config.images)) {
    mkdirSync(join(ws, appPath, key), { recursive: true });
    writeFileSync(join(ws, appPath, key, 'Dockerfile'), 'FROM scratch\n');
  }
  return { configPath, config };
}

const resolve = ({ configPath, config }) => resolveTargets({
  images: config.images,
  configPath,
  needed: Object.keys(config.images).map((key) => ({ key, usedBy: [] })),
  outputs: {
    repositoryUrls: Object.fromEntries(Object.keys(config.images).map((k) => [k, `123456789012.dkr.ecr.us-east-1.amazonaws.com/staging-${k}`])),
    repositoryMutableTags: {},
  },
});

test('the layout read from the workflow: the repository and the app checked out side by side, the runner run in the repository', () => {
  expect([repoPath, appPath, defaultConfig]).toEqual(['staging-rollout', 'app', 'config/staging.json']);
  expect(job.defaults.run['working-directory']).toBe(repoPath);
  const rollout = job.steps.find((s) => /runner\/rollout\.mjs/.test(s.run ?? ''));
  expect(rollout.run).toContain('--config "$STAGING_ROLLOUT_CONFIG"');
});

test("every build context of the workflow's config resolves into the app checkout", () => {
  const targets = resolve(layout());
  expect(targets.map((t) => relative(ws, t.context))).toEqual(targets.map((t) => join(appPath, t.key)));
});

test('contexts written relative to the repository root instead (../app/api) are refused with "does not exist"', () => {
  const wrong = mkdtempSync(join(tmpdir(), 'workflow-layout-config-'));
  const raw = JSON.parse(readFileSync(join(ROOT, 'config', 'staging.json'), 'utf8'));
  for (const k of Object.keys(raw.images)) raw.images[k].context = `../app/${k}`;
  writeFileSync(join(wrong, 'staging.json'), JSON.stringify(raw));
  expect(() => resolve(layout(wrong))).toThrow(/images\.api\.context: build context .*staging-rollout\/app\/api does not exist/);
  rmSync(wrong, { recursive: true, force: true });
});
