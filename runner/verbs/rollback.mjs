// Verb `rollback [--to RELEASE]`: point every service back at the task-definition revisions of an earlier
// successful release, read from the release ledger (runner/ledger), in reverse tier order with reverse waves
// (runner/lib/plan.mjs buildRollbackPlan), through the rollout's own tier steps (same waits, gates, timeouts,
// failure rules, report, summary, timeline and exit codes). Never runs a migration. Refuses with exit 2 and
// changes nothing when the target is unknown, the catalog has changed, a revision is INACTIVE or an image is
// gone from ECR. Writes its own ledger entry (kind 'rollback'): in progress at the start, the outcome at the end;
// a dry run writes none.
import { defineCommand } from '../lib/cli-options.mjs';
import {
  stackInputFlags, dryRunFlag, emulatorFlags, waitFlags, changeFlags, reportFlags, helpFlag, validateImageTag,
} from '../lib/args.mjs';
import { defaultOptions } from './rollout.mjs';
import { usage } from './index.mjs';
import { InputError, EXIT } from '../lib/errors.mjs';
import { buildRollbackPlan, formatPlan, skippedServiceReasons } from '../lib/plan.mjs';
import { detectCapabilities } from '../lib/emulator.mjs';
import { createAwsClients } from '../aws/clients.mjs';
import { createLogger } from '../lib/runtime.mjs';
import { runIo, readRunInputs } from '../lib/run-io.mjs';
import * as ledgerModule from '../ledger/index.mjs';
import { startEntry, outcomeOf, coveredSteps } from '../ledger/record.mjs';
import { describeServices } from '../aws/ecs.mjs';
import { checkCatalog } from '../lib/catalog.mjs';
import { runChange, refusingBadInput } from './change.mjs';

/** @typedef {import('../ledger/index.mjs').LedgerEntry} LedgerEntry */

/**
 * @typedef {import('../ledger/index.mjs').LedgerContext} LedgerContext
 * @typedef {object} Ledger what this verb uses of runner/ledger/index.mjs
 * @property {(ctx: LedgerContext, entry: LedgerEntry) => Promise<void>} writeEntry
 * @property {(ctx: LedgerContext) => Promise<{ entries: LedgerEntry[], unreadable: import('../ledger/index.mjs').Unreadable[] }>} readLedger
 *   entries newest first, and what is not a valid entry
 * @property {(entries: LedgerEntry[], opts?: { before?: string }) => LedgerEntry | null | undefined} lastSuccessful
 * @property {(kind: 'rollout'|'rollback', release: string, startedAtIso: string) => string} entryId
 * @typedef {import('../main.mjs').MainDeps & { ledger?: Ledger }} RollbackDeps
 */

/** @typedef {import('../lib/args.mjs').Options & { to: string|null, ignoreDrift: boolean }} RollbackOptions the rollout's options (the tier steps read them), --to, --ignore-drift */
/** @typedef {import('../lib/cli-options.mjs').Flag<RollbackOptions>} RollbackFlag */

const COMMAND = defineCommand({
  head: `${usage('rollback', '[--to RELEASE] [flags]')}

Points every service back at the task-definition revisions of an earlier successful release recorded in the
release ledger, in reverse tier order (workers before the app tier; within a tier, dependents first), with
the rollout's waits, gates and timeouts. Never runs a migration: the schema stays as it is.`,
  column: 23,
  sections: [
    { title: 'Inputs', flags: /** @type {RollbackFlag[]} */ ([
      ...stackInputFlags(),
      { flag: '--to', value: 'RELEASE', key: 'to', parse: validateImageTag, help: [
        'roll back to the newest successful ledger entry of this release (default: the last',
        'successful release before the one that runs now)'] },
      { flag: '--ignore-drift', key: 'ignoreDrift', default: false, help: [
        'go on when what runs (DescribeServices) differs from the ledger\'s current entry',
        '(default: refused, both named)'] },
      ...dryRunFlag(['print the rollback plan (target release, services and revisions) and change nothing']),
    ]) },
    { title: 'Behaviour', flags: [...emulatorFlags(), ...waitFlags(), ...changeFlags()] },
    { title: 'Output', flags: [...reportFlags(), ...helpFlag()] },
  ],
  tail: `Exit codes
  0    every service is back on the target release and stable
  1    a service failed to become stable (the report names it and what was left half-done)
  2    refused, nothing was changed: bad input, unknown target, the catalog changed since the target release,
       a revision it needs is INACTIVE, an image it needs is gone from ECR
  3    the environment is locked by another command (named); nothing was changed
  130  interrupted (Ctrl-C); the report says what was left half-done`,
  initial: () => ({ ...defaultOptions(), to: null, ignoreDrift: false }),
});

