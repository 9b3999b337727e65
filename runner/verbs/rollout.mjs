// `rollout` (flags alone, `npx zx runner/rollout.mjs --release TAG`): the release put in place step by step
// (runner/lib/plan.mjs buildPlan), recorded in the release ledger unless it is a dry run. Its flags: runner/lib/args.mjs
// (ROLLOUT flags); the change itself (lock, ledger, executor, outputs) is runner/verbs/change.mjs, as for rollback.
import { parseArgs, HELP, validateRelease, versionLine } from '../lib/args.mjs';
import { EXIT, InputError } from '../lib/errors.mjs';
import { buildPlan, selectSteps, formatPlan } from '../lib/plan.mjs';
import { detectCapabilities } from '../lib/emulator.mjs';
import { createAwsClients } from '../aws/clients.mjs';
import { createLogger } from '../lib/runtime.mjs';
import { runIo, readRunInputs } from '../lib/run-io.mjs';
import { formatCountChanges } from '../lib/deployed.mjs';
import { STEPS } from '../steps/index.mjs';
import { startEntry, finishedRollout } from '../ledger/record.mjs';
import { runChange, refusingBadInput } from './change.mjs';

export { HELP };

/**
 * @param {string[]} argv the flags
 * @param {import('../main.mjs').MainDeps} deps
 * @returns {Promise<import('./change.mjs').ChangeResult>}
 */
export async function run(argv, deps) {
  const io = runIo(deps);
  const { cwd, env, exec, clock, write, counter, startedAt, ident } = io;
  /** @type {import('../lib/args.mjs').Options|null} */
  let options = null;
  return refusingBadInput(io, () => options, async () => {
    options = parseArgs(argv);
    if (options.help || options.version) {
      write(options.help ? HELP : versionLine());
      return { exitCode: EXIT.OK, report: null, plan: null, awsCalls: 0 };
    }
    const o = options;
    const inputs = await readRunInputs(o, { cwd, env, exec });
    const { config, outputs, source, countChanges, loaded } = inputs;
    ident.environment = outputs.environment;
    const countNotes = formatCountChanges(countChanges);
    const release = validateRelease(o.release ?? (await gitRelease(exec, cwd)));
    ident.release = release;
    const plan = selectSteps(
      buildPlan({ outputs, config, release, source }),
      { only: o.only, from: o.from, skip: o.skip, skipReasons: o.skipReasons },
    );
    const capabilities = detectCapabilities({ emulator: o.emulator, env });
    // each selected step's own input checks (a step module's checkInputs, e.g. the images' build contexts and
    // registry address), before the first AWS call: bad input calls nothing and writes no ledger entry
    const steps = deps.steps ?? STEPS;
    for (const s of plan.steps) if (s.selected) steps[s.kind]?.checkInputs?.({ config, configPath: loaded.path, catalog: plan.services, outputs, options: o, env });

    // input is valid: from here on AWS may be called
    const log = createLogger({ write, clock, startedAt });
    // a dry run prints its plan once, at the end, with what it found out (runChange)
    if (!o.dryRun) {
      log.info(formatPlan(plan));
      for (const n of countNotes) log.info(n);
    }
    log.info(`mode: ${capabilities.emulator ? 'EMULATOR' : 'AWS'} (${capabilities.source})${o.dryRun ? '; DRY RUN: nothing will be changed' : ''}`);
    const aws = deps.createAws ? deps.createAws(counter, outputs.region) : createAwsClients({ region: outputs.region, counter, retry: { maxAttempts: o.awsMaxAttempts } });
    return runChange({
      io, deps, command: 'rollout', options: o, inputs, aws, log, capabilities, lockRelease: release,
      prepare: async (_ledger, lockTakeover) => {
        const started = o.dryRun ? null
          : startEntry({ kind: 'rollout', release, environment: outputs.environment, startedAt: new Date(startedAt).toISOString(), env, lockTakeover });
        return {
          plan, release, entry: started, notes: countNotes,
          finish: (report, state) => finishedRollout(/** @type {import('../ledger/index.mjs').LedgerEntry} */ (started), report, state, plan),
        };
      },
    });
  });
}

/** @param {import('../lib/types.mjs').Exec} exec @param {string} cwd */
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
