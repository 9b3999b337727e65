// The release ledger (runner/ledger) against the scripted AWS world: what a rollout writes when (in progress, then
// the outcome, also on failure and Ctrl-C, nothing on a dry run), a write that fails, the 4 KB limit, reading
// newest first across pages, lastSuccessful, and the history verb.
import { fakeWorld, awsError, fakeClock, ROOT, OUTPUTS_FILE } from '../support/fake-aws.mjs';
import { rollout, WEB, WORKERS, ecsName, ops } from '../support/rollout.mjs';
import { main } from '../../runner/main.mjs';
import {
  entryId, writeEntry, readLedger, lastSuccessful, serializeEntry, LedgerError, MAX_ENTRY_BYTES,
} from '../../runner/ledger/index.mjs';
import { originFrom, startEntry, recordOutcome } from '../../runner/ledger/record.mjs';
import { createAwsClients } from '../../runner/aws/clients.mjs';
import { createCallCounter } from '../../runner/lib/call-counter.mjs';

const PREFIX = '/staging/releases/';
/** Every version written to the ledger, parsed, in order. */
const versions = (world) => world.ledgerCalls.filter((c) => c.op === 'PutParameter' && c.input.Name.startsWith(PREFIX)).map((c) => ({ name: c.input.Name, ...JSON.parse(c.input.Value) }));
const ledgerCtx = (fake) => ({ aws: fake.clients, namePrefix: 'staging' });

/** The history verb (or any verb) in-process against the fake world. */
async function verb(fake, argv) {
  const out = [];
  const err = [];
  const res = await main(argv, {
    cwd: ROOT, env: {}, clock: fakeClock(), createAws: () => fake.clients, write: (l) => out.push(l), writeErr: (l) => err.push(l),
    exec: async () => { throw new Error('no shell in unit tests'); },
  });
  return { ...res, out: out.join('\n'), err: err.join('\n') };
}

