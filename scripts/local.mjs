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
import { missingDatastoreTools } from './lib/datastores.mjs';
import { ensureBaseImage } from './lib/dataplane/base-image.mjs';
import { startDataPlane } from './lib/dataplane/index.mjs';
import { PLUGIN_DIR } from './lib/dataplane/exec.mjs';
import { DATAPLANE_ENV } from '../runner/lib/emulator.mjs';
import configLib from '../lib/config/index.cjs';
import { defineCommand, readFlags } from '../runner/lib/cli-options.mjs';

/** @typedef {{ config: string, out: string, keep: boolean, docker: boolean, dataplane: boolean | null, help: boolean }} LocalOptions */

/** @type {import('../runner/lib/cli-options.mjs').Flag<LocalOptions>[]} */
const FLAGS = [
  { flag: '--config', value: 'FILE', key: 'config', default: 'config/local.json', help: ['environment config (default config/local.json: staging with demo images)'] },
  { flag: '--out', value: 'DIR', key: 'out', default: '.work/local', help: ['output directory (default .work/local); emptied at the start'] },
  { flag: '--keep', key: 'keep', default: false, help: ['after the rollout, keep everything running until Ctrl-C and print how to reach it'] },
  { flag: '--dataplane', key: 'dataplane', default: null, set: true, help: ['require the local data plane (default: used wherever Docker can run); exit 2 if it cannot start'] },
  { flag: '--no-dataplane', key: 'dataplane', default: null, set: false, help: ['emulator only: no task runs, the checks that need one are skipped'] },
  { flag: '--no-docker', key: 'docker', default: true, set: false, help: ['do not use Docker even where it can run (images step skipped, emulator only)'] },
  { flag: '--help', short: 'h', key: 'help', default: false, help: ['this text'] },
];

const COMMAND = defineCommand({
  head: `Usage: npm run local [-- flags]

Runs the whole staging rollout on this machine, with no AWS account:
  1. moto_server (the AWS emulator) on a free loopback port; dockerd, a local registry standing in for ECR and
     the base image of the example images (Debian packages, built once) where Docker can run
  2. synthesize the foundation stack and apply it with real Terraform against the emulator
  3. the local data plane (where Docker can run): PostgreSQL 15 and Redis 7 with their real credentials in the
     emulator's Secrets Manager, a local ALB with the synthesized rules and health checks, and every ECS task as
     a container on a Docker bridge network (scripts/lib/dataplane)
  4. the real runner (runner/rollout.mjs): images, task definitions, migration, app tier, worker and support
     tier, smoke
  5. summary, JSON report and timeline SVG in the output directory`,
  column: 15,
  sections: [{ title: 'Flags', flags: FLAGS }],
  tail: `On the data plane every check is performed; what one machine cannot prove (task IAM, security groups, TLS at
the ALB, EFS, ...) is named once in the summary as "not provable locally". Without it (no Docker, or
--no-dataplane), checks that need a running task are reported as skipped with the reason; nothing skipped is
counted as passed.

Exit codes: 0 every non-skipped step passed; 1 a step failed; 2 a prerequisite is missing or bad input (or a
kept run is still using the output directory); 130 interrupted.`,
});

const say = (/** @type {string} */ m) => process.stdout.write(`[local] ${m}\n`);
const secs = (/** @type {number} */ ms) => `${(ms / 1000).toFixed(1)} s`;

/** The file in the output directory naming the process that uses it. */
const OWNER_FILE = 'local.pid';

