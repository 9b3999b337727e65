// `images`: the rollout's images step on its own (runner/images/run.mjs, the same code path): build and push the
// images the enabled services use, skipping tags the registry already has. Started like every verb (runVerb: the
// same config and outputs reading and the same environment guard); the catalog is not compared, since building
// images changes no service. See docs/images.md.
import path from 'node:path';
import { defineCommand } from '../lib/cli-options.mjs';
import { stackInputFlags, releaseFlag, imageFlags, dryRunFlag, jsonFlag, helpFlag, IMAGE_ENV } from '../lib/args.mjs';
import { EXIT } from '../lib/errors.mjs';
import { writeJson } from '../lib/run-io.mjs';
import { runImages } from '../images/run.mjs';
import { runVerb, table } from './setup.mjs';
import { usage } from './index.mjs';

/**
 * @typedef {object} ImagesOptions
 * @property {string|null} outputs
 * @property {string} stackDir
 * @property {string|null} config
 * @property {string|null} release
 * @property {string|null} imageRegistry
 * @property {string|false|null} convenienceTag false: --no-convenience-tag
 * @property {number|null} imageConcurrency
 * @property {string|null} dockerConfig
 * @property {boolean} dryRun
 * @property {boolean} json
 * @property {string|null} report
 * @property {boolean} help
 */

const COMMAND = defineCommand(/** @type {import('../lib/cli-options.mjs').CommandSpec<ImagesOptions>} */ ({
  head: `${usage('images')}

Builds and pushes the images the enabled services of the catalog use (config \`images\`: build context and
Dockerfile per image, relative to the config file), skipping tags the registry already has. The same code as
the rollout's images step.`,
  column: 23,
  sections: [
    { title: 'Inputs', flags: [
      ...stackInputFlags(),
      ...releaseFlag([
        'tag every image with TAG (default: the short git commit of each build context; a',
        'context with uncommitted changes then is an error)']),
    ] },
    { title: 'Images', flags: [
      ...imageFlags(),
      { flag: '--docker-config', value: 'DIR', key: 'dockerConfig', help: [
        `docker --config directory to use and keep (default $${IMAGE_ENV.dockerConfig}, else a`,
        'private temporary one, deleted at the end; ~/.docker is never written)'] },
      ...dryRunFlag(['say what would be built, skipped or pushed; change nothing']),
    ] },
    { title: 'Output', flags: [
      { flag: '--report', value: 'FILE', key: 'report', help: ['also write the result as JSON to FILE'] },
      ...jsonFlag(), ...helpFlag()] },
  ],
  tail: `Exit codes
  0    every image built and pushed, or already in the registry (or, with --dry-run, what would be done)
  1    a build, push or login failed
  2    bad input or configuration (flags, config, outputs, build contexts); nothing was built
  130  interrupted (Ctrl-C)`,
}));

export const HELP = COMMAND.help;

/** @param {string[]} argv @returns {ImagesOptions} throws InputError naming a bad flag */
export function parseArgs(argv) {
  return COMMAND.parse(argv);
}

/**
 * @param {string[]} argv the arguments after `images`
 * @param {import('../main.mjs').MainDeps} deps
 * @returns {Promise<import('./index.mjs').VerbResult>}
 */
export async function run(argv, deps) {
  return runVerb(COMMAND, argv, deps, async (o, ctx) => {
    const result = await runImages({
      config: ctx.config, configPath: ctx.configPath, services: ctx.outputs.catalog, outputs: ctx.outputs,
      options: { release: o.release, dryRun: o.dryRun, imageRegistry: o.imageRegistry, convenienceTag: o.convenienceTag, imageConcurrency: o.imageConcurrency },
      ecr: ctx.aws.ecr,
      dockerConfigDir: o.dockerConfig,
      env: ctx.env,
      log: (m) => ctx.writeErr(`images: ${m}`),
      signal: ctx.signal,
    });
    const report = { status: result.status, reason: result.reason, images: result.images, unused: result.unused };
    if (o.json) ctx.write(JSON.stringify(report, null, 2));
    else ctx.write(`${formatImages(result.images)}\n\nimages: ${result.status}${result.reason ? `: ${result.reason}` : ''}`);
    if (o.report) await writeJson(path.resolve(ctx.cwd, o.report), report);
    return { exitCode: result.status === 'failed' ? EXIT.FAILED : EXIT.OK, report };
  });
}

/** @param {Awaited<ReturnType<typeof runImages>>['images']} images */
export function formatImages(images) {
  return table([
    ['image', 'status', 'tag', 'digest', 'convenience tag'],
    ...Object.values(images).map((r) => [r.key, r.status, r.tag, r.digest ?? '-', r.convenienceTag.tag ? `${r.convenienceTag.tag}: ${r.convenienceTag.status}` : '-']),
  ]);
}
