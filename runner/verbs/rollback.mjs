// Verb `rollback [--to RELEASE]`: point every service back at the task-definition revisions of an earlier
// successful release, read from the release ledger (runner/ledger), in reverse tier order with reverse waves
// (runner/lib/plan.mjs buildRollbackPlan), through the rollout's own tier steps (same waits, gates, timeouts,
// failure rules, report, summary, timeline and exit codes). Never runs a migration. Refuses with exit 2 and
// changes nothing when the target is unknown, the catalog has changed, a revision is INACTIVE or an image is
// gone from ECR. Writes its own ledger entry (kind 'rollback'): in progress at the start, the outcome at the end;
// a dry run writes none.
import path from 'node:path';
import { defineCommand } from '../lib/cli-options.mjs';
import { ROLLBACK_FLAGS, defaultOptions } from '../lib/args.mjs';
import { InputError, EXIT } from '../lib/errors.mjs';
import { buildRollbackPlan, formatPlan } from '../lib/plan.mjs';
import { detectCapabilities } from '../lib/emulator.mjs';
import { createAwsClients } from '../aws/clients.mjs';
import { execute, formatSummary } from '../lib/execute.mjs';
import { createLogger } from '../lib/runtime.mjs';
import { runIo, readRunInputs, writeOutputs, writeJson, dryRunNotes, inputErrorReport } from '../lib/run-io.mjs';
import { STEPS } from '../steps/index.mjs';
import { writeArtifacts } from '../report/index.mjs';
import * as ledgerModule from '../ledger/index.mjs';
import { startEntry, recordOutcome } from '../ledger/record.mjs';

/** @typedef {import('../ledger/index.mjs').LedgerEntry} LedgerEntry */

/**
 * @typedef {import('../ledger/index.mjs').LedgerContext} LedgerContext
 * @typedef {object} Ledger what this verb uses of runner/ledger/index.mjs
 * @property {(ctx: LedgerContext, entry: LedgerEntry) => Promise<void>} writeEntry
 * @property {(ctx: LedgerContext, opts?: { limit?: number }) => Promise<LedgerEntry[]>} readEntries newest first
 * @property {(entries: LedgerEntry[], opts?: { before?: string }) => LedgerEntry | null | undefined} lastSuccessful
 * @property {(kind: 'rollout'|'rollback', release: string, startedAtIso: string) => string} entryId
 * @typedef {import('../lib/main.mjs').MainDeps & { ledger?: Ledger }} RollbackDeps
 */

const COMMAND = defineCommand({
  head: `Usage: npx zx runner/rollout.mjs rollback [--to RELEASE] [flags]

Points every service back at the task-definition revisions of an earlier successful release recorded in the
release ledger, in reverse tier order (workers before the app tier; within a tier, dependents first), with
the rollout's waits, gates and timeouts. Never runs a migration: the schema stays as it is.`,
  column: 23,
  sections: [
    { title: 'Inputs', flags: ROLLBACK_FLAGS.inputs },
    { title: 'Behaviour', flags: ROLLBACK_FLAGS.behaviour },
    { title: 'Output', flags: ROLLBACK_FLAGS.output },
  ],
  tail: `Exit codes
  0    every service is back on the target release and stable
  1    a service failed to become stable (the report names it and what was left half-done)
  2    refused, nothing was changed: bad input, unknown target, the catalog changed since the target release,
       a revision it needs is INACTIVE, an image it needs is gone from ECR
  130  interrupted (Ctrl-C); the report says what was left half-done`,
  initial: () => ({ ...defaultOptions(), to: null }),
});

export const HELP = COMMAND.help;

/**
 * @param {string[]} argv the arguments after `rollback`
 * @param {RollbackDeps} [deps]
 * @returns {Promise<{ exitCode: number, report: import('../lib/execute.mjs').Report|null, plan?: import('../lib/plan.mjs').Plan|null }>}
 */
