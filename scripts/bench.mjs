#!/usr/bin/env node
// `npm run bench`: our runner against the common hand-written baseline (the AWS CLI, one service after
// another), on the same emulator state, in one process run; plus the modeled critical path of a real AWS
// rollout from the stack's own settings (scripts/bench/model.mjs). A script, not a timed test.
//
// Method: one moto_server, one foundation apply. Every AWS request of both contestants goes through the fault
// proxy in front of moto (scripts/lib/fault-proxy.mjs), so calls are counted the same way for both; the same proxy
// then injects throttling for the figures under faults (scripts/bench/faults.mjs). Both use their defaults
// (runner: 2 s poll; CLI waiters: botocore's 6 s / 15 s delays). The same work each time: a task-definition
// revision per family pinned to a new release, the migration task to STOPPED with its exit code checked,
// then every enabled service updated to its revision and desired count and waited for, tier by tier.
import fs from 'node:fs';
import path from 'node:path';
import { startMoto, setEcsTaskProgression } from './lib/moto.mjs';
import { startFaultProxy } from './lib/fault-proxy.mjs';
import { checkPrereqs, formatPrereqs, withEmulatorEnv } from './lib/terraform.mjs';
import { synthFoundation } from './lib/foundation/synth.mjs';
import { applyFoundation } from './lib/foundation/apply.mjs';
import { seedEmulatorSecrets } from './lib/emulator-secrets.mjs';
import { REPO_ROOT as ROOT } from './lib/paths.mjs';
import { run, which } from './lib/proc.mjs';
import { modelCriticalPath } from './bench/model.mjs';
import { measureFaults, formatFaults } from './bench/faults.mjs';
import { dataplaneFloor } from './bench/dataplane.mjs';
import { baseImageTag, BASE_ALIAS } from './lib/dataplane/base-image.mjs';
import { dockerStatus } from './lib/docker.mjs';
import configLib from '../lib/config/index.cjs';
import { defineCommand, readFlags } from '../runner/lib/cli-options.mjs';

const { topologicalOrder, loadConfigFile, DEFAULT_CONFIG_PATH } = configLib;
const say = (/** @type {string} */ m) => process.stdout.write(`[bench] ${m}\n`);

const COMMAND = defineCommand({
  head: `Usage: npm run bench [-- flags]

Runs the rollout runner and the hand-written AWS CLI baseline (one service after another) on the same local
emulator state (moto_server, one foundation apply, every AWS request counted at one proxy), measures the
runner under injected throttling (give-up time of a call always throttled; a rollout with 30 % of ECS and ELBv2
calls throttled), then models the critical path of a real AWS rollout from the stack's settings; where Docker
can run, also \`npm run local\` on the local data plane: the rollout's wall time beside the floor of what its
tasks take, and what the data plane adds to \`npm run local\`. Takes a few minutes; results go to
.work/bench/results.json.`,
  column: 16,
  sections: [{ title: 'Flags', flags: [
    { flag: '--rebuild-base', key: 'rebuildBase', default: false, help: ['remove the data plane\'s base image first, so its build (about 4 minutes) is measured'] },
    { flag: '--help', short: 'h', key: 'help', default: false, help: ['this text'] },
  ] }],
  tail: 'Exit codes: 0 done; 1 a run failed; 2 a prerequisite is missing or bad input.',
});

/** Stdout of a command that must succeed. @param {string} cmd @param {string[]} args @param {NodeJS.ProcessEnv} env */
const runQuiet = async (cmd, args, env) => (await run(cmd, args, { cwd: ROOT, env, check: true })).stdout;

/**
 * Our runner, as a user runs it; with `check` a non-zero exit throws. `rollback: true` runs the rollback verb
 * (back to the last successful release before the current one) instead of a rollout of `release`.
 * @param {{ outputsFile: string, release: string, env: NodeJS.ProcessEnv, check?: boolean, rollback?: boolean }} o
 * @returns {Promise<{ code: number, wallMs: number, report: any }>}
 */
