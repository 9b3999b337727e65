// Runs a plan: steps in order, nothing after a failed step is touched; builds the rollout report
// (docs/contract.md section 7). Each step is run by the module its kind names in the step registry
// (runner/steps/index.mjs, injected); a kind without a module is `skipped`, reason "not implemented".
import { InputError, InterruptedError, StepFailure, EXIT, operationOf } from './errors.mjs';
import { fmtMs } from './runtime.mjs';
import { skippedChecksNote } from './checks-note.mjs';
import { emulatorNote, dataplaneNote } from './emulator.mjs';
import { verdictQualifier } from './verdict.mjs';

/**
 * @typedef {object} ReportStep
 * @property {string} id
 * @property {string} title
 * @property {'passed'|'failed'|'skipped'|'not-run'} status
 * @property {string|null} reason
 * @property {string|null} startedAt
 * @property {string|null} finishedAt
 * @property {number|null} durationMs
 * @property {import('./types.mjs').ServiceResult[]} services
 * @property {import('./types.mjs').Check[]} checks
 * @property {{ name: string, reason: string }[]} [notApplicable] what a policy rules out (e.g. a convenience tag on an
 *   immutable repository): not checks, neither passed nor skipped
 */

/**
 * The first failure (docs/contract.md section 7).
 * @typedef {object} Failure
 * @property {string} step
 * @property {string} [service] the service it concerns, when there is one
 * @property {string} [operation] the AWS operation that failed (e.g. `DescribeServices`), when one did
 * @property {string} message
 * @property {import('./types.mjs').HalfDone[]} [halfDone] what was left half-done when the run stopped (present
 *   once a step ran; empty when nothing was)
 */

/**
 * @typedef {object} Report
 * @property {1} schemaVersion
 * @property {string} release
 * @property {string} environment
 * @property {'passed'|'failed'|'interrupted'} status
 * @property {number} exitCode
 * @property {Failure|null} failure
 * @property {string} startedAt
 * @property {string} finishedAt
 * @property {number} durationMs
 * @property {number} awsCalls
 * @property {Record<string, { uri: string, tag: string, digest?: string|null, status: string }>} images
 * @property {ReportStep[]} steps
 * @property {import('./emulator.mjs').EmulatorNote} [emulator] emulator runs only: the mode's source, what it could not create
 * @property {import('./emulator.mjs').DataplaneNote} [dataplane] local data plane runs only: the mode's source, what
 *   one machine cannot prove, what its emulator could not create
 * @property {import('../ledger/record.mjs').LedgerStatus} [ledger] present only when the run's final release-ledger
 *   entry could not be written (written: false, reason); the exit code is then 1 for a run that passed
 */

/**
 * @param {object} args
 * @param {import('./plan.mjs').Plan} args.plan
 * @param {Omit<import('./types.mjs').StepContext, 'step'|'plan'>} args.ctx
 * @param {import('../steps/index.mjs').StepRegistry} args.steps step kind -> module (runner/steps/index.mjs STEPS)
 * @param {() => number} [args.awsCalls]
 * @returns {Promise<Report>}
 */