export async function run(argv, deps = {}) {
  const { cwd, env, exec, clock, write, writeErr, signal, counter, startedAt, ident } = runIo(deps);
  /** @type {import('../lib/args.mjs').RollbackOptions|null} */
  let options = null;
  try {
    options = COMMAND.parse(argv);
    if (options.help) {
      write(HELP);
      return { exitCode: EXIT.OK, report: null };
    }
    const { configPath, loaded, config, outputs, source } = await readRunInputs(options, { cwd, env, exec });
    ident.environment = outputs.environment;
    const log = createLogger({ write, clock, startedAt });
    const aws = deps.createAws ? deps.createAws(counter, outputs.region) : createAwsClients({ region: outputs.region, counter, retry: { maxAttempts: options.awsMaxAttempts } });
    const ledger = deps.ledger ?? ledgerModule;
    /** @type {LedgerContext} */
    const lctx = { aws, namePrefix: config.namePrefix, signal, log };
    const { current, target } = pickTarget(await ledger.readEntries(lctx), options.to, ledger);
    ident.release = target.release;
    const plan = buildRollbackPlan({ outputs, config, current, target, source });
    const capabilities = detectCapabilities({ emulator: options.emulator, env });
    log.info(formatPlan(plan));
    for (const w of plan.rollback?.warnings ?? []) log.warn(w);
    log.info(`mode: ${capabilities.emulator ? 'EMULATOR' : 'AWS'} (${capabilities.source})${options.dryRun ? '; DRY RUN: nothing will be changed' : ''}`);

    const startedIso = new Date(startedAt).toISOString();
    /** @type {LedgerEntry|null} */
    const entry = options.dryRun ? null : {
      ...startEntry({ kind: 'rollback', release: target.release, environment: outputs.environment, startedAt: startedIso, env }),
      images: { ...target.images }, taskDefinitions: { ...plan.rollback?.taskDefinitions }, rollbackOf: current.id, target: target.id,
    };
    if (entry) {
      try {
        await ledger.writeEntry(lctx, entry);
      } catch (e) {
        writeErr(`error: the release ledger could not record the rollback's start (${/** @type {Error} */ (e).message}); nothing was changed`);
        return { exitCode: EXIT.FAILED, report: null, plan };
      }
    }
    const opts = { ...options, configPath };
    const report = await execute({
      plan,
      ctx: {
        outputs, catalog: plan.services, release: target.release, options: opts, config, configPath: loaded.path, smoke: loaded.smoke,
        env, aws, exec, log, clock, signal, capabilities, releaseStartedAt: startedIso, state: { halfDone: [] },
      },
      steps: deps.steps ?? STEPS,
      awsCalls: () => counter.total,
    });
    if (entry) {
      const outcome = report.status === 'passed' ? 'passed' : report.status === 'interrupted' ? 'interrupted' : 'failed';
      // the outcome is recorded after Ctrl-C too: this write does not take the aborted signal
      await recordOutcome(lctx, { ...entry, outcome, failedStep: report.failure?.step ?? null, finishedAt: report.finishedAt }, report, writeErr, { write: ledger.writeEntry });
      report.awsCalls = counter.total; // the ledger's final write included
    }
    if (options.dryRun) write(`\n${formatPlan(plan, dryRunNotes(report))}`);
    write(`\n${formatSummary(report)}`);
    await writeOutputs(report, opts, { cwd, env, write, writeErr, writeArtifacts: deps.writeArtifacts ?? writeArtifacts });
    return { exitCode: report.exitCode, report, plan };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    writeErr(`error: ${e.message}`);
    if (options?.report) {
      const report = inputErrorReport({ ...ident, message: e.message, startedAt, finishedAt: clock.now(), awsCalls: counter.total });
      await writeJson(path.resolve(cwd, options.report), report).catch(() => {});
    }
    return { exitCode: EXIT.BAD_INPUT, report: null, plan: null };
  }
}

/**
 * The entry the services run now and the entry to go back to. Current: the newest entry, whatever its outcome (a
 * failed rollout may have switched services); an unfinished rollback (failed, interrupted, in progress) is taken
 * up again: from the entry it started from, to its target. Target: with --to the newest successful entry of that
 * release; else the newest successful entry before the current one with another release. A rollback's place in
 * history is the entry it went back to, so rolling back twice goes further back (r1, r2, rollback to r1: a second
 * rollback finds nothing before r1), never forward again.
 * @param {LedgerEntry[]} entries newest first
 * @param {string|null} to
 * @param {Pick<Ledger, 'lastSuccessful'>} ledger
 * @returns {{ current: LedgerEntry, target: LedgerEntry }}
 */
export function pickTarget(entries, to, ledger) {
  const newest = entries[0];
  if (!newest) throw new InputError('rollback refused: the release ledger has no entry; nothing to roll back to');
  const unfinished = newest.kind === 'rollback' && newest.outcome !== 'passed' ? newest : null;
  const current = (unfinished && entries.find((e) => e.id === unfinished.rollbackOf)) || newest;
  if (to) {
    const target = entries.find((e) => e.outcome === 'passed' && e.release === to);
    if (target) return { current, target };
    const known = [...new Set(entries.filter((e) => e.outcome === 'passed').map((e) => e.release))];
    throw new InputError(`rollback refused: unknown target: the release ledger has no successful entry of release ${to} (successful releases, newest first: ${known.join(', ') || 'none'}); nothing was changed`);
  }
  const again = unfinished && entries.find((e) => e.id === unfinished.target && e.outcome === 'passed');
  if (again) return { current, target: again };
  let place = current;
  const seen = new Set();
  while (place.kind === 'rollback' && place.outcome === 'passed' && place.target && !seen.has(place.id)) {
    seen.add(place.id);
    const next = entries.find((e) => e.id === place.target);
    if (!next) break;
    place = next;
  }
  for (let before = place.id; ;) {
    const found = ledger.lastSuccessful(entries, { before });
    if (!found) {
      throw new InputError(`rollback refused: no successful release before ${current.release} (ledger entry ${place.id}); nothing to roll back to (--to RELEASE picks one; nothing was changed)`);
    }
    if (found.release !== current.release) return { current, target: found };
    before = found.id;
  }
}
