// Command-line flags of runner/rollout.mjs, declared once in the tables below (runner/lib/cli-options.mjs makes
// the parser and the --help text from them). Pure: parseArgs never touches the file system or AWS.
import { readFileSync } from 'node:fs';
import configLib from '../../lib/config/index.cjs';
import { InputError } from './errors.mjs';
import { defineCommand, seconds, positiveInt } from './cli-options.mjs';
import { RETRY_DEFAULTS, maxRetryWaitMs } from './retry.mjs';

const { DEFAULT_CONFIG_PATH, IMAGE_TAG_PATTERN, IMAGE_TAG_GRAMMAR: TAG_GRAMMAR, REGISTRY_ADDRESS_PATTERN } = configLib;
/** The environment config when neither --config nor $STAGING_ROLLOUT_CONFIG names one (lib/config). */
export const DEFAULT_CONFIG = DEFAULT_CONFIG_PATH;
/**
 * The config file to read: the --config flag, else $STAGING_ROLLOUT_CONFIG, else DEFAULT_CONFIG.
 * @param {string|null} flag @param {Record<string, string|undefined>} env
 */
export function configFileFrom(flag, env) {
  return flag ?? env.STAGING_ROLLOUT_CONFIG ?? DEFAULT_CONFIG;
}

/** The synthesized foundation stack when --stack-dir is not given. */
export const DEFAULT_STACK_DIR = 'cdktf.out/stacks/foundation';

/**
 * @typedef {object} Options
 * @property {string|null} outputs
 * @property {string} stackDir
 * @property {string|null} config
 * @property {string|null} release
 * @property {string[]} only
 * @property {string|null} from
 * @property {string[]} skip
 * @property {Record<string, string>} skipReasons step id -> reason given as --skip STEP=REASON
 * @property {boolean} dryRun
 * @property {boolean|null} emulator
 * @property {number} pollIntervalMs
 * @property {number} serviceTimeoutMs
 * @property {number|null} migrationTimeoutMs
 * @property {number} secretsTimeoutMs
 * @property {number} maxFailedTasks
 * @property {number} awsMaxAttempts attempts of one AWS call (the SDK's retry strategy), the first included
 * @property {string|null} report
 * @property {string|null} summary
 * @property {string|null} imageRegistry
 * @property {string|false|null} convenienceTag false: --no-convenience-tag
 * @property {number|null} imageConcurrency
 * @property {boolean} breakLock take over a stale environment lock (runner/ledger/lock.mjs)
 * @property {boolean} help
 * @property {boolean} version
 */

/** @typedef {import('./cli-options.mjs').Flag<Options>} RunnerFlag */

const CONVENIENCE_CONFLICT = '--convenience-tag and --no-convenience-tag cannot be combined';

/**
 * The flags every command that reads the stack (the rollout and its verbs) takes, declared once: where the
 * outputs and the config come from. Generic so a verb's own options type can include them.
 * @template {{ outputs: string|null, stackDir: string, config: string|null }} T
 * @returns {import('./cli-options.mjs').Flag<T>[]}
 */
export function stackInputFlags() {
  return [
    { flag: '--outputs', value: 'FILE', key: 'outputs', help: [
      'foundation outputs as JSON, either `terraform output -json` form ({"x":{"value":..}})',
      'or plain form ({"x":..}). Default: `terraform output -json` in --stack-dir.'] },
    { flag: '--stack-dir', value: 'DIR', key: 'stackDir', default: DEFAULT_STACK_DIR, help: [
      `synthesized foundation stack directory (default ${DEFAULT_STACK_DIR})`] },
    { flag: '--config', value: 'FILE', key: 'config', help: [
      'environment config: migration command and timeout, smoke settings',
      `(default $STAGING_ROLLOUT_CONFIG or ${DEFAULT_CONFIG}). The service catalog itself`,
      'comes from the outputs\' service_catalog.'] },
  ];
}

/**
 * `--json`: machine-readable output instead of the table (status, history).
 * @template {{ json: boolean }} T
 * @returns {import('./cli-options.mjs').Flag<T>[]}
 */
export function jsonFlag() {
  return [{ flag: '--json', key: 'json', default: false, help: ['print JSON instead of the table'] }];
}

/**
 * `--help`, `-h`.
 * @template {{ help: boolean }} T
 * @returns {import('./cli-options.mjs').Flag<T>[]}
 */
export function helpFlag() {
  return [{ flag: '--help', short: 'h', key: 'help', default: false, help: ['this text'] }];
}

