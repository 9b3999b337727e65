// The environment's lock: one change at a time. A standard SSM parameter `/<namePrefix>/lock` (lib/config/names.cjs
// lockName), beside the release ledger and inside the rollout role's least privilege (stacks/ci-access). Taken with
// PutParameter Overwrite=false, which SSM makes atomic: of two commands started together exactly one creates it,
// the other gets ParameterAlreadyExists and is refused before its first change. The holder renews its lease while
// it works; a lease not renewed for LEASE_MS is stale, and only `--break-lock` takes a stale lock over. Released (DeleteParameter) at the end of the command, also after a failure and Ctrl-C.
// Why SSM and not DynamoDB, and what the lease guarantees: docs/operations.md, "One change at a time".
import { randomUUID } from 'node:crypto';
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { send, errorLine as errorText } from '../aws/send.mjs';
import names from '../../lib/config/names.cjs';
import { originFrom } from './record.mjs';
import { EXIT, InterruptedError } from '../lib/errors.mjs';

/** A lease the holder has not renewed for this long is stale. */
export const LEASE_MS = 120_000;
/** The holder renews every RENEW_MS (a third of the lease: two renewals may fail before it goes stale). */
export const RENEW_MS = 40_000;
/** Taking and releasing the lock is bounded, also after Ctrl-C. */
const RELEASE_MS = 10_000;

export const { lockName } = names;

/** What the lock parameter holds: who, what, since when, the lease. No secret values. */
export const LockSchema = z.object({
  schemaVersion: z.literal(1),
  token: z.string().min(1),
  command: z.string().min(1),
  release: z.string().nullable(),
  environment: z.string().min(1),
  origin: z.object({ ciRunUrl: z.string().nullable(), actor: z.string().nullable(), host: z.string().nullable() }),
  pid: z.number().int().nullable(),
  since: z.iso.datetime(),
  renewedAt: z.iso.datetime(),
  leaseSeconds: z.number().positive(),
}).strict();

/** @typedef {z.output<typeof LockSchema>} LockValue */

/** Another command holds the environment's lock (exit 3, EXIT.LOCKED): nothing was changed. */
export class LockHeldError extends Error {
  /** @param {string} message @param {{ holder: LockValue|null, stale: boolean, name: string }} info */
  constructor(message, info) {
    super(message);
    this.name = 'LockHeldError';
    this.holder = info.holder;
    this.stale = info.stale;
    this.parameter = info.name;
  }
}

/**
 * @typedef {object} LockContext
 * @property {{ ssm: import('@aws-sdk/client-ssm').SSMClient }} aws
 * @property {string} namePrefix
 * @property {AbortSignal} [signal]
 * @property {{ warn: (msg: string) => void, info?: (msg: string) => void }} [log]
 * @property {{ now: () => number }} clock
 * @property {number} [leaseMs] default LEASE_MS
 * @property {number} [renewMs] default RENEW_MS
 */

/**
 * The lock as it is: null when free; `{ value: null }` when the parameter holds something unreadable.
 * @param {LockContext} ctx
 * @returns {Promise<{ value: LockValue|null, raw: string } | null>}
 */
export async function readLock(ctx) {
  const name = lockName(ctx.namePrefix);
  let res;
  try {
    res = await send(ctx, ctx.aws.ssm, new GetParameterCommand({ Name: name }));
  } catch (e) {
    if (/** @type {Error} */ (e).name === 'ParameterNotFound') return null;
    throw new Error(`could not read the environment lock ${name}: ${errorText(e)}`, { cause: e });
  }
  const raw = res.Parameter?.Value ?? '';
  let value = null;
  try {
    const parsed = LockSchema.safeParse(JSON.parse(raw));
    value = parsed.success ? parsed.data : null;
  } catch {
    value = null;
  }
  return { value, raw };
}

/**
 * Is a lock stale at `now`: its lease ran out without a renewal (an unreadable lock counts as stale: only
 * --break-lock removes it).
 * @param {LockValue|null} value @param {number} now
 */
export function isStale(value, now) {
  if (!value) return true;
  return now - Date.parse(value.renewedAt) > value.leaseSeconds * 1000;
}

