// The rollout runner end to end against moto_server after the foundation's apply (shared harness:
// scripts/lib/jest-global-setup.mjs, docs/testing.md). Runs the real entry (`npx zx runner/rollout.mjs`) as a
// subprocess: a full rollout of the default catalog, then an immediate rerun of the same release, and checks
// the emulator's state with the SDK. images and smoke belong to other steps' suites and are skipped here
// with --skip. Wall time and AWS API calls of both runs are written to .work/it/runner-measurements.json.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { jest } from '@jest/globals';
import itEnv from '../../scripts/lib/it-env.cjs';
import { runRunner, ROOT } from '../support/runner-cli.mjs';
import { ECSClient, DescribeServicesCommand, DescribeTaskDefinitionCommand, ListTasksCommand, DescribeTasksCommand, ListTaskDefinitionsCommand } from '@aws-sdk/client-ecs';

const env = itEnv.requireFoundation('runner rollout');
const RELEASE = `it-${Date.now().toString(36)}`;
const itDir = process.env.STAGING_ROLLOUT_IT_DIR || path.join(ROOT, '.work/it');

/** The runner with a report file @returns {Promise<{ code: number, out: string, err: string, ms: number, report: any, byOp: Record<string, number> }>} */
async function runner(args, reportName) {
  const reportPath = path.join(itDir, reportName);
  const res = await runRunner([...args, '--report', reportPath]);
  let report = null;
  try { report = JSON.parse(readFileSync(reportPath, 'utf8')); } catch { /* asserted below */ }
  const m = /^AWS API calls by operation: (.*)$/m.exec(res.out);
  const byOp = Object.fromEntries((m ? m[1].split(' ') : []).map((kv) => { const [k, v] = kv.split('='); return [k, Number(v)]; }));
  return { ...res, report, byOp };
}

