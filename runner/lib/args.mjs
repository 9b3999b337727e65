// The flags more than one verb takes, each declared once (a flag only one verb takes sits in that verb's file,
// runner/verbs/<verb>.mjs), the `Options` every step reads, and the checks of their values. runner/lib/cli-options.mjs
// makes each verb's parser and --help text from its table. Pure: nothing here touches the file system or AWS.
import { readFileSync } from 'node:fs';
import configLib from '../../lib/config/index.cjs';
import { InputError } from './errors.mjs';
import { seconds, positiveInt } from './cli-options.mjs';
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

/** The environment variables the image step reads (runner/images/run.mjs), named in the flags' help. */
export const IMAGE_ENV = Object.freeze({
  registry: 'STAGING_ROLLOUT_IMAGE_REGISTRY',
  convenienceTag: 'STAGING_ROLLOUT_CONVENIENCE_TAG',
  concurrency: 'STAGING_ROLLOUT_IMAGE_CONCURRENCY',
  dockerConfig: 'STAGING_ROLLOUT_DOCKER_CONFIG',
});

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

/**
 * `--release TAG`: the release (image tag) a rollout puts in place, or an images run tags.
 * @template {{ release: string|null }} T
 * @param {string[]} help
 * @returns {import('./cli-options.mjs').Flag<T>[]}
 */
export function releaseFlag(help) {
  return [{ flag: '--release', value: 'TAG', key: 'release', parse: validateImageTag, help }];
}

/**
 * The image step's flags (the rollout's images step and the `images` verb): where to push, the convenience tag,
 * parallel builds.
 * @template {{ imageRegistry: string|null, convenienceTag: string|false|null, imageConcurrency: number|null }} T
 * @returns {import('./cli-options.mjs').Flag<T>[]}
 */
export function imageFlags() {
  return [
    { flag: '--image-registry', value: 'HOST', key: 'imageRegistry', parse: imageRegistry, help: [
      'push to this registry instead of the hosts in repository_urls (default',
      `$${IMAGE_ENV.registry}, else config imageRegistry); task definitions pin`,
      'the images where they were pushed; host[:port] is plain HTTP for a loopback host',
      '(as Docker), HTTPS otherwise; or http(s)://host[:port]'] },
    { flag: '--convenience-tag', value: 'TAG', key: 'convenienceTag', help: [
      'also move TAG to each pushed image where the repository allows mutable tags',
      `(default $${IMAGE_ENV.convenienceTag}, config imageConvenienceTag, else <environment>-latest)`],
      apply: (o, raw) => {
        if (o.convenienceTag === false) throw new InputError(CONVENIENCE_CONFLICT);
        o.convenienceTag = validateImageTag(raw, '--convenience-tag');
      } },
    { flag: '--no-convenience-tag', help: ['move no convenience tag'],
      apply: (o) => {
        if (typeof o.convenienceTag === 'string') throw new InputError(CONVENIENCE_CONFLICT);
        o.convenienceTag = false;
      } },
    { flag: '--image-concurrency', value: 'N', key: 'imageConcurrency', parse: positiveInt, help: [
      `parallel image builds (default $${IMAGE_ENV.concurrency}, else the number of CPUs)`] },
  ];
}

/**
 * `--dry-run`.
 * @template {{ dryRun: boolean }} T
 * @param {string[]} help
 * @returns {import('./cli-options.mjs').Flag<T>[]}
 */
export function dryRunFlag(help) {
  return [{ flag: '--dry-run', key: 'dryRun', default: false, help }];
}

/**
 * How a command that changes services waits for them (rollout, rollback, and the verbs that wait).
 * @template {{ pollIntervalMs: number, serviceTimeoutMs: number }} T
 * @returns {import('./cli-options.mjs').Flag<T>[]}
 */
export function waitFlags() {
  return [
    { flag: '--poll-interval', value: 'SEC', key: 'pollIntervalMs', default: 2000, parse: seconds, help: [
      'poll period while waiting for tasks and services (default 2; 0 allowed)'] },
    { flag: '--service-timeout', value: 'SEC', key: 'serviceTimeoutMs', default: 900_000, parse: seconds, help: [
      'time a wave of services may take to become stable (default 900)'] },
  ];
}

/**
 * What a command that changes the environment takes besides: the failed-task limit, AWS attempts, the lock.
 * @template {{ maxFailedTasks: number, awsMaxAttempts: number, breakLock: boolean }} T
 * @returns {import('./cli-options.mjs').Flag<T>[]}
 */
export function changeFlags() {
  return [
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
}

/**
 * `--report FILE`, `--summary FILE`: the run report and its Markdown summary (rollout, rollback).
 * @template {{ report: string|null, summary: string|null }} T
 * @returns {import('./cli-options.mjs').Flag<T>[]}
 */
export function reportFlags() {
  return [
    { flag: '--report', value: 'FILE', key: 'report', help: ['write the JSON run report (docs/contract.md section 7)'] },
    { flag: '--summary', value: 'FILE', key: 'summary', help: [
      'Markdown summary, written by runner/report (with or without --report); when',
      '$GITHUB_STEP_SUMMARY is set the summary is also appended there. With --report the',
      'SVG timeline is written beside the report.'] },
  ];
}

/** `staging-rollout <version> (node <version>)`: the version is package.json's, read where the runner is. */
export function versionLine() {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return `${pkg.name} ${pkg.version} (node ${process.version})`;
}

/** @param {string} raw @param {string} flag */
function imageRegistry(raw, flag) {
  if (!REGISTRY_ADDRESS_PATTERN.test(raw)) throw new InputError(`${flag}: "${raw}" is not a registry address (like "host:5000", "http://host:port" or "https://host")`);
  return raw;
}

/**
 * A release or convenience tag is an image tag: Docker's tag grammar (the pattern's home is lib/config).
 * @param {string} tag @param {string} source where the value came from, named in the message
 */
export function validateImageTag(tag, source) {
  if (!IMAGE_TAG_PATTERN.test(tag)) throw new InputError(`${source}: "${tag}" is not a valid image tag (${TAG_GRAMMAR})`);
  return tag;
}
