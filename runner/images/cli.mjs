#!/usr/bin/env node
// Standalone image step: `npx zx runner/images/cli.mjs --help` (plain `node` works too).
// Same code path as the runner's `images` step (runner/images/run.mjs); see docs/images.md.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import catalogLib from '../../lib/catalog.cjs';
import { createAwsClients } from '../lib/aws.mjs';
import { loadOutputs } from '../lib/outputs.mjs';
import { InputError } from '../lib/errors.mjs';
import { zxExec } from '../lib/runtime.mjs';
import { ImageConfigError } from './errors.mjs';
import { runImages, ENV } from './run.mjs';

export const HELP = `Usage: npx zx runner/images/cli.mjs [flags]

Builds and pushes the images the enabled services of the catalog use (config \`images\`: build context and
Dockerfile per image, relative to the config file), skipping tags the registry already has.

  --config FILE            environment config (default $STAGING_ROLLOUT_CONFIG or config/staging.json)
  --outputs FILE           foundation outputs (terraform output -json form or plain form); needs
                           repository_urls, repository_mutable_tags and service_catalog.
                           Default: \`terraform output -json\` in --stack-dir
  --stack-dir DIR          synthesized foundation stack (default cdktf.out/stacks/foundation)
  --release TAG            tag every image with TAG (default: short git commit of each build context; a context
                           with uncommitted changes then is an error)
  --image-registry ADDR    push to ADDR (host[:port] or http(s)://host[:port]) instead of the hosts of
                           repository_urls, e.g. a mirror (also $${ENV.registry})
  --convenience-tag TAG    moving tag set where the repository allows mutable tags
                           (default $${ENV.convenienceTag}, else <environment>-latest)
  --no-convenience-tag     set no convenience tag
  --image-concurrency N    parallel builds (default $${ENV.concurrency}, else the number of CPUs)
  --docker-config DIR      docker --config directory to use and keep (default $${ENV.dockerConfig}, else a
                           private temporary one, deleted at the end; ~/.docker is never written)
  --dry-run                say what would be built, skipped or pushed; change nothing
  --json FILE              write the per-image results as JSON
  --help, -h               this text

Exit codes: 0 success (built/pushed or already present), 1 a build, push or login failed,
2 bad input or configuration (nothing built), 130 interrupted.
`;

class UsageError extends Error {}

/** @param {string[]} argv */
export function parseCliArgs(argv) {
  /** @type {Record<string, any>} */
  const o = { config: null, outputs: null, stackDir: 'cdktf.out/stacks/foundation', release: null, imageRegistry: null, convenienceTag: null, imageConcurrency: null, dockerConfig: null, dryRun: false, json: null, help: false };
  /** @type {Record<string, string>} */
  const valued = { '--config': 'config', '--outputs': 'outputs', '--stack-dir': 'stackDir', '--release': 'release', '--image-registry': 'imageRegistry', '--convenience-tag': 'convenienceTag', '--image-concurrency': 'imageConcurrency', '--docker-config': 'dockerConfig', '--json': 'json' };
  for (let i = 0; i < argv.length; i++) {
    let [flag, value] = argv[i].startsWith('--') && argv[i].includes('=') ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
    if (flag === '--help' || flag === '-h') o.help = true;
    else if (flag === '--dry-run') o.dryRun = true;
    else if (flag === '--no-convenience-tag') o.convenienceTag = false;
    else if (flag in valued) {
      value ??= argv[++i];
      if (value === undefined || value === '' || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      o[valued[flag]] = value;
    } else throw new UsageError(`unknown ${flag.startsWith('-') ? 'flag' : 'argument'} "${flag}" (see --help)`);
  }
  return o;
}

/** @param {Record<string, any>} images */
function table(images) {
  const rows = [['image', 'status', 'tag', 'digest', 'convenience tag']];
  for (const r of Object.values(images)) rows.push([r.key, r.status, r.tag, r.digest ?? '-', r.convenienceTag.tag ? `${r.convenienceTag.tag}: ${r.convenienceTag.status}` : '-']);
  const w = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  return rows.map((row) => row.map((c, i) => String(c).padEnd(w[i])).join('  ').trimEnd()).join('\n');
}

/** @param {string[]} argv @returns {Promise<number>} exit code */
export async function main(argv) {
  let o;
  try {
    o = parseCliArgs(argv);
  } catch (e) {
    process.stderr.write(`images: ${/** @type {Error} */ (e).message}\n`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const ac = new AbortController();
  const onInt = () => ac.abort();
  process.once('SIGINT', onInt);
  try {
    const configPath = o.config ?? process.env.STAGING_ROLLOUT_CONFIG ?? 'config/staging.json';
    /** @type {any} */
    let config;
    let configFile;
    try {
      const loaded = catalogLib.loadConfigFile(configPath);
      config = loaded.config;
      configFile = loaded.file;
    } catch (e) {
      if (e instanceof catalogLib.ConfigError) throw new ImageConfigError(`--config ${e.message}`);
      throw e;
    }
    // the runner's reader: the same validation and messages as `rollout.mjs --outputs`
    let outputs;
    try {
      outputs = await loadOutputs({ file: o.outputs, stackDir: o.stackDir, cwd: process.cwd(), exec: zxExec() });
    } catch (e) {
      if (e instanceof InputError) throw new ImageConfigError(e.message);
      throw e;
    }
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
    const err = /** @type {any} */ (e);
    if (ac.signal.aborted || err?.name === 'AbortError') {
      process.stderr.write('images: interrupted\n');
      return 130;
    }
    process.stderr.write(`images: ${err.message}\n`);
    return err instanceof ImageConfigError ? 2 : 1;
  } finally {
    process.removeListener('SIGINT', onInt);
  }
}

const self = fileURLToPath(import.meta.url);
const idx = process.argv.findIndex((a) => { try { return fs.realpathSync(path.resolve(a)) === self; } catch { return false; } });
if (idx >= 0) {
  main(process.argv.slice(idx + 1)).then((code) => process.exit(code));
}