export async function execute({ plan, ctx, steps, awsCalls = () => 0 }) {
  const { clock, log } = ctx;
  const t0 = clock.now();
  /** @type {Report} */
  const report = {
    schemaVersion: 1, release: plan.release, environment: plan.environment, status: 'passed', exitCode: EXIT.OK,
    failure: null, startedAt: new Date(t0).toISOString(), finishedAt: '', durationMs: 0, awsCalls: 0, images: {}, steps: [],
  };
  if (ctx.capabilities?.emulator) report.emulator = emulatorNote(ctx.capabilities);
  if (ctx.capabilities?.dataplane) report.dataplane = dataplaneNote(ctx.capabilities);
  const dry = ctx.options.dryRun;
  /** @type {string|null} */
  let stopReason = null;
  let badInput = false;
  for (const step of plan.steps) {
    /** @type {ReportStep} */
    const entry = { id: step.id, title: step.title, status: 'not-run', reason: null, startedAt: null, finishedAt: null, durationMs: null, services: [], checks: [] };
    report.steps.push(entry);
    if (stopReason) {
      entry.reason = stopReason;
      continue;
    }
    if (!step.selected) {
      entry.status = 'skipped';
      entry.reason = step.skipReason;
      log.info(`[${step.id}] skipped: ${step.skipReason}`);
      continue;
    }
    // the images step runs in a dry run too: it only reads (which tags the registry has) and builds nothing
    if (dry && step.kind === 'smoke') {
      entry.status = 'skipped';
      entry.reason = 'dry run: smoke tests not run';
      continue;
    }
    const mod = steps[step.kind];
    if (!mod) {
      entry.status = 'skipped';
      entry.reason = `not implemented (no module for step kind "${step.kind}" in runner/steps/index.mjs)`;
      log.warn(`[${step.id}] skipped: ${entry.reason}`);
      continue;
    }
    const s0 = clock.now();
    entry.startedAt = new Date(s0).toISOString();
    log.info(`[${step.id}] ${step.title}: started`);
    /** @type {import('./types.mjs').StepResult} */
    let result;
    try {
      const returned = await mod.run({ ...ctx, step, plan });
      result = isStepResult(returned) ? returned : { status: 'failed', reason: `step returned an invalid result: ${JSON.stringify(returned)}` };
    } catch (e) {
      if (e instanceof InterruptedError || ctx.signal.aborted) {
        const half = ctx.state.halfDone.map((h) => h.what);
        result = { status: 'failed', reason: `interrupted (Ctrl-C) during ${step.id}${half.length ? `; left half-done: ${half.join('; ')}` : '; nothing was left half-done'}` };
        report.status = 'interrupted';
      } else {
        const err = /** @type {Error} */ (e);
        // a step rejecting its input before anything changed keeps the contract's exit 2 (a guard only reads)
        if (err instanceof InputError && !report.steps.some((x, i) => x.status === 'passed' && !plan.steps[i].guard)) {
          badInput = true;
        }
        result = {
          status: 'failed',
          reason: err instanceof StepFailure ? err.message : `${err.name}: ${err.message}`,
          service: err instanceof StepFailure ? err.service : undefined,
          operation: operationOf(err),
        };
      }
    }
    if (dry && result.status === 'failed' && report.status !== 'interrupted') {
      // a dry run changes nothing, but a state it cannot read (missing service or family, no credentials) means
      // the environment is broken: report it, go on reading the other steps, and exit 1 so a CI preflight fails
      result = { ...result, reason: `dry run: could not read the current state of ${step.id}: ${result.reason ?? 'no reason given'}` };
    }
    const s1 = clock.now();
    entry.status = result.status;
    entry.reason = result.status === 'skipped' ? result.reason || 'step skipped without giving a reason' : result.reason ?? null;
    entry.finishedAt = new Date(s1).toISOString();
    entry.durationMs = s1 - s0;
    entry.services = (result.services ?? []).map(fillService);
    entry.checks = (result.checks ?? []).map(fillCheck);
    const na = /** @type {{ name: string, reason: string }[] | undefined} */ (result.details?.notApplicable);
    if (na?.length) entry.notApplicable = na;
    // a pass with skipped checks (emulator gaps) stays `passed` (contract), but says what it did not prove
    const unproven = entry.status === 'passed' ? skippedChecksNote(entry.checks) : null;
    if (unproven && !(entry.reason ?? '').includes(unproven)) entry.reason = entry.reason ? `${entry.reason}; ${unproven}` : `passed; ${unproven}`;
    log.info(`[${step.id}] ${result.status} in ${fmtMs(s1 - s0)}${entry.reason ? `: ${firstLine(entry.reason)}` : ''}`);
    if (result.status === 'failed') {
      if (report.status !== 'interrupted') report.status = 'failed';
      if (!report.failure) {
        report.failure = {
          step: step.id, ...(result.service ? { service: result.service } : {}), ...(result.operation ? { operation: result.operation } : {}),
          message: entry.reason ?? 'failed', halfDone: [],
        };
      }
      if (report.status === 'interrupted') stopReason = `not started: interrupted during ${step.id}`;
      else if (!dry) stopReason = `not started: ${step.id} failed`;
    }
  }
  // what is left half-done when the run stops: the entries of steps that failed or were interrupted
  if (report.failure) report.failure.halfDone = ctx.state.halfDone.map((h) => ({ ...h }));
  for (const [key, img] of Object.entries(ctx.state.images ?? {})) {
    report.images[key] = { uri: img.uri, tag: img.tag, digest: img.digest ?? null, status: img.status ?? 'skipped' };
  }
  const t1 = clock.now();
  report.finishedAt = new Date(t1).toISOString();
  report.durationMs = t1 - t0;
  report.awsCalls = awsCalls();
  report.exitCode = report.status === 'passed' ? EXIT.OK : report.status === 'interrupted' ? EXIT.INTERRUPTED : badInput ? EXIT.BAD_INPUT : EXIT.FAILED;
  return report;
}

