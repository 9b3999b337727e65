// One change at a time, through the real runner (child processes) on the shared moto_server after the foundation
// apply, behind the fault proxy (scripts/lib/fault-proxy.mjs), which records every AWS call and slows ECS replies
// so that a running rollout holds the environment's lock long enough to be raced:
//   - two rollouts started together: exactly one changes anything, the other is refused (exit 3) before its first
//     change, naming the holder; the ledger holds one entry of the two releases;
//   - a rollback while a rollout holds the lock: refused the same way, nothing changed;
//   - a killed runner (SIGKILL: no release): its lock refuses the next command; once its lease is stale, only
//     --break-lock takes it over, and the ledger entry records the takeover;
//   - bad input (a missing build context) calls nothing at all and writes no entry;
//   - r1, r2, `--only smoke` (a check-only run), then `rollback`: every service is back on r1.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { jest } from '@jest/globals';
import { SSMClient, GetParameterCommand, PutParameterCommand, GetParametersByPathCommand } from '@aws-sdk/client-ssm';
import { ECSClient, DescribeServicesCommand } from '@aws-sdk/client-ecs';
import itEnv from '../../scripts/lib/it-env.cjs';
import configLib from '../../lib/config/index.cjs';
import names from '../../lib/config/names.cjs';
import { startFaultProxy } from '../../scripts/lib/fault-proxy.mjs';
import { start } from '../../scripts/lib/proc.mjs';
import { REPO_ROOT } from '../../scripts/lib/paths.mjs';

const env = itEnv.requireFoundation('environment lock (two runners on one emulator)');

