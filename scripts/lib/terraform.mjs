// Terraform CLI helpers: a CLI config that installs the AWS provider ONLY from a local filesystem mirror,
// prerequisite checks, a terraform runner, and the environment that points Terraform and the AWS SDK at moto.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MOTO_INSTALL_HINT, PrerequisiteError } from './moto.mjs';
import { run, which } from './proc.mjs';

/** hashicorp/aws version behind @cdktf/provider-aws 20.1.0 */
export const AWS_PROVIDER_VERSION = '5.100.0';
export const AWS_PROVIDER_SOURCE = 'registry.terraform.io/hashicorp/aws';

const TERRAFORM_INSTALL_HINT =
  'install Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install, or apt: the HashiCorp apt repository) and put it on PATH';
const MIRROR_INSTALL_HINT =
  `put terraform-provider-aws_v${AWS_PROVIDER_VERSION}_x5 under <dir>/${AWS_PROVIDER_SOURCE}/${AWS_PROVIDER_VERSION}/<os>_<arch>/ ` +
  `(e.g. run \`terraform providers mirror <dir>\` once on a machine with internet access) and set STAGING_ROLLOUT_TF_MIRROR=<dir> ` +
  `(default search: /opt/tf-plugins, ~/.terraform.d/plugins, ~/.local/share/terraform/plugins, /usr/local/share/terraform/plugins, /usr/share/terraform/plugins)`;

/** Terraform's platform name for this machine, e.g. linux_amd64. */
export function terraformPlatform() {
  /** @type {Partial<Record<NodeJS.Architecture, string>>} */
  const names = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };
  const arch = names[process.arch] ?? process.arch;
  return `${process.platform}_${arch}`;
}

/** Directories searched for the provider mirror when STAGING_ROLLOUT_TF_MIRROR is not set. */
export function defaultMirrorCandidates() {
  const home = os.homedir();
  return [
    '/opt/tf-plugins',
    path.join(home, '.terraform.d', 'plugins'),
    path.join(home, '.local', 'share', 'terraform', 'plugins'),
    '/usr/local/share/terraform/plugins',
    '/usr/share/terraform/plugins',
  ];
}

/**
 * Does `dir` hold hashicorp/aws AWS_PROVIDER_VERSION for this platform, in the unpacked or the packed layout?
 * @param {string} dir
 * @returns {string | null} the provider file found
 */
export function providerInMirror(dir) {
  const platform = terraformPlatform();
  const unpacked = path.join(dir, AWS_PROVIDER_SOURCE, AWS_PROVIDER_VERSION, platform);
  try {
    const hit = fs.readdirSync(unpacked).find((f) => f.startsWith(`terraform-provider-aws_v${AWS_PROVIDER_VERSION}`));
    if (hit) return path.join(unpacked, hit);
  } catch {
    /* not this layout */
  }
  const packed = path.join(dir, AWS_PROVIDER_SOURCE, `terraform-provider-aws_${AWS_PROVIDER_VERSION}_${platform}.zip`);
  return fs.existsSync(packed) ? packed : null;
}

/**
 * Locate the provider mirror. STAGING_ROLLOUT_TF_MIRROR wins (and must be valid); otherwise the first default
 * candidate that holds the provider.
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {{ dir: string, provider: string } | { dir: null, problem: string }}
 */
export function findMirror(env = process.env) {
  const override = env.STAGING_ROLLOUT_TF_MIRROR;
  if (override) {
    const provider = providerInMirror(override);
    if (provider) return { dir: path.resolve(override), provider };
    return {
      dir: null,
      problem: `STAGING_ROLLOUT_TF_MIRROR=${override} does not contain ${AWS_PROVIDER_SOURCE} ${AWS_PROVIDER_VERSION} for ${terraformPlatform()}`,
    };
  }
  for (const dir of defaultMirrorCandidates()) {
    const provider = providerInMirror(dir);
    if (provider) return { dir, provider };
  }
  return {
    dir: null,
    problem: `no local mirror of ${AWS_PROVIDER_SOURCE} ${AWS_PROVIDER_VERSION} (${terraformPlatform()}) found`,
  };
}

/**
 * Write a Terraform CLI config that installs providers only from the local filesystem mirror (no registry
 * access at all). Returns its path; pass it as TF_CLI_CONFIG_FILE.
 * @param {string} dir  directory to write `terraformrc` into
 * @param {{ mirror?: string, env?: NodeJS.ProcessEnv }} [opts]
 * @returns {string}
 */
export function writeCliConfig(dir, opts = {}) {
  let mirror = opts.mirror;
  if (!mirror) {
    const found = findMirror(opts.env);
    if (found.dir === null) throw new PrerequisiteError(`Terraform AWS provider: ${found.problem}`, MIRROR_INSTALL_HINT);
    mirror = found.dir;
  }
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'terraformrc');
  const text = [
    '# Written by scripts/lib/terraform.mjs: providers come only from the local filesystem mirror.',
    'provider_installation {',
    '  filesystem_mirror {',
    `    path = ${JSON.stringify(mirror)}`,
    '  }',
    '}',
    'disable_checkpoint = true',
    '',
  ].join('\n');
  fs.writeFileSync(file, text);
  return file;
}