/** @type {RunnerFlag[]} */
const INPUTS = [
  ...stackInputFlags(),
  { flag: '--release', value: 'TAG', key: 'release', help: [
    'release (image tag) to roll out (default: git rev-parse --short=12 HEAD; the images',
    'step then tags each image with the git commit of its own build context)'] },
];

/** @type {RunnerFlag[]} */
const IMAGES = [
  { flag: '--image-registry', value: 'HOST', key: 'imageRegistry', parse: imageRegistry, help: [
    'push to this registry instead of the hosts in repository_urls (default',
    '$STAGING_ROLLOUT_IMAGE_REGISTRY, else config imageRegistry); task definitions pin',
    'the images where they were pushed; host[:port] is plain HTTP for a loopback host',
    '(as Docker), HTTPS otherwise; or http(s)://host[:port]'] },
  { flag: '--convenience-tag', value: 'TAG', key: 'convenienceTag', help: [
    'also move TAG to each pushed image (default config imageConvenienceTag, else',
    '<environment>-latest)'],
    apply: (o, raw) => {
      if (o.convenienceTag === false) throw new InputError(CONVENIENCE_CONFLICT);
      o.convenienceTag = validateImageTag(raw, '--convenience-tag');
    } },
  { flag: '--no-convenience-tag', help: ['move no convenience tag'],
    apply: (o) => {
      if (typeof o.convenienceTag === 'string') throw new InputError(CONVENIENCE_CONFLICT);
      o.convenienceTag = false;
    } },
  { flag: '--image-concurrency', value: 'N', key: 'imageConcurrency', parse: positiveInt, help: ['parallel image builds (default: number of CPUs)'] },
];

/** @type {RunnerFlag[]} */
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
  { flag: '--dry-run', key: 'dryRun', default: false, help: [
    'print the ordered plan (steps, waves, gates, task definitions, what would change,',
    'using read-only AWS calls where possible) and change nothing'] },
];

/**
 * `--emulator` / `--no-emulator` (runner/lib/emulator.mjs detectCapabilities reads the value).
 * @template {{ emulator: boolean|null }} T
 * @returns {import('./cli-options.mjs').Flag<T>[]}
 */
export function emulatorFlags() {
  return [
    { flag: '--emulator', key: 'emulator', help: [
      'emulator mode: checks a local emulator cannot show (rollout state, running tasks,',
      'target health, container exit code and logs) are reported as skipped with the reason.',
      'On automatically when AWS_ENDPOINT_URL points at a loopback address.'] },
    { flag: '--no-emulator', key: 'emulator', set: false, help: ['never emulator mode'] },
  ];
}

/** @type {RunnerFlag[]} */
const BEHAVIOUR = [
  ...emulatorFlags(),
  { flag: '--poll-interval', value: 'SEC', key: 'pollIntervalMs', default: 2000, parse: seconds, help: [
    'poll period while waiting for tasks and services (default 2; 0 allowed)'] },
  { flag: '--service-timeout', value: 'SEC', key: 'serviceTimeoutMs', default: 900_000, parse: seconds, help: [
    'time a wave of services may take to become stable (default 900)'] },
  { flag: '--migration-timeout', value: 'SEC', key: 'migrationTimeoutMs', parse: seconds, help: [
    'time the migration task may take (default: config migration.timeoutSeconds)'] },
  { flag: '--secrets-timeout', value: 'SEC', key: 'secretsTimeoutMs', default: 600_000, parse: seconds, help: [
    'time the preflight waits for the database host to publish its credentials (default 600)'] },
  { flag: '--max-failed-tasks', value: 'N', key: 'maxFailedTasks', default: 3, parse: positiveInt, help: [
    'fail a service when its new deployment has this many failed tasks (default 3)'] },
  { flag: '--aws-max-attempts', value: 'N', key: 'awsMaxAttempts', default: RETRY_DEFAULTS.maxAttempts, parse: positiveInt, help: [
    `attempts of one AWS call, retries of throttling and 5xx included (default ${RETRY_DEFAULTS.maxAttempts}:`,
    `a call that keeps failing gives up after at most ${Math.round(maxRetryWaitMs(RETRY_DEFAULTS) / 1000)} s of backoff)`] },
  // every command that changes the environment takes its lock (runner/ledger/lock.mjs); a live one is never broken
  { flag: '--break-lock', key: 'breakLock', default: false, help: [
    'take over the environment\'s lock if it is stale (its holder stopped renewing it;',
    'the ledger records the takeover). A live lock is never broken.'] },
];

