// The fault matrix (issue 11, "How to test"): the real runner (runner/rollout.mjs, a child process) against the
// shared moto_server after the foundation apply, through the fault proxy (scripts/lib/fault-proxy.mjs), which
// records every AWS call and injects throttling, 5xx, delayed replies and replies moto cannot produce (a FAILED or
// stuck deployment, a migration that exits 1 or never stops, unhealthy targets). Each case asserts the exit code,
// the report's failure, what was left half-done, and from the recorded calls that no later step changed
// anything; most are followed by a rerun with the fault removed (exit 0, no second migration, no needless
// registration). Cases run one after another, each with its own release. The last two describe blocks read the runs
// recorded above for what the report must say: every change accounted for, and the secrets preflight. Cases that need ECS deployments or target health run with --no-emulator (the proxy then
// answers DescribeServices as real AWS would); ECR DescribeImages always answers a digest (not under test here).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { jest } from '@jest/globals';
import itEnv from '../../scripts/lib/it-env.cjs';
import { startFaultProxy, rewriteJson, isMutating } from '../../scripts/lib/fault-proxy.mjs';
import { RETRY_DEFAULTS } from '../../runner/lib/retry.mjs';
import { runRollout, applied, bodyOf, expectNothingChangedAfter, imagesInEcr, deployments, targets, oneOffTasks } from '../support/faults.mjs';

const env = itEnv.requireFoundation('runner fault matrix');

