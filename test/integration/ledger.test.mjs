// A ledger that cannot be misread, through the real runner (child processes) on the shared moto_server after the
// foundation apply: after two releases (c1, c2), each corruption of the release ledger (garbage JSON, an entry
// without a field, an entry stored under another entry's name, the newest entry deleted so the ledger no longer
// says what runs) makes `rollback` refuse (exit 2, the parameter and what is wrong named, no service changed, no
// entry written), and `status` and `history` show an unreadable entry as such (exit 1). Each corruption is undone
// before the next (the ledger is shared with the other suites of the run).
import { readFileSync } from 'node:fs';
import { jest } from '@jest/globals';
import { SSMClient, GetParametersByPathCommand, PutParameterCommand, DeleteParameterCommand } from '@aws-sdk/client-ssm';
import { ECSClient, DescribeServicesCommand } from '@aws-sdk/client-ecs';
import itEnv from '../../scripts/lib/it-env.cjs';
import configLib from '../../lib/config/index.cjs';
import names from '../../lib/config/names.cjs';
import { runRunner } from '../support/runner-cli.mjs';

const env = itEnv.requireFoundation('release ledger corruptions (rollback, status, history)');

if (!env) {
  describe('the release ledger against the emulator', () => {
    test('SKIPPED: the integration environment is not available (skip record written by it-env)', () => {
      expect(itEnv.loadFoundation().status).not.toBe('applied');
    });
  });
} else {
  jest.setTimeout(300_000);
  const outputs = Object.fromEntries(Object.entries(JSON.parse(readFileSync(env.outputsFile, 'utf8'))).map(([k, v]) => [k, /** @type {any} */ (v).value]));
  const enabled = Object.values(outputs.service_catalog).filter((s) => s.enabled);
  const LEDGER = names.ledgerPath(configLib.loadConfigFile(env.configPath).config.namePrefix);
  const ssm = new SSMClient({ region: env.region });
  const ecs = new ECSClient({ region: env.region });
  const stamp = Date.now().toString(36);
  const [C1, C2] = [`ledger-c1-${stamp}`, `ledger-c2-${stamp}`];
  const inputs = ['--outputs', env.outputsFile];
  const rolloutArgs = (release) => [...inputs, '--release', release, '--skip', 'images', '--skip', 'smoke', '--poll-interval', '0.2', '--service-timeout', '60', '--migration-timeout', '60'];
  const rollback = () => runRunner(['rollback', ...inputs, '--poll-interval', '0.2', '--service-timeout', '60']);

  /** every ledger parameter: name -> value */
  const ledger = async () => {
    const out = new Map();
    let NextToken;
    do {
      const page = await ssm.send(new GetParametersByPathCommand({ Path: LEDGER, NextToken }));
      for (const p of page.Parameters ?? []) out.set(p.Name, p.Value);
      NextToken = page.NextToken;
    } while (NextToken);
    return out;
  };
  const running = async () => {
    const res = await ecs.send(new DescribeServicesCommand({ cluster: outputs.cluster_name, services: enabled.map((s) => s.ecs_service_name) }));
    return Object.fromEntries(res.services.map((s) => [s.serviceName, s.taskDefinition]));
  };
  const put = (name, value) => ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
  const remove = (name) => ssm.send(new DeleteParameterCommand({ Name: name }));
  /** c2's entry (name and parsed value) */
  let c2;

  beforeAll(async () => {
    for (const r of [C1, C2]) {
      const res = await runRunner(rolloutArgs(r));
      expect({ release: r, code: res.code }).toEqual({ release: r, code: 0 });
    }
    const [name, value] = [...(await ledger())].find(([, v]) => JSON.parse(v).release === C2);
    c2 = { name, value, entry: JSON.parse(value) };
  });

  /** rollback refuses (exit 2) naming `what`; nothing changed, no entry written; status and history exit as `readers` */
  async function refused(what, readers = { status: 1, history: 1 }) {
    const before = { running: await running(), ledger: await ledger() };
    const res = await rollback();
    expect({ code: res.code, out: res.out.includes('rolled back') }).toEqual({ code: 2, out: false });
    for (const w of what) expect(res.err).toContain(w);
    expect(res.err).toMatch(/nothing was changed/i);
    expect(await running()).toEqual(before.running);
    expect([...(await ledger()).keys()].sort()).toEqual([...before.ledger.keys()].sort());
    const status = await runRunner(['status', ...inputs]);
    const history = await runRunner(['history', ...inputs, '-n', '100000']);
    expect({ status: status.code, history: history.code }).toEqual(readers);
    return { res, status, history };
  }

  describe('the release ledger cannot be misread: rollback refuses, status and history say so', () => {
    test.each([
      ['garbage JSON', (name) => [name, '{"schemaVersion": 1, "id": '], 'not JSON'],
      ['an entry without its images', (name) => { const { images: _i, ...rest } = c2.entry; return [name, JSON.stringify({ ...rest, id: name.split('/').pop() })]; }, 'images'],
      ['an entry stored under another name than its id', (name) => [name, c2.value], 'does not match the parameter\'s name'],
    ])('%s: rollback exit 2 naming the parameter, nothing changed; status and history exit 1', async (_label, make, reason) => {
      // newest by name, so it is the first entry every reader meets
      const name = `${LEDGER}/29991231T000000000Z-rollout-corrupt-${stamp}`;
      const [n, value] = make(name);
      await put(n, value);
      try {
        const { res, status, history } = await refused([name, reason]);
        expect(res.err).toContain('unreadable');
        expect(status.out).toContain(`! unreadable ledger entry ${name}`);
        expect(history.out).toContain(`! unreadable ledger entry ${name}`);
      } finally {
        await remove(name);
      }
    });

    test('the newest entry deleted: what runs (c2) differs from what the ledger says (c1): refused naming both, unless --ignore-drift', async () => {
      await remove(c2.name);
      try {
        const c1 = [...(await ledger()).values()].map((v) => JSON.parse(v)).find((e) => e.release === C1);
        // status compares what runs with the ledger (drift: exit 1); history lists what the ledger holds (exit 0)
        const { res, status } = await refused(['what runs differs from the release ledger', `release ${C1}`, '--ignore-drift'], { status: 1, history: 0 });
        expect(res.err).toContain(c1.id);
        expect(status.out).toContain(`differ from release ${C1}`);
        for (const s of enabled) expect(status.out).toMatch(new RegExp(`! ${s.name}: runs \\S+ \\(release ${C2}\\) instead of \\S+ \\(release ${C1}\\)`));
      } finally {
        await put(c2.name, c2.value);
      }
      // restored: the ledger reads again, and a rollback goes back to c1
      const status = await runRunner(['status', ...inputs]);
      expect(status.code).toBe(0);
    });
  });
}
