// `npm run local` end to end (issue 6): the real command, on its own moto_server and foundation apply, through
// every runner step. It must pass every step it did not skip, and its report must list EXACTLY the checks
// below as skipped: the ones no emulator can answer. Anything else skipped, or any of these passed, fails.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import { createRequire } from 'node:module';
import { checkPrereqs } from '../../scripts/lib/terraform.mjs';
import { dockerStatus } from '../../scripts/lib/docker.mjs';
import { appVariant } from '../support/app-variants.mjs';

const require = createRequire(import.meta.url);
const { recordSkip } = require('../../scripts/lib/skips.cjs');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(ROOT, '.work', 'it', 'local-e2e');
const strict = process.env.CI === 'true' || process.env.STAGING_ROLLOUT_REQUIRE_INTEGRATION === '1';

const WEB = ['admin', 'api', 'frontend'];
const WORKERS = ['anisette', 'materialized-view-service', 'notification-service', 'tracker-fetcher-2', 'unified-geofence'];
/** The checks an emulator cannot answer, by step (runner/lib/emulator.mjs gives each one's reason). */
const EXPECTED_EMULATOR_SKIPS = [
  'migration migration-exit-code',
  'migration migration-logs',
  ...WEB.flatMap((s) => [`tier:app ${s}:rollout`, `tier:app ${s}:running`, `tier:app ${s}:targets`]),
  ...WORKERS.flatMap((s) => [`tier:workers ${s}:rollout`, `tier:workers ${s}:running`]),
  ...['api-health', 'database', 'fetcher-anisette', 'login', 'logs', 'target-groups', 'workers'].map((c) => `smoke ${c}`),
].sort();

const gitRelease = () => spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() || 'local';
const dockerUsable = () => dockerStatus().reason === null;

/**
 * `npm run local --keep` until its handoff: resolves with the output so far and the variables it printed (or
 * with the exit code if it ended first); stop() sends Ctrl-C and resolves with the exit code and all output.
 * @param {string[]} args
 */