if (!env) {
  describe('runner under faults', () => {
    test('SKIPPED: the integration environment is not available (skip record written by it-env)', () => {
      expect(itEnv.loadFoundation().status).not.toBe('applied');
    });
  });
} else {
  jest.setTimeout(120_000);
  const dir = path.join(process.env.STAGING_ROLLOUT_IT_DIR || path.join(process.cwd(), '.work/it'), 'faults');
  mkdirSync(dir, { recursive: true });
  const outputs = Object.fromEntries(Object.entries(itEnv.loadFoundation().outputs).map(([k, v]) => [k, /** @type {any} */ (v).value]));
  const enabled = Object.values(outputs.service_catalog).filter((s) => s.enabled);
  const app = enabled.filter((s) => s.tier === 'app');
  const appEcs = app.map((s) => s.ecs_service_name);
  const families = enabled.length + 1; // one revision per enabled service + the migration
  const stamp = Date.now().toString(36);
  let n = 0;
  const newRelease = () => `faults-${stamp}-${++n}`;
  /** @type {import('../../scripts/lib/fault-proxy.mjs').FaultProxy} */
  let proxy;
  /** runs kept for the accounting block: case -> { run, rerun } */
  const runs = {};

  const args = (release, extra = []) => ['--outputs', env.outputsFile, '--release', release, '--skip', 'images', '--skip', 'smoke',
    '--poll-interval', '0.2', '--service-timeout', '20', '--migration-timeout', '20', ...extra];
  /** one case: set the rules, run, keep the run */
  const scenario = async (name, rules, release, extra = [], o = {}) => {
    proxy.setRules([imagesInEcr(), ...rules]);
    const run = await runRollout(proxy, { args: args(release, extra), report: path.join(dir, `${name}.json`), ...o });
    runs[name] = { run };
    return run;
  };
  /** the rerun of a case's release with every fault removed */
  const rerun = async (name, release) => {
    proxy.setRules([imagesInEcr()]);
    const r = await runRollout(proxy, { args: args(release), report: path.join(dir, `${name}-rerun.json`) });
    runs[name].rerun = r;
    return r;
  };
  const step = (report, id) => report.steps.find((s) => s.id === id);
  const count = (calls, op) => calls.filter((c) => c.operation === op).length;
  /** exit 0, no second migration, no registration; RunTask `runTask` times (1 when the first migration failed) */
  const expectCleanRerun = (r, { runTask = 0 } = {}) => {
    expect({ code: r.code, failure: r.report?.failure ?? null }).toEqual({ code: 0, failure: null });
    expect({ RunTask: count(r.calls, 'RunTask'), RegisterTaskDefinition: count(r.calls, 'RegisterTaskDefinition') }).toEqual({ RunTask: runTask, RegisterTaskDefinition: 0 });
  };
  const failureOf = (r) => ({ code: r.code, status: r.report?.status, step: r.report?.failure?.step });

  beforeAll(async () => {
    proxy = await startFaultProxy({ target: env.endpoint, seed: 11 });
  });
  afterAll(async () => { await proxy?.close(); });

  describe('runner under faults (fault proxy in front of moto)', () => {
    test('no fault: a full rollout through the proxy; the proxy sees every request the runner counts', async () => {
      const r = await scenario('clean', [], newRelease());
      expect({ code: r.code, failure: r.report?.failure ?? null }).toEqual({ code: 0, failure: null });
      expect(r.calls.length).toBe(r.report.awsCalls);
      expect(applied(r.calls, 'RegisterTaskDefinition')).toHaveLength(families);
      expect(applied(r.calls, 'RunTask')).toHaveLength(1);
    });

    test('throttling, transient (30 % of ECS calls, seeded): passes, nothing done twice', async () => {
      const r = await scenario('throttle-transient', [{ service: 'ecs', probability: 0.3, fault: { kind: 'throttle' } }], newRelease());
      expect({ code: r.code, failure: r.report?.failure ?? null }).toEqual({ code: 0, failure: null });
      expect(r.calls.filter((c) => c.fault === 'throttle').length).toBeGreaterThan(3);
      expect(applied(r.calls, 'RegisterTaskDefinition')).toHaveLength(families);
      expect(applied(r.calls, 'RunTask')).toHaveLength(1);
      expect(r.out).toMatch(/throttled \(ThrottlingException\); the SDK retries/);
    });

    test('throttling, transient, as on real AWS (--no-emulator, 30 % of ECS and ELBv2 calls): passes, target health read through the throttling', async () => {
      const r = await scenario('throttle-transient-aws', [
        { service: ['ecs', 'elasticloadbalancing'], probability: 0.3, fault: { kind: 'throttle' } }, deployments('COMPLETED'), targets('healthy'),
      ], newRelease(), ['--no-emulator']);
      expect({ code: r.code, failure: r.report?.failure ?? null }).toEqual({ code: 0, failure: null });
      expect(r.calls.filter((c) => c.fault === 'throttle' && c.service === 'elasticloadbalancing').length).toBeGreaterThan(0);
      expect(applied(r.calls, 'RunTask')).toHaveLength(1);
      const checks = r.report.steps.flatMap((s) => s.checks);
      for (const s of app) expect(checks.find((c) => c.name === `${s.name}:targets`)).toMatchObject({ status: 'passed' });
    });

    test('throttling, persistent (DescribeTasks after RunTask): fails within the SDK\'s bounded attempts; rerun reuses the migration', async () => {
      const release = newRelease();
      const r = await scenario('throttle-persistent', [{ operation: 'DescribeTasks', after: { operation: 'RunTask' }, fault: { kind: 'throttle' } }], release);
      expect(failureOf(r)).toEqual({ code: 1, status: 'failed', step: 'migration' });
      expect(r.report.failure.message).toMatch(/ThrottlingException/);
      const throttled = r.calls.filter((c) => c.fault === 'throttle');
      expect(throttled).toHaveLength(RETRY_DEFAULTS.maxAttempts);
      expect(throttled[throttled.length - 1].at - throttled[0].at).toBeLessThan(60_000);
      expectNothingChangedAfter(r.report, r.calls, 'migration');
      expectCleanRerun(await rerun('throttle-persistent', release));
    });

    test('5xx during a tier wait, transient (two DescribeServices 503 after the updates): passes', async () => {
      const r = await scenario('5xx-transient', [{ operation: 'DescribeServices', after: { operation: 'UpdateService' }, times: 2, fault: { kind: 'error' } }], newRelease());
      expect({ code: r.code, failure: r.report?.failure ?? null }).toEqual({ code: 0, failure: null });
      expect(r.calls.filter((c) => c.fault === 'error')).toHaveLength(2);
    });

    test('5xx during a tier wait, for good (DescribeServices 503 after the app updates): tier:app fails, workers untouched; rerun is clean', async () => {
      const release = newRelease();
      const r = await scenario('5xx-wait', [{ operation: 'DescribeServices', after: { operation: 'UpdateService' }, fault: { kind: 'error' } }], release);
      expect(failureOf(r)).toEqual({ code: 1, status: 'failed', step: 'tier:app' });
      expect(r.report.failure.message).toMatch(/ServiceUnavailable/);
      expect(applied(r.calls, 'UpdateService').map((c) => bodyOf(c).service).sort()).toEqual([...appEcs].sort());
      expectNothingChangedAfter(r.report, r.calls, 'tier:app', { allowedServices: appEcs });
      const again = await rerun('5xx-wait', release);
      expectCleanRerun(again);
      for (const s of step(again.report, 'tier:app').services) expect(s.status).toBe('unchanged');
    });

    test('the migration exits 1: migration fails with the exit code, nothing after it; rerun runs it again once', async () => {
      const release = newRelease();
      const t = oneOffTasks({ exitCode: 1 });
      const r = await scenario('migration-exit-1', [t.capture, t.describe], release);
      expect(failureOf(r)).toEqual({ code: 1, status: 'failed', step: 'migration' });
      expect(r.report.failure.message).toMatch(/exited with code 1 \(migration failed: relation "users" already exists\)/);
      expectNothingChangedAfter(r.report, r.calls, 'migration');
      // the failed task keeps its exit code; a new one is not faulted
      proxy.setRules([imagesInEcr(), t.describe]);
      const again = await runRollout(proxy, { args: args(release), report: path.join(dir, 'migration-exit-1-rerun.json') });
      runs['migration-exit-1'].rerun = again;
      expectCleanRerun(again, { runTask: 1 });
    });

    test('the migration never stops: timeout (--migration-timeout 2), the task is left running, nothing after it; rerun waits for it', async () => {
      const release = newRelease();
      const t = oneOffTasks('never-stops');
      const r = await scenario('migration-timeout', [t.capture, t.describe], release, ['--migration-timeout', '2']);
      expect(failureOf(r)).toEqual({ code: 1, status: 'failed', step: 'migration' });
      expect(r.report.failure.message).toMatch(/^migration timed out after 2\.0 s \(task arn:\S+ is RUNNING; it was not stopped\)/);
      expect(count(r.calls, 'StopTask')).toBe(0);
      expectNothingChangedAfter(r.report, r.calls, 'migration');
      expectCleanRerun(await rerun('migration-timeout', release));
    });

    test('a deployment FAILED (circuit breaker, --no-emulator): tier:app fails naming the service and the reason; rerun is clean', async () => {
      const release = newRelease();
      const r = await scenario('deployment-failed', [deployments('FAILED')], release, ['--no-emulator']);
      expect(failureOf(r)).toEqual({ code: 1, status: 'failed', step: 'tier:app' });
      expect(app.map((s) => s.name)).toContain(r.report.failure.service);
      expect(r.report.failure.message).toMatch(/deployment ecs-svc\/fault-\S+ FAILED: ECS deployment circuit breaker: tasks failed to start\./);
      expectNothingChangedAfter(r.report, r.calls, 'tier:app', { allowedServices: appEcs });
      expectCleanRerun(await rerun('deployment-failed', release));
    });

    test('a deployment stuck IN_PROGRESS (--no-emulator, --service-timeout 2): tier:app times out; nothing after it', async () => {
      const r = await scenario('deployment-stuck', [deployments('IN_PROGRESS')], newRelease(), ['--no-emulator', '--service-timeout', '2']);
      expect(failureOf(r)).toEqual({ code: 1, status: 'failed', step: 'tier:app' });
      expect(r.report.failure.message).toMatch(/not stable after 2\.0 s \(running 0\/\d+, IN_PROGRESS/);
      expectNothingChangedAfter(r.report, r.calls, 'tier:app', { allowedServices: appEcs });
    });

    test('unhealthy targets (--no-emulator, deployments COMPLETED): tier:app does not pass, names the target and reason', async () => {
      const r = await scenario('unhealthy-targets', [deployments('COMPLETED'), targets('unhealthy')], newRelease(), ['--no-emulator', '--service-timeout', '2']);
      expect(failureOf(r)).toEqual({ code: 1, status: 'failed', step: 'tier:app' });
      expect(r.report.failure.message).toMatch(/targets 0\/1 healthy; 10\.0\.1\.23:8080 unhealthy \(Target\.FailedHealthChecks: Health checks failed with these codes: \[502\]\)/);
      expect(count(r.calls, 'DescribeTargetHealth')).toBeGreaterThan(0);
      expectNothingChangedAfter(r.report, r.calls, 'tier:app', { allowedServices: appEcs });
    });

    test('Ctrl-C during the migration wait: exit 130, the task named as possibly running; rerun does not start a second one', async () => {
      const release = newRelease();
      const t = oneOffTasks('never-stops');
      const r = await scenario('sigint-migration-wait', [t.capture, t.describe], release, [], {
        interrupt: async (p, since) => {
          const run = await p.waitFor((c) => c.operation === 'RunTask', { on: 'upstream', since, timeoutMs: 30_000 });
          await p.waitFor((c) => c.operation === 'DescribeTasks', { on: 'reply', since: run.seq + 1, timeoutMs: 30_000 });
        },
      });
      expect(failureOf(r)).toEqual({ code: 130, status: 'interrupted', step: 'migration' });
      expect(r.report.failure.message).toMatch(/^interrupted \(Ctrl-C\) during migration; left half-done: migration task arn:\S+ may still be running/);
      expectNothingChangedAfter(r.report, r.calls, 'migration');
      expectCleanRerun(await rerun('sigint-migration-wait', release));
    });

    test('Ctrl-C during a tier wait (--no-emulator, stuck deployments): exit 130, every updated service named half-done; rerun is clean', async () => {
      const release = newRelease();
      const r = await scenario('sigint-tier-wait', [deployments('IN_PROGRESS')], release, ['--no-emulator'], {
        interrupt: async (p, since) => {
          for (const s of appEcs) await p.waitFor((c) => c.operation === 'UpdateService' && bodyOf(c).service === s, { on: 'reply', since, timeoutMs: 30_000 });
          const last = Math.max(...p.calls.filter((c) => c.operation === 'UpdateService').map((c) => c.seq));
          await p.waitFor((c) => c.operation === 'DescribeServices', { on: 'reply', since: last, timeoutMs: 30_000 });
        },
      });
      expect(failureOf(r)).toEqual({ code: 130, status: 'interrupted', step: 'tier:app' });
      for (const s of appEcs) expect(r.report.failure.message).toContain(`${s} was updated to`);
      expectNothingChangedAfter(r.report, r.calls, 'tier:app', { allowedServices: appEcs });
      const again = await rerun('sigint-tier-wait', release);
      expectCleanRerun(again);
      for (const s of step(again.report, 'tier:app').services) expect(s.status).toBe('unchanged');
    });

    test('Ctrl-C while UpdateService is in flight (applied, reply held 3 s): exit 130, workers untouched; rerun finds the services switched', async () => {
      const release = newRelease();
      const r = await scenario('sigint-update-in-flight', [{ operation: 'UpdateService', fault: { kind: 'delay', ms: 3000 } }], release, [], {
        interrupt: async (p, since) => {
          for (const s of appEcs) await p.waitFor((c) => c.operation === 'UpdateService' && bodyOf(c).service === s, { on: 'upstream', since, timeoutMs: 30_000 });
        },
      });
      expect(failureOf(r)).toEqual({ code: 130, status: 'interrupted', step: 'tier:app' });
      expect(applied(r.calls, 'UpdateService').map((c) => bodyOf(c).service).sort()).toEqual([...appEcs].sort());
      expectNothingChangedAfter(r.report, r.calls, 'tier:app', { allowedServices: appEcs });
      const again = await rerun('sigint-update-in-flight', release);
      expectCleanRerun(again);
      for (const s of step(again.report, 'tier:app').services) expect(s.status).toBe('unchanged');
    });

    test('Ctrl-C while RegisterTaskDefinition is in flight (applied, reply held 3 s): exit 130, nothing after it; rerun registers nothing needless', async () => {
      const release = newRelease();
      const r = await scenario('sigint-register-in-flight', [{ operation: 'RegisterTaskDefinition', fault: { kind: 'delay', ms: 3000 } }], release, [], {
        interrupt: (p, since) => p.waitFor((c) => c.operation === 'RegisterTaskDefinition', { on: 'upstream', since, timeoutMs: 30_000 }),
      });
      expect(failureOf(r)).toEqual({ code: 130, status: 'interrupted', step: 'task-definitions' });
      expectNothingChangedAfter(r.report, r.calls, 'task-definitions');
      const registered = applied(r.calls, 'RegisterTaskDefinition').length;
      expect(registered).toBeGreaterThan(0);
      const again = await rerun('sigint-register-in-flight', release);
      expect({ code: again.code, failure: again.report?.failure ?? null }).toEqual({ code: 0, failure: null });
      // the revisions the interrupted run registered are reused: only the rest are registered now
      expect(applied(again.calls, 'RegisterTaskDefinition')).toHaveLength(families - registered);
      expect(applied(again.calls, 'RunTask')).toHaveLength(1);
    });

    test('Ctrl-C while RunTask is in flight (applied, reply held 3 s): exit 130; rerun waits for that task, no second RunTask', async () => {
      const release = newRelease();
      const r = await scenario('sigint-runtask-in-flight', [{ operation: 'RunTask', fault: { kind: 'delay', ms: 3000 } }], release, [], {
        interrupt: (p, since) => p.waitFor((c) => c.operation === 'RunTask', { on: 'upstream', since, timeoutMs: 30_000 }),
      });
      expect(failureOf(r)).toEqual({ code: 130, status: 'interrupted', step: 'migration' });
      expect(applied(r.calls, 'RunTask')).toHaveLength(1);
      expectNothingChangedAfter(r.report, r.calls, 'migration');
      expectCleanRerun(await rerun('sigint-runtask-in-flight', release));
    });
  });

  // The secrets preflight: an operator-set secret without a current version stops the
  // rollout before any change. The run is recorded here; what is expected of it is asserted in the last block.
  describe('a secret without a value (recorded for the preflight block below)', () => {
    test('DescribeSecret of the app secret shows no current version: the run is recorded', async () => {
      const appSecret = outputs.secret_arns?.app;
      expect(appSecret).toMatch(/^arn:aws:secretsmanager:/);
      await scenario('secret-without-value', [{
        name: 'no-current-version', service: 'secretsmanager', operation: 'DescribeSecret', when: (c) => bodyOf(c).SecretId === appSecret,
        fault: { kind: 'rewrite', rewrite: rewriteJson((d) => { delete d.VersionIdsToStages; }) },
      }], newRelease());
    });
  });

  // Every change accounted for (issue 11 items 1, 2 and 4): these read the runs above.
  describe('every change accounted for: Ctrl-C during a change, AWS errors during waits, a failed migration', () => {
    /** everything the report says was left half-done or may have been changed */
    const halfDone = (report) => [report?.failure?.message ?? '', JSON.stringify(report?.halfDone ?? report?.failure?.halfDone ?? '')].join('\n');

    test('item 1: Ctrl-C while UpdateService is in flight: the sent changes finish and every service is listed half-done', () => {
      const { run } = runs['sigint-update-in-flight'];
      const text = halfDone(run.report);
      expect(text).not.toMatch(/nothing was left half-done/);
      for (const s of appEcs) expect(text).toContain(s);
      // the held replies arrive within the grace period: each change finished (changed); without a reply it would
      // be listed as may-have-changed; either way it is listed, never lost
      const entries = run.report.failure.halfDone;
      expect(entries.map((h) => h.service).sort()).toEqual(app.map((s) => s.name).sort());
      for (const h of entries) expect(h).toMatchObject({ step: 'tier:app', operation: 'UpdateService', state: expect.stringMatching(/^(changed|may-have-changed)$/) });
    });

    test('item 1: Ctrl-C while RunTask is in flight names the migration task as possibly started or running', () => {
      const { run } = runs['sigint-runtask-in-flight'];
      const text = halfDone(run.report);
      expect(text).not.toMatch(/nothing was left half-done/);
      expect(text).toMatch(/migration task/);
      expect(text).toMatch(/may (have been started|still be running|have been changed)/);
    });

    test('item 2: DescribeServices failing for good after the updates: failure has the operation and names the services left deploying', () => {
      const { run } = runs['5xx-wait'];
      const f = run.report.failure;
      expect(f.operation).toBe('DescribeServices');
      // one batched call covered all three services: no single `service` is named (docs/contract.md section 7)
      expect(f.service).toBeUndefined();
      expect(f.halfDone.map((h) => h.service).sort()).toEqual(app.map((s) => s.name).sort());
      for (const s of app) expect(f.message).toContain(s.name);
      expect(f.message).toMatch(/deploying/);
      expect(step(run.report, 'tier:app').services.map((s) => s.name).sort()).toEqual(app.map((s) => s.name).sort());
    });

    test('item 2: DescribeTasks failing for good after RunTask: failure has the operation, the task ARN and "may still be running"', () => {
      const { run } = runs['throttle-persistent'];
      const f = run.report.failure;
      const id = /\[migration\] started .* as task (\S+) \(/.exec(run.out)?.[1];
      expect(id).toMatch(/\S{8,}/); // the task id the migration printed
      expect(f.operation).toBe('DescribeTasks');
      expect(halfDone(run.report)).toContain(String(id));
      expect(halfDone(run.report)).toMatch(/may still be running/);
    });

    test('item 4: a migration that exits non-zero shows the stop code and the stopped reason', () => {
      const { run } = runs['migration-exit-1'];
      expect(run.report.failure.message).toMatch(/EssentialContainerExited/);
      expect(run.report.failure.message).toMatch(/Essential container in task exited/);
    });
  });

  // The secrets preflight (issue 11 item 5).
  describe('secrets preflight: a secret without a value stops the run before any change', () => {
    test('an operator-set secret without a current version: exit 1 before any change, naming the secret and the command that sets it', () => {
      const { run } = runs['secret-without-value'];
      expect(failureOf(run)).toEqual({ code: 1, status: 'failed', step: 'preflight' });
      expect(run.report.failure.message).toMatch(/staging\/app|secret_arns\.app|\bapp\b/);
      expect(run.report.failure.message).toMatch(/aws secretsmanager put-secret-value/);
      expect(run.calls.filter((c) => isMutating(c.operation)).map((c) => c.operation)).toEqual([]);
      expect(run.calls.filter((c) => c.operation === 'GetSecretValue')).toEqual([]); // metadata only, never a value
    });
  });
}
