#!/usr/bin/env node
// `npm run local`: the whole staging rollout on a local AWS emulator, with no AWS account.
// moto_server (+ dockerd and a local registry where Docker can run) -> synth `foundation` -> real Terraform
// apply against the emulator -> the real runner through every step -> summary, JSON report, timeline SVG.
// Everything it starts, it stops (also on Ctrl-C and on failure) unless --keep.
import fs from 'node:fs';
import path from 'node:path';
import { startMoto, setEcsTaskProgression } from './lib/moto.mjs';
import { checkPrereqs, formatPrereqs, withEmulatorEnv } from './lib/terraform.mjs';
import { synthFoundation } from './lib/foundation/synth.mjs';
import { applyFoundation } from './lib/foundation/apply.mjs';
import { ECRClient } from '@aws-sdk/client-ecr';
import { dockerStatus, dockerSh, ecrCredentials, startRegistry } from './lib/docker.mjs';
import { REPO_ROOT as ROOT } from './lib/paths.mjs';
import { run as runProcess, runSync } from './lib/proc.mjs';
import { seedEmulatorSecrets } from './lib/emulator-secrets.mjs';
import configLib from '../lib/config/index.cjs';
import { defineCommand, readFlags } from '../runner/lib/cli-options.mjs';

/** @typedef {{ config: string, out: string, keep: boolean, docker: boolean, help: boolean }} LocalOptions */

/** @type {import('../runner/lib/cli-options.mjs').Flag<LocalOptions>[]} */
const FLAGS = [
  { flag: '--config', value: 'FILE', key: 'config', default: 'config/local.json', help: ['environment config (default config/local.json: staging with demo images)'] },
  { flag: '--out', value: 'DIR', key: 'out', default: '.work/local', help: ['output directory (default .work/local); emptied at the start'] },
  { flag: '--keep', key: 'keep', default: false, help: ['leave the emulator (and registry) running and print the variables to use it'] },
  { flag: '--no-docker', key: 'docker', default: true, set: false, help: ['do not use Docker even where it can run (the images step is then skipped)'] },
  { flag: '--help', short: 'h', key: 'help', default: false, help: ['this text'] },
];

const COMMAND = defineCommand({
  head: `Usage: npm run local [-- flags]

Runs the whole staging rollout on a local AWS emulator (moto_server), with no AWS account:
  1. moto_server on a free loopback port; dockerd and a local registry where Docker can run
  2. synthesize the foundation stack and apply it with real Terraform against the emulator
  3. the real runner (runner/rollout.mjs): images, task definitions, migration, app tier,
     worker and support tier, smoke
  4. summary, JSON report and timeline SVG in the output directory`,
  column: 15,
  sections: [{ title: 'Flags', flags: FLAGS }],
  tail: `Checks no emulator can answer (HTTP through the ALB, target health, container health, exit codes, logs)
are reported as skipped with the reason; the summary lists them. Nothing skipped is counted as passed.

Exit codes: 0 every non-skipped step passed; 1 a step failed; 2 a prerequisite is missing or bad input;
130 interrupted.`,
});

const say = (/** @type {string} */ m) => process.stdout.write(`[local] ${m}\n`);
const secs = (/** @type {number} */ ms) => `${(ms / 1000).toFixed(1)} s`;

function gitRelease() {
  try {
    const r = runSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT });
    return r.code === 0 ? r.stdout.trim() : 'local';
  } catch {
    return 'local'; // no git here
  }
}