export const HELP = COMMAND.help;

/**
 * @param {string[]} argv the arguments after `rollback`
 * @param {RollbackDeps} [deps]
 * @returns {Promise<{ exitCode: number, report: import('../lib/execute.mjs').Report|null, plan?: import('../lib/plan.mjs').Plan|null }>}
 */
export async function run(argv, deps = {}) {
  const io = runIo(deps);
  const { cwd, env, exec, clock, write, signal, counter, startedAt, ident } = io;
  /** @type {RollbackOptions|null} */
  let options = null;
  return refusingBadInput(io, () => options, async () => {
    options = COMMAND.parse(argv);
    if (options.help) {
      write(HELP.replace(/\n$/, ''));
      return { exitCode: EXIT.OK, report: null, plan: null, awsCalls: 0 };
    }
    const o = options;
    const inputs = await readRunInputs(o, { cwd, env, exec });
    const { config, outputs, source } = inputs;
    ident.environment = outputs.environment;
    const log = createLogger({ write, clock, startedAt });
    const capabilities = detectCapabilities({ emulator: o.emulator, env });
    const aws = deps.createAws ? deps.createAws(counter, outputs.region) : createAwsClients({ region: outputs.region, counter, retry: { maxAttempts: o.awsMaxAttempts } });
    const ledger = deps.ledger ?? ledgerModule;
    // the lock is taken before the ledger is read (runChange), so no other command's change is under way
    return runChange({
      io, deps: { ...deps, writeEntry: ledger.writeEntry }, command: 'rollback', options: o, inputs, aws, log, capabilities, lockRelease: o.to,
      prepare: async (lctx, lockTakeover) => {
        const { entries, unreadable } = await ledger.readLedger(lctx);
        if (unreadable.length) {
          throw new InputError(`rollback refused: the release ledger has ${unreadable.length} unreadable entr${unreadable.length === 1 ? 'y' : 'ies'}: `
            + `${unreadable.map((u) => `${u.name}: ${u.reason}`).join('; ')}. A rollback cannot tell what runs or what to go back to past it: restore the `
            + 'entry, or delete it (aws ssm delete-parameter --name NAME) if it is not a release. Nothing was changed');
        }
        const live = await liveTaskDefinitions({ signal, log }, aws, outputs, config.tiers, source);
        const { current, target, alreadyRuns, drift } = pickTarget(entries, o.to, ledger, { live, ignoreDrift: o.ignoreDrift });
        ident.release = target.release;
        for (const d of drift) log.warn(`drift (--ignore-drift): ${d}`);
        if (alreadyRuns) {
          write(`rollback: nothing to do: release ${target.release} (ledger entry ${target.id}) already runs on every service of ${outputs.environment}; nothing was changed and nothing recorded`);
          return { exitCode: EXIT.OK };
        }
        const plan = buildRollbackPlan({ outputs, config, current, target, source });
        if (!o.dryRun) log.info(formatPlan(plan)); // a dry run prints it once, at the end, with what it found out
        log.info(`mode: ${capabilities.emulator ? 'EMULATOR' : 'AWS'} (${capabilities.source})${o.dryRun ? '; DRY RUN: nothing will be changed' : ''}`);
        /** @type {LedgerEntry|null} */
        const entry = o.dryRun ? null : {
          ...startEntry({ kind: 'rollback', release: target.release, environment: outputs.environment, startedAt: new Date(startedAt).toISOString(), env, lockTakeover }),
          images: { ...target.images }, taskDefinitions: { ...plan.rollback?.taskDefinitions }, rollbackOf: current.id, target: target.id,
        };
        return {
          plan, release: target.release, entry, entryRequired: true,
          finish: (report, state) => ({
            .../** @type {LedgerEntry} */ (entry), outcome: outcomeOf(report, state), failedStep: report.failure?.step ?? null, finishedAt: report.finishedAt, covered: coveredSteps(report),
          }),
        };
      },
    });
  });
}