/** @type {RunnerFlag[]} */
const OUTPUT = [
  { flag: '--report', value: 'FILE', key: 'report', help: ['write the JSON rollout report (docs/contract.md section 7)'] },
  { flag: '--summary', value: 'FILE', key: 'summary', help: [
    'Markdown summary, written by runner/report (with or without --report); when',
    '$GITHUB_STEP_SUMMARY is set the summary is also appended there. With --report the',
    'SVG timeline is written beside the report.'] },
  { flag: '--version', key: 'version', default: false, help: ['print the runner\'s version and the Node.js it runs on'] },
  ...helpFlag(),
];

/** `staging-rollout <version> (node <version>)`: the version is package.json's, read where the runner is. */
export function versionLine() {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return `${pkg.name} ${pkg.version} (node ${process.version})`;
}

const COMMAND = defineCommand({
  head: `Usage: npx zx runner/rollout.mjs [flags]
       npx zx runner/rollout.mjs status|history|rollback [flags]   (day two; each has --help)

Brings a release online on the ECS staging stack in a fixed order:
  preflight -> images -> task-definitions -> migration -> tier:<tier> (config order) -> smoke`,
  column: 23,
  sections: [
    { title: 'Inputs', flags: INPUTS },
    { title: 'Images step', flags: IMAGES },
    { title: 'Step selection (step ids: preflight, images, task-definitions, migration, tier:<tier>..., smoke)', flags: SELECTION },
    { title: 'Behaviour', flags: BEHAVIOUR },
    { title: 'Output', flags: OUTPUT },
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

/** @returns {Options} */
export function defaultOptions() {
  return COMMAND.defaults();
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

/** @param {string} raw @param {string} flag */
function imageRegistry(raw, flag) {
  if (!REGISTRY_ADDRESS_PATTERN.test(raw)) throw new InputError(`${flag}: "${raw}" is not a registry address (like "host:5000", "http://host:port" or "https://host")`);
  return raw;
}

/**
 * @param {string[]} argv arguments after the script name
 * @returns {Options}
 */
export function parseArgs(argv) {
  const o = COMMAND.parse(argv);
  if (o.from !== null && o.only.length) throw new InputError('--from and --only cannot be combined');
  return o;
}

/**
 * A release or convenience tag is an image tag: Docker's tag grammar (the pattern's home is lib/config).
 * @param {string} tag @param {string} source where the value came from, named in the message
 */
export function validateImageTag(tag, source) {
  if (!IMAGE_TAG_PATTERN.test(tag)) throw new InputError(`${source}: "${tag}" is not a valid image tag (${TAG_GRAMMAR})`);
  return tag;
}

/** @param {string} release */
export function validateRelease(release) {
  return validateImageTag(release, '--release');
}

// ---- rollback verb (runner/verbs/rollback.mjs): its flags, taken from the rollout's tables above ----
/** @typedef {Options & { to: string|null, ignoreDrift: boolean }} RollbackOptions the rollout's options (steps read them), --to, --ignore-drift */
/** @typedef {import('./cli-options.mjs').Flag<RollbackOptions>} RollbackFlag */

/** @param {RollbackFlag[]} list @param {string[]} flags @returns {RollbackFlag[]} */
const pick = (list, flags) => list.filter((f) => flags.includes(f.flag));

/**
 * The rollback's flag table by section: inputs (with --to), behaviour, output.
 * @type {Readonly<{ inputs: RollbackFlag[], behaviour: RollbackFlag[], output: RollbackFlag[] }>}
 */
export const ROLLBACK_FLAGS = Object.freeze({
  inputs: [
    ...pick(INPUTS, ['--outputs', '--stack-dir', '--config']),
    { flag: '--to', value: 'RELEASE', key: 'to', parse: validateImageTag, help: [
      'roll back to the newest successful ledger entry of this release (default: the last',
      'successful release before the one that runs now)'] },
    { flag: '--ignore-drift', key: 'ignoreDrift', default: false, help: [
      'go on when what runs (DescribeServices) differs from the ledger\'s current entry',
      '(default: refused, both named)'] },
    ...pick(SELECTION, ['--dry-run']),
  ],
  behaviour: pick(BEHAVIOUR, ['--emulator', '--no-emulator', '--poll-interval', '--service-timeout', '--max-failed-tasks', '--aws-max-attempts', '--break-lock']),
  output: OUTPUT,
});