async function run() {
  const flags = readFlags(COMMAND, process.argv.slice(2), { prefix: 'error: ' });
  if ('exitCode' in flags) return flags.exitCode;
  const o = flags.options;
  const configPath = path.resolve(ROOT, o.config);
  let region;
  try {
    // the same reader (and validation) as the stack and the runner: a bad config stops here, nothing started
    region = configLib.loadConfigFile(configPath).config.region;
  } catch (e) {
    process.stderr.write(`error: ${/** @type {Error} */ (e).message}\n`);
    return 2;
  }
  const problems = checkPrereqs();
  if (problems.length) {
    process.stderr.write(`error: missing prerequisites for the local rollout:\n${formatPrereqs(problems)}\n`);
    return 2;
  }
  const out = path.resolve(ROOT, o.out);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });

  /** @type {(() => Promise<void> | void)[]} */
  const cleanups = [];
  let interrupted = false;
  const stopRunner = new AbortController();
  const onSigint = () => {
    if (interrupted) return;
    interrupted = true;
    say('interrupted: stopping what was started (press Ctrl-C again to force)');
    process.once('SIGINT', () => process.exit(130));
    stopRunner.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const started = Date.now();
  try {
    // --keep: in its own process group, logging to a file, so it outlives this process
    const moto = await startMoto(o.keep ? { logFile: path.join(out, 'moto.log') } : {});
    cleanups.push(() => moto.stop());
    say(`moto_server on ${moto.endpoint}`);
    await setEcsTaskProgression(moto.endpoint);
    const env = withEmulatorEnv(moto.endpoint, { region });
    if (interrupted) return 130;

    let dockerReason = o.docker ? dockerStatus().reason : 'disabled with --no-docker';
    /** @type {string|null} */
    let registry = null;
    if (!dockerReason) {
      try {
        if (!dockerStatus().running) {
          dockerSh(['start-dockerd']);
          cleanups.push(() => void dockerSh(['stop-dockerd']));
          say('started dockerd');
        }
        const ecr = new ECRClient({ region, endpoint: moto.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
        const reg = await startRegistry({ dir: path.join(out, 'registry'), creds: await ecrCredentials(ecr) });
        cleanups.push(reg.stop);
        registry = reg.host;
        say(`registry on ${registry} (basic auth with the emulator's ECR credentials)`);
      } catch (e) {
        dockerReason = `Docker could not be started: ${/** @type {Error} */ (e).message.split('\n').slice(0, 3).join(' ')}`;
      }
    }
    if (dockerReason) say(`images step SKIPPED: ${dockerReason}`);
    if (interrupted) return 130;

    const synth = await synthFoundation({ outdir: path.join(out, 'cdktf.out'), configPath });
    say(`synth foundation: ${secs(synth.durationMs)}`);
    if (interrupted) return 130;
    say('terraform init/plan/apply against the emulator (about a minute)...');
    const applied = await applyFoundation({ endpoint: moto.endpoint, workdir: synth.stackDir, region, log: () => {} });
    const outputsFile = path.join(out, 'outputs.json');
    fs.writeFileSync(outputsFile, JSON.stringify(applied.outputs, null, 2) + '\n');
    say(`foundation: ${applied.applied.length} resources created, ${applied.skipped.length} skipped (emulator gaps) ` +
      `of ${applied.planned.length} planned; apply ${secs(applied.timings.apply ?? 0)}`);
    for (const s of applied.skipped) say(`  SKIPPED ${s.address}: ${s.reason}`);
    // nobody fills the secrets here (no database host, no Valkey, no operator): placeholders, so the runner's
    // secrets preflight finds what the containers list
    const secrets = await seedEmulatorSecrets({ endpoint: moto.endpoint, region, outputs: applied.outputs });
    if (secrets.seeded.length) say(`secrets: generated placeholder values for ${secrets.seeded.join(', ')} (emulator only; nothing written to disk)`);
    if (interrupted) return 130;

    const reportFile = path.join(out, 'report.json');
    const summaryFile = path.join(out, 'summary.md');
    const args = [
      path.join(ROOT, 'runner', 'rollout.mjs'),
      '--outputs', outputsFile, '--config', configPath, '--release', gitRelease(), '--emulator',
      '--poll-interval', '0.2', '--report', reportFile, '--summary', summaryFile,
      // the report and summary then carry why the images were not built, not just "skipped with --skip"
      ...(dockerReason ? ['--skip', `images=${dockerReason}`] : []),
    ];
    /** @type {NodeJS.ProcessEnv} */
    const runnerEnv = { ...env, ...(registry ? { STAGING_ROLLOUT_IMAGE_REGISTRY: `http://${registry}` } : {}) };
    delete runnerEnv.GITHUB_STEP_SUMMARY;
    say(`runner: node ${args.map((a) => path.relative(ROOT, a) || a).join(' ')}`);
    const ran = await runProcess(process.execPath, args, { cwd: ROOT, env: runnerEnv, output: 'inherit', signal: stopRunner.signal, killSignal: 'SIGINT' });
    const code = ran.code ?? (ran.signal ? 130 : 1);
    say(`finished in ${secs(Date.now() - started)} with exit code ${code}`);
    if (dockerReason) say(`note: images were not built (${dockerReason})`);
    for (const f of [reportFile, summaryFile, reportFile.replace(/\.json$/, '.timeline.svg')]) {
      if (fs.existsSync(f)) say(`  ${path.relative(ROOT, f)}`);
    }
    if (o.keep) {
      cleanups.length = 0;
      say('--keep: the emulator is still running. Point tools at it with:');
      for (const k of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) {
        process.stdout.write(`export ${k}=${env[k]}\n`);
      }
      process.stdout.write(`export STAGING_ROLLOUT_OUTPUTS=${outputsFile}   # runner: --outputs "$STAGING_ROLLOUT_OUTPUTS"\n`);
      process.stdout.write(`# terraform: cd ${path.relative(ROOT, applied.workdir)} && TF_CLI_CONFIG_FILE=${applied.cliConfig} terraform output\n`);
      process.stdout.write(`# stop it: kill ${moto.pid}${registry ? ` ; scripts/ci/docker.sh stop-registry ${path.join(out, 'registry')}` : ''}\n`);
    }
    return interrupted ? 130 : code;
  } catch (e) {
    process.stderr.write(`[local] FAILED: ${/** @type {Error} */ (e).message}\n`);
    return interrupted ? 130 : 1;
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (e) {
        process.stderr.write(`[local] cleanup: ${/** @type {Error} */ (e).message}\n`);
      }
    }
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGTERM', onSigint);
  }
}

run().then((code) => {
  process.exitCode = code;
});
