// The image step end to end, independent of how it is invoked (runner step or the `images` verb, runner/verbs/images.mjs):
// settings -> needed images -> contexts and destinations checked -> release tags -> ECR credentials ->
// publishImages (check, build, push, digest, convenience tag).
import os from 'node:os';
import { InputError } from '../lib/errors.mjs';
import { toCommandRunner } from './exec.mjs';
import { ecrCredentials } from './ecr-auth.mjs';
import { publishImages } from './publish.mjs';
import { neededImages, resolveTags, resolveTargets } from './targets.mjs';
import { validateImageTag, IMAGE_ENV } from '../lib/args.mjs';

/** Environment variables the image step reads (all optional). */
/** The environment variables it reads (their home: runner/lib/args.mjs, whose flags' help names them). */
export const ENV = IMAGE_ENV;

/**
 * @typedef {object} ImageOptions
 * @property {string|null} [release]          explicit release tag for every image (else: git commit of each context)
 * @property {boolean} [dryRun]
 * @property {string|null} [imageRegistry]    registry address replacing the host of repository_urls
 * @property {string|false|null} [convenienceTag] false: none
 * @property {number|null} [imageConcurrency] parallel builds
 */

/**
 * Resolve the settings: flag > environment variable > config key > default.
 * @param {{ environment?: string, imageRegistry?: string|null, imageConvenienceTag?: string|null }} config
 * @param {ImageOptions} options
 * @param {Record<string, string|undefined>} env
 */
export function imageSettings(config, options, env) {
  /** @type {{ value: string|null, source: string }} */
  let registry = { value: null, source: 'repository_urls' };
  if (options.imageRegistry) registry = { value: options.imageRegistry, source: '--image-registry' };
  else if (env[ENV.registry]) registry = { value: /** @type {string} */ (env[ENV.registry]), source: ENV.registry };
  else if (config.imageRegistry) registry = { value: config.imageRegistry, source: 'config imageRegistry' };

  /** @type {string|null} */
  let convenienceTag;
  let tagSource;
  if (options.convenienceTag === false) [convenienceTag, tagSource] = [null, '--no-convenience-tag'];
  else if (options.convenienceTag) [convenienceTag, tagSource] = [options.convenienceTag, '--convenience-tag'];
  else if (env[ENV.convenienceTag] !== undefined) [convenienceTag, tagSource] = [env[ENV.convenienceTag] || null, ENV.convenienceTag];
  else if (config.imageConvenienceTag !== undefined) [convenienceTag, tagSource] = [config.imageConvenienceTag, 'config imageConvenienceTag'];
  else [convenienceTag, tagSource] = [config.environment ? `${config.environment}-latest` : null, 'default <environment>-latest'];
  if (convenienceTag != null) validateImageTag(convenienceTag, tagSource);

  let concurrency = os.cpus().length;
  const rawConc = options.imageConcurrency ?? env[ENV.concurrency];
  if (rawConc != null && rawConc !== '') {
    const n = Number(rawConc);
    if (!Number.isInteger(n) || n < 1) throw new InputError(`${options.imageConcurrency != null ? '--image-concurrency' : ENV.concurrency}: must be an integer >= 1, got "${rawConc}"`);
    concurrency = n;
  }
  return { registry, convenienceTag, concurrency };
}

/**
 * Every input check of the images, on this machine only (no registry, no AWS, no build): the settings, which
 * images the enabled services need, each build context and Dockerfile, each destination and the registry address.
 * The runner calls it before its first AWS call so bad input changes nothing; runImages calls it again.
 * Throws InputError naming every problem at once.
 * @param {Pick<Parameters<typeof runImages>[0], 'config'|'configPath'|'services'|'outputs'|'options'|'env'>} p
 */
