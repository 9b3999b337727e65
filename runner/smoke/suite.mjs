// Runs smoke checks: each attempt bounded by the check's timeout, failed attempts retried a bounded number of
// times, checks the environment cannot answer skipped with the reason. Every emitted string is redacted.
import { missingCapability } from './capabilities.mjs';
import { skippedChecksNote } from '../lib/checks-note.mjs';

/**
 * @typedef {'passed' | 'failed' | 'skipped'} CheckStatus
 * @typedef {{ status: CheckStatus, reason?: string | null, evidence?: string | null, retryable?: boolean }} CheckOutcome
 * @typedef {object} CheckDefinition
 * @property {string} name
 * @property {import('./capabilities.mjs').Gap[]} needs  emulator gaps (lib/emulator-gaps.json) that keep the check from
 *   running at all: when the environment lacks one, the check is skipped
 * @property {import('./capabilities.mjs').Gap[]} [passNeeds]  gaps that must be absent to claim a pass: when one is
 *   present the check still runs and reports failures it can see, but a pass becomes `skipped` with the reason
 * @property {{ timeoutSeconds: number, attempts: number, retryDelaySeconds: number }} timing
 * @property {(sctx: import('./context.mjs').SmokeContext) => string | null} [skipReason]  e.g. feature disabled
 * @property {(sctx: import('./context.mjs').SmokeContext, signal: AbortSignal) => Promise<CheckOutcome>} run
 * @typedef {object} CheckRecord
 * @property {string} name
 * @property {CheckStatus} status
 * @property {string | null} reason
 * @property {string | null} evidence
 * @property {number} durationMs
 * @property {number} attempts
 * @property {number} timeoutMs    per-attempt timeout
 */

class AttemptTimeout extends Error {
  /** @param {number} ms */
  constructor(ms) { super(`timed out after ${ms} ms`); this.name = 'AttemptTimeout'; }
}

/**
 * Run one check with its timeout and bounded retries.
 * @param {CheckDefinition} def @param {import('./context.mjs').SmokeContext} sctx
 * @returns {Promise<CheckRecord>}
 */
export async function runCheck(def, sctx) {
  const started = sctx.clock.now();
  const timeoutMs = Math.round(def.timing.timeoutSeconds * 1000);
  const maxAttempts = Math.max(1, def.timing.attempts);
  const finish = (/** @type {CheckOutcome} */ o, /** @type {number} */ attempts) => /** @type {CheckRecord} */ (sctx.redact.deep({
    name: def.name,
    status: o.status,
    reason: o.reason ?? null,
    evidence: o.evidence ?? null,
    durationMs: sctx.clock.now() - started,
    attempts,
    timeoutMs,
  }));

  const gap = missingCapability(sctx.caps, def.needs);
  if (gap) return finish({ status: 'skipped', reason: gap, evidence: null }, 0);
  const featureSkip = def.skipReason?.(sctx) ?? null;
  if (featureSkip) return finish({ status: 'skipped', reason: featureSkip, evidence: null }, 0);

  /** @type {CheckOutcome} */
  let outcome = { status: 'failed', reason: 'not run' };
  let attempt = 0;
  while (attempt < maxAttempts) {
    attempt += 1;
    if (sctx.signal?.aborted) { outcome = { status: 'failed', reason: 'interrupted before the check finished', evidence: outcome.evidence }; break; }
    const ctrl = new AbortController();
    const onOuterAbort = () => ctrl.abort(sctx.signal?.reason ?? new Error('interrupted'));
    sctx.signal?.addEventListener('abort', onOuterAbort, { once: true });
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => { const e = new AttemptTimeout(timeoutMs); ctrl.abort(e); reject(e); }, timeoutMs);
    });
    try {
      outcome = /** @type {CheckOutcome} */ (await Promise.race([def.run(sctx, ctrl.signal), timeout]));
      if (!outcome || !['passed', 'failed', 'skipped'].includes(outcome.status)) {
        outcome = { status: 'failed', reason: `check returned no valid status (${JSON.stringify(outcome?.status)})`, retryable: false };
      }
    } catch (err) {
      const e = /** @type {Error & { retryable?: boolean }} */ (err);
      if (e instanceof AttemptTimeout) outcome = { status: 'failed', reason: e.message, evidence: outcome.evidence, retryable: true };
      else if (sctx.signal?.aborted) outcome = { status: 'failed', reason: 'interrupted before the check finished', retryable: false };
      else outcome = { status: 'failed', reason: `${e?.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e?.message ?? String(e)}`, retryable: e?.retryable !== false };
    } finally {
      clearTimeout(timer);
      sctx.signal?.removeEventListener('abort', onOuterAbort);
      ctrl.abort(new Error('attempt finished')); // stop anything the attempt left running
    }
    if (outcome.status !== 'failed' || outcome.retryable === false || attempt >= maxAttempts) break;
    sctx.log(`  smoke ${def.name}: attempt ${attempt}/${maxAttempts} failed (${outcome.reason}); retrying in ${def.timing.retryDelaySeconds}s`);
    try { await sctx.clock.sleep(def.timing.retryDelaySeconds * 1000, sctx.signal); } catch { outcome = { status: 'failed', reason: 'interrupted before the check finished', evidence: outcome.evidence }; break; }
  }
  const passGap = outcome.status === 'passed' ? missingCapability(sctx.caps, def.passNeeds ?? []) : null;
  if (passGap) outcome = { status: 'skipped', reason: passGap, evidence: `partly verified: ${outcome.evidence ?? 'nothing'}` };
  if (outcome.status === 'failed' && attempt > 1) outcome = { ...outcome, reason: `${outcome.reason} (after ${attempt} attempts)` };
  return finish(outcome, attempt);
}

/**
 * Run every check (concurrently; results in definition order) and derive the step status:
 * failed if any check failed, passed if none failed and at least one passed, skipped if all were skipped.
 * @param {CheckDefinition[]} defs @param {import('./context.mjs').SmokeContext} sctx
 * @returns {Promise<{ status: 'passed' | 'failed' | 'skipped', reason: string | null, checks: CheckRecord[] }>}
 */
export async function runSuite(defs, sctx) {
  const checks = await Promise.all(defs.map(async (def) => {
    const rec = await runCheck(def, sctx);
    const mark = rec.status === 'passed' ? 'PASS' : rec.status === 'failed' ? 'FAIL' : 'SKIP';
    sctx.log(`  smoke ${mark} ${rec.name} (${rec.durationMs} ms)${rec.reason ? `: ${rec.reason}` : ''}${rec.evidence ? ` [${rec.evidence}]` : ''}`);
    return rec;
  }));
  const failed = checks.filter((c) => c.status === 'failed');
  const passed = checks.filter((c) => c.status === 'passed');
  if (failed.length) return { status: 'failed', reason: `smoke check${failed.length > 1 ? 's' : ''} failed: ${failed.map((c) => c.name).join(', ')}`, checks };
  if (!passed.length) return { status: 'skipped', reason: 'every smoke check was skipped: nothing was proven', checks };
  const skipped = checks.filter((c) => c.status === 'skipped');
  // same note as the runner's step table (runner/lib/execute.mjs): a skipped check proved nothing
  return { status: 'passed', reason: skipped.length ? `passed; ${skippedChecksNote(skipped)}` : null, checks };
}
