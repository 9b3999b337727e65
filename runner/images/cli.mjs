#!/usr/bin/env node
// Standalone image step: `npx zx runner/images/cli.mjs --help` (plain `node` works too).
// Same code path as the runner's `images` step (runner/images/run.mjs); see docs/images.md.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAwsClients } from '../aws/clients.mjs';
import { readRunInputs } from '../lib/run-io.mjs';
import { InputError } from '../lib/errors.mjs';
import { DEFAULT_CONFIG, DEFAULT_STACK_DIR } from '../lib/args.mjs';
import { defineCommand, readFlags, positiveInt } from '../lib/cli-options.mjs';
import { zxExec } from '../lib/runtime.mjs';
import { runImages, ENV } from './run.mjs';

/**
 * @typedef {object} CliOptions
 * @property {string|null} config
 * @property {string|null} outputs
 * @property {string} stackDir
 * @property {string|null} release
 * @property {string|null} imageRegistry
 * @property {string|false|null} convenienceTag false: --no-convenience-tag
 * @property {number|null} imageConcurrency
 * @property {string|null} dockerConfig
 * @property {boolean} dryRun
 * @property {string|null} json
 * @property {boolean} help
 */

const COMMAND = /** @type {import('../lib/cli-options.mjs').Command<CliOptions>} */ (defineCommand({
  head: `Usage: npx zx runner/images/cli.mjs [flags]

Builds and pushes the images the enabled services of the catalog use (config \`images\`: build context and
Dockerfile per image, relative to the config file), skipping tags the registry already has.`,
  column: 24,
  sections: [{
    flags: [
      { flag: '--config', value: 'FILE', key: 'config', help: [`environment config (default $STAGING_ROLLOUT_CONFIG or ${DEFAULT_CONFIG})`] },
      { flag: '--outputs', value: 'FILE', key: 'outputs', help: [
        'foundation outputs (terraform output -json form or plain form); needs',
        'repository_urls, repository_mutable_tags and service_catalog.',
        'Default: `terraform output -json` in --stack-dir'] },
      { flag: '--stack-dir', value: 'DIR', key: 'stackDir', default: DEFAULT_STACK_DIR, help: [`synthesized foundation stack (default ${DEFAULT_STACK_DIR})`] },
      { flag: '--release', value: 'TAG', key: 'release', help: [
        'tag every image with TAG (default: short git commit of each build context; a context',
        'with uncommitted changes then is an error)'] },
      { flag: '--image-registry', value: 'ADDR', key: 'imageRegistry', help: [
        'push to ADDR (host[:port] or http(s)://host[:port]) instead of the hosts of',
        `repository_urls, e.g. a mirror (also $${ENV.registry})`] },
      { flag: '--convenience-tag', value: 'TAG', key: 'convenienceTag', help: [
        'moving tag set where the repository allows mutable tags',
        `(default $${ENV.convenienceTag}, else <environment>-latest)`] },
      { flag: '--no-convenience-tag', key: 'convenienceTag', set: false, help: ['set no convenience tag'] },
      { flag: '--image-concurrency', value: 'N', key: 'imageConcurrency', parse: positiveInt, help: [`parallel builds (default $${ENV.concurrency}, else the number of CPUs)`] },
      { flag: '--docker-config', value: 'DIR', key: 'dockerConfig', help: [
        `docker --config directory to use and keep (default $${ENV.dockerConfig}, else a`,
        'private temporary one, deleted at the end; ~/.docker is never written)'] },
      { flag: '--dry-run', key: 'dryRun', default: false, help: ['say what would be built, skipped or pushed; change nothing'] },
      { flag: '--json', value: 'FILE', key: 'json', help: ['write the per-image results as JSON'] },
      { flag: '--help', short: 'h', key: 'help', default: false, help: ['this text'] },
    ],
  }],
  tail: `Exit codes: 0 success (built/pushed or already present), 1 a build, push or login failed,
2 bad input or configuration (nothing built), 130 interrupted.`,
}));

export const HELP = COMMAND.help;

/** @param {string[]} argv @returns {CliOptions} throws InputError naming a bad flag */
export function parseCliArgs(argv) {
  return COMMAND.parse(argv);
}

/** @param {Awaited<ReturnType<typeof runImages>>['images']} images */
function table(images) {
  const rows = [['image', 'status', 'tag', 'digest', 'convenience tag']];
  for (const r of Object.values(images)) rows.push([r.key, r.status, r.tag, r.digest ?? '-', r.convenienceTag.tag ? `${r.convenienceTag.tag}: ${r.convenienceTag.status}` : '-']);
  const w = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  return rows.map((row) => row.map((c, i) => String(c).padEnd(w[i])).join('  ').trimEnd()).join('\n');
}

/** @param {string[]} argv @returns {Promise<number>} exit code */
export async function main(argv) {
  const flags = readFlags(COMMAND, argv, { prefix: 'images: ' });
  if ('exitCode' in flags) return flags.exitCode;
  const o = flags.options;
  const ac = new AbortController();
  const onInt = () => ac.abort();
  process.once('SIGINT', onInt);
  try {
    const cwd = process.cwd();
    // the runner's one reader of its inputs: the same validation and messages as `rollout.mjs --config` and
    // `--outputs`, and the same environment guard (another environment's outputs: exit 2). The catalog is not
    // compared: building images changes no service (as `status` and `history`)
    const { loaded, config, outputs } = await readRunInputs(o, { cwd, env: process.env, exec: zxExec() }, { catalog: false });
    const configFile = loaded.path;
    const aws = createAwsClients({ region: outputs.region ?? config.region });
    const result = await runImages({
      config, configPath: configFile, services: outputs.catalog, outputs,
      options: { release: o.release, dryRun: o.dryRun, imageRegistry: o.imageRegistry, convenienceTag: o.convenienceTag, imageConcurrency: o.imageConcurrency },
      ecr: aws.ecr,
      dockerConfigDir: o.dockerConfig,
      log: (m) => process.stderr.write(`images: ${m}\n`),
      signal: ac.signal,
    });
    process.stdout.write(`${table(result.images)}\n\nimages: ${result.status}${result.reason ? `: ${result.reason}` : ''}\n`);
    if (o.json) fs.writeFileSync(o.json, JSON.stringify({ status: result.status, reason: result.reason, images: result.images, unused: result.unused }, null, 2) + '\n');
    return result.status === 'failed' ? 1 : 0;
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    if (ac.signal.aborted || err.name === 'AbortError') {
      process.stderr.write('images: interrupted\n');
      return 130;
    }
    process.stderr.write(`images: ${err.message}\n`);
    return err instanceof InputError ? 2 : 1;
  } finally {
    process.removeListener('SIGINT', onInt);
  }
}

const self = fileURLToPath(import.meta.url);
const idx = process.argv.findIndex((a) => { try { return fs.realpathSync(path.resolve(a)) === self; } catch { return false; } });
if (idx >= 0) {
  main(process.argv.slice(idx + 1)).then((code) => { process.exitCode = code; });
}