describe('entry ids and origin', () => {
  test('id: start time (sortable), kind, release', () => {
    expect(entryId('rollout', '3f2a9c1d0e4b', '2026-12-01T01:45:00.123Z')).toBe('20261201T014500123Z-rollout-3f2a9c1d0e4b');
    expect(entryId('rollback', 'r1', '2026-01-02T03:04:05.006Z') > entryId('rollout', 'r9', '2026-01-02T03:04:05.005Z')).toBe(true);
    expect(() => entryId('rollout', 'r', 'yesterday')).toThrow(RangeError);
  });
  test('origin: the CI run URL when GITHUB_* is set, else who and where', () => {
    expect(originFrom({ GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/staging', GITHUB_RUN_ID: '42', GITHUB_ACTOR: 'ann' }))
      .toEqual({ ciRunUrl: 'https://github.com/acme/staging/actions/runs/42', actor: 'ann', host: null });
    expect(originFrom({ USER: 'bob', HOSTNAME: 'laptop' })).toEqual({ ciRunUrl: null, actor: 'bob', host: 'laptop' });
  });
});

describe('what a rollout writes when', () => {
  test('passed: in-progress before the first step, then the outcome with digests, task definitions and the migration', async () => {
    const fake = fakeWorld();
    const res = await rollout(fake, ['--no-emulator', '--release', 'r1'], { env: { GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'a/b', GITHUB_RUN_ID: '7' } });
    expect(res.exitCode).toBe(0);
    const v = versions(fake.world);
    expect(v).toHaveLength(2);
    const id = '20260101T000000000Z-rollout-r1';
    expect(v.map((x) => x.name)).toEqual([PREFIX + id, PREFIX + id]);
    // the first write comes before any step's call
    expect(fake.world.ledgerCalls[0].step).toBeNull();
    expect(v[0]).toMatchObject({ id, kind: 'rollout', release: 'r1', environment: 'staging', outcome: 'in-progress', finishedAt: null, taskDefinitions: {} });
    expect(v[1]).toMatchObject({ id, outcome: 'passed', failedStep: null, complete: true, rollbackOf: null, target: null, origin: { ciRunUrl: 'https://github.com/a/b/actions/runs/7' } });
    expect(Object.keys(v[1].taskDefinitions).sort()).toEqual([...WEB, ...WORKERS].sort());
    expect(v[1].taskDefinitions.api).toMatch(/task-definition\/staging-api:2$/);
    expect(v[1].images).toEqual({ api: fake.world.images.api, frontend: fake.world.images.frontend, admin: fake.world.images.admin, anisette: fake.world.images.anisette });
    expect(v[1].migration).toEqual({ taskArn: expect.stringMatching(/:task\/staging\/task1$/), status: 'passed', exitCode: 0 });
    expect(Date.parse(v[1].finishedAt)).toBeGreaterThan(Date.parse(v[1].startedAt));
    expect(res.report.ledger).toBeUndefined();
    expect(res.out).toContain(`ledger: ${id} recorded as passed`);
    // SSM keeps both writes as versions of the one parameter
    expect(fake.world.parameters.get(PREFIX + id).version).toBe(2);
  });

  test('failed: the outcome and the failing step', async () => {
    const fake = fakeWorld();
    fake.world.faults.set('UpdateService', () => awsError('AccessDeniedException', 'not allowed'));
    const res = await rollout(fake, ['--no-emulator']);
    expect(res.exitCode).toBe(1);
    const v = versions(fake.world);
    expect(v.map((x) => x.outcome)).toEqual(['in-progress', 'failed']);
    expect(v[1]).toMatchObject({ failedStep: 'tier:app', complete: false });
    expect(v[1].taskDefinitions.api).toMatch(/:2$/);
  });

  test('Ctrl-C: the outcome is written after the interrupt (not with the aborted signal)', async () => {
    const fake = fakeWorld();
    const ac = new AbortController();
    fake.world.afterApply.set('UpdateService', async () => { ac.abort(); });
    const res = await rollout(fake, ['--no-emulator'], { signal: ac.signal });
    expect(res.exitCode).toBe(130);
    const v = versions(fake.world);
    expect(v.map((x) => x.outcome)).toEqual(['in-progress', 'interrupted']);
    expect(v[1].failedStep).toBe('tier:app');
  });

  test('a dry run writes nothing', async () => {
    const fake = fakeWorld();
    const res = await rollout(fake, ['--no-emulator', '--dry-run']);
    expect(res.exitCode).toBe(0);
    expect(fake.world.ledgerCalls).toEqual([]);
    expect(res.out).not.toContain('ledger:');
  });

  test('the final write fails on a passed run: exit 1, the report keeps passed and says why, stderr says so', async () => {
    const fake = fakeWorld();
    fake.world.faults.set('PutParameter', (input) => (!input.Name.startsWith(PREFIX) || input.Value.includes('"in-progress"') ? null : awsError('AccessDeniedException', 'no ssm:PutParameter')));
    const res = await rollout(fake, ['--no-emulator']);
    expect(res.exitCode).toBe(1);
    expect(res.report).toMatchObject({ status: 'passed', exitCode: 1, failure: null, ledger: { written: false, reason: expect.stringContaining('AccessDeniedException: no ssm:PutParameter') } });
    expect(res.err).toMatch(/^error: the passed rollout was not recorded in the release ledger \(could not write ledger entry \/staging\/releases\/\S+: AccessDeniedException/);
    expect(res.out).toContain('ledger: NOT recorded');
    expect(res.out).toContain('PASSED (exit 1)');
  });

  test('a failing write never hides the real outcome: a failed run stays exit 1, an interrupted one 130', async () => {
    const fake = fakeWorld();
    fake.world.faults.set('PutParameter', (input) => (input.Name.startsWith(PREFIX) ? awsError('AccessDeniedException', 'denied') : null));
    fake.world.faults.set('UpdateService', () => awsError('InvalidParameterException', 'bad'));
    const res = await rollout(fake, ['--no-emulator']);
    expect(res.exitCode).toBe(1);
    expect(res.report).toMatchObject({ status: 'failed', failure: { step: 'tier:app' }, ledger: { written: false } });
    expect(res.err).toContain('the failed rollout was not recorded');

    const again = fakeWorld();
    const ac = new AbortController();
    again.world.faults.set('PutParameter', (input) => (input.Name.startsWith(PREFIX) ? awsError('AccessDeniedException', 'denied') : null));
    again.world.afterApply.set('UpdateService', async () => { ac.abort(); });
    const r2 = await rollout(again, ['--no-emulator'], { signal: ac.signal });
    expect(r2.exitCode).toBe(130);
    expect(r2.report).toMatchObject({ status: 'interrupted', ledger: { written: false } });
  });

  test('a partial run (--only) is recorded but is not a successful release', async () => {
    const fake = fakeWorld();
    await rollout(fake, ['--no-emulator', '--release', 'r1']);
    const res = await rollout(fake, ['--no-emulator', '--release', 'r2', '--only', 'tier:workers']);
    expect(res.exitCode).toBe(0);
    const { entries } = await readLedger(ledgerCtx(fake));
    expect(entries.map((e) => [e.release, e.outcome, e.complete])).toEqual([['r2', 'passed', false], ['r1', 'passed', true]]);
    expect(lastSuccessful(entries).release).toBe('r1');
  });
});

describe('recording the outcome', () => {
  test('a store that never answers: the write is given up at its bound and the report says why', async () => {
    const entry = { ...startEntry({ kind: 'rollout', release: 'r1', environment: 'staging', startedAt: '2026-01-01T00:00:00.000Z', env: {} }), outcome: 'interrupted' };
    const report = { status: 'interrupted', exitCode: 130 };
    const errs = [];
    const hang = (ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('interrupted'))));
    const final = await recordOutcome({ aws: {}, namePrefix: 'staging' }, entry, report, (l) => errs.push(l), { write: hang, timeoutMs: 50 });
    expect(final).toEqual({ id: entry.id, written: false, reason: 'no answer from AWS within 0.05 s' });
    expect(report).toMatchObject({ exitCode: 130, ledger: final });
    expect(errs).toEqual(['error: the interrupted rollout was not recorded in the release ledger (no answer from AWS within 0.05 s)']);
  });
});

describe('store', () => {
  test('the SSM client has the shared retry layer and call counting (a throttled attempt is retried and counted)', async () => {
    const counter = createCallCounter();
    let n = 0;
    const aws = createAwsClients({
      region: 'us-east-1', counter, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, retry: { baseDelayMs: 0 },
      transport: async ({ client, operation }) => {
        n += 1;
        if (n === 1) throw awsError('ThrottlingException', 'Rate exceeded');
        return client === 'ssm' && operation === 'GetParametersByPath' ? { Parameters: [] } : {};
      },
    });
    expect(await readLedger({ aws, namePrefix: 'staging' })).toEqual({ entries: [], unreadable: [] });
    expect(counter).toEqual({ total: 2, byOperation: { 'ssm.GetParametersByPath': 2 } });
  });

  const entry = (release, startedAt, outcome = 'passed', extra = {}) => ({
    ...startEntry({ kind: 'rollout', release, environment: 'staging', startedAt, env: {} }), outcome, finishedAt: startedAt, ...extra,
  });

  test('an entry over 4096 bytes is refused with its size and largest parts; nothing is sent', async () => {
    const fake = fakeWorld();
    const big = entry('r1', '2026-01-01T00:00:00.000Z', 'passed', {
      taskDefinitions: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`service-${i}`, `arn:aws:ecs:us-east-1:123456789012:task-definition/staging-service-${i}:12`])),
    });
    expect(() => serializeEntry(big)).toThrow(LedgerError);
    expect(() => serializeEntry(big)).toThrow(new RegExp(`^ledger entry ${big.id} is \\d+ bytes, over the ${MAX_ENTRY_BYTES}-byte limit of a standard SSM parameter \\(largest: taskDefinitions \\d+ B`));
    await expect(writeEntry(ledgerCtx(fake), big)).rejects.toThrow(LedgerError);
    expect(fake.world.ledgerCalls).toEqual([]);
  });

  test('newest first across pages of 10; limit; a value that is not an entry is named as unreadable, with what is wrong', async () => {
    const fake = fakeWorld();
    const ctx = ledgerCtx(fake);
    const times = Array.from({ length: 23 }, (_, i) => new Date(Date.UTC(2026, 0, 1, 0, 0, (i * 7) % 23)).toISOString());
    for (const [i, t] of times.entries()) await writeEntry(ctx, entry(`r${i}`, t));
    fake.world.parameters.set(`${PREFIX}junk`, { value: 'not json', version: 1, history: [] });
    fake.world.ledgerCalls = [];
    const { entries: all, unreadable } = await readLedger(ctx);
    expect(all).toHaveLength(23);
    expect(all.map((e) => e.startedAt)).toEqual([...times].sort().reverse());
    expect(ops({ calls: fake.world.ledgerCalls }, 'GetParametersByPath')).toHaveLength(3);
    expect(fake.world.ledgerCalls.every((c) => c.input.MaxResults === 10 && c.input.Path === '/staging/releases')).toBe(true);
    expect(unreadable).toEqual([{ name: '/staging/releases/junk', reason: expect.stringMatching(/^not JSON \(.+\)$/) }]);
    expect((await readLedger(ctx, { limit: 3 })).entries.map((e) => e.startedAt)).toEqual([...times].sort().reverse().slice(0, 3));
  });

  test('each corruption is named: a missing field, a bad digest, an id that does not match its parameter', async () => {
    const fake = fakeWorld();
    const ctx = ledgerCtx(fake);
    const good = entry('r1', '2026-01-01T00:00:00.000Z');
    const { images, ...noImages } = good;
    fake.world.parameters.set(`${PREFIX}${good.id}`, { value: JSON.stringify(noImages), version: 1, history: [] });
    const other = entry('r2', '2026-01-02T00:00:00.000Z');
    fake.world.parameters.set(`${PREFIX}${other.id}`, { value: JSON.stringify({ ...other, images: { api: 'sha256:short' } }), version: 1, history: [] });
    const moved = entry('r3', '2026-01-03T00:00:00.000Z');
    fake.world.parameters.set(`${PREFIX}20260104T000000000Z-rollout-r3`, { value: JSON.stringify(moved), version: 1, history: [] });
    const { entries, unreadable } = await readLedger(ctx);
    expect(entries).toEqual([]);
    expect(Object.fromEntries(unreadable.map((u) => [u.name.slice(PREFIX.length), u.reason]))).toEqual({
      [good.id]: expect.stringContaining('images:'),
      [other.id]: expect.stringContaining('images.api: not an image digest'),
      '20260104T000000000Z-rollout-r3': `its id "${moved.id}" does not match the parameter's name (20260104T000000000Z-rollout-r3)`,
    });
  });

  test('lastSuccessful: newest passed and complete, rollbacks included, older than `before`', () => {
    const e1 = entry('r1', '2026-01-01T00:00:00.000Z');
    const e2 = entry('r2', '2026-01-02T00:00:00.000Z', 'failed');
    const e3 = { ...entry('r1', '2026-01-03T00:00:00.000Z'), kind: 'rollback' };
    const e4 = entry('r4', '2026-01-04T00:00:00.000Z', 'passed', { complete: false });
    const e5 = entry('r5', '2026-01-05T00:00:00.000Z', 'in-progress');
    expect(lastSuccessful([e1, e5, e2, e4, e3])).toBe(e3);
    expect(lastSuccessful([e1, e2, e3, e4, e5], { before: e3.id })).toBe(e1);
    expect(lastSuccessful([e2, e5])).toBeNull();
  });

  test('a read error is a LedgerError naming the path', async () => {
    const fake = fakeWorld();
    fake.world.faults.set('GetParametersByPath', () => awsError('AccessDeniedException', 'no ssm:GetParametersByPath'));
    await expect(readLedger(ledgerCtx(fake))).rejects.toThrow('could not read the ledger /staging/releases: AccessDeniedException: no ssm:GetParametersByPath');
  });
});

