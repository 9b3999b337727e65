// Runner step `smoke` (docs/contract.md section 4): the post-release smoke suite. Its result decides the step's
// status, and with it the rollout's exit code. Checks the environment cannot answer are skipped with a reason.
import { buildChecks, runSuite, createSmokeContext } from '../smoke/index.mjs';
import { missingCapability } from '../smoke/capabilities.mjs';
import { getSmokeUser, loginMaySend } from '../smoke/checks/login.mjs';

export const id = 'smoke';
export const title = 'Smoke tests';

/**
 * @param {import('../lib/types.mjs').StepContext} ctx
 * @returns {Promise<{ status: 'passed' | 'failed' | 'skipped', reason?: string | null, details?: object, checks?: import('../smoke/suite.mjs').CheckRecord[] }>}
 */
export async function run(ctx) {
  /** @type {import('../smoke/context.mjs').SmokeContext} */
  let sctx;
  try {
    sctx = createSmokeContext(ctx);
  } catch (err) {
    return { status: 'failed', reason: `smoke configuration: ${/** @type {Error} */ (err).message}`, checks: [] };
  }
  sctx.log(`smoke: ${sctx.caps.emulator ? 'emulator mode' : sctx.caps.dataplane ? 'local data plane' : 'real AWS'} (${sctx.caps.source}), release ${sctx.release || '(unknown)'}`);
  // Learn the smoke user's credentials before any check runs, so every check's output is redacted from the
  // start (a read error is reported by the login check itself).
  // (not when the login check will refuse plain HTTP: then the secret is not needed at all)
  if (!missingCapability(sctx.caps, ['alb-http']) && loginMaySend(sctx.outputs.albUrl, sctx.settings)) await getSmokeUser(sctx, sctx.signal).catch(() => {});
  const result = await runSuite(buildChecks(sctx.settings), sctx);
  return {
    status: result.status,
    reason: result.reason,
    details: {
      capabilities: { emulator: sctx.caps.emulator, dataplane: sctx.caps.dataplane, source: sctx.caps.source },
      since: sctx.since ? sctx.since.toISOString() : null,
    },
    checks: sctx.redact.deep(result.checks), // again, with every secret learnt during the run
  };
}