/**
 * What every enabled service of the catalog runs now: service name -> task definition ARN (DescribeServices, 10 a
 * call). A service ECS does not know maps to "" (it runs nothing the ledger can name).
 * @param {import('../aws/send.mjs').CallContext} call
 * @param {import('../aws/clients.mjs').AwsClients} aws
 * @param {import('../lib/outputs.mjs').Outputs} outputs @param {string[]} tiers @param {string} source
 * @returns {Promise<Map<string, string>>}
 */
async function liveTaskDefinitions(call, aws, outputs, tiers, source) {
  const services = checkCatalog(outputs.catalog, tiers, source);
  const skipped = skippedServiceReasons(services);
  const active = services.filter((s) => !skipped.has(s.name));
  const ecsName = (/** @type {typeof active[number]} */ s) => s.ecsServiceName ?? s.name;
  const { services: found } = await describeServices(call, aws.ecs, outputs.clusterName, active.map(ecsName));
  const byName = new Map(found.map((v) => [v.serviceName, v.taskDefinition ?? '']));
  return new Map(active.map((s) => [s.name, byName.get(ecsName(s)) ?? '']));
}

/** Did a run point services at task definitions: a rollout or rollback (never a one-off run), not refused, and it
 *  recorded the ones it put in place. @param {LedgerEntry} e */
export const changedServices = (e) => ledgerModule.isRelease(e) && e.outcome !== 'refused' && Object.keys(e.taskDefinitions).length > 0
  && (e.covered === undefined || e.covered.some((id) => id.startsWith('tier:')));

/** A rollback target: passed, put the whole release in place (never a check-only or partial run). @param {LedgerEntry} e */
const isTarget = (e) => e.outcome === 'passed' && e.complete !== false && changedServices(e);

/** `name:7` of a task definition ARN @param {string|undefined} arn */
const shortTd = (arn) => (arn ? arn.slice(arn.lastIndexOf('/') + 1) : 'nothing');

/**
 * Does `e` name, for every service in `live`, the task definition that runs now.
 * @param {LedgerEntry} e @param {Map<string, string>} live
 */
const matchesLive = (e, live) => [...live].every(([n, arn]) => e.taskDefinitions[n] === arn);

/**
 * The entry the services run now and the entry to go back to.
 *
 * The ledger's current entry: the newest entry that changed services (refused and check-only runs changed
 * nothing); an unfinished rollback (failed, interrupted, in progress) stands for the entry it started from, and is
 * taken up again to its target. `live` (service -> the task definition it runs, from DescribeServices) is compared
 * with it: every service must run either that entry's revision or, for an entry that did not pass, the revision
 * of the last successful release before it (a run that stopped half-way). Anything else is drift: refused, with
 * both named, unless `ignoreDrift`.
 *
 * Current is what runs now: the newest entry whose revisions all run (else the ledger's current entry). Target:
 * with --to the newest complete, successful entry of that release; else the newest complete, successful entry
 * before the current one with another release. A rollback's place in history is the entry it went back to, so
 * rolling back twice goes further back (r1, r2, rollback to r1: a second rollback finds nothing before r1). When
 * the target already runs, `alreadyRuns` says so (the verb changes nothing).
 * @param {LedgerEntry[]} entries newest first
 * @param {string|null} to
 * @param {Pick<Ledger, 'lastSuccessful'>} ledger
 * @param {{ live?: Map<string, string>|null, ignoreDrift?: boolean }} [state] live: null when not read (no check)
 * @returns {{ current: LedgerEntry, target: LedgerEntry, alreadyRuns: boolean, drift: string[] }}
 */
