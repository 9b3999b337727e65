// Which images a rollout needs, where their build contexts are, where they go, and under which tag.
// Pure except for read-only file-system checks and `git` queries through the injected command runner.
import fs from 'node:fs';
import path from 'node:path';
import { CommandError } from './failures.mjs';
import { InputError } from '../lib/errors.mjs';
import { parseRegistryAddress, splitRepositoryUrl } from './registry.mjs';
import { validateImageTag } from '../lib/args.mjs';

/** Build platform when an image sets none: the stack's task definitions run on Linux X86_64. */
export const DEFAULT_PLATFORM = 'linux/amd64';

/**
 * @typedef {import('../../lib/config/index.cjs').CatalogEntry} CatalogEntry
 * @typedef {Pick<CatalogEntry, 'name' | 'enabled' | 'image'> & { disabledReason?: CatalogEntry['disabledReason'] }} CatalogService
 * @typedef {{ context: string, dockerfile?: string, platform?: string, buildArgs?: Record<string,string> }} ImageEntry
 * @typedef {object} ImageTarget
 * @property {string} key             image key (config `images`)
 * @property {string[]} usedBy        enabled services (and `migration`) that run this image
 * @property {string} context         absolute build context
 * @property {string} dockerfile      absolute Dockerfile path
 * @property {string} platform       docker build --platform (config `platform`, default linux/amd64)
 * @property {Record<string,string>} buildArgs
 * @property {string} repository      image repository as pushed/pulled (host/name), registry override applied
 * @property {{ scheme: 'http'|'https', host: string }} registry
 * @property {string} name            repository name inside the registry
 * @property {boolean} mutableTags    repository_mutable_tags[key] === true
 * @property {string} [tag]           release tag (set by resolveTags)
 * @property {'release'|'git'} [tagSource]
 */

/**
 * Images needed by the enabled services (plus the migration image), in config order.
 * @param {Record<string, ImageEntry>} images config `images`
 * @param {CatalogService[]} services normalised catalog
 * @param {{ migrationImage?: string|null }} [opts]
 * @returns {{ needed: { key: string, usedBy: string[] }[], unused: { key: string, reason: string }[] }}
 */
export function neededImages(images, services, { migrationImage } = {}) {
  if (!images || typeof images !== 'object' || Array.isArray(images)) throw new InputError('config images: must be an object of image key -> { context, dockerfile }');
  /** @type {Map<string, string[]>} */
  const users = new Map();
  /** @type {Map<string, string[]>} */
  const disabledUsers = new Map();
  const add = (/** @type {Map<string,string[]>} */ m, /** @type {string} */ k, /** @type {string} */ v) => m.set(k, [...(m.get(k) ?? []), v]);
  for (const s of services) {
    if (!(s.image in images)) throw new InputError(`service ${s.name}: image "${s.image}" is not a key of config images (${Object.keys(images).join(', ')})`);
    if (s.enabled) add(users, s.image, s.name);
    else add(disabledUsers, s.image, `${s.name} (${s.disabledReason ?? 'disabled'})`);
  }
  if (migrationImage != null) {
    if (!(migrationImage in images)) throw new InputError(`migration.image: "${migrationImage}" is not a key of config images`);
    add(users, migrationImage, 'migration');
  }
  const needed = [];
  const unused = [];
  for (const key of Object.keys(images)) {
    if (users.has(key)) needed.push({ key, usedBy: /** @type {string[]} */ (users.get(key)) });
    else if (disabledUsers.has(key)) unused.push({ key, reason: `only used by disabled services: ${disabledUsers.get(key)?.join(', ')}` });
    else unused.push({ key, reason: 'not used by any service' });
  }
  return { needed, unused };
}

/**
 * Resolve build contexts and destinations; checks every context and Dockerfile exists before anything is built
 * and reports all problems at once.
 * @param {object} p
 * @param {Record<string, ImageEntry>} p.images config `images`
 * @param {string} p.configPath path of the config file (contexts are relative to its directory)
 * @param {{ key: string, usedBy: string[] }[]} p.needed
 * @param {Pick<import('../lib/outputs.mjs').Outputs, 'repositoryUrls'|'repositoryMutableTags'>} p.outputs the runner's stack outputs
 * @param {string|null} [p.registryOverride] registry address replacing the host of repository_urls
 * @param {string} [p.registryOverrideSource] where the override came from (for messages)
 * @returns {ImageTarget[]}
 */
