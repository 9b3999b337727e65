// Step `task-definitions`: for every enabled service family (and the migration family) register a revision
// whose container image is pinned to the release - by digest when known - or reuse an identical existing
// revision. `resolveTaskDefinitions(ctx, { register: false })` finds the release revisions for later steps
// run alone (--only/--from) without registering anything.
import {
  DescribeTaskDefinitionCommand, ListTaskDefinitionsCommand, RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import { StepFailure } from '../lib/errors.mjs';
import { MIGRATION_KEY } from '../lib/plan.mjs';
import { send, mutate } from '../aws/send.mjs';
import { plannedImageRefs } from '../images/run.mjs';
import { createRegistryClient } from '../images/registry.mjs';
import { ecrCredentials } from '../images/ecr-auth.mjs';

/**
 * @typedef {import('@aws-sdk/client-ecs').TaskDefinition} TaskDefinition
 * @typedef {import('@aws-sdk/client-ecs').RegisterTaskDefinitionCommandInput} RegisterInput
 */

/**
 * Fields RegisterTaskDefinition accepts, taken over from the family's latest revision.
 * @type {ReadonlyArray<keyof RegisterInput & keyof TaskDefinition>}
 */
const REGISTER_FIELDS = [
  'family', 'taskRoleArn', 'executionRoleArn', 'networkMode', 'containerDefinitions', 'volumes',
  'placementConstraints', 'requiresCompatibilities', 'cpu', 'memory', 'pidMode', 'ipcMode', 'proxyConfiguration',
  'inferenceAccelerators', 'ephemeralStorage', 'runtimePlatform', 'enableFaultInjection',
];
/** How many older revisions to inspect for an identical one when the latest differs (e.g. a rollback). */
const OLDER_CANDIDATES = 3;
export const RELEASE_TAG_KEY = 'staging-rollout:release';

/** @param {import('../lib/types.mjs').StepContext} ctx */
export async function run(ctx) {
  const families = ctx.step.families ?? [];
  const found = await resolveTaskDefinitions(ctx, families, { register: !ctx.options.dryRun });
  /** @type {import('../lib/types.mjs').ServiceResult[]} */
  const services = found.map((f) => ({
    name: f.service === MIGRATION_KEY ? 'migration' : f.service,
    status: f.td ? (f.td.registered ? 'passed' : 'unchanged') : 'skipped',
    reason: f.td ? (f.td.registered ? null : `identical revision ${f.td.family}:${f.td.revision} reused`) : 'dry run: would register a new revision',
    taskDefinitionArn: f.td?.arn ?? null,
  }));
  const registered = found.filter((f) => f.td?.registered).length;
  const reused = found.filter((f) => f.td && !f.td.registered).length;
  if (ctx.options.dryRun) {
    return {
      status: 'skipped',
      reason: `dry run: ${found.length - reused} revision(s) would be registered, ${reused} reused`,
      services,
      details: { notes: found.map((f) => `${f.family}: ${f.td ? `reuse ${f.td.family}:${f.td.revision}` : 'register a new revision'} (image ${f.image})`) },
    };
  }
  return { status: 'passed', services, details: { registered, reused } };
}

/**
 * @typedef {{ service: string, family: string, image: string, td: import('../lib/types.mjs').TaskDefinitionState|null }} Resolved
 */

/**
 * @typedef {object} Wanted what the release revision of one family is to hold
 * @property {import('../lib/plan.mjs').FamilyPlan} f
 * @property {string} image the image reference it pins (by digest where known)
 * @property {import('@aws-sdk/client-ecs').DescribeTaskDefinitionCommandOutput} latest the family's latest revision
 * @property {RegisterInput} desired the latest revision's registrable fields with the release image
 */

/**
 * The release revision each family is to have, worked out with read-only calls (DescribeTaskDefinition, and
 * DescribeImages for the digests): what the step registers or reuses, and what `diff` compares with what runs.
 * @param {import('../lib/types.mjs').StepContext} ctx
 * @param {import('../lib/plan.mjs').FamilyPlan[]} families
 * @returns {Promise<Wanted[]>}
 */
export async function desiredRevisions(ctx, families) {
  const imageRefs = /** @type {Record<string, string>} */ ({});
  const keys = [...new Set(families.map((f) => f.image))];
  const planned = keys.some((k) => !ctx.state.images?.[k]?.digest && !ctx.state.images?.[k]?.uri) ? await plannedRefs(ctx) : {};
  for (const key of keys) imageRefs[key] = await imageRef(ctx, key, planned[key]);
  /** @type {Wanted[]} */
  const out = [];
  for (const f of families) {
    const image = imageRefs[f.image];
    const latest = await describe(ctx, f.family);
    out.push({ f, image, latest, desired: desiredRevision(latest.taskDefinition, f, image) });
  }
  return out;
}

/**
 * Find (and with register: true, create) the release revision of each family; records them in ctx.state.
 * @param {import('../lib/types.mjs').StepContext} ctx
 * @param {import('../lib/plan.mjs').FamilyPlan[]} families
 * @param {{ register: boolean }} opts
 * @returns {Promise<Resolved[]>}
 */
export async function resolveTaskDefinitions(ctx, families, { register }) {
  const wanted = await desiredRevisions(ctx, families);
  ctx.state.taskDefinitions ??= {};
  /** @type {Resolved[]} */
  const out = [];
  // one family at a time: RegisterTaskDefinition has a low rate limit
  for (const { f, image, latest, desired } of wanted) {
    if (f.service !== MIGRATION_KEY) (ctx.state.releaseRevisions ??= {})[f.service] = { desired, container: f.container };
    let td = identical(latest.taskDefinition, desired) ? latest.taskDefinition : await findOlderIdentical(ctx, f.family, latest.taskDefinition, desired);
    let registered = false;
    if (!td && register) {
      const tags = (latest.tags ?? []).filter((t) => !String(t.key).startsWith('aws:') && t.key !== RELEASE_TAG_KEY);
      tags.push({ key: RELEASE_TAG_KEY, value: ctx.release });
      // a change: once sent, Ctrl-C lets it finish (mutate); no half-done entry, since the next run reuses an
      // identical revision instead of registering another
      const { output: res } = await mutate(ctx, ctx.aws.ecs, new RegisterTaskDefinitionCommand({ ...desired, tags }));
      td = res.taskDefinition;
      registered = true;
      ctx.log.progress(`[task-definitions] ${f.family}: registered revision ${td?.revision} (image ${image})`);
    } else if (td) {
      ctx.log.progress(`[task-definitions] ${f.family}: identical revision ${td.revision} reused (image ${image})`);
    }
    /** @type {import('../lib/types.mjs').TaskDefinitionState|null} */
    let state = null;
    if (td) {
      const c = (td.containerDefinitions ?? []).find((x) => x.name === f.container);
      const lo = c?.logConfiguration?.logDriver === 'awslogs' ? c.logConfiguration.options ?? {} : {};
      state = {
        arn: td.taskDefinitionArn ?? '', family: td.family ?? f.family, revision: td.revision ?? 0, image, registered,
        container: f.container, logGroup: lo['awslogs-group'], logStreamPrefix: lo['awslogs-stream-prefix'],
      };
      if (f.service === MIGRATION_KEY) ctx.state.migrationTaskDefinition = state;
      else ctx.state.taskDefinitions[f.service] = state;
    }
    out.push({ service: f.service, family: f.family, image, td: state });
  }
  return out;
}

/**
 * Where and under which tag the images step puts each image when it did not run in this rollout (--from,
 * --skip images): runner/images plannedImageRefs (explicit --release, else the git commit of each build context;
 * registry override respected). When that cannot be worked out (e.g. a build context is not on this machine)
 * the rollout's release tag in the stack's repositories is used, with a warning.
 * @param {import('../lib/types.mjs').StepContext} ctx
 * @returns {Promise<Record<string, import('../images/run.mjs').PlannedRef>>}
 */
function plannedRefs(ctx) {
  // worked out once per rollout: every later step that looks its revisions up (migration, tiers) reuses it, so
  // a warning about the images' tags is printed once
  let refs = PLANNED.get(ctx.state);
  if (!refs) {
    refs = workOutPlannedRefs(ctx);
    PLANNED.set(ctx.state, refs);
  }
  return refs;
}

/** @type {WeakMap<import('../lib/types.mjs').RunState, Promise<Record<string, import('../images/run.mjs').PlannedRef>>>} */
const PLANNED = new WeakMap();

/**
 * @param {import('../lib/types.mjs').StepContext} ctx
 * @returns {Promise<Record<string, import('../images/run.mjs').PlannedRef>>}
 */
async function workOutPlannedRefs(ctx) {
  if (!ctx.config?.images) return {};
  try {
    return await plannedImageRefs({
      config: ctx.config, configPath: ctx.configPath, services: ctx.catalog,
      outputs: ctx.outputs, exec: ctx.exec, env: ctx.env ?? process.env, release: ctx.imageTag,
      imageRegistry: ctx.options.imageRegistry ?? null,
    });
  } catch (e) {
    if (ctx.signal?.aborted) throw e;
    const why = /** @type {Error} */ (e).message.split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
    ctx.log.warn(`[task-definitions] the images step's tags cannot be worked out (${why}); using release ${ctx.release} in the stack's repositories`);
    return {};
  }
}

/**
 * The image reference for an image key, pinned by digest wherever one is known:
 * - the images step ran: `<repository>@<digest>` where it pushed (a registry override is respected), or its uri;
 * - else the images step's planned repository and tag (see plannedRefs), resolved to a digest through ECR when
 *   the repository is the stack's ECR repository, through the registry's API (HEAD of the manifest, with the ECR
 *   token as the images step logs in) when a registry override stands in for it; the tag when that fails (a warning);
 * - missing in ECR: a failure on AWS, the tag (with a warning) in emulator mode or a dry run.
 * @param {import('../lib/types.mjs').StepContext} ctx @param {string} key
 * @param {import('../images/run.mjs').PlannedRef} [planned]
 */
async function imageRef(ctx, key, planned) {
  const repo = ctx.outputs.repositoryUrls[key];
  const st = ctx.state.images?.[key];
  if (st?.digest) return `${st.repository ?? repo}@${st.digest}`;
  if (st?.uri) return st.uri;
  const repository = planned?.repository ?? repo;
  const tag = planned?.tag ?? ctx.release;
  if (planned && repository !== repo) {
    const digest = await overrideDigest(ctx, planned);
    if (digest) return `${repository}@${digest}`;
    return `${repository}:${tag}`;
  }
  const repositoryName = repo.split('/').slice(1).join('/');
  try {
    const res = await send(ctx, ctx.aws.ecr, new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: tag }] }));
    const digest = res.imageDetails?.[0]?.imageDigest;
    if (digest) return `${repo}@${digest}`;
  } catch (e) {
    const name = /** @type {Error} */ (e).name;
    if (name !== 'ImageNotFoundException' && name !== 'RepositoryNotFoundException') throw e;
    if (!ctx.capabilities.emulator && !ctx.options.dryRun) {
      throw new StepFailure(`image ${repo}:${tag} not found in ECR (${name}); run the images step or push the image first`);
    }
    ctx.log.warn(`[task-definitions] ${repositoryName}:${tag} is not in the registry (${name}); pinning the tag (no digest)`);
  }
  return `${repo}:${tag}`;
}