async function ours({ outputsFile, release, env, check = true, rollback = false }) {
  const report = path.join(ROOT, '.work', 'bench', `runner-${rollback ? 'rollback-' : ''}${release}.json`);
  fs.rmSync(report, { force: true });
  const t0 = Date.now();
  const what = rollback ? ['rollback'] : ['--release', release, '--skip', 'images', '--skip', 'smoke'];
  const r = await run(process.execPath, [
    path.join(ROOT, 'runner', 'rollout.mjs'), ...what, '--outputs', outputsFile, '--config', path.join(ROOT, DEFAULT_CONFIG_PATH), '--report', report,
  ], { cwd: ROOT, env, check });
  const wallMs = Date.now() - t0;
  return { code: r.code ?? 1, wallMs, report: fs.existsSync(report) ? JSON.parse(fs.readFileSync(report, 'utf8')) : null };
}

/** Calls counted since the last take (without the call records). @param {import('./lib/fault-proxy.mjs').FaultProxy} proxy */
const counted = (proxy) => { const { total, byOperation } = proxy.take(); return { total, byOperation }; };

/**
 * The common hand-written baseline: the AWS CLI, one command after another.
 * @param {{ outputs: any, release: string, env: NodeJS.ProcessEnv, config: any }} o
 */
async function baseline({ outputs, release, env, config }) {
  const v = (/** @type {string} */ k) => outputs[k].value;
  const cluster = v('cluster_name');
  const catalog = Object.values(v('service_catalog')).filter((/** @type {any} */ s) => s.enabled);
  const aws = async (/** @type {string[]} */ args) => JSON.parse((await runQuiet('aws', [...args, '--output', 'json'], env)) || 'null');
  const t0 = Date.now();
  const tmp = fs.mkdtempSync(path.join(ROOT, '.work', 'bench', 'cli-'));
  /** register a revision of `family` with every image re-tagged to the release */
  const register = async (/** @type {string} */ family) => {
    const { taskDefinition: td } = await aws(['ecs', 'describe-task-definition', '--task-definition', family]);
    const input = {
      family: td.family, taskRoleArn: td.taskRoleArn, executionRoleArn: td.executionRoleArn, networkMode: td.networkMode,
      requiresCompatibilities: td.requiresCompatibilities, cpu: td.cpu, memory: td.memory, volumes: td.volumes,
      containerDefinitions: td.containerDefinitions.map((/** @type {any} */ c) => ({ ...c, image: `${c.image.replace(/[:@].*$/, '')}:${release}` })),
    };
    const file = path.join(tmp, `${family}.json`);
    fs.writeFileSync(file, JSON.stringify(input));
    return (await aws(['ecs', 'register-task-definition', '--cli-input-json', `file://${file}`])).taskDefinition.taskDefinitionArn;
  };
  /** @type {Record<string, string>} */
  const arns = {};
  for (const s of catalog) arns[s.name] = await register(s.task_family);
  const migrationArn = await register(v('migration_task_family'));
  const run = await aws(['ecs', 'run-task', '--cluster', cluster, '--task-definition', migrationArn, '--launch-type', 'FARGATE',
    '--network-configuration', JSON.stringify({ awsvpcConfiguration: { subnets: v('private_subnet_ids'), securityGroups: [v('tasks_security_group_id')], assignPublicIp: 'DISABLED' } }),
    '--overrides', JSON.stringify({ containerOverrides: [{ name: v('migration_container_name'), command: config.migration.command }] })]);
  if (run.failures?.length) throw new Error(`baseline run-task failed: ${JSON.stringify(run.failures)}`);
  const taskArn = run.tasks[0].taskArn;
  await runQuiet('aws', ['ecs', 'wait', 'tasks-stopped', '--cluster', cluster, '--tasks', taskArn], env);
  const stopped = await aws(['ecs', 'describe-tasks', '--cluster', cluster, '--tasks', taskArn]);
  const exit = stopped.tasks[0].containers.find((/** @type {any} */ c) => c.name === v('migration_container_name'))?.exitCode;
  if (exit !== 0 && exit !== undefined) throw new Error(`baseline migration exit code ${exit}`);
  for (const tier of config.tiers) {
    const inTier = catalog.filter((/** @type {any} */ s) => s.tier === tier).map((/** @type {any} */ s) => ({ ...s, dependsOn: s.depends_on.filter((/** @type {string} */ d) => catalog.some((/** @type {any} */ c) => c.name === d && c.tier === tier)) }));
    for (const name of topologicalOrder(inTier)) {
      const s = inTier.find((/** @type {any} */ x) => x.name === name);
      await aws(['ecs', 'update-service', '--cluster', cluster, '--service', s.ecs_service_name, '--task-definition', arns[name], '--desired-count', String(s.desired_count)]);
      await runQuiet('aws', ['ecs', 'wait', 'services-stable', '--cluster', cluster, '--services', s.ecs_service_name], env);
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  return { wallMs: Date.now() - t0, commands: 2 * (catalog.length + 1) + 3 + 2 * catalog.length };
}

const fmt = (/** @type {number} */ ms) => `${(ms / 1000).toFixed(2)} s`;

/**
 * `npm run local` on the local data plane, as a user runs it: the rollout's wall time beside its floor (the
 * tasks' own time along the critical path, scripts/bench/dataplane.mjs), and what the data plane adds to
 * `npm run local` (the run with --no-dataplane beside it; the base image cached, or built with --rebuild-base).
 */
async function dataplaneFigures() {
  if (dockerStatus().reason) {
    process.stdout.write(`\nLocal data plane: SKIPPED (${dockerStatus().reason})\n`);
    return { skipped: dockerStatus().reason };
  }
  if (bench.rebuildBase) {
    await run('docker', ['image', 'rm', baseImageTag(), BASE_ALIAS]);
    say(`removed ${baseImageTag()}: this run builds it`);
  }
  const local = async (/** @type {string[]} */ args, /** @type {string} */ out) => {
    const t0 = Date.now();
    const r = await run(process.execPath, [path.join(ROOT, 'scripts', 'local.mjs'), '--out', out, ...args], { cwd: ROOT, env: { ...process.env, AWS_ENDPOINT_URL: '' } });
    if (r.code !== 0) throw new Error(`npm run local ${args.join(' ')} exited ${r.code}:\n${(r.stdout + r.stderr).slice(-3000)}`);
    const base = /base image (\S+) (built in ([\d.]+) s|\(cached\))/.exec(r.stdout);
    return { wallMs: Date.now() - t0, out, base: base ? { built: Boolean(base[3]), seconds: base[3] ? Number(base[3]) : null } : null };
  };
  say('npm run local on the local data plane...');
  const dpOut = path.join(ROOT, '.work', 'bench', 'local-dataplane');
  const withPlane = await local(['--dataplane'], dpOut);
  say('npm run local --no-dataplane...');
  const without = await local(['--no-dataplane'], path.join(ROOT, '.work', 'bench', 'local-emulator'));
  const report = JSON.parse(fs.readFileSync(path.join(dpOut, 'report.json'), 'utf8'));
  const outputs = JSON.parse(fs.readFileSync(path.join(dpOut, 'outputs.json'), 'utf8'));
  const tasks = JSON.parse(fs.readFileSync(path.join(dpOut, 'dataplane-tasks.json'), 'utf8'));
  const floor = dataplaneFloor({ report, tasks, catalog: Object.values(outputs.service_catalog.value), migrationFamily: outputs.migration_task_family.value });
  process.stdout.write('\nLocal data plane (npm run local: every task a container; 2 cores):\n');
  process.stdout.write('| rollout (images step end -> smoke step end) | wall | floor (the tasks\' own time on the critical path) | wall / floor |\n| --- | ---: | ---: | ---: |\n');
  process.stdout.write(`| ${report.status}, ${tasks.length} tasks | ${fmt(floor.wallMs)} | ${fmt(floor.floorMs)} | ${floor.ratio.toFixed(2)} |\n`);
  for (const p of floor.parts) process.stdout.write(`  floor part: ${p.what}: ${fmt(p.ms)}\n`);
  const base = withPlane.base;
  process.stdout.write(`npm run local: ${fmt(withPlane.wallMs)} on the data plane, ${fmt(without.wallMs)} with --no-dataplane ` +
    `(the data plane adds ${fmt(withPlane.wallMs - without.wallMs)}; base image ${base?.built ? `built in ${base.seconds} s` : 'cached'}` +
    `${base?.built ? '' : '; --rebuild-base measures its build'})\n`);
  return { floor, localMs: withPlane.wallMs, emulatorOnlyMs: without.wallMs, base };
}

async function main() {
  const problems = checkPrereqs();
  if (problems.length) {
    process.stderr.write(`error: missing prerequisites for the benchmark:\n${formatPrereqs(problems)}\n`);
    return 2;
  }
  const awsCli = which('aws');
  fs.mkdirSync(path.join(ROOT, '.work', 'bench'), { recursive: true });
  const configPath = path.join(ROOT, DEFAULT_CONFIG_PATH);
  const { raw: config, config: normalized } = loadConfigFile(configPath);
  const region = normalized.region;
  const moto = await startMoto();
  const proxy = await startFaultProxy({ target: moto.endpoint, seed: 1 });
  try {
    say(`moto_server ${moto.endpoint}; counting and fault proxy ${proxy.endpoint}`);
    const synth = await synthFoundation({ outdir: path.join(ROOT, '.work', 'bench', 'cdktf.out'), configPath });
    say('applying the foundation on the emulator (about a minute)...');
    const applied = await applyFoundation({ endpoint: moto.endpoint, workdir: synth.stackDir, region, log: () => {} });
    const outputsFile = path.join(ROOT, '.work', 'bench', 'outputs.json');
    fs.writeFileSync(outputsFile, JSON.stringify(applied.outputs, null, 2));
    await setEcsTaskProgression(moto.endpoint);
    // what the database host and the operator would put there on AWS (the runner's preflight checks it)
    await seedEmulatorSecrets({ endpoint: moto.endpoint, region, outputs: applied.outputs });
    const env = withEmulatorEnv(proxy.endpoint, { region });
    proxy.take();

    /** @type {{ name: string, wallMs: number, calls: number|null, note: string }[]} */
    const rows = [];
    const a = await ours({ outputsFile, release: 'bench-runner', env });
    const aCalls = counted(proxy);
    rows.push({ name: 'runner: full rollout', wallMs: a.wallMs, calls: aCalls.total, note: `report status ${a.report.status}` });
    const r = await ours({ outputsFile, release: 'bench-runner', env });
    const rCalls = counted(proxy);
    rows.push({ name: 'runner: immediate rerun', wallMs: r.wallMs, calls: rCalls.total, note: `report status ${r.report.status}` });
    // day two: a second release, then the rollback to the first (no migration, reverse tiers), same catalog
    const n = await ours({ outputsFile, release: 'bench-runner-2', env });
    rows.push({ name: 'runner: next release (full rollout)', wallMs: n.wallMs, calls: counted(proxy).total, note: `report status ${n.report.status}` });
    const rb = await ours({ outputsFile, release: 'bench-runner', env, rollback: true });
    const rbCalls = counted(proxy);
    rows.push({ name: 'runner: rollback to the previous release', wallMs: rb.wallMs, calls: rbCalls.total, note: `report status ${rb.report.status}; ${JSON.stringify(rbCalls.byOperation)}` });
    let bCalls = null;
    if (awsCli) {
      const b = await baseline({ outputs: applied.outputs, release: 'bench-cli', env, config });
      bCalls = counted(proxy);
      rows.push({ name: 'AWS CLI baseline: full rollout', wallMs: b.wallMs, calls: bCalls.total, note: `${b.commands} aws commands, one after another` });
    } else {
      rows.push({ name: 'AWS CLI baseline', wallMs: NaN, calls: null, note: 'SKIPPED: aws CLI not on PATH (pip install awscli)' });
    }

    process.stdout.write('\nEmulator (moto_server 5, 2 cores): same foundation, same work, counted at one proxy\n');
    process.stdout.write('| run | wall | AWS API calls | note |\n| --- | ---: | ---: | --- |\n');
    for (const x of rows) process.stdout.write(`| ${x.name} | ${Number.isNaN(x.wallMs) ? '-' : fmt(x.wallMs)} | ${x.calls ?? '-'} | ${x.note} |\n`);
    const base = rows.find((x) => x.name.startsWith('AWS CLI baseline:'));
    if (base) {
      process.stdout.write(`\nratio baseline/runner: wall ${(base.wallMs / a.wallMs).toFixed(1)}x, calls ${((base.calls ?? 0) / aCalls.total).toFixed(2)}x\n`);
    }
    process.stdout.write(`runner calls by operation: ${JSON.stringify(aCalls.byOperation)}\n`);
    if (bCalls) process.stdout.write(`baseline calls by operation: ${JSON.stringify(bCalls.byOperation)}\n`);

    const faults = await measureFaults({
      proxy, faultFreeMs: a.wallMs, say,
      runner: (release) => ours({ outputsFile, release, env, check: false }),
    });
    process.stdout.write('\nUnder faults (the same proxy injects them; the runner with its default retry settings):\n');
    process.stdout.write(`${formatFaults(faults, fmt)}\n`);

    const m = modelCriticalPath(config);
    process.stdout.write(`\nModeled critical path of a real AWS rollout (${m.services} services; assumptions: task start ${m.assumptions.taskStartSeconds} s, ` +
      `migration ${m.assumptions.migrationRunSeconds} s; a re-release, so old targets drain):\n`);
    process.stdout.write('| rollout | health checks + draining | critical path |\n| --- | --- | ---: |\n');
    const hc = (/** @type {any} */ h) => `${h.healthyThreshold} x ${h.intervalSeconds} s, ${h.deregistrationDelaySeconds} s drain`;
    process.stdout.write(`| runner (tiers, parallel waves) | stack settings: ${hc(m.tuned)} | ${m.ours.seconds} s |\n`);
    process.stdout.write(`| runner (tiers, parallel waves) | AWS defaults: ${hc(m.awsDefaults)} | ${m.oursWithAwsDefaults.seconds} s |\n`);
    process.stdout.write(`| runner rollback (reverse tiers and waves, no migration) | stack settings: ${hc(m.tuned)} | ${m.rollback.seconds} s |\n`);
    process.stdout.write(`| CLI baseline (sequential, waiter polls) | stack settings | ${m.baselineTuned.seconds} s |\n`);
    process.stdout.write(`| CLI baseline (sequential, waiter polls) | AWS defaults | ${m.baselineWithAwsDefaults.seconds} s |\n`);
    const dp = await dataplaneFigures();
    const result = { date: new Date().toISOString(), rows, runnerCalls: aCalls, rerunCalls: rCalls, baselineCalls: bCalls, faults, model: m, dataplane: dp };
    fs.writeFileSync(path.join(ROOT, '.work', 'bench', 'results.json'), JSON.stringify(result, null, 2));
    say('results: .work/bench/results.json');
    return 0;
  } finally {
    await proxy.close();
    await moto.stop();
  }
}

const flags = readFlags(COMMAND, process.argv.slice(2), { prefix: 'error: ' });
/** @type {{ rebuildBase: boolean }} */
const bench = /** @type {any} */ ('options' in flags ? flags.options : { rebuildBase: false });
if ('exitCode' in flags) process.exitCode = flags.exitCode;
else main().then((c) => { process.exitCode = c; }, (e) => { process.stderr.write(`[bench] FAILED: ${e.stack ?? e}\n`); process.exitCode = 1; });