/** @param {unknown} r @returns {r is import('./types.mjs').StepResult} */
function isStepResult(r) {
  const status = r && typeof r === 'object' && 'status' in r ? r.status : undefined;
  return status === 'passed' || status === 'failed' || status === 'skipped';
}

/** @param {string} s */
const firstLine = (s) => s.split('\n')[0];

/** @param {import('./types.mjs').ServiceResult} s @returns {import('./types.mjs').ServiceResult} */
function fillService(s) {
  return {
    name: s.name, status: s.status, reason: s.reason ?? null, startedAt: s.startedAt ?? null, finishedAt: s.finishedAt ?? null,
    durationMs: s.durationMs ?? null, taskDefinitionArn: s.taskDefinitionArn ?? null, running: s.running ?? null,
    desired: s.desired ?? null, rolloutState: s.rolloutState ?? null, ...(s.changes?.length ? { changes: s.changes } : {}),
  };
}

/** @param {import('./types.mjs').Check} c @returns {import('./types.mjs').Check} */
function fillCheck(c) {
  /** @type {import('./types.mjs').Check} */
  const out = { name: c.name, status: c.status, reason: c.status === 'skipped' ? c.reason || 'no reason given' : c.reason ?? null, evidence: c.evidence ?? '', durationMs: c.durationMs ?? 0 };
  // optional (contract section 7): kept when the step reports them as non-negative integers
  if (Number.isInteger(c.attempts) && /** @type {number} */ (c.attempts) >= 0) out.attempts = c.attempts;
  if (Number.isInteger(c.timeoutMs) && /** @type {number} */ (c.timeoutMs) >= 0) out.timeoutMs = c.timeoutMs;
  return out;
}

/**
 * Final summary table.
 * @param {Report} report
 * @returns {string}
 */
export function formatSummary(report) {
  const rows = [['step', 'status', 'time', 'detail']];
  for (const s of report.steps) {
    rows.push([s.id, s.status, s.durationMs === null ? '-' : fmtMs(s.durationMs), firstLine(s.reason ?? '')]);
    for (const v of s.services) rows.push([`  ${v.name}`, v.status, v.durationMs === null ? '-' : fmtMs(/** @type {number} */ (v.durationMs)), firstLine(v.reason ?? (v.running !== null ? `running ${v.running}/${v.desired}` : ''))]);
  }
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (/** @type {string[]} */ r) => `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padStart(w[2])}  ${r[3]}`.trimEnd();
  const skippedChecks = report.steps.flatMap((s) => s.checks.filter((c) => c.status === 'skipped').map((c) => `  ${s.id} ${c.name}: ${c.reason}`));
  return [
    line(rows[0]), ...rows.slice(1).map(line), '',
    // the status and exit code first (what scripts match), then where it ran and what it did not prove
    `${report.status.toUpperCase()} (exit ${report.exitCode})${verdictQualifier(report)} in ${fmtMs(report.durationMs)}, ${report.awsCalls} AWS API calls`,
    ...(report.failure ? [`failure in ${report.failure.step}${report.failure.service ? ` (${report.failure.service})` : ''}${report.failure.operation ? `, ${report.failure.operation}` : ''}:`, ...report.failure.message.split('\n').map((l) => `  ${l}`)] : []),
    ...(report.failure?.halfDone?.length ? ['left half-done:', ...report.failure.halfDone.map((h) => `  ${h.step}: ${h.what}`)] : []),
    ...(skippedChecks.length ? ['checks skipped (not proven):', ...skippedChecks] : []),
    ...(report.emulator?.terraformGaps.length ? [
      'not created on the emulator (lib/emulator-gaps.json; nor anything that depends on them):',
      ...report.emulator.terraformGaps.map((g) => `  ${g.type ?? g.address}: ${g.reason}`),
    ] : []),
    ...(report.dataplane ? [
      'not provable locally (lib/emulator-gaps.json `dataplane`; not checks, so neither passed nor skipped):',
      ...report.dataplane.notProvable.map((g) => `  ${g.name}: ${g.reason}`),
      ...report.dataplane.terraformGaps.map((g) => `  ${g.type ?? g.address}: not created on the emulator: ${g.reason}`),
    ] : []),
  ].join('\n');
}