export function resolveTargets({ images, configPath, needed, outputs, registryOverride = null, registryOverrideSource = 'imageRegistry' }) {
  const baseDir = path.dirname(path.resolve(configPath));
  const urls = outputs.repositoryUrls;
  const mutable = outputs.repositoryMutableTags;
  const override = registryOverride ? parseRegistryAddress(registryOverride, registryOverrideSource) : null;
  /** @type {string[]} */
  const problems = [];
  /** @type {ImageTarget[]} */
  const targets = [];
  for (const { key, usedBy } of needed) {
    const entry = images[key];
    const where = `${configPath}: images.${key}`;
    if (!entry || typeof entry !== 'object' || typeof entry.context !== 'string' || entry.context === '') {
      problems.push(`${where}.context: must be a path (relative to the config file)`);
      continue;
    }
    if (entry.dockerfile !== undefined && (typeof entry.dockerfile !== 'string' || entry.dockerfile === '')) {
      problems.push(`${where}.dockerfile: must be a path relative to the context, got ${JSON.stringify(entry.dockerfile)}`);
      continue;
    }
    const context = path.resolve(baseDir, entry.context);
    const dockerfile = path.resolve(context, entry.dockerfile ?? 'Dockerfile');
    if (!isDir(context)) problems.push(`${where}.context: build context ${context} does not exist or is not a directory`);
    else if (!isFile(dockerfile)) problems.push(`${where}.dockerfile: ${dockerfile} does not exist or is not a file`);
    const url = urls[key];
    if (typeof url !== 'string') {
      problems.push(`stack output repository_urls has no entry for image "${key}"`);
      continue;
    }
    let repo;
    try {
      repo = splitRepositoryUrl(url, `repository_urls.${key}`);
    } catch (e) {
      problems.push(/** @type {Error} */ (e).message);
      continue;
    }
    const registry = override ?? { scheme: /** @type {'https'} */ ('https'), host: repo.host };
    targets.push({
      key,
      usedBy,
      context,
      dockerfile,
      // task definitions pin cpuArchitecture X86_64: build for it unless the config says otherwise
      platform: entry.platform ?? DEFAULT_PLATFORM,
      buildArgs: entry.buildArgs ?? {},
      repository: `${registry.host}/${repo.name}`,
      registry,
      name: repo.name,
      mutableTags: mutable[key] === true,
    });
  }
  if (problems.length) throw new InputError(`image configuration is not usable (nothing was built):\n  - ${problems.join('\n  - ')}`);
  return targets;
}

/**
 * Set each target's tag: the explicit release when given, else the 12-digit short git commit of its context
 * (the same length the runner uses for its default release, so a monorepo gets one tag). A context
 * with uncommitted changes has no commit that names its content, so it is an error unless a release is given.
 * @param {ImageTarget[]} targets
 * @param {{ release?: string|null, run: import('./exec.mjs').CommandRunner }} opts
 */
export async function resolveTags(targets, { release, run }) {
  if (release != null) {
    validateImageTag(release, 'release');
    for (const t of targets) Object.assign(t, { tag: release, tagSource: 'release' });
    return targets;
  }
  const problems = [];
  for (const t of targets) {
    const rev = await run(['git', '-C', t.context, 'rev-parse', '--short=12', 'HEAD']);
    if (rev.exitCode !== 0) {
      problems.push(`image ${t.key}: cannot take the release tag from git in ${t.context} (${(rev.stderr || rev.stdout).trim().split('\n')[0]}); pass a release (--release TAG)`);
      continue;
    }
    const status = await run(['git', '-C', t.context, 'status', '--porcelain', '--', '.']);
    if (status.exitCode !== 0) throw new CommandError(`git status in ${t.context}`, ['git', '-C', t.context, 'status', '--porcelain', '--', '.'], status.exitCode, status.stderr, status.stdout);
    if (status.stdout.trim() !== '') {
      problems.push(`image ${t.key}: build context ${t.context} has uncommitted changes, so commit ${rev.stdout.trim()} does not describe it; commit them or pass a release (--release TAG)`);
      continue;
    }
    Object.assign(t, { tag: rev.stdout.trim(), tagSource: 'git' });
  }
  if (problems.length) throw new InputError(`cannot choose release tags (nothing was built):\n  - ${problems.join('\n  - ')}`);
  return targets;
}

/** @param {string} p */
function isDir(p) {
  try { return fs.statSync(p).isDirectory(); } catch { return false; }
}
/** @param {string} p */
function isFile(p) {
  try { return fs.statSync(p).isFile(); } catch { return false; }
}