export function checkImageInputs(p) {
  const settings = imageSettings(p.config, p.options ?? {}, p.env ?? process.env);
  const { needed, unused } = neededImages(p.config.images, p.services, { migrationImage: p.config.migration?.image ?? null });
  const targets = resolveTargets({
    images: p.config.images,
    configPath: p.configPath,
    needed,
    outputs: p.outputs,
    registryOverride: settings.registry.value,
    registryOverrideSource: settings.registry.source,
  });
  return { settings, needed, unused, targets };
}

/**
 * @param {object} p
 * @param {{ environment?: string, images: Record<string, import('./targets.mjs').ImageEntry>, migration?: { image?: string }, imageRegistry?: string|null, imageConvenienceTag?: string|null }} p.config
 * @param {string} p.configPath path of the config file; image contexts are relative to its directory
 * @param {Array<{ name: string, enabled: boolean, disabledReason?: string|null, image: string }>} p.services
 * @param {Pick<import('../lib/outputs.mjs').Outputs, 'repositoryUrls'|'repositoryMutableTags'>} p.outputs the runner's stack outputs (runner/lib/outputs.mjs)
 * @param {ImageOptions} [p.options]
 * @param {Pick<import('@aws-sdk/client-ecr').ECRClient, 'send'>} p.ecr
 * @param {import('../lib/types.mjs').Exec} [p.exec] the runner's exec (default zx; see exec.mjs toCommandRunner)
 * @param {typeof fetch} [p.fetch]
 * @param {(msg: string) => void} [p.log]
 * @param {AbortSignal} [p.signal]
 * @param {Record<string, string|undefined>} [p.env]
 * @param {string|null} [p.dockerConfigDir]
 */
export async function runImages(p) {
  const options = p.options ?? {};
  const env = p.env ?? process.env;
  const log = p.log ?? (() => {});
  const run = toCommandRunner(p.exec);
  const { settings, unused, targets } = checkImageInputs({ ...p, options, env });
  for (const u of unused) log(`image ${u.key}: not built (${u.reason})`);
  if (settings.registry.value) log(`images go to ${settings.registry.value} (from ${settings.registry.source}) instead of the hosts in repository_urls`);
  await resolveTags(targets, { release: options.release ?? null, run });
  const clash = targets.find((t) => t.tag === settings.convenienceTag);
  if (clash) throw new InputError(`the convenience tag "${settings.convenienceTag}" equals the release tag of image ${clash.key}; choose another convenience tag or release`);
  const result = await publishImages({
    targets,
    getCredentials: () => ecrCredentials(p.ecr),
    run,
    fetch: p.fetch,
    log,
    dryRun: options.dryRun ?? false,
    concurrency: settings.concurrency,
    convenienceTag: settings.convenienceTag,
    signal: p.signal,
    // default: a private temporary docker config, removed at the end; a given one is kept (e.g. one that is
    // also logged in to the registry of a private base image)
    dockerConfigDir: p.dockerConfigDir ?? env[ENV.dockerConfig] ?? null,
  });
  return { ...result, unused, settings };
}

/**
 * @typedef {{ repository: string, tag: string, uri: string, registry: { scheme: 'http'|'https', host: string }, name: string }} PlannedRef
 */

/**
 * The image references a release uses, without contacting any registry or building anything: for each image an
 * enabled service (or the migration) uses, its repository and tag (explicit release, else the git commit of its
 * context, exactly as the images step tags it). For steps run without the images step (e.g. `--from`).
 * @param {Pick<Parameters<typeof runImages>[0], 'config'|'configPath'|'services'|'outputs'|'exec'|'env'> & { release?: string|null, imageRegistry?: string|null }} p
 * @returns {Promise<Record<string, PlannedRef>>}
 */
export async function plannedImageRefs(p) {
  const { targets } = checkImageInputs({ ...p, options: { imageRegistry: p.imageRegistry ?? null } });
  await resolveTags(targets, { release: p.release ?? null, run: toCommandRunner(p.exec) });
  return Object.fromEntries(targets.map((t) => [t.key, { repository: t.repository, tag: /** @type {string} */ (t.tag), uri: `${t.repository}:${t.tag}`, registry: t.registry, name: t.name }]));
}
