// The environment's lock (runner/ledger/lock.mjs) against the scripted AWS world: two rollouts started together
// (exactly one changes anything, the other is refused with exit 3 before its first change), a rollback while a
// rollout holds it, a stale lock taken over only with --break-lock and recorded in the ledger, a live one never.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fakeWorld, fakeClock, OUTPUTS_FILE, ROOT } from '../support/fake-aws.mjs';
import { CONFIG_ENV } from '../support/staging-config.cjs';
import { rollout, ops } from '../support/rollout.mjs';
import { main } from '../../runner/main.mjs';
import { acquireLock, readLock, isStale, LockHeldError, LEASE_MS } from '../../runner/ledger/lock.mjs';
import { EXIT } from '../../runner/lib/errors.mjs';

const LOCK = '/staging/lock';
const lockCtx = (fake, clock = fakeClock()) => ({ aws: fake.clients, namePrefix: 'staging', clock });
const ledgerNames = (world) => [...world.parameters.keys()].filter((n) => n.startsWith('/staging/releases/'));
const MUTATING = ['UpdateService', 'RegisterTaskDefinition', 'RunTask', 'StopTask'];

describe('the environment lock', () => {
  test('two rollouts started together: exactly one runs; the other is refused (exit 3) naming the holder; one ledger entry', async () => {
    const fake = fakeWorld();
    // the first holds the lock in its images step until the second has finished
    let done;
    const secondDone = new Promise((r) => { done = r; });
    const holding = { images: { run: async () => { await secondDone; return { status: 'skipped', reason: 'test: held' }; } } };
    const first = rollout(fake, ['--no-emulator'], { modules: holding });
    await new Promise((r) => setTimeout(r, 50));
    const b = await rollout(fake, ['--no-emulator']);
    done();
    const a = await first;
    const codes = [a.exitCode, b.exitCode].sort();
    expect(codes).toEqual([EXIT.OK, EXIT.LOCKED]);
    const refused = a.exitCode === EXIT.LOCKED ? a : b;
    expect(refused.err).toMatch(/^error: refused: staging is locked by rollout of release rel1 by .+, since 2026-01-01T00:00:00.000Z .*Nothing was changed/);
    expect(refused.report).toBeNull();
    expect(ledgerNames(fake.world)).toHaveLength(1);
    // one rollout's worth of changes: each service updated once
    const updates = ops(fake.world, 'UpdateService').map((c) => c.input.service);
    expect(new Set(updates).size).toBe(updates.length);
    expect(fake.world.parameters.has(LOCK)).toBe(false); // released at the end
  });

  test('a rollback while a rollout holds the lock: exit 3 before anything is read or written', async () => {
    const fake = fakeWorld();
    await acquireLock(lockCtx(fake), { command: 'rollout', release: 'r9', environment: 'staging', env: { USER: 'ann', HOSTNAME: 'ci-box' } });
    const err = [];
    const reportPath = path.join(mkdtempSync(path.join(tmpdir(), 'lock-report-')), 'report.json');
    const res = await main(['rollback', '--outputs', OUTPUTS_FILE, '--report', reportPath], {
      cwd: ROOT, env: { ...CONFIG_ENV }, clock: fakeClock(), createAws: () => fake.clients, write: () => {}, writeErr: (l) => err.push(l),
      exec: async () => { throw new Error('no shell'); },
    });
    expect(res.exitCode).toBe(EXIT.LOCKED);
    expect(err.join('\n')).toContain('locked by rollout of release r9 by ann on ci-box');
    // --report says so too, for CI: exit 3, the lock named as the failure, no step run
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    expect(report).toMatchObject({ exitCode: EXIT.LOCKED, status: 'failed', environment: 'staging', steps: [], failure: { step: 'lock' } });
    expect(report.failure.message).toContain('locked by rollout of release r9 by ann on ci-box');
    expect(fake.world.calls.filter((c) => MUTATING.includes(c.op))).toEqual([]);
    expect(ledgerNames(fake.world)).toEqual([]);
  });

  test('a stale lock: refused without --break-lock; taken over with it, the ledger records the takeover; a live lock is never broken', async () => {
    const fake = fakeWorld();
    const old = fakeClock(Date.UTC(2025, 11, 31, 23, 0)); // a killed runner: its lease ran out an hour ago
    await acquireLock(lockCtx(fake, old), { command: 'rollout', release: 'r8', environment: 'staging', env: { USER: 'bob', HOSTNAME: 'laptop' } });
    expect(isStale((await readLock(lockCtx(fake))).value, Date.UTC(2026, 0, 1))).toBe(true);

    const plain = await rollout(fake, ['--no-emulator']);
    expect(plain.exitCode).toBe(EXIT.LOCKED);
    expect(plain.err).toContain('holds a stale lock: rollout of release r8 by bob on laptop');
    expect(plain.err).toContain('--break-lock');
    expect(ledgerNames(fake.world)).toEqual([]);

    const broke = await rollout(fake, ['--no-emulator', '--break-lock']);
    expect(broke.exitCode).toBe(EXIT.OK);
    const [name] = ledgerNames(fake.world);
    const entry = JSON.parse(fake.world.parameters.get(name).value);
    expect(entry.lockTakeover).toMatchObject({ holder: { command: 'rollout', release: 'r8', origin: { actor: 'bob', host: 'laptop' } } });

    const live = fakeWorld();
    await acquireLock(lockCtx(live), { command: 'rollout', release: 'r7', environment: 'staging', env: {} });
    const res = await rollout(live, ['--no-emulator', '--break-lock']);
    expect(res.exitCode).toBe(EXIT.LOCKED);
    expect(res.err).toContain('is locked by rollout of release r7');
  });

  test('renewal keeps the lease alive; a lock taken over by another holder is marked lost', async () => {
    const fake = fakeWorld();
    const clock = fakeClock();
    const lock = await acquireLock(lockCtx(fake, clock), { command: 'rollout', release: 'r1', environment: 'staging', env: {} });
    clock.advance(LEASE_MS - 1000);
    await lock.renew();
    clock.advance(LEASE_MS - 1000);
    expect(isStale((await readLock(lockCtx(fake))).value, clock.now())).toBe(false);
    fake.world.parameters.delete(LOCK);
    await acquireLock(lockCtx(fake, clock), { command: 'rollback', release: null, environment: 'staging', env: {} });
    expect((await readLock(lockCtx(fake))).value).toMatchObject({ command: 'rollback', release: null });
    await lock.renew();
    expect(lock.lost).toMatch(/^taken over by rollback/);
    await lock.release(); // not ours: left alone
    expect(fake.world.parameters.has(LOCK)).toBe(true);
    await expect(acquireLock(lockCtx(fake, clock), { command: 'rollout', release: 'x', environment: 'staging', env: {} })).rejects.toThrow(LockHeldError);
  });
});
