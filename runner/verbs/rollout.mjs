// `rollout` (flags alone, `npx zx runner/rollout.mjs --release TAG`): the release put in place step by step
// (runner/lib/plan.mjs buildPlan), recorded in the release ledger unless it is a dry run. Its own flags are below,
// the ones it shares with other verbs in runner/lib/args.mjs; the change itself (lock, ledger, executor, outputs)
// is runner/verbs/change.mjs, as for rollback.
import {
  stackInputFlags, releaseFlag, imageFlags, dryRunFlag, emulatorFlags, waitFlags, changeFlags, reportFlags, helpFlag,
  validateImageTag, versionLine,
} from '../lib/args.mjs';
import { defineCommand, seconds } from '../lib/cli-options.mjs';
import { DEFAULT_SECRETS_TIMEOUT_MS } from '../steps/preflight.mjs';
import { commandsHelp, ENTRY } from './index.mjs';
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

/** @typedef {import('../lib/args.mjs').Options} Options */
/** @typedef {import('../lib/cli-options.mjs').Flag<Options>} RolloutFlag */

/** @type {RolloutFlag[]} */
const SELECTION = [
  { flag: '--only', value: 'STEP', key: 'only', default: [], help: ['run only this step (repeatable)'], apply: (o, raw) => { o.only.push(raw); } },
  { flag: '--from', value: 'STEP', key: 'from', help: ['start at this step, skip the ones before it'],
    apply: (o, raw) => {
      if (o.from !== null) throw new InputError(`--from given twice ("${o.from}" and "${raw}")`);
      o.from = raw;
    } },
  { flag: '--skip', value: 'STEP[=REASON]', key: 'skip', default: [], apply: addSkip, help: [
    'skip this step (repeatable); the optional REASON (after "=") becomes the step\'s',
    'reason in the report instead of "skipped with --skip",',
    'e.g. --skip "images=Docker is not available on this runner"'] },
  ...dryRunFlag([
    'print the ordered plan (steps, waves, gates, task definitions, what would change,',
    'using read-only AWS calls where possible) and change nothing']),
];

/** @type {RolloutFlag[]} */
const TIMEOUTS = [
  { flag: '--migration-timeout', value: 'SEC', key: 'migrationTimeoutMs', parse: seconds, help: [
    'time the migration task may take (default: config migration.timeoutSeconds)'] },
  { flag: '--secrets-timeout', value: 'SEC', key: 'secretsTimeoutMs', default: DEFAULT_SECRETS_TIMEOUT_MS, parse: seconds, help: [
    `time the preflight waits for the database host to publish its credentials (default ${DEFAULT_SECRETS_TIMEOUT_MS / 1000})`] },
];

const COMMAND = defineCommand({
  head: `Usage: ${ENTRY} [rollout] [flags]
       ${ENTRY} <command> [flags]

Brings a release online on the ECS staging stack in a fixed order:
  preflight -> images -> task-definitions -> migration -> tier:<tier> (config order) -> smoke

${commandsHelp()}`,
  column: 23,
  sections: [
    { title: 'Inputs', flags: [
      ...stackInputFlags(),
      ...releaseFlag([
        'release (image tag) to roll out (default: git rev-parse --short=12 HEAD; the images',
        'step then tags each image with the git commit of its own build context)']),
    ] },
    { title: 'Images step', flags: imageFlags() },
    { title: 'Step selection (step ids: preflight, images, task-definitions, migration, tier:<tier>..., smoke)', flags: SELECTION },
    { title: 'Behaviour', flags: [...emulatorFlags(), ...waitFlags(), ...TIMEOUTS, ...changeFlags()] },
    { title: 'Output', flags: [
      ...reportFlags(),
      { flag: '--version', key: 'version', default: false, help: ['print the runner\'s version and the Node.js it runs on'] },
      ...helpFlag(),
    ] },
  ],
  tail: `Exit codes
  0    every selected step passed or was skipped with a reason
  1    a step failed (later steps were not started); with --dry-run: the current state of a step could not
       be read ("dry run: could not read the current state of <step>: ...")
  2    bad input or configuration (outputs, config, flags, catalog); nothing was changed in AWS
  3    the environment is locked by another command (named); nothing was changed
  130  interrupted (Ctrl-C); the report says what was left half-done`,
  initial: () => ({ skipReasons: {} }), // filled by --skip
});

export const HELP = COMMAND.help;

/** Every option at its default: what the steps read when a verb sets none of the rollout's own flags (rollback). @returns {Options} */
export function defaultOptions() {
  return COMMAND.defaults();
}

/**
 * The rollout's flags, checked together.
 * @param {string[]} argv the arguments after the script name (and `rollout`)
 * @returns {Options} throws InputError naming the flag
 */
export function parseArgs(argv) {
  const o = COMMAND.parse(argv);
  if (o.from !== null && o.only.length) throw new InputError('--from and --only cannot be combined');
  return o;
}

/** @param {string} release */
export function validateRelease(release) {
  return validateImageTag(release, '--release');
}

/**
 * --skip STEP[=REASON]: step ids contain ':' but never '=': everything after the first '=' is the reason.
 * @param {Options} o @param {string} value
 */
function addSkip(o, value) {
  const k = value.indexOf('=');
  const id = k < 0 ? value : value.slice(0, k);
  if (!id) throw new InputError(`--skip ${value}: the step id before "=" is missing`);
  if (k >= 0) {
    const reason = value.slice(k + 1).replace(/\s+/g, ' ').trim();
    if (!reason) throw new InputError(`--skip ${value}: the reason after "=" is empty (use --skip ${id} for the default reason)`);
    o.skipReasons[id] = reason;
  }
  o.skip.push(id);
}


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
      write(options.help ? HELP.replace(/\n$/, '') : versionLine());
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

/**
 * The release when no --release is given: the short commit of HEAD (InputError when git cannot say).
 * @param {import('../lib/types.mjs').Exec} exec @param {string} cwd
 */
export async function gitRelease(exec, cwd) {
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
