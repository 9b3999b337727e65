// Jest globalSetup of the `integration` project: start moto_server once, synthesize and apply the foundation
// once against it, and describe the result in .work/it/foundation.json for every integration suite.
// Exported env (inherited by the test workers):
//   STAGING_ROLLOUT_IT_DIR         .work/it/run-<pid> (this run's directory; .work/it/latest points at it)
//   STAGING_ROLLOUT_IT_FOUNDATION  <dir>/foundation.json (status, outputs, planned/applied/skipped, timings)
//   STAGING_ROLLOUT_IT_OUTPUTS     <dir>/outputs.json (`terraform output -json` form; runner --outputs FILE)
//   STAGING_ROLLOUT_IT_ENDPOINT    moto endpoint, plus AWS_ENDPOINT_URL, dummy credentials and region
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { startMoto, setEcsTaskProgression } from './moto.mjs';
import { checkPrereqs, formatPrereqs, emulatorEnv, EMULATOR_ENV_UNSET } from './terraform.mjs';
import { REPO_ROOT } from './paths.mjs';
import { synthFoundation } from './foundation/synth.mjs';
import { applyFoundation } from './foundation/apply.mjs';
import { replanFoundation, unexplainedChanges, loadDrift } from './foundation/drift.mjs';
import { snapshotEcs, withReleaseProbe } from './foundation/probes.mjs';
import { seedEmulatorSecrets } from './emulator-secrets.mjs';
import configLib from '../../lib/config/index.cjs';

const require = createRequire(import.meta.url);
const { itDir } = require('./skips.cjs');

const log = (/** @type {string} */ msg) => process.stdout.write(`[it-setup] ${msg}\n`);

/** Region of the config the foundation is built from (the shared reader follows `extends`). @param {string} configPath */
function configRegion(configPath) {
  try {
    return configLib.loadConfigFile(configPath).config.region;
  } catch {
    return 'us-east-1'; // a bad config fails the synth below with the precise message
  }
}

/** @param {number} pid */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return /** @type {NodeJS.ErrnoException} */ (e).code === 'EPERM';
  }
}

/**
 * The directory of this run. Several runs may share a checkout (engineers, CI jobs): each gets its own
 * `.work/it/run-<pid>` (directories of finished runs are removed here), and `.work/it/latest` points at the
 * newest. An explicit STAGING_ROLLOUT_IT_DIR is used as is.
 */
