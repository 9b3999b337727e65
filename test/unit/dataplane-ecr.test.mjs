// ECR on the local data plane (scripts/lib/dataplane/ecr.mjs): DescribeImages answered from the local registry
// that stands in for ECR, through the fault proxy, as the runner's ECR client parses it. A fake emulator answers
// ImageNotFoundException (it never holds the pushed images) or RepositoryNotFoundException; a fake registry holds
// one tag, behind basic auth.
import http from 'node:http';
import { ECRClient, DescribeImagesCommand } from '@aws-sdk/client-ecr';
import { startFaultProxy } from '../../scripts/lib/fault-proxy.mjs';
import { ecrOverlays } from '../../scripts/lib/dataplane/ecr.mjs';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const AUTH = `Basic ${Buffer.from('AWS:secret-token').toString('base64')}`;
let emulator; let registry; let proxy; let registryHits;

const listen = (srv) => new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv.address().port)));

beforeAll(async () => {
  emulator = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const repo = JSON.parse(body).repositoryName;
      const code = repo === 'staging/missing' ? 'RepositoryNotFoundException' : 'ImageNotFoundException';
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': code });
      res.end(JSON.stringify({ __type: code, message: `${code} from the emulator` }));
    });
  });
  registry = http.createServer((req, res) => {
    registryHits.push(`${req.method} ${req.url}`);
    if (req.headers.authorization !== AUTH) { res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }); return res.end(); }
    const known = req.url === '/v2/staging/api/manifests/r1' || req.url === `/v2/staging/api/manifests/${encodeURIComponent(DIGEST)}`;
    res.writeHead(known ? 200 : 404, known ? { 'docker-content-digest': DIGEST, 'content-type': 'application/vnd.oci.image.manifest.v1+json' } : {});
    res.end();
  });
  const [ep, rp] = [await listen(emulator), await listen(registry)];
  proxy = await startFaultProxy({ target: ep, rules: ecrOverlays({ registry: { host: `127.0.0.1:${rp}`, username: 'AWS', password: 'secret-token' } }) });
});
beforeEach(() => { registryHits = []; });
afterAll(async () => {
  await proxy.close();
  await Promise.all([emulator, registry].map((s) => new Promise((r) => s.close(r))));
});

const ecr = () => new ECRClient({ region: 'us-east-1', endpoint: proxy.endpoint, maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

test('a tag the local registry holds is an image with its digest', async () => {
  const out = await ecr().send(new DescribeImagesCommand({ repositoryName: 'staging/api', imageIds: [{ imageTag: 'r1' }] }));
  expect(out.imageDetails).toEqual([expect.objectContaining({ repositoryName: 'staging/api', imageDigest: DIGEST, imageTags: ['r1'] })]);
  expect(registryHits).toContain('HEAD /v2/staging/api/manifests/r1');
});

test('a digest it holds is found; one tag missing among several is ImageNotFoundException, as ECR', async () => {
  const byDigest = await ecr().send(new DescribeImagesCommand({ repositoryName: 'staging/api', imageIds: [{ imageDigest: DIGEST }] }));
  expect(byDigest.imageDetails?.[0].imageDigest).toBe(DIGEST);
  await expect(ecr().send(new DescribeImagesCommand({ repositoryName: 'staging/api', imageIds: [{ imageTag: 'r1' }, { imageTag: 'r2' }] })))
    .rejects.toMatchObject({ name: 'ImageNotFoundException', message: expect.stringContaining('imageTag=r2') });
});

test('a repository the emulator does not know keeps the emulator\'s answer; the registry is not asked', async () => {
  await expect(ecr().send(new DescribeImagesCommand({ repositoryName: 'staging/missing', imageIds: [{ imageTag: 'r1' }] })))
    .rejects.toMatchObject({ name: 'RepositoryNotFoundException' });
  expect(registryHits).toEqual([]);
});
