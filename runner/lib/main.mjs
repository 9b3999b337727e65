// The runner's entry logic with every side effect injectable (runner/rollout.mjs wires the real ones).
import path from 'node:path';
import { parseArgs, HELP, validateRelease } from './args.mjs';
import { InputError, EXIT } from './errors.mjs';
import { buildPlan, selectSteps, formatPlan } from './plan.mjs';
import { detectCapabilities } from './emulator.mjs';
import { createAwsClients } from '../aws/clients.mjs';
import { execute, formatSummary } from './execute.mjs';
import { createLogger } from './runtime.mjs';
import { runIo, readRunInputs, dryRunNotes, writeJson, writeOutputs, refusalReport, writeLockRefusal } from './run-io.mjs';
import { formatCountChanges } from './deployed.mjs';
import { STEPS } from '../steps/index.mjs';
import { writeArtifacts } from '../report/index.mjs';
import { VERBS } from '../verbs/index.mjs';
import { startEntry, finishedRollout, tryWrite, recordOutcome, retain } from '../ledger/record.mjs';
import { takeLock } from '../ledger/lock.mjs';

/**
 * @typedef {object} MainDeps
 * @property {string} [cwd]
 * @property {Record<string, string|undefined>} [env]
 * @property {import('./types.mjs').Exec} [exec]
 * @property {import('./types.mjs').Clock} [clock]
 * @property {(counter: import('../aws/clients.mjs').CallCounter, region: string) => import('../aws/clients.mjs').AwsClients} [createAws]
 * @property {(line: string) => void} [write] stdout line writer
 * @property {(line: string) => void} [writeErr] stderr line writer
 * @property {import('../steps/index.mjs').StepRegistry} [steps] step kind -> module (default runner/steps/index.mjs)
 * @property {AbortSignal} [signal]
 * @property {typeof writeArtifacts} [writeArtifacts] renders the summary and timeline (default runner/report)
 * @property {{ leaseMs?: number, renewMs?: number }} [lock] the environment lock's lease and renewal period
 *   (default runner/ledger/lock.mjs LEASE_MS, RENEW_MS)
 */

/**
 * `<verb> [flags]` runs a verb of runner/verbs (status, history, rollback); flags alone run a rollout.
 * @param {string[]} argv
 * @param {MainDeps} [deps]
 * @returns {Promise<{ exitCode: number, report: import('./execute.mjs').Report|null, plan: import('./plan.mjs').Plan|null, awsCalls: number, verbReport?: object|null }>}
 */
export async function main(argv, deps = {}) {
  if (argv.length && !argv[0].startsWith('-')) {
    const name = argv[0];
    const verb = Object.hasOwn(VERBS, name) ? VERBS[/** @type {keyof typeof VERBS} */ (name)] : null;
    if (!verb) {
      (deps.writeErr ?? ((/** @type {string} */ l) => process.stderr.write(`${l}\n`)))(
        `error: unknown command "${name}" (commands: ${Object.keys(VERBS).join(', ')}; flags alone run a rollout, see --help)`);
      return { exitCode: EXIT.BAD_INPUT, report: null, plan: null, awsCalls: 0 };
    }
    const res = await verb.run(argv.slice(1), deps);
    return { exitCode: res.exitCode, report: null, plan: null, awsCalls: res.awsCalls ?? 0, verbReport: res.report ?? null };
  }
  return rollout(argv, deps);
}

/**
 * A rollout, recorded in the release ledger (runner/ledger) unless it is a dry run.
 * @param {string[]} argv
 * @param {MainDeps} deps
 * @returns {Promise<{ exitCode: number, report: import('./execute.mjs').Report|null, plan: import('./plan.mjs').Plan|null, awsCalls: number }>}
 */