function keepLocal(args) {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'local.mjs'), ...args, '--keep'], { cwd: ROOT, env: { ...process.env, AWS_ENDPOINT_URL: '' } });
  let out = '';
  const exited = new Promise((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const ready = new Promise((resolve) => {
    const onData = (d) => {
      out += d;
      if (/^In another shell:$/m.test(out) && /npx zx runner\/rollout\.mjs status/.test(out)) resolve({ kept: true });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then((code) => resolve({ kept: false, code }));
  });
  return {
    // as a shell would export them: "$PATH" (the data plane's plugin directory goes first) is this process's PATH
    ready: ready.then((r) => ({ ...r, out, env: Object.fromEntries([...out.matchAll(/^ {2}export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2].replace(/\$PATH$/, process.env.PATH ?? '')])) })),
    stop: async () => { child.kill('SIGINT'); const code = await exited; return { code, out }; },
  };
}

/** @returns {Promise<{ code: number, out: string }>} */
function runLocal(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'local.mjs'), ...args], { cwd: ROOT, env: { ...process.env, AWS_ENDPOINT_URL: '' } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

const portOpen = (port) => new Promise((resolve) => {
  const s = net.connect(port, '127.0.0.1');
  s.on('connect', () => { s.destroy(); resolve(true); });
  s.on('error', () => resolve(false));
});

const problems = checkPrereqs();
if (problems.length) {
  describe('npm run local', () => {
    test('SKIPPED: prerequisites missing (recorded with the reason)', () => {
      if (strict) throw new Error(`prerequisites missing on CI: ${problems.map((p) => p.problem).join('; ')}`);
      recordSkip({ suite: 'npm run local', reason: `missing prerequisites: ${problems.map((p) => p.problem).join('; ')}` });
      expect(problems.length).toBeGreaterThan(0);
    });
  });
} else {
  // the default: the local data plane wherever Docker can run (every task a container, every check performed)
  describe('npm run local (the local data plane)', () => {
    jest.setTimeout(900_000);
    let run;
    let report;
    const withDocker = dockerUsable();
    const DP = `${OUT}-dataplane`; // not inside OUT: the emulator-only run below empties OUT

    let kept;
    let stopped;
    const scratch = path.join(OUT, 'variants');
    /** the runner against the kept environment, as its handoff says */
    const runner = (args) => new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'runner', 'rollout.mjs'), ...args], { cwd: ROOT, env: { ...process.env, ...kept.env, GITHUB_STEP_SUMMARY: '' } });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { out += d; });
      child.on('close', (code) => resolve({ code: code ?? -1, out }));
    });
    const outputs = path.join(DP, 'outputs.json');
    const reportOf = (name) => JSON.parse(fs.readFileSync(path.join(scratch, `${name}.json`), 'utf8'));
    const release = (name, config, extra = []) => runner(['--outputs', outputs, '--config', config, '--release', name, '--poll-interval', '0.5', '--report', path.join(scratch, `${name}.json`), ...extra]);

    beforeAll(async () => {
      if (!withDocker) return;
      fs.rmSync(scratch, { recursive: true, force: true });
      fs.mkdirSync(scratch, { recursive: true });
      const local = keepLocal(['--out', DP]);
      kept = await local.ready;
      kept.stop = local.stop;
      run = { code: kept.kept ? Number(/finished in .* with exit code (\d+)/.exec(kept.out)?.[1] ?? -1) : kept.code, out: kept.out };
      // no report: the run ended before its rollout; its own output says why
      if (!fs.existsSync(path.join(DP, 'report.json'))) throw new Error(`npm run local --keep ended without a report (exit ${kept.code ?? '?'}):\n${kept.out.slice(-6000)}`);
      report = JSON.parse(fs.readFileSync(path.join(DP, 'report.json'), 'utf8'));
    });

    afterAll(async () => {
      if (kept?.stop && !stopped) stopped = await kept.stop();
    });

    test('exits 0 with every step and every smoke check passed for real, none skipped', () => {
      if (!withDocker) {
        if (strict) throw new Error('CI must run the data plane: Docker is not usable here');
        recordSkip({ suite: 'npm run local (the local data plane)', reason: 'Docker is not usable on this machine' });
        return;
      }
      expect({ code: run.code, tail: run.code === 0 ? '' : run.out.slice(-4000) }).toEqual({ code: 0, tail: '' });
      expect(run.out).toMatch(/on the local data plane/);
      expect(report.status).toBe('passed');
      expect(report.steps.map((s) => [s.id, s.status])).toEqual(
        ['preflight', 'images', 'task-definitions', 'migration', 'tier:app', 'tier:workers', 'smoke'].map((id) => [id, 'passed']));
      const checks = report.steps.flatMap((s) => s.checks.map((c) => ({ id: `${s.id} ${c.name}`, status: c.status, reason: c.reason })));
      expect(checks.filter((c) => c.status !== 'passed')).toEqual([]);
      const smoke = report.steps.find((s) => s.id === 'smoke').checks.map((c) => c.name).sort();
      expect(smoke).toEqual(['api-health', 'database', 'fetcher-anisette', 'login', 'logs', 'target-groups', 'workers']);
      // the checks the emulator alone cannot answer are all performed here
      for (const id of EXPECTED_EMULATOR_SKIPS) expect([id, checks.find((c) => c.id === id)?.status]).toEqual([id, 'passed']);
      // what one machine cannot prove is named once, not counted as a check
      expect(report.dataplane.notProvable.map((n) => n.name)).toEqual(expect.arrayContaining(['task-iam', 'alb-tls', 'efs']));
      const summary = fs.readFileSync(path.join(DP, 'summary.md'), 'utf8');
      expect(summary).toMatch(/Not provable locally/);
    });

    test('the migration ran alembic for real and the smoke user logged in through the local ALB', () => {
      if (!withDocker) return;
      const smoke = report.steps.find((s) => s.id === 'smoke');
      expect(smoke.checks.find((c) => c.name === 'database').evidence).toMatch(/\(head\)/);
      expect(smoke.checks.find((c) => c.name === 'login').evidence).toMatch(/HTTP 200/);
      expect(run.out).toMatch(/smoke user created/);
    });

    test('logs api shows the api\'s real lines, each with its task id; wait returns 0 on the settled environment', async () => {
      if (!withDocker) return;
      const inputs = ['--outputs', outputs, '--config', path.join(ROOT, 'config', 'local.json')];
      const [logs, wait] = await Promise.all([runner(['logs', 'api', '--since', '1h', ...inputs]), runner(['wait', '--timeout', '30', '--poll-interval', '0.5', ...inputs])]);
      expect({ code: logs.code, tail: logs.code === 0 ? '' : logs.out.slice(-3000) }).toEqual({ code: 0, tail: '' });
      // the api's running task, as ECS (the data plane) knows it
      const { ECSClient, ListTasksCommand } = await import('@aws-sdk/client-ecs');
      const o = JSON.parse(fs.readFileSync(outputs, 'utf8'));
      const ecs = new ECSClient({ region: kept.env.AWS_REGION, endpoint: kept.env.AWS_ENDPOINT_URL, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      const arns = (await ecs.send(new ListTasksCommand({ cluster: o.cluster_name.value, serviceName: o.service_catalog.value.api.ecs_service_name, desiredStatus: 'RUNNING' }))).taskArns ?? [];
      ecs.destroy();
      const ids = arns.map((a) => a.split('/').pop());
      expect(ids.length).toBeGreaterThan(0);
      const lines = logs.out.split('\n').map((l) => /^(\d{4}-\d\d-\d\dT[\d:.]+Z) (\S+) (.*)$/.exec(l)).filter(Boolean);
      // what the example api prints at start and for each request (the smoke suite's health checks through the ALB)
      const started = lines.filter((m) => /^api listening on \d+$/.test(m[3]));
      expect(started.map((m) => m[2])).toEqual(expect.arrayContaining(ids));
      expect(lines.some((m) => ids.includes(m[2]) && /^api: \S+ "GET \/health HTTP\/1\.1" 200/.test(m[3]))).toBe(true);
      const times = lines.map((m) => m[1]);
      expect(times).toEqual([...times].sort());
      expect({ code: wait.code, tail: wait.code === 0 ? '' : wait.out.slice(-3000) }).toEqual({ code: 0, tail: '' });
      expect(wait.out).toMatch(/^OK \(exit 0\): every enabled service \(\d+\) is stable; /m);
      expect(wait.out).not.toMatch(/emulator/);
    });

    // the ECS view through the kept environment's endpoint (the proxy)
    const ecsView = async () => {
      const { ECSClient, DescribeServicesCommand } = await import('@aws-sdk/client-ecs');
      const o = JSON.parse(fs.readFileSync(outputs, 'utf8'));
      const ecs = new ECSClient({ region: kept.env.AWS_REGION, endpoint: kept.env.AWS_ENDPOINT_URL, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      const names = Object.values(o.service_catalog.value).filter((e) => e.enabled).map((e) => e.ecs_service_name);
      const services = [];
      for (let i = 0; i < names.length; i += 10) services.push(...((await ecs.send(new DescribeServicesCommand({ cluster: o.cluster_name.value, services: names.slice(i, i + 10) }))).services ?? []));
      ecs.destroy();
      return Object.fromEntries(services.map((x) => [x.serviceName, x.taskDefinition]));
    };

    test('a migration that really fails: exit 1 with its exit code and last log lines, no service touched', async () => {
      if (!withDocker) return;
      const before = await ecsView();
      const r = await release('bad-migration', appVariant('failing-migration', scratch).config);
      expect({ code: r.code, tail: r.code === 1 ? '' : r.out.slice(-3000) }).toEqual({ code: 1, tail: '' });
      const rep = reportOf('bad-migration');
      const mig = rep.steps.find((x) => x.id === 'migration');
      expect(mig.status).toBe('failed');
      expect(mig.reason).toMatch(/exit(ed)?( with)? code [1-9]/);
      expect(JSON.stringify(mig)).toMatch(/this revision fails on purpose/);
      for (const id of ['tier:app', 'tier:workers', 'smoke']) expect([id, rep.steps.find((x) => x.id === id)?.status ?? 'not-run']).not.toEqual([id, 'passed']);
      expect(await ecsView()).toEqual(before);
    });

    test('an api that exits at start: the circuit breaker trips, exit 1 naming api, no worker touched', async () => {
      if (!withDocker) return;
      const before = await ecsView();
      const r = await release('api-exits', appVariant('exits-at-start', scratch).config);
      expect({ code: r.code, tail: r.code === 1 ? '' : r.out.slice(-3000) }).toEqual({ code: 1, tail: '' });
      const rep = reportOf('api-exits');
      const app = rep.steps.find((x) => x.id === 'tier:app');
      expect(app.status).toBe('failed');
      expect(rep.failure).toMatchObject({ step: 'tier:app', service: 'api' });
      expect(app.reason).toMatch(/circuit breaker|FAILED|keep stopping/);
      expect(JSON.stringify(app)).toMatch(/exit 1|Essential container in task exited/);
      const after = await ecsView();
      const o = JSON.parse(fs.readFileSync(outputs, 'utf8'));
      for (const e of Object.values(o.service_catalog.value).filter((x) => x.enabled && x.tier === 'workers')) expect([e.name, after[e.ecs_service_name]]).toEqual([e.name, before[e.ecs_service_name]]);
      // ECS rolled the api back by itself: its old revision serves again
      const api = Object.values(o.service_catalog.value).find((x) => x.name === 'api');
      expect(after[api.ecs_service_name]).toBe(before[api.ecs_service_name]);
    });

    test('an api whose health path answers 500: its targets turn unhealthy, exit 1 naming api and its target', async () => {
      if (!withDocker) return;
      const r = await release('api-500', appVariant('health-500', scratch).config);
      expect({ code: r.code, tail: r.code === 1 ? '' : r.out.slice(-3000) }).toEqual({ code: 1, tail: '' });
      const rep = reportOf('api-500');
      expect(rep.failure).toMatchObject({ step: 'tier:app', service: 'api' });
      const app = JSON.stringify(rep.steps.find((x) => x.id === 'tier:app'));
      // what ELB saw (the code) and what ECS did about it (the task it stopped)
      expect(app).toMatch(/Health checks failed with these codes: \[500\]|failed ELB health checks/);
    });

    test('rollback after the bad release: every service back on the good release, the app answers, status shows it', async () => {
      if (!withDocker) return;
      const r = await runner(['rollback', '--outputs', outputs, '--config', path.join(ROOT, 'config', 'local.json'), '--to', gitRelease(), '--poll-interval', '0.5']);
      expect({ code: r.code, tail: r.code === 0 ? '' : r.out.slice(-3000) }).toEqual({ code: 0, tail: '' });
      const res = await fetch(`${JSON.parse(fs.readFileSync(outputs, 'utf8')).alb_url.value}/health`);
      expect([res.status, await res.text()]).toEqual([200, 'ok']);
      const st = await runner(['status', '--outputs', outputs, '--config', path.join(ROOT, 'config', 'local.json')]);
      expect(st.out).toContain(gitRelease());
    });

    test('the rerun of the good release passes and does not migrate again', async () => {
      if (!withDocker) return;
      const r = await release(gitRelease(), path.join(ROOT, 'config', 'local.json'));
      expect({ code: r.code, tail: r.code === 0 ? '' : r.out.slice(-3000) }).toEqual({ code: 0, tail: '' });
      const mig = reportOf(gitRelease()).steps.find((x) => x.id === 'migration');
      expect(mig.status).not.toBe('passed');
      expect(mig.reason ?? '').toMatch(/already/);
    });

    test('diff: nothing for the release that runs; for the 500 release, the api image in exactly the services that use it', async () => {
      if (!withDocker) return;
      const local = path.join(ROOT, 'config', 'local.json');
      const same = await runner(['diff', '--outputs', outputs, '--config', local, '--release', gitRelease(), '--json']);
      expect({ code: same.code, tail: same.code === 0 ? '' : same.out.slice(-3000) }).toEqual({ code: 0, tail: '' });
      const variant = appVariant('health-500', scratch).config;
      const other = await runner(['diff', '--outputs', outputs, '--config', variant, '--release', 'api-500', '--json']);
      expect({ code: other.code, tail: other.code === 1 ? '' : other.out.slice(-3000) }).toEqual({ code: 1, tail: '' });
      const report = JSON.parse(other.out.slice(other.out.indexOf('{\n')));
      const o = JSON.parse(fs.readFileSync(outputs, 'utf8'));
      const usesApi = Object.values(o.service_catalog.value).filter((e) => e.enabled && e.image === 'api').map((e) => e.name).sort();
      expect(report.services.filter((x) => x.status === 'changed').map((x) => x.name).sort()).toEqual(usesApi);
      for (const x of report.services.filter((y) => y.status === 'changed')) expect([x.name, x.changes.map((c) => c.field), x.desiredCount]).toEqual([x.name, ['image'], null]);
    });

    test('run: a one-off command exits with its code and prints its output; exec: ECS Exec into a running api task', async () => {
      if (!withDocker) return;
      const inputs = ['--outputs', outputs, '--config', path.join(ROOT, 'config', 'local.json')];
      const r = await runner(['run', 'api', ...inputs, '--poll-interval', '0.5', '--', 'python3', '-c', "import sys; print('hi'); sys.exit(3)"]);
      expect({ code: r.code, hi: r.out.split('\n').includes('hi'), tail: r.code === 3 ? '' : r.out.slice(-3000) }).toEqual({ code: 3, hi: true, tail: '' });
      expect(r.out).toMatch(/error: run api container api exited with code 3/);
      const port = JSON.parse(fs.readFileSync(outputs, 'utf8')).service_catalog.value.api.port;
      const e = await runner(['exec', 'api', ...inputs, '--', 'printenv', 'PORT']);
      expect({ code: e.code, port: e.out.split('\n').includes(String(port)), tail: e.code === 0 ? '' : e.out.slice(-3000) }).toEqual({ code: 0, port: true, tail: '' });
    });

    test('Ctrl-C stops everything it started: emulator, registry, containers, network, local ALB', async () => {
      if (!withDocker) return;
      stopped = await kept.stop();
      expect(stopped.code).toBe(0);
      const port = Number(/moto_server on http:\/\/127\.0\.0\.1:(\d+)/.exec(run.out)?.[1]);
      expect(await portOpen(port)).toBe(false);
      const alb = /local ALB on http:\/\/127\.0\.0\.1:(\d+)/.exec(run.out)?.[1];
      expect(Number(alb)).toBeGreaterThan(0);
      expect(await portOpen(Number(alb))).toBe(false);
      const left = spawnSync('docker', ['ps', '-aq', '--filter', 'label=staging-rollout.dataplane=1'], { encoding: 'utf8' });
      expect(left.stdout.trim()).toBe('');
      const nets = spawnSync('docker', ['network', 'ls', '-q', '--filter', 'label=staging-rollout.dataplane=1'], { encoding: 'utf8' });
      expect(nets.stdout.trim()).toBe('');
    });
  });

  // without the data plane (--no-dataplane, or no Docker): the emulator alone, and it says what it cannot check
  describe('npm run local --no-dataplane (emulator only)', () => {
    jest.setTimeout(600_000);
    let run;
    let report;
    const withDocker = dockerUsable();

    beforeAll(async () => {
      run = await runLocal(['--out', OUT, '--no-dataplane']);
      report = JSON.parse(fs.readFileSync(path.join(OUT, 'report.json'), 'utf8'));
    });

    test('exits 0 with every step it did not skip passed', () => {
      expect({ code: run.code, tail: run.code === 0 ? '' : run.out.slice(-3000) }).toEqual({ code: 0, tail: '' });
      expect(run.out).toMatch(/emulator only \(no task runs; checks that need one are skipped\): disabled with --no-dataplane/);
      expect(report.status).toBe('passed');
      const byId = Object.fromEntries(report.steps.map((s) => [s.id, s]));
      expect(Object.keys(byId)).toEqual(['preflight', 'images', 'task-definitions', 'migration', 'tier:app', 'tier:workers', 'smoke']);
      for (const id of ['preflight', 'task-definitions', 'migration', 'tier:app', 'tier:workers']) expect([id, byId[id].status]).toEqual([id, 'passed']);
      // every smoke check is one the emulator cannot answer, so the suite proved nothing and says so
      expect(byId.smoke.status).toBe('skipped');
      expect(byId.smoke.reason).toMatch(/nothing was proven/);
      if (withDocker) {
        expect(byId.images.status).toBe('passed');
        for (const key of ['api', 'frontend', 'admin', 'anisette']) {
          expect(report.images[key]).toMatchObject({ status: 'pushed', digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
        }
      } else {
        if (strict) throw new Error('CI must run the images step: Docker is not usable here');
        expect(byId.images.status).toBe('skipped');
        expect(byId.images.reason).toMatch(/docker/i);
        recordSkip({ suite: 'npm run local', test: 'images', reason: 'Docker is not usable on this machine' });
      }
    });

    test('the skipped checks are exactly the ones no emulator can answer, each with its reason', () => {
      const skipped = report.steps.flatMap((s) => s.checks.filter((c) => c.status === 'skipped').map((c) => ({ id: `${s.id} ${c.name}`, reason: c.reason })));
      expect(skipped.map((c) => c.id).sort()).toEqual(EXPECTED_EMULATOR_SKIPS);
      for (const c of skipped) expect([c.id, c.reason]).toEqual([c.id, expect.stringMatching(/\S{3,}/)]);
      // nothing skipped is also counted as passed anywhere
      const passed = new Set(report.steps.flatMap((s) => s.checks.filter((c) => c.status === 'passed').map((c) => `${s.id} ${c.name}`)));
      for (const c of skipped) expect(passed.has(c.id)).toBe(false);
    });

    test('the summary and the timeline are written, and the summary names every skipped smoke check', () => {
      const summary = fs.readFileSync(path.join(OUT, 'summary.md'), 'utf8');
      for (const c of ['api-health', 'login', 'database', 'workers', 'fetcher-anisette', 'logs', 'target-groups']) expect(summary).toContain(c);
      expect(summary).toMatch(/skipped/i);
      const svg = fs.readFileSync(path.join(OUT, 'report.timeline.svg'), 'utf8');
      expect(svg.startsWith('<?xml') || svg.startsWith('<svg')).toBe(true);
      for (const s of [...WEB, ...WORKERS]) expect(svg).toContain(s);
    });

    test('everything it started is stopped', async () => {
      const port = Number(/moto_server on http:\/\/127\.0\.0\.1:(\d+)/.exec(run.out)?.[1]);
      expect(port).toBeGreaterThan(0);
      expect(await portOpen(port)).toBe(false);
      const reg = /registry on 127\.0\.0\.1:(\d+)/.exec(run.out)?.[1];
      if (reg) expect(await portOpen(Number(reg))).toBe(false);
    });

    test('missing prerequisites: exit 2 naming each one and how to install it, nothing started', async () => {
      const r = await new Promise((resolve) => {
        const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'local.mjs'), '--out', path.join(OUT, 'noprereq')], {
          cwd: ROOT, env: { ...process.env, PATH: path.dirname(process.execPath), STAGING_ROLLOUT_TF_MIRROR: '/nonexistent' },
        });
        let out = '';
        child.stdout.on('data', (d) => { out += d; });
        child.stderr.on('data', (d) => { out += d; });
        child.on('close', (code) => resolve({ code, out }));
      });
      expect(r.code).toBe(2);
      expect(r.out).toMatch(/terraform/);
      expect(r.out).toMatch(/moto_server/);
      expect(r.out).toMatch(/how to install/);
      expect(r.out).not.toMatch(/moto_server on http/);
    });
  });
}
