// Command-line flags of runner/rollout.mjs. Pure: parseArgs never touches the file system or AWS.
import { InputError } from './errors.mjs';

export const HELP = `Usage: npx zx runner/rollout.mjs [flags]

Brings a release online on the ECS staging stack in a fixed order:
  images -> task-definitions -> migration -> tier:<tier> (config order) -> smoke

Inputs
  --outputs FILE          foundation outputs as JSON, either \`terraform output -json\` form ({"x":{"value":..}})
                          or plain form ({"x":..}). Default: \`terraform output -json\` in --stack-dir.
  --stack-dir DIR         synthesized foundation stack directory (default cdktf.out/stacks/foundation)
  --config FILE           environment config: migration command and timeout, smoke settings
                          (default $STAGING_ROLLOUT_CONFIG or config/staging.json). The service catalog itself
                          comes from the outputs' service_catalog.
  --release TAG           release (image tag) to roll out (default: git rev-parse --short=12 HEAD; the images
                          step then tags each image with the git commit of its own build context)

Images step
  --image-registry HOST   push to this registry instead of the hosts in repository_urls (default
                          $STAGING_ROLLOUT_IMAGE_REGISTRY, else config imageRegistry); task definitions pin
                          the images where they were pushed
  --convenience-tag TAG   also move TAG to each pushed image (default config imageConvenienceTag, else
                          <environment>-latest)
  --no-convenience-tag    move no convenience tag
  --image-concurrency N   parallel image builds (default: number of CPUs)

Step selection (step ids: images, task-definitions, migration, tier:<tier>..., smoke)
  --only STEP             run only this step (repeatable)
  --from STEP             start at this step, skip the ones before it
  --skip STEP[=REASON]    skip this step (repeatable); the optional REASON (after "=") becomes the step's
                          reason in the report instead of "skipped with --skip",
                          e.g. --skip "images=Docker is not available on this runner"
  --dry-run               print the ordered plan (steps, waves, gates, task definitions, what would change,
                          using read-only AWS calls where possible) and change nothing

Behaviour
  --emulator              emulator mode: checks a local emulator cannot show (rollout state, running tasks,
                          target health, container exit code and logs) are reported as skipped with the reason.
                          On automatically when AWS_ENDPOINT_URL points at a loopback address.
  --no-emulator           never emulator mode
  --poll-interval SEC     poll period while waiting for tasks and services (default 2; 0 allowed)
  --service-timeout SEC   time a wave of services may take to become stable (default 900)
  --migration-timeout SEC time the migration task may take (default: config migration.timeoutSeconds)
  --max-failed-tasks N    fail a service when its new deployment has this many failed tasks (default 3)

Output
  --report FILE           write the JSON rollout report (docs/contract.md section 7)
  --summary FILE          Markdown summary, written by runner/report (with or without --report); when
                          $GITHUB_STEP_SUMMARY is set the summary is also appended there. With --report the
                          SVG timeline is written beside the report.
  --help, -h              this text

Exit codes
  0    every selected step passed or was skipped with a reason
  1    a step failed (later steps were not started); with --dry-run: the current state of a step could not
       be read ("dry run: could not read the current state of <step>: ...")
  2    bad input or configuration (outputs, config, flags, catalog); nothing was changed in AWS
  130  interrupted (Ctrl-C); the report says what was left half-done
`;

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
 * @property {number} maxFailedTasks
 * @property {string|null} report
 * @property {string|null} summary
 * @property {string|null} imageRegistry
 * @property {string|false|null} convenienceTag false: --no-convenience-tag
 * @property {number|null} imageConcurrency
 * @property {boolean} help
 */

/** @returns {Options} */
export function defaultOptions() {
  return {
    outputs: null, stackDir: 'cdktf.out/stacks/foundation', config: null, release: null, only: [], from: null,
    skip: [], skipReasons: {}, dryRun: false, emulator: null, pollIntervalMs: 2000, serviceTimeoutMs: 900_000,
    migrationTimeoutMs: null, maxFailedTasks: 3, report: null, summary: null, imageRegistry: null,
    convenienceTag: null, imageConcurrency: null, help: false,
  };
}

/** @param {string} flag @param {string} raw */
function seconds(flag, raw) {
  if (!/^\d+(\.\d+)?$/.test(raw)) throw new InputError(`${flag}: must be a number of seconds >= 0, got "${raw}"`);
  return Math.round(Number(raw) * 1000);
}

/** @param {string} flag @param {string} raw */
function positiveInt(flag, raw) {
  if (!/^[1-9]\d*$/.test(raw)) throw new InputError(`${flag}: must be an integer >= 1, got "${raw}"`);
  return Number(raw);
}