/** @param {number} ms */
const ago = (ms) => (ms < 90_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`);

/**
 * Who holds it, in one line: `rollout of release r2 by alice on host1 (pid 42), since 2026-... (3 min ago), lease
 * renewed 5 s ago`.
 * @param {LockValue|null} v @param {number} now
 */
export function describeHolder(v, now) {
  if (!v) return 'an unreadable lock value';
  const who = v.origin.ciRunUrl ? `CI run ${v.origin.ciRunUrl}` : `${v.origin.actor ?? 'someone'} on ${v.origin.host ?? 'an unknown host'}${v.pid ? ` (pid ${v.pid})` : ''}`;
  return `${v.command}${v.release ? ` of release ${v.release}` : ''} by ${who}, since ${v.since} (${ago(now - Date.parse(v.since))} ago), lease renewed ${ago(now - Date.parse(v.renewedAt))} ago`;
}

/**
 * Take the environment's lock, or throw LockHeldError naming the holder and the way on. With `breakLock`, a stale
 * lock (lease not renewed for its lease time, or unreadable) is deleted and taken: the result's `tookOver` names the
 * previous holder, for the ledger. A live lock is never broken.
 * @param {LockContext} ctx
 * @param {{ command: string, release: string|null, environment: string, env: Record<string, string|undefined>, breakLock?: boolean }} who
 * @returns {Promise<Lock>}
 */
export async function acquireLock(ctx, who) {
  const name = lockName(ctx.namePrefix);
  const leaseMs = ctx.leaseMs ?? LEASE_MS;
  const nowIso = new Date(ctx.clock.now()).toISOString();
  /** @type {LockValue} */
  const value = {
    schemaVersion: 1, token: randomUUID(), command: who.command, release: who.release, environment: who.environment,
    origin: originFrom(who.env), pid: process.pid, since: nowIso, renewedAt: nowIso, leaseSeconds: leaseMs / 1000,
  };
  /** @type {{ holder: LockValue|null }|null} */
  let tookOver = null;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await send(ctx, ctx.aws.ssm, new PutParameterCommand({ Name: name, Value: JSON.stringify(value), Type: 'String', Overwrite: false }));
      return new Lock(ctx, name, value, tookOver);
    } catch (e) {
      if (/** @type {Error} */ (e).name !== 'ParameterAlreadyExists') throw new Error(`could not take the environment lock ${name}: ${errorText(e)}`, { cause: e });
    }
    const held = await readLock(ctx);
    if (!held) continue; // released in between: try once more
    const now = ctx.clock.now();
    const stale = isStale(held.value, now);
    const holder = describeHolder(held.value, now);
    if (!stale) {
      throw new LockHeldError(`refused: ${who.environment} is locked by ${holder}. Nothing was changed. Wait for it to finish (\`status\` shows the lock), `
        + `or stop it; a lock whose lease is not renewed for ${held.value?.leaseSeconds ?? leaseMs / 1000} s is stale and --break-lock takes it over (parameter ${name})`, { holder: held.value, stale, name });
    }
    if (!who.breakLock || attempt > 0) {
      throw new LockHeldError(`refused: ${who.environment} holds a stale lock: ${holder}. Nothing was changed. If that command is no longer running, `
        + `run again with --break-lock (or \`unlock\`); the ledger records the takeover (parameter ${name})`, { holder: held.value, stale, name });
    }
    // a stale lock, and the user asked: delete it, then take it like anyone else (a racing breaker loses the put)
    try {
      await send(ctx, ctx.aws.ssm, new DeleteParameterCommand({ Name: name }));
    } catch (e) {
      if (/** @type {Error} */ (e).name !== 'ParameterNotFound') throw new Error(`could not break the stale lock ${name}: ${errorText(e)}`, { cause: e });
    }
    tookOver = { holder: held.value };
    ctx.log?.warn(`lock: took over the stale lock of ${holder}`);
  }
  throw new LockHeldError(`refused: another command took the lock of ${who.environment} at the same moment; nothing was changed (parameter ${name})`, { holder: null, stale: false, name });
}

/**
 * A held lock: `renew()` runs on a timer from `start()` until `release()`. A renewal that finds another holder's
 * token marks the lock `lost`: it warns, stops renewing, and leaves the new holder's lock alone at release().
 */