export function pickTarget(entries, to, ledger, { live = null, ignoreDrift = false } = {}) {
  const changed = entries.filter(changedServices);
  const newest = changed[0];
  if (!newest) throw new InputError(`rollback refused: the release ledger has no entry that put a release in place${entries.length ? ` (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, none changed services)` : ''}; nothing to roll back to`);
  const unfinished = newest.kind === 'rollback' && newest.outcome !== 'passed' ? newest : null;
  const ledgerCurrent = (unfinished && entries.find((e) => e.id === unfinished.rollbackOf)) || newest;

  /** @type {string[]} */
  const drift = [];
  let current = ledgerCurrent;
  if (live) {
    const before = ledgerCurrent.outcome === 'passed' ? null : ledger.lastSuccessful(entries, { before: ledgerCurrent.id });
    const alsoOk = unfinished ? entries.find((e) => e.id === unfinished.target) : before;
    for (const [n, arn] of live) {
      if (arn === ledgerCurrent.taskDefinitions[n] || (alsoOk && arn === alsoOk.taskDefinitions[n])) continue;
      drift.push(`${n} runs ${shortTd(arn)}, the ledger's current entry ${ledgerCurrent.id} (release ${ledgerCurrent.release}) has ${shortTd(ledgerCurrent.taskDefinitions[n])}`);
    }
    if (drift.length && !ignoreDrift) {
      throw new InputError(`rollback refused: what runs differs from the release ledger: ${drift.join('; ')}. Something changed the services outside `
        + 'this runner, or the ledger lost an entry: check `status` and `history`; --ignore-drift goes on from what the ledger says. Nothing was changed');
    }
    const running = changed.find((e) => matchesLive(e, live));
    if (running && !unfinished) current = running;
  }
  // an unfinished rollback is taken up again even when its revisions are set: their deployments may not have settled
  const runsNow = (/** @type {LedgerEntry} */ t) => Boolean(live && !unfinished && matchesLive(t, live));

  if (to) {
    const target = entries.find((e) => isTarget(e) && e.release === to);
    if (target) return { current, target, alreadyRuns: runsNow(target), drift };
    const known = [...new Set(entries.filter(isTarget).map((e) => e.release))];
    throw new InputError(`rollback refused: unknown target: the release ledger has no complete, successful entry of release ${to} (such releases, newest first: ${known.join(', ') || 'none'}); nothing was changed`);
  }
  const again = unfinished && entries.find((e) => e.id === unfinished.target && isTarget(e));
  if (again) return { current, target: again, alreadyRuns: false, drift };
  let place = current;
  const seen = new Set();
  while (place.kind === 'rollback' && place.outcome === 'passed' && place.target && !seen.has(place.id)) {
    seen.add(place.id);
    const next = entries.find((e) => e.id === place.target);
    if (!next) break;
    place = next;
  }
  const targets = entries.filter(isTarget);
  for (let before = place.id; ;) {
    const found = ledger.lastSuccessful(targets, { before });
    if (!found) {
      throw new InputError(`rollback refused: no successful release before ${current.release} (ledger entry ${place.id}); nothing to roll back to (--to RELEASE picks one; nothing was changed)`);
    }
    if (found.release !== current.release) return { current, target: found, alreadyRuns: runsNow(found), drift };
    before = found.id;
  }
}