/** The pid of a live `npm run local` using `dir`, or null. @param {string} dir */
function ownerOf(dir) {
  let pid;
  try { pid = Number(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8')); } catch { return null; }
  if (!pid || pid === process.pid) return null;
  try { process.kill(pid, 0); return pid; } catch (e) { return /** @type {NodeJS.ErrnoException} */ (e).code === 'EPERM' ? pid : null; }
}

/**
 * What a user needs to reach the kept environment: the runner, the aws CLI and terraform, the app through the
 * local ALB, the database and the logs; and what runs, with how to stop it.
 * @param {{ env: NodeJS.ProcessEnv, outputsFile: string, configPath: string, registry: { host: string } | null,
 *   plane: Awaited<ReturnType<typeof startDataPlane>> | null, applied: { workdir: string, cliConfig: string }, moto: { pid: number | undefined } }} k
 */
function handoff(k) {
  const rel = (/** @type {string} */ p) => path.relative(ROOT, p) || p;
  const lines = [
    '--keep: everything below keeps running until you press Ctrl-C here (or kill -INT ' + process.pid + ').',
    'In another shell:',
    ...['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_DEFAULT_REGION'].map((v) => `  export ${v}=${k.env[v] ?? k.env.AWS_REGION}`),
    ...(k.registry ? [`  export STAGING_ROLLOUT_IMAGE_REGISTRY=http://${k.registry.host}`] : []),
    ...(k.plane ? [`  export ${DATAPLANE_ENV}=1`] : []),
    // ECS Exec (the runner's exec verb): the data plane's session-manager-plugin opens its sessions with docker exec
    ...(k.plane ? [`  export PATH=${PLUGIN_DIR}:$PATH`] : []),
    `  npx zx runner/rollout.mjs status --outputs ${rel(k.outputsFile)} --config ${rel(k.configPath)}${k.plane ? '' : ' --emulator'}`,
    '  aws ecs list-services --cluster "$(jq -r .cluster_name.value ' + rel(k.outputsFile) + ')"',
    `  (cd ${rel(k.applied.workdir)} && TF_CLI_CONFIG_FILE=${k.applied.cliConfig} terraform output)`,
  ];
  if (k.plane) {
    lines.push(
      `The app through the local ALB: curl ${k.plane.albUrl}/health`,
      `PostgreSQL: ${k.plane.database.host}:${k.plane.database.port}, database ${k.plane.database.dbname}, user ${k.plane.database.username} (TLS; the password is in the emulator's Secrets Manager: aws secretsmanager get-secret-value --secret-id "$(jq -r .secret_arns.value.database ${rel(k.outputsFile)})")`,
      'Logs: aws logs tail <log group of the service_catalog output> (CloudWatch Logs on the emulator), or docker logs <container>',
      `Running: moto_server (pid ${k.moto.pid}), the local registry, the data plane's containers (docker ps --filter label=staging-rollout.dataplane=1) on network ${k.plane.network}, PostgreSQL, Redis and the local ALB in this process.`,
    );
  } else {
    lines.push(`Running: moto_server (pid ${k.moto.pid})${k.registry ? ' and the local registry' : ''}.`);
  }
  for (const l of lines) process.stdout.write(`${l}\n`);
}

/**
 * What the data plane takes from the synthesized stack, which the emulator does not keep: the cache's RBAC user
 * (the one that is not `default`) and each service's health check grace period (moto drops it).
 * @param {string} stackDir
 */
function fromStack(stackDir) {
  const json = JSON.parse(fs.readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8'));
  const users = Object.values(json.resource?.aws_elasticache_user ?? {}).map((u) => /** @type {{ user_name: string }} */ (u).user_name);
  const cacheUsername = users.find((u) => u !== 'default');
  if (!cacheUsername) throw new Error('the synthesized foundation has no cache user (aws_elasticache_user) besides "default"');
  /** @type {Record<string, number>} */
  const healthCheckGracePeriodSeconds = {};
  /** @type {string[]} */
  const executeCommandServices = [];
  for (const svc of Object.values(json.resource?.aws_ecs_service ?? {})) {
    const s = /** @type {{ name: string, health_check_grace_period_seconds?: number, enable_execute_command?: boolean }} */ (svc);
    if (typeof s.health_check_grace_period_seconds === 'number') healthCheckGracePeriodSeconds[s.name] = s.health_check_grace_period_seconds;
    if (s.enable_execute_command === true) executeCommandServices.push(s.name);
  }
  return { cacheUsername, healthCheckGracePeriodSeconds, executeCommandServices };
}

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
    // one run per output directory: a kept run still uses its files
    const owner = ownerOf(out);
    if (owner) {
      process.stderr.write(`error: ${path.relative(ROOT, out) || out} is in use by npm run local (pid ${owner}, e.g. a --keep run)\n  fix: stop it with Ctrl-C in its terminal or kill -INT ${owner}, or pass another --out DIR\n`);
      return 2;
    }
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, OWNER_FILE), String(process.pid));
    cleanups.push(() => fs.rmSync(path.join(out, OWNER_FILE), { force: true }));

    const moto = await startMoto({ logFile: path.join(out, 'moto.log') });
    cleanups.push(() => moto.stop());
    say(`moto_server on ${moto.endpoint}`);
    await setEcsTaskProgression(moto.endpoint);
    const env = withEmulatorEnv(moto.endpoint, { region });
    if (interrupted) return 130;

    let dockerReason = o.docker ? dockerStatus().reason : 'disabled with --no-docker';
    /** @type {{ host: string, username: string, password: string } | null} */
    let registry = null;
    if (!dockerReason) {
      try {
        if (!dockerStatus().running) {
          dockerSh(['start-dockerd']);
          cleanups.push(() => void dockerSh(['stop-dockerd']));
          say('started dockerd (stopped again at the end)');
        }
        const ecr = new ECRClient({ region, endpoint: moto.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
        const creds = await ecrCredentials(ecr);
        const reg = await startRegistry({ dir: path.join(out, 'registry'), creds });
        cleanups.push(reg.stop);
        registry = { host: reg.host, ...creds };
        say(`registry on ${reg.host} (basic auth with the emulator's ECR credentials)`);
        const base = await ensureBaseImage({ log: say });
        say(`base image ${base.ref}${base.built ? ` built in ${secs(base.ms)}` : ' (cached)'}`);
      } catch (e) {
        dockerReason = `Docker could not be used: ${/** @type {Error} */ (e).message.split('\n').slice(0, 3).join(' ')}`;
      }
    }
    // the data plane: wherever Docker (and PostgreSQL, Redis) can run, unless --no-dataplane
    const storesMissing = missingDatastoreTools();
    const planeReason = o.dataplane === false ? 'disabled with --no-dataplane'
      : dockerReason ? dockerReason
      : storesMissing.length ? `missing ${storesMissing.join(', ')}` : null;
    if (planeReason && o.dataplane === true) {
      process.stderr.write(`error: --dataplane: the local data plane cannot start: ${planeReason}\n`);
      return 2;
    }
    if (dockerReason) say(`images step SKIPPED: ${dockerReason}`);
    if (planeReason) say(`emulator only (no task runs; checks that need one are skipped): ${planeReason}`);
    if (interrupted) return 130;

    const synth = await synthFoundation({ outdir: path.join(out, 'cdktf.out'), configPath });
    say(`synth foundation: ${secs(synth.durationMs)}`);
    if (interrupted) return 130;
    say('terraform init/plan/apply against the emulator (about a minute)...');
    const applyStarted = Date.now();
    const ticker = setInterval(() => say(`  terraform still running (${secs(Date.now() - applyStarted)})`), 20_000);
    let applied;
    try {
      applied = await applyFoundation({ endpoint: moto.endpoint, workdir: synth.stackDir, region, log: (l) => { if (/^terraform \w+: \d+ ms$/.test(l)) say(`  ${l}`); } });
    } catch (e) {
      if (interrupted) return 130; // Ctrl-C stopped terraform: not an emulator gap
      throw e;
    } finally {
      clearInterval(ticker);
    }
    say(`foundation: ${applied.applied.length} resources created, ${applied.skipped.length} skipped (emulator gaps) ` +
      `of ${applied.planned.length} planned; apply ${secs(applied.timings.apply ?? 0)}`);
    for (const s of applied.skipped) say(`  SKIPPED ${s.address}: ${s.reason}`);
    if (interrupted) return 130;

    /** @type {Awaited<ReturnType<typeof startDataPlane>> | null} */
    let plane = null;
    let outputs = applied.outputs;
    if (!planeReason && registry) {
      try {
        const loaded = configLib.loadConfigFile(configPath).config;
        plane = await startDataPlane({
          motoEndpoint: moto.endpoint, region, outputs: applied.outputs, registry, dir: path.join(out, 'dataplane'), log: say,
          database: { databaseName: loaded.database.databaseName, username: loaded.database.username },
          ...fromStack(synth.stackDir),
        });
        cleanups.push(plane.close);
        outputs = plane.outputs;
      } catch (e) {
        const why = /** @type {Error} */ (e).message;
        if (o.dataplane === true) {
          process.stderr.write(`error: --dataplane: the local data plane did not start: ${why}\n`);
          return 2;
        }
        say(`emulator only (no task runs; checks that need one are skipped): the data plane did not start: ${why.split('\n')[0]}`);
      }
    }
    if (!plane) {
      // nobody fills the secrets on the emulator alone (no database host, no Valkey, no operator): placeholders,
      // so the runner's secrets preflight finds what the containers list
      const secrets = await seedEmulatorSecrets({ endpoint: moto.endpoint, region, outputs });
      if (secrets.seeded.length) say(`secrets: generated placeholder values for ${secrets.seeded.join(', ')} (emulator only; nothing written to disk)`);
    }
    const outputsFile = path.join(out, 'outputs.json');
    fs.writeFileSync(outputsFile, JSON.stringify(outputs, null, 2) + '\n');
    if (interrupted) return 130;

    const reportFile = path.join(out, 'report.json');
    const summaryFile = path.join(out, 'summary.md');
    const args = [
      path.join(ROOT, 'runner', 'rollout.mjs'),
      '--outputs', outputsFile, '--config', configPath, '--release', gitRelease(),
      ...(plane ? [] : ['--emulator']),
      '--poll-interval', plane ? '0.5' : '0.2', '--report', reportFile, '--summary', summaryFile,
      // the report and summary then carry why the images were not built, not just "skipped with --skip"
      ...(dockerReason ? ['--skip', `images=${dockerReason}`] : []),
    ];
    const awsEnv = plane ? { ...env, AWS_ENDPOINT_URL: plane.endpoint } : env;
    /** @type {NodeJS.ProcessEnv} */
    const runnerEnv = {
      ...awsEnv,
      ...(registry ? { STAGING_ROLLOUT_IMAGE_REGISTRY: `http://${registry.host}` } : {}),
      ...(plane ? { [DATAPLANE_ENV]: '1' } : {}),
    };
    delete runnerEnv.GITHUB_STEP_SUMMARY;
    say(`runner: node ${args.map((a) => path.relative(ROOT, a) || a).join(' ')}`);
    const ran = await runProcess(process.execPath, args, { cwd: ROOT, env: runnerEnv, output: 'inherit', signal: stopRunner.signal, killSignal: 'SIGINT' });
    const code = ran.code ?? (ran.signal ? 130 : 1);
    say(`finished in ${secs(Date.now() - started)} with exit code ${code}${plane ? ' (on the local data plane)' : ' (emulator only)'}`);
    if (dockerReason) say(`note: images were not built (${dockerReason})`);
    if (plane) {
      // the engine's task records, for the bench's floor (scripts/bench/dataplane.mjs) and for debugging
      const tasks = plane.engine.tasks().map((t) => ({
        arn: t.arn, family: t.family, service: t.service, oneOff: t.oneOff, createdAt: t.createdAt, startedAt: t.startedAt,
        healthyAt: t.healthyAt, stoppedAt: t.stoppedAt, stopCode: t.stopCode, exitCode: t.containers[0]?.exitCode ?? null,
      }));
      fs.writeFileSync(path.join(out, 'dataplane-tasks.json'), JSON.stringify(tasks, null, 2) + '\n');
    }
    if (plane && !plane.smokeUser.created) say(`note: the smoke user was not created${plane.smokeUser.error ? `: ${plane.smokeUser.error}` : ' (the migration did not exit 0)'}`);
    for (const f of [reportFile, summaryFile, reportFile.replace(/\.json$/, '.timeline.svg')]) {
      if (fs.existsSync(f)) say(`  ${path.relative(ROOT, f)}`);
    }
    if (o.keep && !interrupted) {
      handoff({ env: awsEnv, outputsFile, configPath, registry, plane, applied, moto });
      await new Promise((resolve) => stopRunner.signal.addEventListener('abort', resolve, { once: true }));
      say('stopping what was kept');
    }
    return interrupted && !o.keep ? 130 : code;
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