export class Lock {
  /**
   * @param {LockContext} ctx @param {string} name @param {LockValue} value
   * @param {{ holder: LockValue|null }|null} tookOver
   */
  constructor(ctx, name, value, tookOver) {
    this.ctx = ctx;
    this.name = name;
    this.value = value;
    this.tookOver = tookOver;
    /** @type {string|null} why the lock is no longer ours */
    this.lost = null;
    /** @type {ReturnType<typeof setInterval>|null} */
    this.timer = null;
    this.released = false;
  }

  /** The takeover, as the ledger records it (null when the lock was free). */
  get takeover() {
    if (!this.tookOver) return null;
    const h = this.tookOver.holder;
    return { at: this.value.since, holder: h ? { command: h.command, release: h.release, origin: h.origin, since: h.since, renewedAt: h.renewedAt } : null };
  }

  start() {
    const every = this.ctx.renewMs ?? RENEW_MS;
    this.timer = setInterval(() => { this.renew().catch(() => {}); }, every);
    this.timer.unref?.();
    return this;
  }

  /** Extend the lease, after checking the lock is still ours. */
  async renew() {
    if (this.lost) return;
    const ctx = { ...this.ctx, signal: AbortSignal.timeout(RELEASE_MS) };
    try {
      const held = await readLock(ctx);
      if (!held || held.value?.token !== this.value.token) {
        this.lost = held ? `taken over by ${describeHolder(held.value, this.ctx.clock.now())}` : 'the lock parameter was deleted';
        this.ctx.log?.warn(`lock: ${this.name} is no longer ours (${this.lost}); renewals stop`);
        this.stop();
        return;
      }
      this.value = { ...this.value, renewedAt: new Date(this.ctx.clock.now()).toISOString() };
      await send(ctx, ctx.aws.ssm, new PutParameterCommand({ Name: this.name, Value: JSON.stringify(this.value), Type: 'String', Overwrite: true }));
    } catch (e) {
      this.ctx.log?.warn(`lock: could not renew ${this.name} (${/** @type {Error} */ (e).message}); retried in ${Math.round((this.ctx.renewMs ?? RENEW_MS) / 1000)} s`);
    }
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Delete the lock if it is still ours (bounded; never the run's aborted signal). A failure is warned about: the
   * lock then goes stale after its lease. Idempotent: a second call does nothing.
   */
  async release() {
    this.stop();
    if (this.lost || this.released) return;
    this.released = true;
    const ctx = { ...this.ctx, signal: AbortSignal.timeout(RELEASE_MS) };
    try {
      const held = await readLock(ctx);
      if (held?.value?.token !== this.value.token) return;
      await send(ctx, ctx.aws.ssm, new DeleteParameterCommand({ Name: this.name }));
    } catch (e) {
      this.ctx.log?.warn(`lock: could not release ${this.name} (${/** @type {Error} */ (e).message}); it goes stale ${Math.round(this.value.leaseSeconds)} s after its last renewal`);
    }
  }
}

/**
 * Take the lock for a command that changes the environment, or say why not: `{ lock }`, or `{ lock: null,
 * exitCode, message }` after the refusal was written (EXIT.LOCKED: held by another command; EXIT.FAILED: AWS did not
 * answer). Either way nothing was changed.
 * @param {LockContext} ctx
 * @param {Parameters<typeof acquireLock>[1]} who
 * @param {(line: string) => void} writeErr
 * @returns {Promise<{ lock: Lock, exitCode?: undefined } | { lock: null, exitCode: number, message: string }>}
 */
export async function takeLock(ctx, who, writeErr) {
  try {
    return { lock: (await acquireLock(ctx, who)).start() };
  } catch (e) {
    if (e instanceof LockHeldError) {
      writeErr(`error: ${e.message}`);
      return { lock: null, exitCode: EXIT.LOCKED, message: e.message };
    }
    // Ctrl-C while the lock is being taken (the SDK's abort, or ours): nothing was changed; exit 130, not a failure
    if (e instanceof InterruptedError || ctx.signal?.aborted || /** @type {Error} */ (e)?.name === 'AbortError') {
      const message = 'interrupted (Ctrl-C) while taking the environment lock; nothing was changed';
      writeErr(`error: ${message}`);
      return { lock: null, exitCode: EXIT.INTERRUPTED, message };
    }
    const message = `${/** @type {Error} */ (e).message}; nothing was changed`;
    writeErr(`error: ${message}`);
    return { lock: null, exitCode: EXIT.FAILED, message };
  }
}
