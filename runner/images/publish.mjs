// The image step's decision logic: for each target, skip when the release tag already exists in the registry,
// else build and push (in parallel, bounded), record the digest, then move the convenience tag where the
// repository allows mutable tags. Commands, HTTP and AWS are injected.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRegistryClient } from './registry.mjs';
import { dockerCli } from './docker.mjs';

/**
 * @typedef {'pushed'|'skipped-exists'|'skipped'|'failed'} ImageStatus
 * @typedef {object} ConvenienceTagResult
 * @property {string|null} tag
 * @property {'updated'|'unchanged'|'skipped'|'not-applicable'|'failed'|'would-update'} status not-applicable: the
 *   repository's policy (immutable tags) allows no moving tag, as the seed foresees ("only if the repository policy
 *   allows it"): a policy, not a check
 * @property {string|null} reason
 * @property {string|null} [digest]
 * @typedef {object} ImageResult
 * @property {string} key
 * @property {string} uri          repository:tag
 * @property {string} repository
 * @property {string} tag
 * @property {'release'|'git'|undefined} tagSource
 * @property {string|null} digest  sha256:... (null when unknown: dry run of a new image, or failure)
 * @property {ImageStatus} status
 * @property {string|null} reason  why skipped/failed; in a dry run, what would happen
 * @property {'build-and-push'|'none'} action
 * @property {string[]} usedBy
 * @property {{ checkMs: number, buildMs: number|null, pushMs: number|null }} timings
 * @property {ConvenienceTagResult} convenienceTag
 * @property {string|null} [error] the tool's own error output on failure
 */

/**
 * @param {object} p
 * @param {import('./targets.mjs').ImageTarget[]} p.targets targets with tags
 * @param {() => Promise<{ username: string, password: string }>} p.getCredentials registry credentials (ECR token)
 * @param {import('./exec.mjs').CommandRunner} p.run
 * @param {typeof fetch} [p.fetch]
 * @param {(msg: string) => void} [p.log]
 * @param {boolean} [p.dryRun]
 * @param {number} [p.concurrency] parallel builds (default: CPU count)
 * @param {string|null} [p.convenienceTag] e.g. "staging-latest"; null: none
 * @param {AbortSignal} [p.signal]
 * @param {string|null} [p.dockerConfigDir] docker --config dir; default: a private temporary dir, removed at the end
 * @param {() => number} [p.now]
 * @returns {Promise<{ status: 'passed'|'failed'|'skipped', reason: string|null, images: Record<string, ImageResult> }>}
 */