const VALUE_FLAGS = new Set([
  '--outputs', '--stack-dir', '--config', '--release', '--only', '--from', '--skip', '--poll-interval',
  '--service-timeout', '--migration-timeout', '--max-failed-tasks', '--report', '--summary', '--image-registry',
  '--convenience-tag', '--image-concurrency',
]);
const BOOL_FLAGS = new Set(['--dry-run', '--emulator', '--no-emulator', '--no-convenience-tag', '--help', '-h']);

/**
 * @param {string[]} argv arguments after the script name
 * @returns {Options}
 */
export function parseArgs(argv) {
  const o = defaultOptions();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let flag = arg;
    /** @type {string|undefined} */
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      flag = arg.slice(0, eq);
      value = arg.slice(eq + 1);
    }
    if (BOOL_FLAGS.has(flag)) {
      if (value !== undefined) throw new InputError(`${flag} takes no value, got "${arg}"`);
      if (flag === '--dry-run') o.dryRun = true;
      else if (flag === '--emulator') o.emulator = true;
      else if (flag === '--no-emulator') o.emulator = false;
      else if (flag === '--no-convenience-tag') {
        if (typeof o.convenienceTag === 'string') throw new InputError('--convenience-tag and --no-convenience-tag cannot be combined');
        o.convenienceTag = false;
      } else o.help = true;
      continue;
    }
    if (!VALUE_FLAGS.has(flag)) {
      throw new InputError(arg.startsWith('-') ? `unknown flag ${flag} (see --help)` : `unexpected argument "${arg}" (see --help)`);
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined || (value.startsWith('--') && value.length > 2)) throw new InputError(`${flag} needs a value`);
    }
    if (value === '') throw new InputError(`${flag} needs a non-empty value`);
    switch (flag) {
      case '--outputs': o.outputs = value; break;
      case '--stack-dir': o.stackDir = value; break;
      case '--config': o.config = value; break;
      case '--release': o.release = value; break;
      case '--only': o.only.push(value); break;
      case '--from':
        if (o.from !== null) throw new InputError(`--from given twice ("${o.from}" and "${value}")`);
        o.from = value;
        break;
      case '--skip': {
        // step ids contain ':' but never '=': everything after the first '=' is the reason
        const k = value.indexOf('=');
        const id = k < 0 ? value : value.slice(0, k);
        if (!id) throw new InputError(`--skip ${value}: the step id before "=" is missing`);
        if (k >= 0) {
          const reason = value.slice(k + 1).replace(/\s+/g, ' ').trim();
          if (!reason) throw new InputError(`--skip ${value}: the reason after "=" is empty (use --skip ${id} for the default reason)`);
          o.skipReasons[id] = reason;
        }
        o.skip.push(id);
        break;
      }
      case '--poll-interval': o.pollIntervalMs = seconds(flag, value); break;
      case '--service-timeout': o.serviceTimeoutMs = seconds(flag, value); break;
      case '--migration-timeout': o.migrationTimeoutMs = seconds(flag, value); break;
      case '--max-failed-tasks': o.maxFailedTasks = positiveInt(flag, value); break;
      case '--report': o.report = value; break;
      case '--summary': o.summary = value; break;
      case '--image-registry':
        if (!IMAGE_REGISTRY.test(value)) throw new InputError(`--image-registry: "${value}" is not a registry address (like "host:5000", "http://host:port" or "https://host")`);
        o.imageRegistry = value;
        break;
      case '--convenience-tag':
        if (o.convenienceTag === false) throw new InputError('--convenience-tag and --no-convenience-tag cannot be combined');
        if (!RELEASE_PATTERN.test(value)) throw new InputError(`--convenience-tag: "${value}" is not a valid image tag (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`);
        o.convenienceTag = value;
        break;
      case '--image-concurrency': o.imageConcurrency = positiveInt(flag, value); break;
    }
  }
  if (o.from !== null && o.only.length) throw new InputError('--from and --only cannot be combined');
  return o;
}

/** Same grammar as the config key imageRegistry (lib/catalog.cjs). */
const IMAGE_REGISTRY = /^(https?:\/\/)?[A-Za-z0-9.-]+(:\d{1,5})?$/;

/** A release tag is used as an image tag: Docker's tag grammar. */
export const RELEASE_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** @param {string} release */
export function validateRelease(release) {
  if (!RELEASE_PATTERN.test(release)) {
    throw new InputError(`--release: "${release}" is not a valid image tag (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`);
  }
  return release;
}
