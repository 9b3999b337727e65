// Step `rollback-targets` (rollback plans only, runner/lib/plan.mjs buildRollbackPlan): check that everything the
// rollback points back at still exists, then hand the tier steps their targets. Read-only. Each target revision
// must be ACTIVE (DescribeTaskDefinition) and each image digest it pins in the stack's ECR repositories must
// still be there (DescribeImages by digest, one call per repository). Any miss refuses the rollback before a
// change (InputError: exit 2), naming every miss. On success ctx.state.taskDefinitions holds the target
// revisions exactly as the task-definitions step fills it for a rollout, so the tier steps run unchanged.
import { DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import { InputError } from '../lib/errors.mjs';
import { send } from '../aws/send.mjs';

/** @typedef {import('@aws-sdk/client-ecs').TaskDefinition} TaskDefinition */

/**
 * @typedef {object} Target
 * @property {string} service
 * @property {string} arn
 * @property {TaskDefinition | undefined} td
 * @property {string} image the service container's image in that revision
 */

/** @param {import('../lib/types.mjs').StepContext} ctx @returns {Promise<import('../lib/types.mjs').StepResult>} */
export async function run(ctx) {
  const rb = ctx.plan.rollback;
  if (!rb) throw new InputError('the rollback-targets step runs in rollback plans only');
  const byName = new Map(ctx.catalog.map((s) => [s.name, s]));
  /** @type {string[]} */
  const refusals = [];
  const targets = await Promise.all(Object.entries(rb.taskDefinitions).map(async ([service, arn]) => {
    const res = await send(ctx, ctx.aws.ecs, new DescribeTaskDefinitionCommand({ taskDefinition: arn })).catch((e) => {
      if (/** @type {Error} */ (e).name !== 'ClientException') throw e;
      refusals.push(`${service}: task definition ${shortArn(arn)} not found (${/** @type {Error} */ (e).message})`);
      return null;
    });
    const td = res?.taskDefinition;
    if (td && td.status !== 'ACTIVE') refusals.push(`${service}: task definition ${shortArn(arn)} is ${td.status}`);
    const container = byName.get(service)?.containerName;
    const image = (td?.containerDefinitions ?? []).find((c) => c.name === container)?.image ?? '';
    if (td && !image) refusals.push(`${service}: task definition ${shortArn(arn)} has no container ${container}`);
    /** @type {Target} */
    const t = { service, arn, td, image };
    return t;
  }));
  const images = await checkImages(ctx, targets.filter((t) => t.image), refusals);
  if (refusals.length) {
    throw new InputError(`rollback refused: release ${rb.to.release} (ledger entry ${rb.to.id}) cannot be restored; nothing was changed\n${refusals.map((r) => `  ${r}`).join('\n')}`);
  }
  ctx.state.taskDefinitions ??= {};
  for (const t of targets) {
    const td = /** @type {TaskDefinition} */ (t.td);
    const c = (td.containerDefinitions ?? []).find((x) => x.image === t.image);
    const lo = c?.logConfiguration?.logDriver === 'awslogs' ? c.logConfiguration.options ?? {} : {};
    ctx.state.taskDefinitions[t.service] = {
      arn: t.arn, family: td.family ?? '', revision: td.revision ?? 0, image: t.image, registered: false,
      container: c?.name, logGroup: lo['awslogs-group'], logStreamPrefix: lo['awslogs-stream-prefix'],
    };
  }
  return {
    status: 'passed',
    services: targets.map((t) => ({ name: t.service, status: 'passed', reason: `${shortArn(t.arn)} ACTIVE`, taskDefinitionArn: t.arn })),
    checks: [
      { name: 'revisions-active', status: 'passed', reason: null, evidence: `${targets.length} revision(s) ACTIVE` },
      images.outside.length || images.untagged.length
        ? {
          name: 'images-in-ecr', status: 'skipped', evidence: `${images.checked} image(s) found`,
          reason: [
            ...(images.outside.length ? [`not in the stack's ECR repositories, not checked: ${images.outside.join(', ')}`] : []),
            ...(images.untagged.length ? [`emulator: pinned by a tag the emulator's ECR does not have, as the rollout pinned them: ${images.untagged.join(', ')}`] : []),
          ].join('; '),
        }
        : { name: 'images-in-ecr', status: 'passed', reason: null, evidence: `${images.checked} image(s) found in ${images.repositories} repository(ies)` },
    ],
  };
}

/**
 * Check that the images of the targets are still in ECR: by digest (`repo@sha256:..`) or tag (`repo:tag`), one
 * DescribeImages per repository; when a batch names a missing image, each of its images is looked up alone to
 * name the missing ones. Images outside the stack's ECR repositories (a registry override) are not checked; on an
 * emulator, an image pinned by a tag ECR does not have is what the rollout pinned too: noted, not refused.
 * @param {import('../lib/types.mjs').StepContext} ctx @param {Target[]} targets @param {string[]} refusals
 * @returns {Promise<{ checked: number, repositories: number, outside: string[], untagged: string[] }>}
 */
async function checkImages(ctx, targets, refusals) {
  const stackRepos = new Set(Object.values(ctx.outputs.repositoryUrls));
  /** @type {Map<string, Map<string, { id: import('@aws-sdk/client-ecr').ImageIdentifier, users: string[] }>>} */
  const byRepo = new Map();
  /** @type {string[]} */
  const outside = [];
  /** @type {string[]} */
  const untagged = [];
  for (const t of targets) {
    const m = /^(.+?)(?:@(sha256:[0-9a-f]{64})|:([^:/@]+))$/.exec(t.image);
    const repo = m?.[1] ?? t.image;
    if (!m || !stackRepos.has(repo)) {
      outside.push(`${t.service} (${t.image})`);
      continue;
    }
    const ref = m[2] ?? m[3];
    const ids = byRepo.get(repo) ?? new Map();
    byRepo.set(repo, ids);
    const have = ids.get(ref) ?? { id: m[2] ? { imageDigest: m[2] } : { imageTag: m[3] }, users: [] };
    have.users.push(t.service);
    ids.set(ref, have);
  }
  let checked = 0;
  await Promise.all([...byRepo].map(async ([repo, ids]) => {
    const repositoryName = repo.split('/').slice(1).join('/');
    const all = [...ids.values()];
    if (await found(ctx, repositoryName, all.map((x) => x.id))) {
      checked += all.length;
      return;
    }
    for (const x of all) {
      const image = `${repo}${x.id.imageDigest ? `@${x.id.imageDigest}` : `:${x.id.imageTag}`}`;
      if (all.length > 1 && await found(ctx, repositoryName, [x.id])) checked += 1;
      // on an emulator the rollout pins a tag it could not find (task-definitions step): that is no loss
      else if (ctx.capabilities.emulator && x.id.imageTag) untagged.push(`${x.users.join(', ')} (${image})`);
      else refusals.push(`${x.users.join(', ')}: image ${image} is gone from ECR`);
    }
  }));
  return { checked, repositories: byRepo.size, outside, untagged };
}

/**
 * @param {import('../lib/types.mjs').StepContext} ctx @param {string} repositoryName
 * @param {import('@aws-sdk/client-ecr').ImageIdentifier[]} imageIds
 * @returns {Promise<boolean>} false when ECR says an image (or the repository) does not exist
 */
async function found(ctx, repositoryName, imageIds) {
  try {
    const res = await send(ctx, ctx.aws.ecr, new DescribeImagesCommand({ repositoryName, imageIds }));
    return (res.imageDetails ?? []).length >= imageIds.length;
  } catch (e) {
    const name = /** @type {Error} */ (e).name;
    if (name === 'ImageNotFoundException' || name === 'RepositoryNotFoundException') return false;
    throw e;
  }
}

/** @param {string} arn */
const shortArn = (arn) => arn.split('/').pop() ?? arn;
