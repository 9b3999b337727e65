// ECR on the local data plane: the images live in the local registry that stands in for ECR (the runner pushes
// there, the engine pulls from there), so ECR DescribeImages is answered from that registry: a tag or digest it
// holds is an image, with its digest, as ECR answers; one it lacks is ImageNotFoundException, as ECR answers.
// The emulator is asked first, so a repository it does not know stays RepositoryNotFoundException and an image it
// does hold (none, usually) is its answer. Registry reads use the runner's own registry client.
import { createRegistryClient } from '../../../runner/images/registry.mjs';
import { errorReply } from '../fault-proxy.mjs';

/**
 * @typedef {import('../fault-proxy.mjs').Rule} Rule
 * @typedef {{ host: string, username: string, password: string }} LocalRegistry
 */

/**
 * The fault-proxy overlay answering ECR DescribeImages from the local registry.
 * @param {{ registry: LocalRegistry, accountId?: string }} o
 * @returns {Rule[]}
 */
export function ecrOverlays({ registry, accountId = '000000000000' }) {
  const client = createRegistryClient({
    address: { scheme: 'http', host: registry.host },
    credentials: { username: registry.username, password: registry.password },
  });
  return [{
    name: 'dataplane:ecr',
    service: 'ecr',
    operation: 'DescribeImages',
    fault: {
      kind: 'overlay',
      async handle(call, forward) {
        const upstream = await forward();
        const text = upstream.body.toString('utf8');
        if (upstream.status === 200) {
          const data = JSON.parse(text);
          if ((data.imageDetails ?? []).length) return undefined;
        } else if (!/ImageNotFoundException/.test(text)) {
          return undefined; // RepositoryNotFoundException and the like: the emulator's answer stands
        }
        /** @type {{ repositoryName: string, imageIds?: { imageTag?: string, imageDigest?: string }[] }} */
        const req = JSON.parse(call.body || '{}');
        const ids = req.imageIds ?? [];
        if (!ids.length) return undefined; // a listing: not what the runner asks; the emulator's answer stands
        /** @type {object[]} */
        const details = [];
        /** @type {string[]} */
        const missing = [];
        for (const id of ids) {
          const ref = id.imageDigest ?? id.imageTag ?? '';
          const m = await client.manifest(req.repositoryName, ref);
          if (!m.exists || !m.digest) {
            missing.push(id.imageDigest ? `imageDigest=${id.imageDigest}` : `imageTag=${id.imageTag}`);
            continue;
          }
          if (id.imageDigest && m.digest !== id.imageDigest) { missing.push(`imageDigest=${id.imageDigest}`); continue; }
          details.push({
            registryId: accountId, repositoryName: req.repositoryName, imageDigest: m.digest,
            ...(id.imageTag ? { imageTags: [id.imageTag] } : {}),
            imagePushedAt: Math.floor(Date.now() / 1000),
          });
        }
        if (missing.length) {
          return errorReply('json', 400, 'ImageNotFoundException',
            `The image with imageId {${missing.join(', ')}} does not exist within the repository with name '${req.repositoryName}' in the registry with id '${accountId}'`);
        }
        return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ imageDetails: details }) };
      },
    },
  }];
}
