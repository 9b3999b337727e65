// Day two against moto_server after the foundation's apply (shared harness: scripts/lib/jest-global-setup.mjs):
// two rollouts through the real entry (`npx zx runner/rollout.mjs`), then `history` and `status` as subprocesses,
// and drift made directly with the SDK. The ledger is the emulator's SSM Parameter Store, shared with the other
// suites of the run (so the assertions look at this suite's own releases, not at the ledger's length).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import itEnv from '../../scripts/lib/it-env.cjs';
import { runRunner, ROOT } from '../support/runner-cli.mjs';
import configLib from '../../lib/config/index.cjs';
import { ECSClient, DescribeServicesCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { SSMClient, GetParametersByPathCommand, DeleteParametersCommand } from '@aws-sdk/client-ssm';

const env = itEnv.requireFoundation('day two: status and history');
const STAMP = Date.now().toString(36);
const R1 = `d2-r1-${STAMP}`;
const R2 = `d2-r2-${STAMP}`;

const cli = (/** @type {string[]} */ args) => runRunner(args);

if (!env) {
  describe('day two against the emulator', () => {
    test('SKIPPED: the integration environment is not available (skip record written by it-env)', () => {
      expect(itEnv.loadFoundation().status).not.toBe('applied');
    });
  });
} else {
  const outputs = Object.fromEntries(Object.entries(JSON.parse(readFileSync(env.outputsFile, 'utf8'))).map(([k, v]) => [k, v.value]));
  const enabled = Object.values(outputs.service_catalog).filter((s) => s.enabled);
  const ecs = new ECSClient({ region: env.region });
  const inputs = ['--outputs', env.outputsFile];
  const rolloutArgs = (release) => [...inputs, '--release', release, '--skip', 'images', '--skip', 'smoke', '--poll-interval', '0.2', '--service-timeout', '60', '--migration-timeout', '60'];
  const serviceTd = async (s) => (await ecs.send(new DescribeServicesCommand({ cluster: outputs.cluster_name, services: [s.ecs_service_name] }))).services[0].taskDefinition;

  describe('day two against the emulator: ledger, history, status', () => {
    jest.setTimeout(300_000);
    /** @type {any} */
    let entries;

    test('two rollouts are recorded; history shows both, newest first', async () => {
      for (const r of [R1, R2]) {
        const res = await cli(rolloutArgs(r));
        expect(res.err).not.toMatch(/internal error|ledger/);
        expect(res.code).toBe(0);
        expect(res.out).toMatch(new RegExp(`^ledger: \\S+-rollout-${r} recorded as passed$`, 'm'));
      }
      const history = await cli(['history', ...inputs, '-n', '5', '--json']);
      expect(history.code).toBe(0);
      entries = JSON.parse(history.out).entries;
      expect(entries.slice(0, 2).map((e) => [e.release, e.kind, e.outcome])).toEqual([[R2, 'rollout', 'passed'], [R1, 'rollout', 'passed']]);
      for (const e of entries.slice(0, 2)) {
        expect(Object.keys(e.taskDefinitions).sort()).toEqual(enabled.map((s) => s.name).sort());
        expect(e.migration).toMatchObject({ status: 'passed' });
      }
      // what the ledger says is what ECS runs
      for (const s of enabled) expect(await serviceTd(s)).toBe(entries[0].taskDefinitions[s.name]);
      const table = await cli(['history', ...inputs]);
      expect(table.code).toBe(0);
      expect(table.out.indexOf(`-rollout-${R2}`)).toBeLessThan(table.out.indexOf(`-rollout-${R1}`));
    });

    test('status: every enabled service runs r2, exit 0; target health is not checkable on the emulator', async () => {
      const res = await cli(['status', ...inputs, '--json']);
      expect(res.err).toBe('');
      const r = JSON.parse(res.out);
      expect({ code: res.code, drift: r.drift, last: r.lastSuccessful?.release }).toEqual({ code: 0, drift: [], last: R2 });
      for (const s of r.services.filter((x) => x.enabled)) expect(s).toMatchObject({ release: R2, matches: true });
      for (const s of r.services.filter((x) => x.enabled && outputs.service_catalog[x.name].target_group_arn)) expect(s.targets.state).toBe('not-checkable');
      // 8 services: one DescribeServices, no DescribeTaskDefinition, no DescribeTargetHealth (emulator), one GetParameter
      // of the environment's lock, plus the ledger read, 10 entries a page; moto returns a NextToken after every full
      // page, so n entries take floor(n/10)+1 pages
      const all = JSON.parse((await cli(['history', ...inputs, '-n', '100000', '--json'])).out).entries;
      expect(r.lock).toBeNull();
      expect(r.awsCalls).toBe(1 + 1 + Math.floor(all.length / 10) + 1);
      const table = await cli(['status', ...inputs]);
      expect(table.code).toBe(0);
      expect(table.out).toContain(`last successful release: ${R2}`);
    });

    test('drift: one service set back to r1 with UpdateService directly: status exits 1 naming it', async () => {
      const api = enabled.find((s) => s.name === 'api') ?? enabled[0];
      const r1Td = entries[1].taskDefinitions[api.name];
      await ecs.send(new UpdateServiceCommand({ cluster: outputs.cluster_name, service: api.ecs_service_name, taskDefinition: r1Td }));
      const res = await cli(['status', ...inputs, '--json']);
      expect(res.code).toBe(1);
      const r = JSON.parse(res.out);
      expect(r.drift).toEqual([api.name]);
      expect(r.services.find((s) => s.name === api.name)).toMatchObject({ release: R1, matches: false });
      const table = await cli(['status', ...inputs]);
      expect(table.code).toBe(1);
      expect(table.out).toContain(`! ${api.name}: runs ${r1Td.split('/').pop()} (release ${R1}) instead of ${entries[0].taskDefinitions[api.name].split('/').pop()} (release ${R2})`);
      // leave the stack as the ledger says (other suites may run after this one)
      await ecs.send(new UpdateServiceCommand({ cluster: outputs.cluster_name, service: api.ecs_service_name, taskDefinition: entries[0].taskDefinitions[api.name] }));
      expect((await cli(['status', ...inputs])).code).toBe(0);
    });
  });

  // ---- rollback (issue 13 item 4): the rollback verb's integration cases go in this block ---------------------
  // r1, r2, rollback -> every service back on r1's revisions (DescribeServices), history shows the rollback,
  // status exits 0; a second rollback with no earlier successful release is refused (exit 2).
  describe('day two against the emulator: rollback', () => {
    jest.setTimeout(300_000);
    const B1 = `d2-b1-${STAMP}`;
    const B2 = `d2-b2-${STAMP}`;
    /** @type {Record<string, string>} */
    const onB1 = {};

    // the ledger is shared with the suites that ran before: start this block from an empty one, so that "no
    // successful release before B1" is true (the other suites do not read the ledger)
    beforeAll(async () => {
      const ssm = new SSMClient({ region: env.region });
      const prefix = `/${configLib.loadConfigFile(configLib.DEFAULT_CONFIG_PATH, { cwd: ROOT }).config.namePrefix}/releases`;
      // read every page first: deleting while paging by token would skip entries
      const names = [];
      let token;
      do {
        const page = await ssm.send(new GetParametersByPathCommand({ Path: prefix, NextToken: token }));
        names.push(...(page.Parameters ?? []).map((x) => /** @type {string} */ (x.Name)));
        token = page.NextToken;
      } while (token);
      for (let i = 0; i < names.length; i += 10) await ssm.send(new DeleteParametersCommand({ Names: names.slice(i, i + 10) }));
      const left = await ssm.send(new GetParametersByPathCommand({ Path: prefix }));
      expect(left.Parameters ?? []).toEqual([]);
    });

    test('b1, b2, rollback: every service back on b1\'s revisions, no migration run, history shows it, status exits 0', async () => {
      expect((await cli(rolloutArgs(B1))).code).toBe(0);
      for (const s of enabled) onB1[s.name] = await serviceTd(s);
      expect((await cli(rolloutArgs(B2))).code).toBe(0);
      for (const s of enabled) expect(await serviceTd(s)).not.toBe(onB1[s.name]);

      const res = await cli(['rollback', ...inputs, '--poll-interval', '0.2', '--service-timeout', '60', '--report', path.join(os.tmpdir(), `staging-rollout-rollback-${STAMP}.json`)]);
      expect({ code: res.code, err: res.err.replace(/^warning: .*\n?/gm, '') }).toEqual({ code: 0, err: '' });
      const report = JSON.parse(readFileSync(path.join(os.tmpdir(), `staging-rollout-rollback-${STAMP}.json`), 'utf8'));
      expect(report.steps.map((s) => [s.id, s.status])).toEqual([
        ['rollback-targets', 'passed'], ['migration', 'skipped'], ['tier:workers', 'passed'], ['tier:app', 'passed'],
      ]);
      expect(report.steps.find((s) => s.id === 'migration').reason).toMatch(/schema unchanged/);
      for (const s of enabled) expect(await serviceTd(s)).toBe(onB1[s.name]);
      expect(res.out).not.toMatch(/RunTask=/);

      const history = JSON.parse((await cli(['history', ...inputs, '-n', '3', '--json'])).out).entries;
      expect(history.map((e) => [e.kind, e.release, e.outcome])).toEqual([['rollback', B1, 'passed'], ['rollout', B2, 'passed'], ['rollout', B1, 'passed']]);
      expect(history[0]).toMatchObject({ rollbackOf: history[1].id, target: history[2].id });
      const status = await cli(['status', ...inputs, '--json']);
      expect({ code: status.code, last: JSON.parse(status.out).lastSuccessful?.release, drift: JSON.parse(status.out).drift }).toEqual({ code: 0, last: B1, drift: [] });
    });

    test('a second rollback with no successful release before b1 is refused (exit 2), nothing changed', async () => {
      const res = await cli(['rollback', ...inputs]);
      expect(res.code).toBe(2);
      expect(res.err).toMatch(/rollback refused: no successful release before /);
      for (const s of enabled) expect(await serviceTd(s)).toBe(onB1[s.name]);
    });
  });
  // ---- end of rollback ------------------------------------------------------------------------------------------
}
