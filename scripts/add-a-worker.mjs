#!/usr/bin/env node
// The proof that the tests follow the config (docs/testing.md, "Tests follow the config"): copy config/staging.json,
// add one worker to it the way a worker is added (README: "adding a worker is a config change": a new entry in
// `services`, here a copy of an existing worker under a new name), and run, unchanged, every unit suite that reads
// the staging config (through test/support/staging-config.cjs, directly or through a support module) against the
// copy ($STAGING_ROLLOUT_CONFIG). A suite with the catalog written into it fails here. scripts/test.sh phase
// `add-a-worker`. Exit: jest's; 2 when the copy is no proof (the worker is not in the copy's outputs).
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './lib/paths.mjs';
import { outputsFixtures } from './outputs-fixtures.mjs';
import { defineCommand, readFlags } from '../runner/lib/cli-options.mjs';

/** @typedef {{ from: string | undefined, name: string, keep: boolean, list: boolean, help: boolean }} AddWorkerOptions */
const COMMAND = defineCommand(/** @type {import('../runner/lib/cli-options.mjs').CommandSpec<AddWorkerOptions>} */ ({
  head: 'Usage: node scripts/add-a-worker.mjs [-- flags]\n\nRuns the unit suites that read the staging config against a copy of config/staging.json with one more worker.',
  sections: [{ flags: [
    { flag: '--from', value: 'NAME', key: 'from', help: ['the worker to copy (default: the first worker without dependencies)'] },
    { flag: '--name', value: 'NAME', key: 'name', default: 'added-worker', help: ['the new worker\'s name (default added-worker)'] },
    { flag: '--list', key: 'list', default: false, help: ['print the suites it would run, run nothing'] },
    { flag: '--keep', key: 'keep', default: false, help: ['keep the copied config (its path is printed)'] },
    { flag: '--help', short: 'h', key: 'help', default: false, help: ['this text'] },
  ] }],
  column: 14,
}));

const HELPER = 'staging-config.cjs';
const SUPPORT = path.join(REPO_ROOT, 'test', 'support');
const UNIT = path.join(REPO_ROOT, 'test', 'unit');

/** The relative module paths a source file imports or requires. @param {string} file */
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => path.resolve(path.dirname(file), m[1]));
}

/**
 * The unit suites that read the staging config: those importing the helper, or a support module that does
 * (transitively). @returns {string[]} paths relative to the repository
 */
export function configSuites() {
  const helper = path.join(SUPPORT, HELPER);
  const support = readdirSync(SUPPORT).filter((f) => /\.(mjs|cjs|ts)$/.test(f)).map((f) => path.join(SUPPORT, f));
  const users = new Set([helper]);
  for (let grew = true; grew;) {
    grew = false;
    for (const f of support) {
      if (!users.has(f) && importsOf(f).some((i) => users.has(i) || users.has(`${i}.ts`))) { users.add(f); grew = true; }
    }
  }
  return readdirSync(UNIT).filter((f) => /\.test\.(mjs|ts)$/.test(f)).map((f) => path.join(UNIT, f))
    .filter((f) => importsOf(f).some((i) => users.has(i) || users.has(`${i}.ts`)))
    .map((f) => path.relative(REPO_ROOT, f)).sort();
}

/**
 * config/staging.json with one more worker: a copy of `from` (default: the first worker without dependencies)
 * named `name`. @param {any} raw @param {{ from?: string, name: string }} opts
 */
export function withAddedWorker(raw, { from, name }) {
  const services = raw.services;
  const source = from ?? Object.keys(services).find((n) => services[n].kind === 'worker' && !(services[n].dependsOn ?? []).length);
  if (!source || services[source]?.kind !== 'worker') throw new Error(`no worker ${from ? `"${from}" ` : ''}to copy in config/staging.json`);
  if (services[name]) throw new Error(`config/staging.json already has a service "${name}"`);
  return { ...raw, services: { ...services, [name]: structuredClone(services[source]) }, source };
}

async function main() {
  const flags = readFlags(COMMAND, process.argv.slice(2), { prefix: 'error: ' });
  if ('exitCode' in flags) return flags.exitCode;
  const { from, name, keep, list } = flags.options;
  const suites = configSuites();
  if (list) { process.stdout.write(`${suites.join('\n')}\n`); return 0; }

  const { source, ...copy } = withAddedWorker(JSON.parse(readFileSync(path.join(REPO_ROOT, 'config', 'staging.json'), 'utf8')), { from, name });
  // same depth below a directory as the original (config/), so that relative paths in it resolve alike
  const work = mkdtempSync(path.join(tmpdir(), 'add-a-worker-'));
  const configFile = path.join(work, 'config', 'staging.json');
  mkdirSync(path.dirname(configFile));
  writeFileSync(configFile, `${JSON.stringify(copy, null, 2)}\n`);
  try {
    // not vacuous: the stack synthesized from the copy deploys the new worker
    const { 'foundation.plain.json': outputs } = await outputsFixtures(configFile);
    const entry = /** @type {any} */ (outputs.service_catalog)?.[name];
    if (!entry?.enabled) {
      process.stderr.write(`add-a-worker: ${name} (a copy of ${source}) is not an enabled service in the copy's outputs: no proof\n`);
      return 2;
    }
    process.stdout.write(`add-a-worker: ${configFile}: config/staging.json + ${name} (a copy of ${source}); ${suites.length} suites\n`);
    const started = Date.now();
    // --forceExit: test/unit/runner-aws.test.mjs leaves something that keeps its jest worker alive about 30 s after
    // its tests finished ("Jest did not exit one second after the test run has completed"; the unit phase still
    // shows it); the results are the same, this phase just does not wait for it
    const res = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--selectProjects', 'unit', '--forceExit', '--', ...suites], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
      env: {
        ...process.env,
        STAGING_ROLLOUT_CONFIG: configFile,
        NODE_OPTIONS: [process.env.NODE_OPTIONS, '--experimental-vm-modules --disable-warning=ExperimentalWarning --disable-warning=DEP0044'].filter(Boolean).join(' '),
      },
    });
    process.stdout.write(`add-a-worker: ${res.status === 0 ? 'passed' : `FAILED (exit ${res.status})`} in ${Math.round((Date.now() - started) / 1000)} s\n`);
    return res.status ?? 1;
  } finally {
    if (keep) process.stdout.write(`add-a-worker: kept ${configFile}\n`);
    else rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(REPO_ROOT, 'scripts', 'add-a-worker.mjs')) {
  main().then((code) => { process.exitCode = code; }, (e) => { process.stderr.write(`add-a-worker: ${e instanceof Error ? e.message : e}\n`); process.exitCode = 1; });
}
