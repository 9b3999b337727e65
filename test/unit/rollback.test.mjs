// The rollback verb against the scripted AWS world (test/support/fake-aws.mjs) and an in-memory release ledger:
// order, refusals (exit 2, no change), a failure mid-way then a rerun, the ledger entries it writes.
import { jest } from '@jest/globals';
import { run, pickTarget } from '../../runner/verbs/rollback.mjs';
import { SCHEMA_UNCHANGED } from '../../runner/lib/plan.mjs';
import { fakeWorld, fakeClock, awsError, ROOT, OUTPUTS_FILE, OUTPUTS } from '../support/fake-aws.mjs';
import { CONFIG_ENV, stagingRaw } from '../support/staging-config.cjs';
import { ops, stepOf, ecsName, WEB, WORKERS, inCatalogOrder } from '../support/rollout.mjs';

jest.setTimeout(20_000);

const DIGEST = { r1: `sha256:${'1'.repeat(64)}`, r2: `sha256:${'2'.repeat(64)}` };
const MUTATING = ['UpdateService', 'RegisterTaskDefinition', 'RunTask', 'StopTask', 'CreateService', 'DeleteService'];
const CATALOG = Object.values(OUTPUTS.service_catalog);

/** An in-memory ledger with the contract's functions (runner/ledger/index.mjs); records every write. */
function fakeLedger(initial) {
  let list = structuredClone(initial);
  const writes = [];
  const signals = []; // the write's signal was aborted
  const api = {
    writes,
    signals,
    readLedger: async () => ({ entries: structuredClone(list).sort((a, b) => b.id.localeCompare(a.id)), unreadable: api.unreadable ?? [] }),
    writeEntry: async (ctx, e) => {
      if (api.failWrites) throw new Error('AccessDeniedException: not authorized to perform ssm:PutParameter');
      signals.push(Boolean(ctx.signal?.aborted));
      writes.push(structuredClone(e));
      list = [...list.filter((x) => x.id !== e.id), structuredClone(e)];
    },
    lastSuccessful: (entries, { before } = {}) => entries.find((e) => e.outcome === 'passed' && (!before || e.id < before)) ?? null,
    entryId: (kind, release, iso) => `${iso.replace(/[-:.]/g, '')}-${kind}-${release}`,
  };
  return api;
}

/** Releases r1 and r2 registered for every family (images pinned by digest); every service stable on r2. */
function seed(world) {
  const arns = { r1: {}, r2: {} };
  for (const s of CATALOG) {
    const list = world.tds.get(s.task_family);
    for (const rel of ['r1', 'r2']) {
      const td = structuredClone(list[0]);
      td.revision = list.length + 1;
      td.taskDefinitionArn = td.taskDefinitionArn.replace(/:\d+$/, `:${td.revision}`);
      td.containerDefinitions[0].image = `${OUTPUTS.repository_urls[s.image]}@${DIGEST[rel]}`;
      list.push(td);
      arns[rel][s.name] = td.taskDefinitionArn;
    }
    const n = s.desired_count;
    Object.assign(world.services.get(s.ecs_service_name), {
      taskDefinition: arns.r2[s.name], desiredCount: n, runningCount: n,
      deployments: [{ id: 'ecs-svc/r2', status: 'PRIMARY', taskDefinition: arns.r2[s.name], rolloutState: 'COMPLETED', runningCount: n, desiredCount: n, failedTasks: 0 }],
    });
  }
  const entry = (release, day, over = {}) => ({
    schemaVersion: 1, id: `202512${day}T000000000Z-rollout-${release}`, kind: 'rollout', release, environment: 'staging',
    outcome: 'passed', failedStep: null, startedAt: `2025-12-${day}T00:00:00.000Z`, finishedAt: `2025-12-${day}T00:10:00.000Z`,
    images: Object.fromEntries(Object.keys(OUTPUTS.repository_urls).map((k) => [k, DIGEST[release]])),
    taskDefinitions: { ...arns[release] }, migration: { taskArn: null, status: 'passed', exitCode: 0 },
    rollbackOf: null, target: null, origin: { ciRunUrl: null, actor: null, host: null }, ...over,
  });
  return { arns, entry, entries: [entry('r1', '01'), entry('r2', '02')] };
}

