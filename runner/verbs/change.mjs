// One change of an environment, the same way for every verb that makes one (rollout, rollback; the changing verbs
// to come): the environment's lock before the first change (a dry run takes none), what the verb decides under it
// (its `prepare`), the ledger's in-progress entry, the plan run by the one executor (runner/lib/execute.mjs), the
// outcome recorded (also after a failure or Ctrl-C), retention, the lock released (also on every early exit), then
// the summary and the report's outputs. And the one answer to bad input: exit 2, the message, --report.
import { InputError, EXIT } from '../lib/errors.mjs';
import { execute, formatSummary } from '../lib/execute.mjs';
import { formatPlan } from '../lib/plan.mjs';
import { dryRunNotes, writeOutputs, writeRefusal } from '../lib/run-io.mjs';
import { STEPS } from '../steps/index.mjs';
import { writeArtifacts } from '../report/index.mjs';
import { takeLock } from '../ledger/lock.mjs';
import { tryWrite, recordOutcome, retain } from '../ledger/record.mjs';
import { writeEntry } from '../ledger/index.mjs';

/** @typedef {import('../ledger/index.mjs').LedgerEntry} LedgerEntry */
/** @typedef {ReturnType<typeof import('../lib/run-io.mjs').runIo>} RunIo */
/** @typedef {{ exitCode: number, report: import('../lib/execute.mjs').Report|null, plan: import('../lib/plan.mjs').Plan|null, awsCalls: number }} ChangeResult */

/**
 * What a verb decided under the lock: the plan and its ledger entries.
 * @typedef {object} Prepared
 * @property {import('../lib/plan.mjs').Plan} plan
 * @property {string} release the release the run puts in place
 * @property {LedgerEntry|null} entry the in-progress entry (null on a dry run: nothing is recorded)
 * @property {(report: import('../lib/execute.mjs').Report, state: import('../lib/types.mjs').RunState) => LedgerEntry} finish the final entry
 * @property {boolean} [entryRequired] an in-progress entry that cannot be written stops the run (exit 1, nothing
 *   changed) instead of being warned about
 * @property {string[]} [notes] lines printed after a dry run's plan
 */

/**
 * @param {object} run
 * @param {RunIo} run.io
 * @param {import('../main.mjs').MainDeps & { writeEntry?: typeof writeEntry }} run.deps
 * @param {'rollout'|'rollback'} run.command
 * @param {import('../lib/args.mjs').Options} run.options the parsed flags
 * @param {Awaited<ReturnType<typeof import('../lib/run-io.mjs').readRunInputs>>} run.inputs
 * @param {import('../aws/clients.mjs').AwsClients} run.aws
 * @param {import('../lib/types.mjs').StepContext['log']} run.log
 * @param {import('../lib/types.mjs').StepContext['capabilities']} run.capabilities emulator or AWS (runner/lib/emulator.mjs)
 * @param {string|null} run.lockRelease the release named in the lock (null: not known before the lock, a rollback's)
 * @param {(ledger: import('../ledger/index.mjs').LedgerContext, lockTakeover: import('../ledger/index.mjs').LockTakeover|null) => Promise<Prepared | { exitCode: number }>} run.prepare
 *   under the lock (before any change): the plan, or an exit code when there is nothing to do; lockTakeover is the
 *   stale lock this run took over (--break-lock), for its entry
 * @returns {Promise<ChangeResult>}
 */
export async function runChange({ io, deps, command, options, inputs, aws, log, capabilities, lockRelease, prepare }) {
  const { cwd, env, exec, clock, write, writeErr, signal, counter, startedAt, ident } = io;
  const { config, outputs, loaded, configPath } = inputs;
  /** @type {import('../ledger/index.mjs').LedgerContext} */
  const ledger = { aws, namePrefix: config.namePrefix, log };
  const write1 = deps.writeEntry ?? writeEntry;
  // one change at a time: the environment's lock before anything is read for the change
  const held = options.dryRun ? null
    : await takeLock({ ...ledger, signal, clock, ...deps.lock }, { command, release: lockRelease, environment: outputs.environment, env, breakLock: options.breakLock }, writeErr);
  if (held && !held.lock) {
    await writeRefusal(io, options, { message: held.message, step: 'lock', exitCode: held.exitCode });
    return { exitCode: held.exitCode, report: null, plan: null, awsCalls: counter.total };
  }
  const lock = held?.lock ?? null;
  try {
    const prepared = await prepare({ ...ledger, signal }, lock?.takeover ?? null);
    if (!('plan' in prepared)) return { exitCode: prepared.exitCode, report: null, plan: null, awsCalls: counter.total };
    const { plan, release, entry } = prepared;
    ident.release = release;
    // the ledger: in-progress before the first step; the outcome after the last, also after a failure or Ctrl-C
    if (entry) {
      const started = await tryWrite({ ...ledger, signal }, entry, write1);
      if (!started.written && prepared.entryRequired) {
        writeErr(`error: the release ledger could not record the ${command}'s start (${started.reason}); nothing was changed`);
        return { exitCode: EXIT.FAILED, report: null, plan, awsCalls: counter.total };
      }
    }
    const opts = { ...options, configPath };
    /** @type {import('../lib/types.mjs').RunState} */
    const state = { halfDone: [] };
    const releaseStartedAt = new Date(startedAt).toISOString();
    const report = await execute({
      plan,
      ctx: {
        outputs, catalog: plan.services, release, imageTag: opts.release ?? null, options: opts, config, configPath: loaded.path, smoke: loaded.smoke, env, aws, exec, log,
        clock, signal, capabilities, releaseStartedAt, state,
      },
      steps: deps.steps ?? STEPS,
      awsCalls: () => counter.total,
    });
    if (entry) {
      // this write does not take the (maybe aborted) signal: an interrupted run is recorded too
      const final = await recordOutcome(ledger, prepared.finish(report, state), report, writeErr, { write: write1 });
      if (final.written) await retain({ ...ledger, signal }, config.ledger?.keep);
    }
    await lock?.release(); // before the outputs are written; the finally below covers every earlier exit
    report.awsCalls = counter.total; // the ledger's final write and the lock's release included
    if (options.dryRun) write(`\n${[formatPlan(plan, dryRunNotes(report)), ...(prepared.notes ?? [])].join('\n')}`);
    write(`\n${formatSummary(report)}`);
    const byOp = Object.entries(counter.byOperation).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
    if (byOp.length) write(`AWS API calls by operation: ${byOp.join(' ')}`);
    if (entry) write(`ledger: ${report.ledger ? `NOT recorded (${report.ledger.reason})` : `${entry.id} recorded as ${report.status}`}`);
    await writeOutputs(report, opts, { cwd, env, write, writeErr, writeArtifacts: deps.writeArtifacts ?? writeArtifacts });
    return { exitCode: report.exitCode, report, plan, awsCalls: counter.total };
  } finally {
    await lock?.release();
  }
}

/**
 * A verb's body with the one answer to bad input: an InputError (anywhere before the first change, or a refusal
 * under the lock) exits 2 with `error: <message>`, and --report holds the refusal. Anything else propagates.
 * @param {RunIo} io
 * @param {() => ({ report?: string|null } | null)} optionsOf the parsed flags once known (null before)
 * @param {() => Promise<ChangeResult>} body
 * @returns {Promise<ChangeResult>}
 */
export async function refusingBadInput(io, optionsOf, body) {
  try {
    return await body();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    io.writeErr(`error: ${e.message}`);
    await writeRefusal(io, optionsOf(), { message: e.message });
    return { exitCode: EXIT.BAD_INPUT, report: null, plan: null, awsCalls: io.counter.total };
  }
}