if (!env) {
  describe('the environment lock against the emulator', () => {
    test('SKIPPED: the integration environment is not available (skip record written by it-env)', () => {
      expect(itEnv.loadFoundation().status).not.toBe('applied');
    });
  });
} else {
  jest.setTimeout(300_000);
  const dir = path.join(process.env.STAGING_ROLLOUT_IT_DIR || path.join(REPO_ROOT, '.work/it'), 'lock');
  mkdirSync(dir, { recursive: true });
  const outputs = Object.fromEntries(Object.entries(JSON.parse(readFileSync(env.outputsFile, 'utf8'))).map(([k, v]) => [k, /** @type {any} */ (v).value]));
  const enabled = Object.values(outputs.service_catalog).filter((s) => s.enabled);
  const { namePrefix } = configLib.loadConfigFile(env.configPath).config;
  const LOCK = names.lockName(namePrefix);
  const LEDGER = names.ledgerPath(namePrefix);
  const ssm = new SSMClient({ region: env.region });
  const ecs = new ECSClient({ region: env.region });
  const stamp = Date.now().toString(36);
  let n = 0;
  const newRelease = (what) => `lock-${what}-${stamp}-${++n}`;
  /** @type {import('../../scripts/lib/fault-proxy.mjs').FaultProxy} */
  let proxy;

  const rolloutArgs = (release, extra = []) => ['--outputs', env.outputsFile, '--release', release, '--skip', 'images', '--skip', 'smoke',
    '--poll-interval', '0.2', '--service-timeout', '60', '--migration-timeout', '60', ...extra];
  /** the runner as a user starts it, through the proxy; `who` names it in the lock (USER) */
  const runner = (args, who) => start(process.execPath, [path.join(REPO_ROOT, 'runner', 'rollout.mjs'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, AWS_ENDPOINT_URL: proxy.endpoint, NODE_NO_WARNINGS: '1', USER: who, GITHUB_ACTOR: '', GITHUB_RUN_ID: '' },
    timeoutMs: 180_000,
  });
  const finish = async (h) => { const r = await h.done; return { code: r.code, out: r.stdout, err: r.stderr }; };
  const lockValue = async () => {
    try {
      return JSON.parse((await ssm.send(new GetParameterCommand({ Name: LOCK }))).Parameter.Value);
    } catch (e) {
      if (e.name === 'ParameterNotFound') return null;
      throw e;
    }
  };
  /** this suite's ledger entries of `releases` (the ledger is shared with the other suites of the run) */
  const entriesOf = async (releases) => {
    const out = [];
    let NextToken;
    do {
      const page = await ssm.send(new GetParametersByPathCommand({ Path: LEDGER, NextToken }));
      for (const p of page.Parameters ?? []) {
        const e = JSON.parse(p.Value);
        if (releases.includes(e.release)) out.push(e);
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return out;
  };
  const serviceTds = async () => {
    const res = await ecs.send(new DescribeServicesCommand({ cluster: outputs.cluster_name, services: enabled.map((s) => s.ecs_service_name) }));
    return Object.fromEntries(res.services.map((s) => [s.serviceName, s.taskDefinition]));
  };
  const changes = (calls) => calls.filter((c) => ['UpdateService', 'RegisterTaskDefinition', 'RunTask', 'StopTask'].includes(c.operation));
  /** ECS answers slowly: a rollout then takes seconds per wave, and holds the lock while it does */
  const slowEcs = { name: 'slow-ecs', service: 'ecs', operation: 'DescribeServices', fault: { kind: 'delay', ms: 700 } };

  beforeAll(async () => {
    proxy = await startFaultProxy({ target: env.endpoint, seed: 19 });
    expect(await lockValue()).toBeNull(); // no suite before this one left it taken
  });
  afterAll(async () => { await proxy?.close(); });

  describe('the environment lock: two runners on one emulator', () => {
    test('two rollouts started together: exactly one changes anything; the other is refused (exit 3) naming the holder; one ledger entry', async () => {
      proxy.setRules([slowEcs]);
      const [ra, rb] = [newRelease('a'), newRelease('b')];
      const a = runner(rolloutArgs(ra), 'ann');
      const b = runner(rolloutArgs(rb), 'bob');
      const [resA, resB] = await Promise.all([finish(a), finish(b)]);
      const { calls } = proxy.take();
      const codes = [resA.code, resB.code];
      expect(codes.sort()).toEqual([0, 3]);
      const [won, lost, wonRelease] = resA.code === 0 ? [resA, resB, ra] : [resB, resA, rb];
      expect(lost.err).toMatch(new RegExp(`error: refused: ${outputs.environment} is locked by rollout of release ${wonRelease} by (ann|bob) on .+, since \\S+`));
      expect(lost.err).toContain('Nothing was changed');
      expect(won.out).toMatch(new RegExp(`^ledger: \\S+-rollout-${wonRelease} recorded as passed$`, 'm'));
      // one rollout's changes: each service updated once, one migration
      const updates = changes(calls).filter((c) => c.operation === 'UpdateService');
      expect(updates).toHaveLength(enabled.length);
      expect(changes(calls).filter((c) => c.operation === 'RunTask')).toHaveLength(1);
      expect((await entriesOf([ra, rb])).map((e) => e.release)).toEqual([wonRelease]);
      expect(await lockValue()).toBeNull(); // released at the end
    });

    test('a rollback while a rollout holds the lock: exit 3 before anything is read or changed', async () => {
      proxy.setRules([slowEcs]);
      const release = newRelease('held');
      const since = proxy.calls.length;
      const roll = runner(rolloutArgs(release), 'ann');
      // the rollout has taken the lock (its put answered) and is under way
      const taken = await proxy.waitFor((c) => c.operation === 'PutParameter' && c.body.includes(LOCK) && c.upstreamStatus === 200, { on: 'upstream', since, timeoutMs: 60_000 });
      const back = await finish(runner(['rollback', '--outputs', env.outputsFile, '--poll-interval', '0.2'], 'bob'));
      const rolled = await finish(roll);
      const calls = proxy.calls.filter((c) => c.seq > taken.seq);
      expect({ rollback: back.code, rollout: rolled.code }).toEqual({ rollback: 3, rollout: 0 });
      expect(back.err).toContain(`locked by rollout of release ${release} by ann`);
      // the rollout's changes only: one update per service
      expect(changes(calls).filter((c) => c.operation === 'UpdateService')).toHaveLength(enabled.length);
      expect((await entriesOf([release])).map((e) => [e.kind, e.outcome])).toEqual([['rollout', 'passed']]);
    });

    test('a killed runner: its lock refuses the next rollout; stale, it is taken over only with --break-lock, recorded in the ledger', async () => {
      // the victim stops in its first tier: UpdateService answered only after 15 s, long after the SIGKILL
      proxy.setRules([{ name: 'hang', service: 'ecs', operation: 'UpdateService', fault: { kind: 'delay', ms: 15_000 } }]);
      const victimRelease = newRelease('killed');
      const since = proxy.calls.length;
      const victim = runner(rolloutArgs(victimRelease), 'carol');
      await proxy.waitFor((c) => c.operation === 'UpdateService', { since, timeoutMs: 60_000 });
      victim.kill('SIGKILL');
      await victim.done;
      proxy.setRules([]);
      const held = await lockValue();
      expect(held).toMatchObject({ command: 'rollout', release: victimRelease, origin: { actor: 'carol' } });

      // its lease is fresh: refused, and --break-lock does not take a live lock
      const next = newRelease('next');
      const live = await finish(runner(rolloutArgs(next, ['--break-lock']), 'dave'));
      expect(live.code).toBe(3);
      expect(live.err).toContain(`locked by rollout of release ${victimRelease} by carol`);

      // nobody renews it: what the lease looks like once LEASE_MS has passed without a renewal (the runner's clock
      // is real; the parameter is set back instead of the test waiting two minutes)
      const stale = { ...held, renewedAt: new Date(Date.now() - 10 * 60_000).toISOString() };
      await ssm.send(new PutParameterCommand({ Name: LOCK, Value: JSON.stringify(stale), Type: 'String', Overwrite: true }));
      const refused = await finish(runner(rolloutArgs(next), 'dave'));
      expect(refused.code).toBe(3);
      expect(refused.err).toContain(`holds a stale lock: rollout of release ${victimRelease} by carol`);
      expect(refused.err).toContain('--break-lock');
      expect(await entriesOf([next])).toEqual([]);

      const broke = await finish(runner(rolloutArgs(next, ['--break-lock']), 'dave'));
      expect({ code: broke.code, err: broke.err.replace(/^warning: .*\n?/gm, '') }).toMatchObject({ code: 0 });
      const [entry] = await entriesOf([next]);
      expect(entry).toMatchObject({ outcome: 'passed', lockTakeover: { holder: { command: 'rollout', release: victimRelease, origin: { actor: 'carol' } } } });
      expect(await lockValue()).toBeNull();
      // the killed run's own entry stays as it was left: in progress, never a rollback target
      expect((await entriesOf([victimRelease])).map((e) => e.outcome)).toEqual(['in-progress']);
    });

    test('bad input (a missing build context): exit 2 naming it, no AWS call at all, no ledger entry', async () => {
      proxy.setRules([]);
      const config = path.join(dir, 'missing-context.json');
      writeFileSync(config, JSON.stringify({ extends: env.configPath, images: { api: { context: './no-such-dir' } } }));
      const release = newRelease('bad');
      proxy.take();
      const res = await finish(runner(['--outputs', env.outputsFile, '--config', config, '--release', release], 'erin'));
      expect(res.code).toBe(2);
      expect(res.err).toMatch(/images\.api\.context: build context \S+no-such-dir does not exist or is not a directory/);
      expect(proxy.take().total).toBe(0);
      expect(await entriesOf([release])).toEqual([]);
    });

    test('r1, r2, then --only smoke (check-only), then rollback: every service is back on r1', async () => {
      proxy.setRules([]);
      const [r1, r2] = [newRelease('r1'), newRelease('r2')];
      for (const r of [r1, r2]) expect((await finish(runner(rolloutArgs(r), 'fay'))).code).toBe(0);
      const [e1] = await entriesOf([r1]);
      const check = await finish(runner(['--outputs', env.outputsFile, '--only', 'smoke', '--release', newRelease('check')], 'fay'));
      expect(check.code).toBe(0);
      const back = await finish(runner(['rollback', '--outputs', env.outputsFile, '--poll-interval', '0.2', '--service-timeout', '60'], 'fay'));
      expect({ code: back.code, err: back.err.replace(/^warning: .*\n?/gm, '') }).toMatchObject({ code: 0 });
      expect(back.out).toContain(r1);
      const now = await serviceTds();
      for (const s of enabled) expect({ service: s.name, td: now[s.ecs_service_name] }).toEqual({ service: s.name, td: e1.taskDefinitions[s.name] });
    });
  });
}