function runDir() {
  if (process.env.STAGING_ROLLOUT_IT_DIR) return path.resolve(process.env.STAGING_ROLLOUT_IT_DIR);
  const base = itDir();
  fs.mkdirSync(base, { recursive: true });
  for (const name of fs.readdirSync(base)) {
    const m = /^run-(\d+)$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) fs.rmSync(path.join(base, name), { recursive: true, force: true });
  }
  const dir = path.join(base, `run-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const latest = path.join(base, 'latest');
  fs.rmSync(latest, { force: true });
  fs.symlinkSync(path.basename(dir), latest);
  return dir;
}

export default async function globalSetup() {
  const dir = runDir();
  for (const f of ['foundation.json', 'outputs.json', 'skipped.jsonl', 'skipped.json']) fs.rmSync(path.join(dir, f), { force: true });
  const foundationFile = path.join(dir, 'foundation.json');
  const outputsFile = path.join(dir, 'outputs.json');
  process.env.STAGING_ROLLOUT_IT_DIR = dir;
  process.env.STAGING_ROLLOUT_IT_FOUNDATION = foundationFile;
  const configPath = path.resolve(process.env.STAGING_ROLLOUT_CONFIG || path.join(REPO_ROOT, configLib.DEFAULT_CONFIG_PATH));
  const region = configRegion(configPath);
  const write = (/** @type {object} */ data) => fs.writeFileSync(foundationFile, JSON.stringify(data, null, 2) + '\n');
  const strict = process.env.STAGING_ROLLOUT_REQUIRE_INTEGRATION === '1';

  const problems = checkPrereqs();
  if (problems.length) {
    const reason = `missing prerequisites: ${problems.map((p) => `${p.name} (${p.problem})`).join('; ')}`;
    write({ status: 'unavailable', reason, problems });
    process.stdout.write(`\n[it-setup] INTEGRATION ENVIRONMENT UNAVAILABLE, suites that need it are SKIPPED:\n${formatPrereqs(problems)}\n\n`);
    if (strict) throw new Error(`STAGING_ROLLOUT_REQUIRE_INTEGRATION=1 and ${reason}`);
    return;
  }

  const started = Date.now();
  let moto;
  try {
    moto = await startMoto();
    /** @type {{ __stagingRolloutMoto?: import('./moto.mjs').MotoHandle }} */ (globalThis).__stagingRolloutMoto = moto;
    log(`moto_server ${moto.endpoint} (pid ${moto.pid})`);
    await setEcsTaskProgression(moto.endpoint);
  } catch (e) {
    const error = `moto_server did not start: ${/** @type {Error} */ (e).message}`;
    write({ status: 'failed', error, region, configPath, foundationFile });
    log(`${error} (suites that need it will fail)`);
    return;
  }
  Object.assign(process.env, emulatorEnv(moto.endpoint, { region }));
  for (const k of EMULATOR_ENV_UNSET) delete process.env[k];
  process.env.STAGING_ROLLOUT_IT_ENDPOINT = moto.endpoint;

  const base = { endpoint: moto.endpoint, region, configPath, foundationFile };
  if (process.env.STAGING_ROLLOUT_IT_APPLY === '0') {
    write({ ...base, status: 'moto-only', reason: 'STAGING_ROLLOUT_IT_APPLY=0' });
    log('STAGING_ROLLOUT_IT_APPLY=0: foundation not applied');
    return;
  }
  try {
    const synth = await synthFoundation({ outdir: path.join(dir, 'cdktf.out'), configPath });
    log(`synth: ${synth.durationMs} ms -> ${path.relative(REPO_ROOT, synth.stackDir)}`);
    const r = await applyFoundation({ endpoint: moto.endpoint, workdir: synth.stackDir, region, log });
    fs.writeFileSync(outputsFile, JSON.stringify(r.outputs, null, 2) + '\n');
    process.env.STAGING_ROLLOUT_IT_OUTPUTS = outputsFile;
    const ecsSnapshot = await snapshotEcs({ endpoint: moto.endpoint, region, outputs: r.outputs });
    // re-plan while one service looks released (new revision, desired 1), then restore it
    const probeTarget = Object.values(r.outputs.service_catalog?.value ?? {}).find((e) => /** @type {any} */ (e).enabled);
    const replanOnce = () => replanFoundation({ endpoint: moto.endpoint, workdir: r.workdir, region });
    const { result: replan, probe } = probeTarget
      ? await withReleaseProbe(
          {
            endpoint: moto.endpoint,
            region,
            cluster: r.outputs.cluster_name.value,
            service: /** @type {any} */ (probeTarget).ecs_service_name,
            family: /** @type {any} */ (probeTarget).task_family,
          },
          replanOnce,
        )
      : { result: await replanOnce(), probe: null };
    r.timings.replan = replan.durationMs;
    // after the re-plan (values are outside Terraform): placeholders in the secrets nobody fills on the emulator,
    // so the runner's secrets preflight passes (scripts/lib/emulator-secrets.mjs)
    const secrets = await seedEmulatorSecrets({ endpoint: moto.endpoint, region, outputs: r.outputs });
    log(`secrets: placeholder values generated for ${secrets.seeded.join(', ') || 'none'}`);
    const timings = { synth: synth.durationMs, ...r.timings, total: Date.now() - started };
    write({
      ...base,
      status: 'applied',
      stackDir: synth.stackDir,
      workdir: r.workdir,
      stateFile: r.stateFile,
      planJsonFile: r.planJsonFile,
      cliConfig: r.cliConfig,
      outputsFile,
      outputs: r.outputs,
      planned: r.planned,
      applied: r.applied,
      skipped: r.skipped,
      skippedOutputs: r.skippedOutputs,
      ecsSnapshot,
      replan: replan.changes,
      replanProbe: probe,
      seededSecrets: secrets.seeded,
      replanUnexplained: unexplainedChanges(replan.changes, { skipped: r.skipped.map((x) => x.address), drift: loadDrift() }),
      counts: { planned: r.planned.length, applied: r.applied.length, skipped: r.skipped.length },
      timings,
    });
    log(
      `foundation applied: ${r.applied.length} created, ${r.skipped.length} skipped of ${r.planned.length} planned; ` +
        `timings ms ${JSON.stringify(timings)}`,
    );
    if (r.skipped.length) {
      log('skipped resources (emulator gaps, test/integration/emulator-gaps.json):');
      for (const s of r.skipped) log(`  SKIPPED ${s.address}: ${s.reason}`);
    }
    for (const o of r.skippedOutputs) log(`  SKIPPED output ${o.name}: ${o.reason}`);
  } catch (e) {
    const error = /** @type {Error} */ (e).message;
    write({ ...base, status: 'failed', error });
    log(`FOUNDATION SETUP FAILED (suites that need it will fail):\n${error}`);
  }
}
