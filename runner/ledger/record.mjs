// How a run records itself in the ledger (runner/ledger/index.mjs): an `in-progress` entry before the first step,
// the outcome after the last one - also after a failure and after Ctrl-C (the final write does not use the run's
// aborted signal). A write that fails never changes the run's own outcome: it is returned as
// `{ written: false, reason }` for the report and the summary, and the caller decides the exit code.
import os from 'node:os';
import { entryId, writeEntry, readLedger, pruneEntries, isRelease, DEFAULT_KEEP } from './index.mjs';
import { EXIT } from '../lib/errors.mjs';

/**
 * What the report says about the ledger (the report's `ledger` key).
 * @typedef {{ id: string, written: boolean, reason: string|null }} LedgerStatus
 */

/**
 * Where the run came from: the CI run URL when GitHub Actions variables are set; who and which machine otherwise.
 * @param {Record<string, string|undefined>} env
 * @returns {import('./index.mjs').Origin}
 */
export function originFrom(env) {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
  const ciRunUrl = server && repo && run ? `${server}/${repo}/actions/runs/${run}${env.GITHUB_RUN_ATTEMPT ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : ''}` : null;
  return { ciRunUrl, actor: env.GITHUB_ACTOR || env.USER || env.USERNAME || null, host: ciRunUrl ? null : env.HOSTNAME || os.hostname() || null };
}

/**
 * The `in-progress` entry of a run that starts now.
 * @param {{ kind: import('./index.mjs').LedgerEntry['kind'], release: string, environment: string, startedAt: string, env: Record<string, string|undefined>,
 *   lockTakeover?: import('./index.mjs').LockTakeover|null }} run lockTakeover: the stale lock this run broke (--break-lock)
 * @returns {import('./index.mjs').LedgerEntry}
 */
export function startEntry({ kind, release, environment, startedAt, env, lockTakeover = null }) {
  return {
    schemaVersion: 1, id: entryId(kind, release, startedAt), kind, release, environment, outcome: 'in-progress', failedStep: null,
    startedAt, finishedAt: null, images: {}, taskDefinitions: {}, migration: null, rollbackOf: null, target: null, origin: originFrom(env),
    ...(lockTakeover ? { lockTakeover } : {}),
  };
}

/**
 * The final entry of a rollout, from its report and what the steps left in ctx.state: the digests the images
 * step pushed (else the digests the task definitions pin), each service's task definition, the migration task.
 * @param {import('./index.mjs').LedgerEntry} started
 * @param {import('../lib/execute.mjs').Report} report
 * @param {import('../lib/types.mjs').RunState} state
 * @param {import('../lib/plan.mjs').Plan} plan
 * @returns {import('./index.mjs').LedgerEntry}
 */
export function finishedRollout(started, report, state, plan) {
  /** @type {Record<string, string>} */
  const images = {};
  const families = plan.steps.find((s) => s.kind === 'task-definitions')?.families ?? [];
  for (const f of families) {
    const td = state.taskDefinitions?.[f.service] ?? (state.migrationTaskDefinition?.family === f.family ? state.migrationTaskDefinition : undefined);
    const digest = td?.image.match(/@(sha256:[0-9a-f]{64})$/)?.[1];
    if (digest) images[f.image] = digest;
  }
  for (const [key, img] of Object.entries(report.images)) if (img.digest) images[key] = img.digest;
  /** @type {Record<string, string>} */
  const taskDefinitions = {};
  for (const [name, td] of Object.entries(state.taskDefinitions ?? {})) if (td.arn) taskDefinitions[name] = td.arn;
  const tiers = new Set(plan.steps.filter((s) => s.kind === 'tier').map((s) => s.id));
  return {
    ...started,
    outcome: outcomeOf(report, state),
    failedStep: report.failure?.step ?? null,
    finishedAt: report.finishedAt,
    images,
    taskDefinitions,
    migration: migrationRecord(report, state),
    complete: tiers.size > 0 && report.steps.filter((s) => tiers.has(s.id)).every((s) => s.status === 'passed'),
    covered: coveredSteps(report),
  };
}

/** The steps a run ran (passed or failed; not the skipped and not-run ones). @param {import('../lib/execute.mjs').Report} report */
export const coveredSteps = (report) => report.steps.filter((s) => s.status === 'passed' || s.status === 'failed').map((s) => s.id);

/**
 * A run's outcome for the ledger: `refused` when it stopped on bad input (exit 2) with nothing left half-done: it
 * changed nothing, so no later command may take it up or aim at it.
 * @param {import('../lib/execute.mjs').Report} report @param {import('../lib/types.mjs').RunState} state
 * @returns {import('./index.mjs').Outcome}
 */
export function outcomeOf(report, state) {
  if (report.exitCode === EXIT.BAD_INPUT && !(state.halfDone ?? []).length) return 'refused';
  return report.status;
}