function setup() {
  const fake = fakeWorld();
  const s = seed(fake.world);
  return { fake, world: fake.world, ...s, ledger: fakeLedger(s.entries) };
}

async function rollback(fake, ledger, args = [], { clock = fakeClock(), signal } = {}) {
  const out = [];
  const err = [];
  const res = await run(['--outputs', OUTPUTS_FILE, '--poll-interval', '1', ...args], {
    cwd: ROOT, env: { ...CONFIG_ENV }, clock, ledger, signal,
    createAws: () => fake.clients,
    write: (l) => out.push(l), writeErr: (l) => err.push(l),
    exec: async () => { throw new Error('no shell in unit tests'); },
    steps: fake.steps({ images: null, smoke: null }),
    writeArtifacts: async () => ({}),
  });
  return { ...res, out: out.join('\n'), err: err.join('\n') };
}

const mutations = (world) => world.calls.filter((c) => MUTATING.includes(c.op));
const updated = (calls) => calls.filter((c) => c.op === 'UpdateService').map((c) => c.input.service);

describe('rollback: order and outcome', () => {
  test('every service back on r1: workers before the app tier, dependents first; no migration, no RunTask', async () => {
    const { fake, world, arns, ledger } = setup();
    const res = await rollback(fake, ledger);
    expect(res.err).toBe('');
    expect(res.exitCode).toBe(0);
    for (const s of CATALOG) expect(world.services.get(s.ecs_service_name).taskDefinition).toBe(arns.r1[s.name]);
    expect(updated(world.calls).sort()).toEqual(CATALOG.map((s) => s.ecs_service_name).sort());
    const at = (n) => world.calls.filter((c) => c.op === 'UpdateService').findIndex((c) => c.input.service === ecsName(n));
    for (const w of WORKERS) for (const a of WEB) expect(at(w)).toBeLessThan(at(a));
    expect(at('tracker-fetcher-2')).toBeLessThan(at('anisette'));
    expect(res.report.steps.map((s) => s.id)).toEqual(['rollback-targets', 'migration', 'tier:workers', 'tier:app']);
    expect(stepOf(res.report, 'migration')).toMatchObject({ status: 'skipped', reason: SCHEMA_UNCHANGED });
    expect(res.out).toContain(`[skipped: ${SCHEMA_UNCHANGED}]`);
    expect(ops(world, 'RunTask')).toHaveLength(0);
    expect(ops(world, 'RegisterTaskDefinition')).toHaveLength(0);
    // image digests checked in one DescribeImages per repository
    const repos = new Set(CATALOG.map((s) => s.image));
    expect(ops(world, 'DescribeImages').map((c) => c.input.repositoryName).sort()).toEqual([...repos].map((k) => OUTPUTS.repository_urls[k].split('/').slice(1).join('/')).sort());
  });

  test('the migration head differs: a warning naming both; the ledger gets an in-progress then a passed rollback entry', async () => {
    const { fake, ledger, arns } = setup();
    const res = await rollback(fake, ledger);
    expect(res.out).toMatch(new RegExp(`migration head differs: current release r2 has ${DIGEST.r2}.*target release r1 has ${DIGEST.r1}`));
    expect(ledger.writes.map((w) => w.outcome)).toEqual(['in-progress', 'passed']);
    const [start, end] = ledger.writes;
    expect(start).toMatchObject({
      id: '20260101T000000000Z-rollback-r1', kind: 'rollback', release: 'r1', rollbackOf: '20251202T000000000Z-rollout-r2',
      target: '20251201T000000000Z-rollout-r1', migration: null, taskDefinitions: arns.r1, finishedAt: null, failedStep: null,
    });
    expect(end).toMatchObject({ id: start.id, outcome: 'passed', failedStep: null, finishedAt: res.report.finishedAt });
  });

  test('--dry-run changes nothing and writes no ledger entry', async () => {
    const { fake, world, ledger } = setup();
    const res = await rollback(fake, ledger, ['--dry-run']);
    expect(res.exitCode).toBe(0);
    expect(mutations(world)).toEqual([]);
    expect(ledger.writes).toEqual([]);
    expect(res.out).toContain('Rollback plan:');
    expect(res.out).toContain('dry run: would update');
    // the plan once, with what the dry run found out; no warning repeated
    expect(res.out.split('Rollback plan:')).toHaveLength(2);
    const warnings = (res.out + res.err).split('\n').filter((l) => /warn/i.test(l));
    expect(new Set(warnings).size).toBe(warnings.length);
  });

  test('a deployment FAILED mid-way: exit 1, ledger outcome failed; a rerun completes the rest', async () => {
    const { fake, world, arns, ledger } = setup();
    world.serviceScript[ecsName('api')] = (svc) => {
      Object.assign(svc.deployments[0], { rolloutState: 'FAILED', rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.' });
    };
    const first = await rollback(fake, ledger);
    expect(first.exitCode).toBe(1);
    expect(first.report.failure).toMatchObject({ step: 'tier:app', service: 'api' });
    expect(ledger.writes.map((w) => [w.outcome, w.failedStep])).toEqual([['in-progress', null], ['failed', 'tier:app']]);
    for (const w of WORKERS) expect(world.services.get(ecsName(w)).taskDefinition).toBe(arns.r1[w]);

    delete world.serviceScript[ecsName('api')];
    const before = world.calls.length;
    const second = await rollback(fake, ledger, [], { clock: fakeClock(Date.UTC(2026, 0, 2)) });
    expect(second.exitCode).toBe(0);
    // the failed rollback is not a successful release: still from r2 back to r1; the workers are left alone
    expect(ledger.writes.at(-1)).toMatchObject({ outcome: 'passed', release: 'r1', rollbackOf: '20251202T000000000Z-rollout-r2' });
    expect(updated(world.calls.slice(before)).every((n) => WEB.map(ecsName).includes(n))).toBe(true);
    for (const s of CATALOG) expect(world.services.get(s.ecs_service_name).taskDefinition).toBe(arns.r1[s.name]);
    expect(ops(world, 'RunTask')).toHaveLength(0);
  });
});

describe('rollback: interruptions, the ledger, flags', () => {
  test('Ctrl-C while waiting: exit 130, the ledger outcome interrupted is written with a live signal', async () => {
    const { fake, world, ledger } = setup();
    const controller = new AbortController();
    world.serviceScript[ecsName('anisette')] = () => controller.abort();
    const res = await rollback(fake, ledger, [], { signal: controller.signal });
    expect(res.exitCode).toBe(130);
    expect(ledger.writes.map((w) => [w.outcome, w.failedStep])).toEqual([['in-progress', null], ['interrupted', 'tier:workers']]);
    expect(ledger.signals).toEqual([false, false]);
    expect(ops(world, 'UpdateService').map((c) => c.input.service)).not.toContain(ecsName('api'));
  });

  test('the ledger cannot record the start: exit 1, nothing changed', async () => {
    const { fake, world, ledger } = setup();
    ledger.failWrites = true;
    const res = await rollback(fake, ledger);
    expect(res.exitCode).toBe(1);
    expect(res.err).toContain("the release ledger could not record the rollback's start (AccessDeniedException");
    expect(mutations(world)).toEqual([]);
  });

  test('--help: its own flags (--to, --dry-run, --report), none of the rollout-only ones', async () => {
    const { fake, ledger } = setup();
    const res = await rollback(fake, ledger, ['--help']);
    expect(res.exitCode).toBe(0);
    expect(res.out).toContain('Usage: npx zx runner/rollout.mjs rollback [--to RELEASE] [flags]');
    for (const f of ['--to RELEASE', '--dry-run', '--report FILE', '--summary FILE', '--service-timeout SEC']) expect(res.out).toContain(f);
    for (const f of ['--release', '--only', '--skip', '--image-registry', '--migration-timeout']) expect(res.out).not.toContain(f);
    expect((await rollback(fake, ledger, ['--release', 'r1'])).exitCode).toBe(2);
  });

  test('images pinned by a tag ECR does not have: refused on AWS, noted (not refused) on an emulator', async () => {
    const { fake, world, arns, ledger } = setup();
    for (const s of CATALOG) {
      const td = world.tds.get(s.task_family).find((t) => t.taskDefinitionArn === arns.r1[s.name]);
      td.containerDefinitions[0].image = `${OUTPUTS.repository_urls[s.image]}:r1`;
    }
    world.faults.set('DescribeImages', () => awsError('ImageNotFoundException', 'The image requested does not exist'));
    const aws = await rollback(fake, ledger);
    expect(aws.exitCode).toBe(2);
    expect(aws.report.failure.message).toContain(`frontend: image ${OUTPUTS.repository_urls.frontend}:r1 is gone from ECR`);
    expect(mutations(world)).toEqual([]);
    const emu = await rollback(fake, ledger, ['--emulator'], { clock: fakeClock(Date.UTC(2026, 0, 2)) });
    expect(emu.exitCode).toBe(0);
    expect(stepOf(emu.report, 'rollback-targets').checks.find((c) => c.name === 'images-in-ecr')).toMatchObject({
      status: 'skipped', reason: expect.stringMatching(/^emulator: pinned by a tag the emulator's ECR does not have/),
    });
  });
});

describe('rollback: refusals (exit 2, nothing changed)', () => {
  test('--report: the rollback report on success, the input report on a refusal', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/rollback-`);
    const { fake, ledger } = setup();
    const refused = await rollback(fake, ledger, ['--to', 'nope', '--report', `${dir}/refused.json`]);
    expect(refused.exitCode).toBe(2);
    expect(JSON.parse(readFileSync(`${dir}/refused.json`, 'utf8'))).toMatchObject({
      status: 'failed', exitCode: 2, environment: 'staging', failure: { step: 'input', message: expect.stringMatching(/^rollback refused: unknown target/) },
    });
    const ok = await rollback(fake, ledger, ['--report', `${dir}/ok.json`]);
    expect(ok.exitCode).toBe(0);
    const report = JSON.parse(readFileSync(`${dir}/ok.json`, 'utf8'));
    expect(report).toMatchObject({ status: 'passed', exitCode: 0, release: 'r1' });
    expect(report.steps.find((x) => x.id === 'migration')).toMatchObject({ status: 'skipped', reason: SCHEMA_UNCHANGED });
  });

  test('--to a release the ledger has no successful entry of', async () => {
    const { fake, world, ledger } = setup();
    const res = await rollback(fake, ledger, ['--to', 'nope']);
    expect(res.exitCode).toBe(2);
    expect(res.err).toContain('rollback refused: unknown target: the release ledger has no complete, successful entry of release nope (such releases, newest first: r2, r1)');
    expect(mutations(world)).toEqual([]);
    expect(ledger.writes).toEqual([]);
  });

  test('no successful release before the current one', async () => {
    const { fake, world, entries, arns } = setup();
    for (const s of CATALOG) world.services.get(s.ecs_service_name).taskDefinition = arns.r1[s.name];
    const ledger = fakeLedger([entries[0]]);
    const res = await rollback(fake, ledger);
    expect(res.exitCode).toBe(2);
    expect(res.err).toContain('rollback refused: no successful release before r1');
    expect(mutations(world)).toEqual([]);
    expect(ledger.writes).toEqual([]);
  });

  test('the catalog has added or removed services since the target release', async () => {
    const { fake, world, arns, entry } = setup();
    const { admin, ...rest } = arns.r1;
    const ledger = fakeLedger([entry('r1', '01', { taskDefinitions: { ...rest, 'old-service': admin } }), entry('r2', '02')]);
    const res = await rollback(fake, ledger);
    expect(res.exitCode).toBe(2);
    expect(res.err).toContain('the catalog has changed since release r1');
    expect(res.err).toContain('enabled now, not in that release: admin');
    expect(res.err).toContain('in that release, not enabled now: old-service');
    expect(world.calls.map((c) => c.op)).toEqual(['DescribeServices']); // what runs now, read only
    expect(ledger.writes).toEqual([]);
  });

  test('a revision it needs is INACTIVE', async () => {
    const { fake, world, arns, ledger } = setup();
    world.tds.get('staging-api').find((t) => t.taskDefinitionArn === arns.r1.api).status = 'INACTIVE';
    const res = await rollback(fake, ledger);
    expect(res.exitCode).toBe(2);
    expect(res.report.failure.step).toBe('rollback-targets');
    expect(res.report.failure.message).toContain(`api: task definition ${arns.r1.api.split('/').pop()} is INACTIVE`);
    expect(res.out).toContain('nothing was changed');
    expect(mutations(world)).toEqual([]);
    expect(stepOf(res.report, 'tier:workers').status).toBe('not-run');
    // refused: it changed nothing, so no later rollback takes it up again or aims at it
    expect(ledger.writes.map((w) => [w.outcome, w.failedStep])).toEqual([['in-progress', null], ['refused', 'rollback-targets']]);
  });

  test('an image digest it needs is gone from ECR', async () => {
    const { fake, world, ledger } = setup();
    world.goneDigests.add(DIGEST.r1);
    const res = await rollback(fake, ledger);
    expect(res.exitCode).toBe(2);
    expect(res.report.failure.message).toMatch(/^InputError: rollback refused: release r1 \(ledger entry 20251201T000000000Z-rollout-r1\) cannot be restored; nothing was changed\n/);
    const onApi = inCatalogOrder(Object.values(OUTPUTS.service_catalog).filter((s) => s.enabled && s.image === 'api').map((s) => s.name));
    expect(res.report.failure.message).toContain(`${onApi.join(', ')}: image ${OUTPUTS.repository_urls.api}@${DIGEST.r1} is gone from ECR`);
    expect(mutations(world)).toEqual([]);
  });
});

describe('rollback: choosing the target (pickTarget)', () => {
  const ledger = fakeLedger([]);
  const e = (id, release, over = {}) => ({ id, release, kind: 'rollout', outcome: 'passed', target: null, taskDefinitions: { api: `arn:aws:ecs:eu-west-1:1:task-definition/api:${id}` }, ...over });
  test('the newest passed entry before the current one with another release; failed entries and reruns skipped', () => {
    const entries = [e('5', 'r3'), e('4', 'r3'), e('3', 'r2', { outcome: 'failed' }), e('2', 'r1'), e('1', 'r0')];
    expect(pickTarget(entries, null, ledger)).toMatchObject({ current: { id: '5' }, target: { id: '2' } });
  });
  test('a failed rollout is the current one (it may have switched services): back to the last success before it', () => {
    const entries = [e('3', 'r3', { outcome: 'failed' }), e('2', 'r2'), e('1', 'r1')];
    expect(pickTarget(entries, null, ledger)).toMatchObject({ current: { id: '3' }, target: { id: '2' } });
  });
  test('an unfinished rollback is taken up again: same place, same target', () => {
    for (const outcome of ['failed', 'interrupted', 'in-progress']) {
      const entries = [e('4', 'r1', { kind: 'rollback', outcome, rollbackOf: '3', target: '1' }), e('3', 'r3', { outcome: 'failed' }), e('2', 'r2'), e('1', 'r1')];
      expect(pickTarget(entries, null, ledger)).toMatchObject({ current: { id: '3' }, target: { id: '1' } });
    }
  });
  test('after a rollback to r1, the next rollback looks before r1 (never forward to r2)', () => {
    const entries = [e('4', 'r1', { kind: 'rollback', target: '2' }), e('3', 'r2'), e('2', 'r1'), e('1', 'r0')];
    expect(pickTarget(entries, null, ledger).target.id).toBe('1');
    expect(() => pickTarget(entries.slice(0, 3), null, ledger)).toThrow('rollback refused: no successful release before r1 (ledger entry 2)');
  });
  test('--to: the newest passed entry of that release; an empty ledger is refused', () => {
    expect(pickTarget([e('3', 'r1'), e('2', 'r2'), e('1', 'r1')], 'r1', ledger).target.id).toBe('3');
    expect(() => pickTarget([], null, ledger)).toThrow('rollback refused: the release ledger has no entry that put a release in place');
    expect(() => pickTarget([e('1', 'r1', { outcome: 'failed' })], null, ledger)).toThrow('rollback refused: no successful release before r1');
  });
});

describe('rollback: modeled real-AWS critical path (scripts/bench/model.mjs)', () => {
  test('no migration, workers first with reverse waves (the fetcher then anisette), then the app tier', async () => {
    const { modelCriticalPath } = await import('../../scripts/bench/model.mjs');
    const staging = stagingRaw();
    const m = modelCriticalPath(staging, { runnerPollSeconds: 1, taskStartSeconds: 40, migrationRunSeconds: 20 });
    expect(m.rollback.tiers).toEqual([{ tier: 'workers', seconds: 80, waves: [40, 40] }, { tier: 'app', seconds: 55, waves: [55] }]);
    expect(m.rollback.seconds).toBe(80 + 55);
    expect(m.ours.seconds - m.rollback.seconds).toBe(60); // the migration a rollout runs
  });
});