async function rollout(argv, deps) {
  const { cwd, env, exec, clock, write, writeErr, signal, counter, startedAt, ident } = runIo(deps);
  /** @type {import('./args.mjs').Options|null} */
  let options = null;
  try {
    options = parseArgs(argv);
    if (options.help) {
      write(HELP);
      return { exitCode: EXIT.OK, report: null, plan: null, awsCalls: 0 };
    }
    const { configPath, loaded, config, outputs, source, countChanges } = await readRunInputs(options, { cwd, env, exec });
    ident.environment = outputs.environment;
    const countNotes = formatCountChanges(countChanges);
    const release = validateRelease(options.release ?? (await gitRelease(exec, cwd)));
    ident.release = release;
    const plan = selectSteps(
      buildPlan({ outputs, config, release, source }),
      { only: options.only, from: options.from, skip: options.skip, skipReasons: options.skipReasons },
    );
    const capabilities = detectCapabilities({ emulator: options.emulator, env });
    // each selected step's own input checks (a step module's checkInputs, e.g. the images' build contexts and
    // registry address), before the first AWS call: bad input calls nothing and writes no ledger entry
    const steps = deps.steps ?? STEPS;
    for (const s of plan.steps) if (s.selected) steps[s.kind]?.checkInputs?.({ config, configPath: loaded.path, catalog: plan.services, outputs, options, env });

    // input is valid: from here on AWS may be called
    const log = createLogger({ write, clock, startedAt });
    log.info(formatPlan(plan));
    for (const n of countNotes) log.info(n);
    log.info(`mode: ${capabilities.emulator ? 'EMULATOR' : 'AWS'} (${capabilities.source})${options.dryRun ? '; DRY RUN: nothing will be changed' : ''}`);
    const aws = deps.createAws ? deps.createAws(counter, outputs.region) : createAwsClients({ region: outputs.region, counter, retry: { maxAttempts: options.awsMaxAttempts } });
    const opts = { ...options, configPath };
    /** @type {import('./types.mjs').RunState} */
    const state = { halfDone: [] };
    // the ledger: in-progress before the first step; the outcome after the last, also after a failure or Ctrl-C
    // (that write does not take the aborted signal). A dry run records nothing.
    const ledger = { aws, namePrefix: config.namePrefix, log };
    // one change at a time: the environment's lock before the first change (a dry run changes nothing, takes none)
    const held = options.dryRun ? null
      : await takeLock({ ...ledger, signal, clock, ...deps.lock }, { command: 'rollout', release, environment: outputs.environment, env, breakLock: options.breakLock }, writeErr);
    if (held && !held.lock) {
      await writeLockRefusal(held, options, { cwd, ident, startedAt, finishedAt: clock.now(), awsCalls: counter.total });
      return { exitCode: held.exitCode, report: null, plan, awsCalls: counter.total };
    }
    const lock = held?.lock ?? null;
    /** @type {import('./execute.mjs').Report} */
    let report;
    /** @type {import('../ledger/index.mjs').LedgerEntry|null} */
    let started = null;
    try {
      started = options.dryRun ? null : startEntry({ kind: 'rollout', release, environment: outputs.environment, startedAt: new Date(startedAt).toISOString(), env, lockTakeover: lock?.takeover ?? null });
      if (started) await tryWrite({ ...ledger, signal }, started);
      report = await execute({
        plan,
        ctx: {
          outputs, catalog: plan.services, release, options: opts, config, configPath: loaded.path, smoke: loaded.smoke, env, aws, exec, log,
          clock, signal, capabilities, releaseStartedAt: new Date(startedAt).toISOString(), state,
        },
        steps,
        awsCalls: () => counter.total,
      });
      if (started) {
        const final = await recordOutcome(ledger, finishedRollout(started, report, state, plan), report, writeErr);
        if (final.written) await retain({ ...ledger, signal }, config.ledger?.keep);
      }
    } finally {
      await lock?.release();
    }
    report.awsCalls = counter.total; // the ledger's final write and the lock's release included
    if (options.dryRun) write(`\n${[formatPlan(plan, dryRunNotes(report)), ...countNotes].join('\n')}`);
    write(`\n${formatSummary(report)}`);
    const byOp = Object.entries(counter.byOperation).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
    if (byOp.length) write(`AWS API calls by operation: ${byOp.join(' ')}`);
    if (started) write(`ledger: ${report.ledger ? `NOT recorded (${report.ledger.reason})` : `${started.id} recorded as ${report.status}`}`);
    await writeOutputs(report, opts, { cwd, env, write, writeErr, writeArtifacts: deps.writeArtifacts ?? writeArtifacts });
    return { exitCode: report.exitCode, report, plan, awsCalls: counter.total };
  } catch (e) {
    if (e instanceof InputError) {
      writeErr(`error: ${e.message}`);
      if (options?.report) {
        const report = refusalReport({ ...ident, message: e.message, startedAt, finishedAt: clock.now(), awsCalls: counter.total });
        await writeJson(path.resolve(cwd, options.report), report).catch(() => {});
      }
      return { exitCode: EXIT.BAD_INPUT, report: null, plan: null, awsCalls: counter.total };
    }
    throw e;
  }
}

/** @param {import('./types.mjs').Exec} exec @param {string} cwd */
async function gitRelease(exec, cwd) {
  let res;
  try {
    res = await exec('git', ['rev-parse', '--short=12', 'HEAD'], { cwd });
  } catch (e) {
    throw new InputError(`no --release given and git could not be run (${/** @type {Error} */ (e).message}); pass --release TAG`);
  }
  const tag = res.stdout.trim();
  if (res.exitCode !== 0 || !tag) throw new InputError(`no --release given and \`git rev-parse --short=12 HEAD\` failed (${res.stderr.trim() || `exit ${res.exitCode}`}); pass --release TAG`);
  return tag;
}