/**
 * @param {import('../lib/execute.mjs').Report} report @param {import('../lib/types.mjs').RunState} state
 * @returns {import('./index.mjs').MigrationRecord | null}
 */
function migrationRecord(report, state) {
  const step = report.steps.find((s) => s.id === 'migration');
  if (!step) return null;
  const taskArn = state.migration?.taskArn ?? null;
  let exitCode = null;
  if (step.status === 'passed' && step.checks.some((c) => c.name === 'migration-exit-code' && c.status === 'passed')) exitCode = 0;
  const m = step.status === 'failed' ? /exited with code (\d+)/.exec(step.reason ?? '') : null;
  if (m) exitCode = Number(m[1]);
  return { taskArn, status: state.migration?.reused ? 'reused' : step.status, exitCode };
}

/**
 * Write `entry`; a failure is returned (and warned about), never thrown.
 * @param {import('./index.mjs').LedgerContext} ctx
 * @param {import('./index.mjs').LedgerEntry} entry
 * @param {typeof writeEntry} [write] the store's writer (tests inject an in-memory ledger)
 * @returns {Promise<LedgerStatus>}
 */
export async function tryWrite(ctx, entry, write = writeEntry) {
  try {
    await write(ctx, entry);
    return { id: entry.id, written: true, reason: null };
  } catch (e) {
    const reason = /** @type {Error} */ (e).message;
    ctx.log?.warn(`ledger: ${reason}`);
    return { id: entry.id, written: false, reason };
  }
}

/** How long the final write may take (retries included), and after a Ctrl-C. */
export const FINAL_WRITE_MS = 30_000;
export const FINAL_WRITE_AFTER_INTERRUPT_MS = 10_000;

/**
 * Record a run's outcome (the final entry). The run's own status stands; when the entry cannot be written the
 * report says so (`ledger`), and a passed run exits 1: `status` and `rollback` read the ledger, so a release
 * they do not know is not a success. The write does not take the run's (maybe aborted) signal; it is bounded by
 * FINAL_WRITE_MS (FINAL_WRITE_AFTER_INTERRUPT_MS after Ctrl-C), then reported as not written.
 * @param {import('./index.mjs').LedgerContext} ctx
 * @param {import('./index.mjs').LedgerEntry} entry
 * @param {{ status: 'passed'|'failed'|'interrupted', exitCode: number, ledger?: LedgerStatus }} report the run's
 *   report (runner/lib/execute.mjs Report; a one-off run's outcome), amended when the entry is not written
 * @param {(line: string) => void} writeErr
 * @param {{ write?: typeof writeEntry, timeoutMs?: number }} [opts] the store's writer (tests inject an in-memory
 *   ledger); the bound (default FINAL_WRITE_MS, FINAL_WRITE_AFTER_INTERRUPT_MS after Ctrl-C)
 */
export async function recordOutcome(ctx, entry, report, writeErr, { write = writeEntry, timeoutMs } = {}) {
  // not the run's signal (an interrupted run is still recorded), but bounded: after Ctrl-C the user is waiting
  const bound = timeoutMs ?? (report.status === 'interrupted' ? FINAL_WRITE_AFTER_INTERRUPT_MS : FINAL_WRITE_MS);
  const deadline = AbortSignal.timeout(bound);
  const final = await tryWrite({ ...ctx, signal: deadline }, entry, write);
  if (!final.written && deadline.aborted) final.reason = `no answer from AWS within ${bound / 1000} s`;
  if (!final.written) {
    report.ledger = final;
    if (report.status === 'passed') report.exitCode = EXIT.FAILED;
    writeErr(`error: the ${report.status} ${entry.kind} was not recorded in the release ledger (${final.reason})${report.status === 'passed' ? `; exit 1: ${isRelease(entry) ? 'status and rollback will not know this release' : 'history will not show it'}` : ''}`);
  }
  return final;
}

/**
 * Retention: after a run's outcome is recorded, prune the ledger to its newest `keep` entries (config ledger.keep).
 * Skipped after Ctrl-C. A failure is warned about and changes nothing else: the next run prunes again.
 * @param {import('./index.mjs').LedgerContext} ctx
 * @param {number|undefined} keep
 * @returns {Promise<string[]>} the ids pruned
 */
export async function retain(ctx, keep = DEFAULT_KEEP) {
  if (ctx.signal?.aborted) return [];
  try {
    const { entries } = await readLedger(ctx);
    if (entries.length <= keep) return [];
    const pruned = await pruneEntries(ctx, entries, keep);
    if (pruned.length) ctx.log?.info?.(`ledger: pruned ${pruned.length} entr${pruned.length === 1 ? 'y' : 'ies'} older than the newest ${keep} (config ledger.keep)`);
    return pruned;
  } catch (e) {
    ctx.log?.warn(`ledger: retention skipped (${/** @type {Error} */ (e).message}); the next run prunes again`);
    return [];
  }
}