/** The ECR token of one run, asked for once (GetAuthorizationToken) however many images it looks up. */
/** @type {WeakMap<import('../lib/types.mjs').RunState, ReturnType<typeof ecrCredentials>>} */
const CREDENTIALS = new WeakMap();

/**
 * The digest of a planned image in an override registry (HEAD of its manifest), or null with a warning naming why
 * the tag is pinned instead (not pushed yet, the registry unreachable or refusing the ECR token).
 * @param {import('../lib/types.mjs').StepContext} ctx @param {import('../images/run.mjs').PlannedRef} planned
 * @returns {Promise<string|null>}
 */
async function overrideDigest(ctx, planned) {
  try {
    let creds = CREDENTIALS.get(ctx.state);
    if (!creds) CREDENTIALS.set(ctx.state, (creds = ecrCredentials(ctx.aws.ecr)));
    const client = createRegistryClient({ address: planned.registry, credentials: await creds, fetch: ctx.fetch, signal: ctx.signal });
    const m = await client.manifest(planned.name, planned.tag);
    if (m.exists && m.digest) return m.digest;
    ctx.log.warn(`[task-definitions] ${planned.uri} is not in the registry; pinning the tag (no digest)`);
  } catch (e) {
    if (ctx.signal?.aborted) throw e;
    ctx.log.warn(`[task-definitions] ${planned.uri}: the digest could not be looked up (${/** @type {Error} */ (e).message}); pinning the tag`);
  }
  return null;
}