if (!env) {
  describe('runner rollout against the emulator', () => {
    test('SKIPPED: the integration environment is not available (skip record written by it-env)', () => {
      expect(itEnv.loadFoundation().status).not.toBe('applied');
    });
  });
} else {
  describe('runner rollout against the emulator', () => {
    jest.setTimeout(300_000);
    const outputs = Object.fromEntries(Object.entries(JSON.parse(readFileSync(env.outputsFile, 'utf8'))).map(([k, v]) => [k, v.value]));
    const catalog = Object.values(outputs.service_catalog);
    const enabled = catalog.filter((s) => s.enabled);
    const ecs = new ECSClient({ region: env.region });
    const args = ['--outputs', env.outputsFile, '--release', RELEASE, '--skip', 'images', '--skip', 'smoke', '--poll-interval', '0.2', '--service-timeout', '60', '--migration-timeout', '60'];
    const measured = {};
    let first;
    let revisionsAfterFirst;

    const revisions = async () => {
      const out = {};
      for (const fam of [...enabled.map((s) => s.task_family), outputs.migration_task_family]) {
        const r = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: fam }));
        out[fam] = (r.taskDefinitionArns ?? []).filter((a) => a.split('/').pop().replace(/:\d+$/, '') === fam).length;
      }
      return out;
    };

    test('a full rollout registers pinned revisions, runs the migration to STOPPED and updates the tiers in order', async () => {
      first = await runner(args, 'runner-first.json');
      measured.first = { wallMs: first.ms, awsCalls: first.report?.awsCalls, byOperation: first.byOp };
      expect(first.err).not.toMatch(/internal error/);
      expect({ code: first.code, failure: first.report?.failure ?? null }).toEqual({ code: 0, failure: null });
      const r = first.report;
      const step = (id) => r.steps.find((s) => s.id === id);
      expect(r.steps.map((s) => [s.id, s.status])).toEqual([
        ['preflight', 'passed'], ['images', 'skipped'], ['task-definitions', 'passed'], ['migration', 'passed'], ['tier:app', 'passed'], ['tier:workers', 'passed'], ['smoke', 'skipped'],
      ]);
      expect(r.awsCalls).toBeGreaterThan(0);

      // task definitions: one new revision per enabled family + migration, image pinned to the release
      expect(first.byOp['ecs.RegisterTaskDefinition']).toBe(enabled.length + 1);
      for (const s of enabled) {
        const svc = (await ecs.send(new DescribeServicesCommand({ cluster: outputs.cluster_name, services: [s.ecs_service_name] }))).services[0];
        expect(svc.desiredCount).toBe(s.desired_count);
        const td = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: svc.taskDefinition }))).taskDefinition;
        expect(td.family).toBe(s.task_family);
        expect(td.containerDefinitions.find((c) => c.name === s.container_name).image).toBe(`${outputs.repository_urls[s.image]}:${RELEASE}`);
        const reported = [...step('tier:app').services, ...step('tier:workers').services].find((x) => x.name === s.name);
        expect(reported).toMatchObject({ status: 'passed', taskDefinitionArn: svc.taskDefinition });
      }

      // migration task: started by this release, reached STOPPED with the configured command
      const list = await ecs.send(new ListTasksCommand({ cluster: outputs.cluster_name, startedBy: `rollout/${RELEASE}` }));
      // (the stack sets a container-level memoryReservation, which moto's RunTask needs; the release revision keeps it)
      expect(list.taskArns).toHaveLength(1);
      const task = (await ecs.send(new DescribeTasksCommand({ cluster: outputs.cluster_name, tasks: list.taskArns }))).tasks[0];
      expect(task.lastStatus).toBe('STOPPED');
      expect(task.launchType).toBe('FARGATE');
      expect(task.overrides.containerOverrides[0].command).toEqual(['alembic', 'upgrade', 'head']);
      expect(first.byOp['ecs.RunTask']).toBe(1);
      const migrationTd = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: task.taskDefinitionArn }))).taskDefinition;
      expect(migrationTd.containerDefinitions[0].memoryReservation).toBe(Number(migrationTd.memory));
      expect(step('migration').checks.find((c) => c.name === 'migration-exit-code')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^emulator: /) });

      // order: every app service finished before any worker started; the fetcher after anisette and the EFS gate
      const t = (s, k) => Date.parse(s[k]);
      const app = step('tier:app').services;
      const workers = step('tier:workers').services;
      const lastApp = Math.max(...app.map((s) => t(s, 'finishedAt')));
      for (const w of workers) expect(t(w, 'startedAt')).toBeGreaterThanOrEqual(lastApp);
      const anisette = workers.find((s) => s.name === 'anisette');
      const fetcher = workers.find((s) => s.name === 'tracker-fetcher-2');
      expect(t(fetcher, 'startedAt')).toBeGreaterThanOrEqual(t(anisette, 'finishedAt'));
      expect(step('tier:workers').checks.find((c) => c.name === 'efs-mount-targets')).toMatchObject({ status: 'passed' });
      expect(first.out.indexOf('tracker-fetcher-2: update started')).toBeGreaterThan(first.out.indexOf('/data ready'));

      // what the emulator cannot show is skipped with the reason, never passed
      const checks = r.steps.flatMap((s) => s.checks);
      for (const s of enabled.filter((x) => x.target_group_arn)) {
        expect(checks.find((c) => c.name === `${s.name}:targets`)).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^emulator: /) });
      }
      for (const s of enabled) {
        expect(checks.find((c) => c.name === `${s.name}:running`)).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^emulator: containers never run/) });
        expect(checks.find((c) => c.name === `${s.name}:rollout`)).toMatchObject({ status: 'skipped' });
      }
      expect(checks.filter((c) => c.status === 'passed').map((c) => c.name)).toEqual(['efs-mount-targets']);
      revisionsAfterFirst = await revisions();
    });

    test('an immediate rerun of the same release changes nothing', async () => {
      expect(first?.code).toBe(0);
      const again = await runner(args, 'runner-rerun.json');
      measured.rerun = { wallMs: again.ms, awsCalls: again.report?.awsCalls, byOperation: again.byOp };
      expect({ code: again.code, failure: again.report?.failure ?? null }).toEqual({ code: 0, failure: null });
      for (const op of ['ecs.RegisterTaskDefinition', 'ecs.RunTask', 'ecs.UpdateService']) expect(again.byOp[op] ?? 0).toBe(0);
      expect(await revisions()).toEqual(revisionsAfterFirst);
      const step = (id) => again.report.steps.find((s) => s.id === id);
      const list = await ecs.send(new ListTasksCommand({ cluster: outputs.cluster_name, startedBy: `rollout/${RELEASE}` }));
      expect((list.taskArns ?? []).length).toBe(1);
      expect(step('migration')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(new RegExp(`^migration for release ${RELEASE} already succeeded`)) });
      for (const s of [...step('tier:app').services, ...step('tier:workers').services]) expect(s.status).toBe(enabled.some((e) => e.name === s.name) ? 'unchanged' : 'skipped');
      expect(again.report.awsCalls).toBeLessThan(first.report.awsCalls);
    });

    afterAll(() => {
      mkdirSync(itDir, { recursive: true });
      const file = path.join(itDir, 'runner-measurements.json');
      writeFileSync(file, `${JSON.stringify({ release: RELEASE, services: enabled.length, ...measured }, null, 2)}\n`);
      process.stdout.write(`[runner it] measurements (${file}): ${JSON.stringify({ first: measured.first && { wallMs: measured.first.wallMs, awsCalls: measured.first.awsCalls }, rerun: measured.rerun && { wallMs: measured.rerun.wallMs, awsCalls: measured.rerun.awsCalls } })}\n`);
    });
  });
}
