// `npm run local` end to end (issue 6): the real command, on its own moto_server and foundation apply, through
// every runner step. It must pass every step it did not skip, and its report must list EXACTLY the checks
// below as skipped: the ones no emulator can answer. Anything else skipped, or any of these passed, fails.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import { createRequire } from 'node:module';
import { checkPrereqs } from '../../scripts/lib/terraform.mjs';
import { dockerStatus } from '../../scripts/lib/docker.mjs';

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

const dockerUsable = () => dockerStatus().reason === null;

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
  describe('npm run local', () => {
    jest.setTimeout(600_000);
    let run;
    let report;
    const withDocker = dockerUsable();

    beforeAll(async () => {
      run = await runLocal(['--out', OUT]);
      report = JSON.parse(fs.readFileSync(path.join(OUT, 'report.json'), 'utf8'));
    });

    test('exits 0 with every step it did not skip passed', () => {
      expect({ code: run.code, tail: run.code === 0 ? '' : run.out.slice(-3000) }).toEqual({ code: 0, tail: '' });
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
      // the images step skips convenience tags on immutable repositories: expected, and not an emulator gap
      const emulatorSkips = skipped.filter((c) => !c.id.startsWith('images '));
      expect(emulatorSkips.map((c) => c.id).sort()).toEqual(EXPECTED_EMULATOR_SKIPS);
      for (const c of skipped) expect([c.id, c.reason]).toEqual([c.id, expect.stringMatching(/\S{3,}/)]);
      for (const c of skipped.filter((x) => x.id.startsWith('images '))) expect(c.reason).toMatch(/immutable/i);
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