/**
 * @typedef {object} Prerequisite
 * @property {string} name
 * @property {string} problem
 * @property {string} howToInstall
 */

/**
 * Check what real-Terraform / emulator runs need. Empty list: all present.
 * @param {{ env?: NodeJS.ProcessEnv, moto?: boolean }} [opts]  moto: also require moto_server (default true)
 * @returns {Prerequisite[]}
 */
export function checkPrereqs(opts = {}) {
  const env = opts.env ?? process.env;
  /** @type {Prerequisite[]} */
  const problems = [];
  if (!which('terraform', env)) {
    problems.push({ name: 'terraform', problem: 'terraform not found on PATH', howToInstall: TERRAFORM_INSTALL_HINT });
  }
  const mirror = findMirror(env);
  if (mirror.dir === null) {
    problems.push({ name: 'aws provider mirror', problem: mirror.problem, howToInstall: MIRROR_INSTALL_HINT });
  }
  if (opts.moto !== false && !which('moto_server', env)) {
    problems.push({ name: 'moto_server', problem: 'moto_server not found on PATH', howToInstall: MOTO_INSTALL_HINT });
  }
  return problems;
}

/**
 * Human-readable list of prerequisite problems.
 * @param {Prerequisite[]} problems
 */
export function formatPrereqs(problems) {
  return problems.map((p) => `- ${p.name}: ${p.problem}\n  how to install: ${p.howToInstall}`).join('\n');
}

/** Error from a failed terraform command; carries its output. */
export class TerraformError extends Error {
  /** @param {string[]} args @param {number | null} code @param {string} stdout @param {string} stderr */
  constructor(args, code, stdout, stderr) {
    const detail = (stderr.trim() || stdout.trim().split('\n').slice(-40).join('\n')).slice(-8000);
    super(`terraform ${args.filter((a) => !a.startsWith('-target=')).join(' ')} failed (exit ${code}):\n${detail}`);
    this.name = 'TerraformError';
    this.code = code;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

/**
 * Run terraform. Resolves with stdout; rejects with a TerraformError carrying stderr.
 * Always non-interactive (TF_INPUT=0, TF_IN_AUTOMATION=1, no checkpoint calls).
 * @param {string[]} args
 * @param {{ cwd: string, env?: NodeJS.ProcessEnv, cliConfig?: string, bin?: string }} opts
 * @returns {Promise<string>}
 */
export async function terraform(args, opts) {
  const env = {
    ...process.env,
    ...(opts.env ?? {}),
    TF_INPUT: '0',
    TF_IN_AUTOMATION: '1',
    CHECKPOINT_DISABLE: '1',
    ...(opts.cliConfig ? { TF_CLI_CONFIG_FILE: opts.cliConfig } : {}),
  };
  let r;
  try {
    r = await run(opts.bin ?? 'terraform', args, { cwd: opts.cwd, env });
  } catch (e) {
    if (/** @type {NodeJS.ErrnoException} */ (e).code === 'ENOENT') throw new PrerequisiteError('terraform not found on PATH', TERRAFORM_INSTALL_HINT);
    throw e;
  }
  if (r.code !== 0) throw new TerraformError(args, r.code, r.stdout, r.stderr);
  return r.stdout;
}

/** Variables removed from a child's env when it targets the emulator (they could redirect to real AWS). */
export const EMULATOR_ENV_UNSET = [
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_SESSION_TOKEN',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
];

/**
 * Environment that points Terraform's AWS provider, the AWS SDK v3 and the aws CLI at the emulator.
 * The credentials are moto's dummy values, not secrets. Instance metadata lookups are disabled and shared
 * config/credential files are ignored, so nothing can fall through to a real AWS account.
 * @param {string} endpoint  e.g. http://127.0.0.1:45123
 * @param {{ region?: string }} [opts]
 * @returns {Record<string, string>}
 */
export function emulatorEnv(endpoint, opts = {}) {
  const region = opts.region ?? 'us-east-1';
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
}

/**
 * A full child-process env aimed at the emulator: `base` plus emulatorEnv(), minus EMULATOR_ENV_UNSET.
 * @param {string} endpoint
 * @param {{ region?: string, base?: NodeJS.ProcessEnv }} [opts]
 * @returns {NodeJS.ProcessEnv}
 */
export function withEmulatorEnv(endpoint, opts = {}) {
  const env = { ...(opts.base ?? process.env), ...emulatorEnv(endpoint, opts) };
  for (const k of EMULATOR_ENV_UNSET) delete env[k];
  return env;
}