/** @param {import('../lib/types.mjs').StepContext} ctx @param {string} family */
async function describe(ctx, family) {
  try {
    return await send(ctx, ctx.aws.ecs, new DescribeTaskDefinitionCommand({ taskDefinition: family, include: ['TAGS'] }));
  } catch (e) {
    if (/** @type {Error} */ (e).name === 'ClientException') {
      throw new StepFailure(`task definition family ${family} not found (${/** @type {Error} */ (e).message}); was the foundation stack applied?`);
    }
    throw e;
  }
}

/**
 * The registration input of the release revision: the latest revision's registrable fields, `image` in `f.container`.
 * @param {TaskDefinition | undefined} latest @param {import('../lib/plan.mjs').FamilyPlan} f @param {string} image
 * @returns {RegisterInput}
 */
export function desiredRevision(latest, f, image) {
  /** @type {Record<string, unknown>} */
  const picked = {};
  for (const k of REGISTER_FIELDS) if (latest?.[k] !== undefined && latest?.[k] !== null) picked[k] = structuredClone(latest[k]);
  // the same fields with the values DescribeTaskDefinition gave (its optional fields are what Register takes)
  const input = /** @type {RegisterInput} */ (/** @type {unknown} */ (picked));
  const defs = input.containerDefinitions ?? [];
  const c = defs.find((x) => x.name === f.container);
  if (!c) {
    throw new StepFailure(`task definition ${f.family} has no container named ${f.container} (containers: ${defs.map((x) => x.name).join(', ') || 'none'})`);
  }
  c.image = image;
  return input;
}