export async function publishImages(p) {
  const { targets, run, dryRun = false, convenienceTag = null, signal } = p;
  const log = p.log ?? (() => {});
  const now = p.now ?? Date.now;
  const concurrency = Math.max(1, Math.floor(p.concurrency ?? os.cpus().length));
  /** @type {Record<string, ImageResult>} */
  const images = {};
  if (targets.length === 0) return { status: 'skipped', reason: 'no enabled service uses an image', images };

  const creds = await p.getCredentials();
  /** @type {Map<string, import('./registry.mjs').RegistryClient>} */
  const clients = new Map();
  const registry = (/** @type {import('./targets.mjs').ImageTarget} */ t) => {
    const k = `${t.registry.scheme}://${t.registry.host}`;
    if (!clients.has(k)) clients.set(k, createRegistryClient({ address: t.registry, credentials: creds, fetch: p.fetch, signal }));
    return /** @type {import('./registry.mjs').RegistryClient} */ (clients.get(k));
  };

  // 1. what exists already (read-only; also in a dry run)
  for (const t of targets) {
    const tag = /** @type {string} */ (t.tag);
    const started = now();
    const m = await registry(t).manifest(t.name, tag);
    images[t.key] = {
      key: t.key,
      uri: `${t.repository}:${tag}`,
      repository: t.repository,
      tag,
      tagSource: t.tagSource,
      digest: m.exists ? m.digest : null,
      status: m.exists ? 'skipped-exists' : 'skipped',
      reason: m.exists ? `tag ${tag} already in ${t.registry.host}/${t.name}; build and push skipped` : null,
      action: m.exists ? 'none' : 'build-and-push',
      usedBy: t.usedBy,
      timings: { checkMs: now() - started, buildMs: null, pushMs: null },
      convenienceTag: { tag: convenienceTag, status: 'skipped', reason: null, digest: null },
    };
    log(m.exists ? `image ${t.key}: ${t.repository}:${tag} exists (${m.digest}), skipping build` : `image ${t.key}: ${t.repository}:${tag} not in registry, ${dryRun ? 'would build and push' : 'building'}`);
  }
  const toBuild = targets.filter((t) => images[t.key].action === 'build-and-push');

  if (dryRun) {
    for (const t of toBuild) images[t.key].reason = `dry run: would build ${path.relative(process.cwd(), t.dockerfile) || t.dockerfile} and push ${images[t.key].uri}`;
    for (const t of targets) images[t.key].convenienceTag = convenienceDecision(t, convenienceTag, true);
    return { status: 'skipped', reason: `dry run: ${toBuild.length} to build and push, ${targets.length - toBuild.length} already in the registry`, images };
  }

  const ownConfig = p.dockerConfigDir == null && toBuild.length > 0;
  const configDir = ownConfig ? fs.mkdtempSync(path.join(os.tmpdir(), 'staging-rollout-docker-')) : (p.dockerConfigDir ?? null);
  const docker = dockerCli(run, { configDir, signal });
  /** @type {string|null} */
  let firstFailure = null;
  try {
    // 2. log in once per registry host that receives a push (lazily, shared by parallel builds)
    /** @type {Map<string, Promise<void>>} */
    const logins = new Map();
    const login = (/** @type {string} */ host) => {
      if (!logins.has(host)) {
        log(`registry ${host}: docker login as ${creds.username} (password on stdin)`);
        logins.set(host, docker.login(host, creds));
      }
      return /** @type {Promise<void>} */ (logins.get(host));
    };

    // 3. build and push, at most `concurrency` at a time; after a failure nothing new starts
    await pool(toBuild, concurrency, async (t) => {
      const r = images[t.key];
      if (firstFailure) {
        Object.assign(r, { status: 'skipped', reason: `not started: ${firstFailure}` });
        return;
      }
      try {
        await login(t.registry.host);
        let started = now();
        log(`image ${t.key}: docker build ${t.context}`);
        await docker.build({
          key: t.key, context: t.context, dockerfile: t.dockerfile, tags: [r.uri], platform: t.platform, buildArgs: t.buildArgs,
          labels: t.tagSource === 'git' ? { 'org.opencontainers.image.revision': r.tag } : {},
        });
        r.timings.buildMs = now() - started;
        started = now();
        log(`image ${t.key}: docker push ${r.uri}`);
        let digest = await docker.push(t.key, r.uri);
        if (!digest) digest = (await registry(t).manifest(t.name, r.tag)).digest; // docker did not print it
        r.timings.pushMs = now() - started;
        Object.assign(r, { digest, status: 'pushed', reason: null });
        log(`image ${t.key}: pushed ${r.uri} ${digest}`);
      } catch (e) {
        const err = /** @type {Error & { stderr?: string }} */ (e);
        if (err?.name === 'AbortError') throw e;
        firstFailure ??= `image ${t.key}: ${err.message}`;
        Object.assign(r, { status: 'failed', reason: err.message, error: err.stderr ?? null });
        log(`image ${t.key}: FAILED: ${err.message}`);
      }
    });
  } finally {
    if (ownConfig && configDir) fs.rmSync(configDir, { recursive: true, force: true });
  }

  // 4. convenience tag on every image now in the registry
  for (const t of targets) {
    const r = images[t.key];
    if (r.status !== 'pushed' && r.status !== 'skipped-exists') {
      r.convenienceTag = { tag: convenienceTag, status: 'skipped', reason: `image ${r.status}`, digest: null };
      continue;
    }
    const d = convenienceDecision(t, convenienceTag, false);
    if (d.status === 'skipped' || d.status === 'not-applicable') { r.convenienceTag = d; if (convenienceTag) log(`image ${t.key}: convenience tag ${convenienceTag} skipped: ${d.reason}`); continue; }
    try {
      const cur = await registry(t).manifest(t.name, /** @type {string} */ (convenienceTag));
      if (cur.exists && cur.digest === r.digest) {
        r.convenienceTag = { tag: convenienceTag, status: 'unchanged', reason: null, digest: r.digest };
      } else {
        const digest = await registry(t).putTag(t.name, /** @type {string} */ (r.digest), /** @type {string} */ (convenienceTag));
        r.convenienceTag = { tag: convenienceTag, status: 'updated', reason: null, digest };
        log(`image ${t.key}: ${t.repository}:${convenienceTag} -> ${digest}`);
      }
    } catch (e) {
      const err = /** @type {Error} */ (e);
      if (err?.name === 'AbortError') throw e;
      r.convenienceTag = { tag: convenienceTag, status: 'failed', reason: err.message, digest: null };
      firstFailure ??= `image ${t.key}: convenience tag ${convenienceTag}: ${err.message}`;
    }
  }

  if (firstFailure) return { status: 'failed', reason: firstFailure, images };
  const pushed = Object.values(images).filter((r) => r.status === 'pushed').length;
  return { status: 'passed', reason: pushed ? null : 'every image tag already in the registry; nothing built', images };
}

/**
 * Whether the convenience tag may be moved for target `t`.
 * @param {import('./targets.mjs').ImageTarget} t @param {string|null} tag @param {boolean} dryRun
 * @returns {ConvenienceTagResult}
 */
export function convenienceDecision(t, tag, dryRun) {
  if (!tag) return { tag: null, status: 'skipped', reason: 'no convenience tag configured', digest: null };
  if (!t.mutableTags) return { tag, status: 'not-applicable', reason: `repository ${t.name} has immutable tags (repository_mutable_tags.${t.key} is not true); a moving tag cannot be set`, digest: null };
  return { tag, status: dryRun ? 'would-update' : 'updated', reason: dryRun ? `dry run: would point ${tag} at the release` : null, digest: null };
}

/**
 * Run `fn` over `items` with at most `limit` in flight.
 * @template T @param {T[]} items @param {number} limit @param {(item: T) => Promise<void>} fn
 */
export async function pool(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