describe('history', () => {
  test('the last N entries newest first, as a table and as JSON', async () => {
    const fake = fakeWorld();
    await rollout(fake, ['--no-emulator', '--release', 'r1']);
    fake.world.images.api = `sha256:${'e'.repeat(64)}`; // r2 changes the api image: new revisions
    fake.world.faults.set('UpdateService', (input) => (input.service === ecsName('api') ? awsError('AccessDeniedException', 'no') : null));
    await rollout(fake, ['--no-emulator', '--release', 'r2'], { clock: fakeClock(Date.UTC(2026, 0, 2)) });
    const table = await verb(fake, ['history', '--outputs', OUTPUTS_FILE]);
    expect(table.exitCode).toBe(0);
    const lines = table.out.split('\n');
    expect(lines[0]).toMatch(/^id \(start time, kind, release\)\s+kind\s+release\s+outcome\s+failed step\s+duration\s+origin$/);
    expect(lines[1]).toMatch(/^20260102T000000000Z-rollout-r2\s+rollout\s+r2\s+failed\s+tier:app\s+\S+/);
    expect(lines[2]).toMatch(/^20260101T000000000Z-rollout-r1\s+rollout\s+r1\s+passed\s+-\s+\S+/);
    const json = await verb(fake, ['history', '--outputs', OUTPUTS_FILE, '-n', '1', '--json']);
    const parsed = JSON.parse(json.out);
    expect(parsed.entries.map((e) => e.release)).toEqual(['r2']);
    expect(parsed.verbReport).toBeUndefined();
    expect(json.verbReport).toEqual(parsed);
  });

  test('empty ledger: exit 0 and says so; bad flag: exit 2; unreadable ledger: exit 1', async () => {
    const fake = fakeWorld();
    const empty = await verb(fake, ['history', '--outputs', OUTPUTS_FILE]);
    expect({ exit: empty.exitCode, out: empty.out }).toEqual({ exit: 0, out: 'no entries in the release ledger /staging/releases' });
    const bad = await verb(fake, ['history', '--outputs', OUTPUTS_FILE, '-n', '0']);
    expect({ exit: bad.exitCode, err: bad.err }).toEqual({ exit: 2, err: 'error: --last: must be an integer >= 1, got "0"' });
    fake.world.faults.set('GetParametersByPath', () => awsError('AccessDeniedException', 'denied'));
    const denied = await verb(fake, ['history', '--outputs', OUTPUTS_FILE]);
    expect(denied.exitCode).toBe(1);
    expect(denied.err).toBe('error: could not read the ledger /staging/releases: AccessDeniedException: denied');
  });

  test('an unknown verb is bad input; rollback with an empty ledger is a refusal; history has its own help', async () => {
    const fake = fakeWorld();
    const res = await verb(fake, ['deploy']);
    expect({ exit: res.exitCode, err: res.err }).toEqual({ exit: 2, err: 'error: unknown command "deploy" (commands: status, history, rollback, run, exec; flags alone run a rollout, see --help)' });
    const rb = await verb(fake, ['rollback', '--outputs', OUTPUTS_FILE]);
    expect({ exit: rb.exitCode, err: rb.err }).toEqual({ exit: 2, err: 'error: rollback refused: the release ledger has no entry that put a release in place; nothing to roll back to' });
    const help = await verb(fake, ['history', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.out).toMatch(/^Usage: npx zx runner\/rollout.mjs history \[flags\]/);
    expect(help.out).toContain('--last, -n N');
  });
});