/** Canonical JSON of what matters: registrable fields, without empty values, keys sorted. */
/** @param {unknown} v @returns {unknown} */
function canonical(v) {
  if (Array.isArray(v)) {
    const arr = v.map(canonical).filter((x) => x !== undefined);
    return arr.length ? arr : undefined;
  }
  if (v && typeof v === 'object') {
    /** @type {Record<string, unknown>} */
    const o = {};
    const obj = /** @type {Record<string, unknown>} */ (v);
    for (const k of Object.keys(obj).sort()) {
      const c = canonical(obj[k]);
      if (c !== undefined) o[k] = c;
    }
    return Object.keys(o).length ? o : undefined;
  }
  return v === null ? undefined : v;
}

/** @param {TaskDefinition | undefined} td @param {RegisterInput} desired */
export function identical(td, desired) {
  if (!td || td.status === 'INACTIVE') return false;
  /** @type {Record<string, unknown>} */
  const have = {};
  for (const k of REGISTER_FIELDS) have[k] = td[k];
  return JSON.stringify(canonical(have)) === JSON.stringify(canonical(desired));
}

/**
 * @param {import('../lib/types.mjs').StepContext} ctx @param {string} family @param {TaskDefinition | undefined} latest @param {RegisterInput} desired
 * @returns {Promise<TaskDefinition | null>}
 */
async function findOlderIdentical(ctx, family, latest, desired) {
  const res = await send(ctx, ctx.aws.ecs, new ListTaskDefinitionsCommand({ familyPrefix: family, status: 'ACTIVE', sort: 'DESC', maxResults: OLDER_CANDIDATES + 5 }));
  const arns = (res.taskDefinitionArns ?? [])
    .filter((a) => a.split('/').pop()?.replace(/:\d+$/, '') === family && a !== latest?.taskDefinitionArn)
    .slice(0, OLDER_CANDIDATES);
  for (const arn of arns) {
    const d = await send(ctx, ctx.aws.ecs, new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
    if (identical(d.taskDefinition, desired)) return d.taskDefinition ?? null;
  }
  return null;
}
