// The image step with the command runner, HTTP (registry v2 API) and ECR injected: build, push, skip, convenience tag.
import fs from 'node:fs';
import path from 'node:path';
import { run as runStep } from '../../runner/steps/images.mjs';
import { InputError, InterruptedError } from '../../runner/lib/errors.mjs';
import { MANIFEST_ACCEPT } from '../../runner/images/registry.mjs';
import { pool } from '../../runner/images/publish.mjs';
import { PASSWORD, ECR_HOST, makeWorkspace, service, outputs, fakeRegistry, fakeExec, ecrMock, makeCtx, visibleText } from '../support/images.mjs';

describe('images step: build, push, skip', () => {
  test('builds and pushes missing tags, records the pushed digest, logs in with the password on stdin only', async () => {
    const ws = makeWorkspace();
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx, lines } = makeCtx({ ws, reg, ex, ecr });

    const result = await runStep(ctx);

    expect(result.status).toBe('passed');
    expect(Object.keys(ctx.state.images).sort()).toEqual(['admin', 'anisette', 'api', 'frontend']);
    for (const [key, img] of Object.entries(ctx.state.images)) {
      expect(img).toMatchObject({ uri: `${ECR_HOST}/staging/${key}:r1`, tag: 'r1', status: 'pushed' });
      // the recorded digest is the one the registry now holds for the tag
      expect(img.digest).toBe(reg.manifests.get(`staging/${key}:r1`).digest);
    }
    // one login for the one registry host, password only on stdin
    const logins = ex.docker('login');
    expect(logins).toHaveLength(1);
    expect(logins[0].opts.input).toBe(PASSWORD);
    expect(logins[0].argv).toContain('--password-stdin');
    expect(logins[0].argv[logins[0].argv.length - 1]).toBe(ECR_HOST);
    for (const c of ex.calls) expect(c.argv.join(' ')).not.toContain(PASSWORD);
    expect(visibleText(lines, result, ex.calls)).not.toContain(PASSWORD);
    // a private docker config dir, never ~/.docker, and it is removed afterwards
    const configDir = logins[0].argv[logins[0].argv.indexOf('--config') + 1];
    expect(configDir).toContain('staging-rollout-docker-');
    expect(fs.existsSync(configDir)).toBe(false);
    // each image built from its own context and Dockerfile, then pushed
    const builds = ex.docker('build');
    expect(builds.map((b) => b.argv[b.argv.length - 1]).sort()).toEqual(['admin', 'anisette', 'api', 'frontend'].map((k) => path.join(ws.dir, 'app', k)));
    for (const b of builds) expect(b.argv[b.argv.indexOf('--file') + 1]).toBe(path.join(b.argv[b.argv.length - 1], 'Dockerfile'));
    // no platform in the config: built for the task definitions' cpuArchitecture X86_64
    for (const b of builds) expect(b.argv[b.argv.indexOf('--platform') + 1]).toBe('linux/amd64');
    expect(ex.docker('push')).toHaveLength(4);
  });

  test('a platform set in the config wins over the linux/amd64 default', async () => {
    const ws = makeWorkspace({ keys: ['api', 'frontend'] });
    ws.config.images.frontend.platform = 'linux/arm64';
    fs.writeFileSync(ws.configPath, JSON.stringify(ws.config));
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api'), service('frontend', 'frontend')], outs: outputs(['api', 'frontend']) });
    await runStep(ctx);
    const platformOf = (k) => { const b = ex.docker('build').find((x) => x.argv[x.argv.length - 1] === path.join(ws.dir, 'app', k)); return b.argv.filter((a, i) => b.argv[i - 1] === '--platform'); };
    expect(platformOf('frontend')).toEqual(['linux/arm64']);
    expect(platformOf('api')).toEqual(['linux/amd64']);
  });

  test('skips build and push when the tag exists, recording the registry digest; no docker command runs', async () => {
    const ws = makeWorkspace();
    const reg = fakeRegistry();
    const existing = Object.fromEntries(['api', 'frontend', 'admin', 'anisette'].map((k) => [k, reg.add(`staging/${k}`, 'r1')]));
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr });

    const result = await runStep(ctx);

    expect(result.status).toBe('passed');
    expect(result.reason).toMatch(/already in the registry/);
    for (const [k, d] of Object.entries(existing)) expect(ctx.state.images[k]).toMatchObject({ status: 'skipped-exists', digest: d, tag: 'r1' });
    expect(ex.calls.filter((c) => c.argv[0] === 'docker')).toHaveLength(0);
    // the existence check is a HEAD on the manifest with the manifest media types accepted
    const heads = reg.requests.filter((r) => r.method === 'HEAD' && r.url.includes('/manifests/r1'));
    expect(heads.length).toBeGreaterThanOrEqual(4);
    for (const h of heads.filter((r) => r.auth)) expect(h.accept).toBe(MANIFEST_ACCEPT);
  });

  test('builds only the images whose tag is missing', async () => {
    const ws = makeWorkspace();
    const reg = fakeRegistry();
    const apiDigest = reg.add('staging/api', 'r1');
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr });

    await runStep(ctx);

    expect(ctx.state.images.api).toMatchObject({ status: 'skipped-exists', digest: apiDigest });
    expect(ex.docker('build').map((b) => path.basename(b.argv[b.argv.length - 1])).sort()).toEqual(['admin', 'anisette', 'frontend']);
  });

  test('records the digest with a HEAD after push when docker does not print it', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry({ headDigest: true });
    const ex = fakeExec(reg, { printDigest: false });
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']) });

    const result = await runStep(ctx);

    expect(result.status).toBe('passed');
    expect(ctx.state.images.api.digest).toBe(reg.manifests.get('staging/api:r1').digest);
    expect(reg.requests.filter((r) => r.method === 'HEAD' && r.url.endsWith('/v2/staging/api/manifests/r1') && r.auth).length).toBe(2);
  });

  test('a registry that omits Docker-Content-Digest on HEAD: the digest comes from a GET of the manifest', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry({ headDigest: false });
    const d = reg.add('staging/api', 'r1', 'no digest header');
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']) });

    await runStep(ctx);

    expect(ctx.state.images.api).toMatchObject({ status: 'skipped-exists', digest: d });
    expect(reg.requests.some((r) => r.method === 'GET' && r.url.endsWith('/v2/staging/api/manifests/r1'))).toBe(true);
  });

  test('images of disabled services are not built and are reported with the reason; migration image is built', async () => {
    const ws = makeWorkspace();
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const catalog = [
      service('api', 'api', false, 'disabled in config'),
      service('frontend', 'frontend'),
      service('admin', 'admin'),
      service('anisette', 'anisette', false, 'disabled in config'),
      service('tracker-fetcher-2', 'api', false, 'dependency anisette is disabled'),
    ];
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog });

    const result = await runStep(ctx);

    expect(Object.keys(ctx.state.images).sort()).toEqual(['admin', 'api', 'frontend']); // api: migration
    expect(result.details.images.api.usedBy).toEqual(['migration']);
    const anisette = result.checks.find((c) => c.name === 'image:anisette');
    expect(anisette).toMatchObject({ status: 'skipped' });
    expect(anisette.reason).toMatch(/disabled services: anisette \(disabled in config\)/);
    expect(ex.docker('build').some((b) => b.argv.join(' ').includes('anisette'))).toBe(false);
  });

  test('builds run in parallel, never more than the concurrency bound', async () => {
    const ws = makeWorkspace();
    const reg = fakeRegistry();
    let inFlight = 0;
    let maxInFlight = 0;
    const ex = fakeExec(reg, {
      onBuild: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
      },
    });
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, options: { imageConcurrency: 2 } });

    await runStep(ctx);

    expect(ex.docker('build')).toHaveLength(4);
    expect(maxInFlight).toBe(2);
  });

  test('pool keeps at most `limit` tasks in flight and runs every item', async () => {
    let inFlight = 0;
    let max = 0;
    const done = [];
    await pool([1, 2, 3, 4, 5], 3, async (i) => {
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      done.push(i);
      inFlight--;
    });
    expect(max).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('images step: convenience tag', () => {
  test('mutable repository: the convenience tag points at the release digest (same manifest, no rebuild)', async () => {
    const ws = makeWorkspace({ keys: ['api', 'frontend'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const catalog = [service('api', 'api'), service('frontend', 'frontend')];
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog, outs: outputs(['api', 'frontend'], { api: true, frontend: false }) });

    const result = await runStep(ctx);

    expect(result.status).toBe('passed');
    expect(reg.manifests.get('staging/api:staging-latest').digest).toBe(ctx.state.images.api.digest);
    expect(result.details.images.api.convenienceTag).toMatchObject({ tag: 'staging-latest', status: 'updated', digest: ctx.state.images.api.digest });
    // immutable repository: not tagged; a policy, so not a check but "not applicable" with the reason
    expect(reg.manifests.has('staging/frontend:staging-latest')).toBe(false);
    expect(result.checks.find((c) => c.name === 'image:frontend:staging-latest')).toBeUndefined();
    const fe = result.details.notApplicable.find((c) => c.name === 'image:frontend:staging-latest');
    expect(fe.reason).toMatch(/immutable tags/);
    expect(reg.requests.filter((r) => r.method === 'PUT').map((r) => r.url)).toEqual([`https://${ECR_HOST}/v2/staging/api/manifests/staging-latest`]);
  });

  test('an up-to-date convenience tag is left alone; the configured tag name is used', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    ws.config.imageConvenienceTag = 'stg-current';
    const reg = fakeRegistry();
    reg.add('staging/api', 'r1', 'same');
    reg.add('staging/api', 'stg-current', 'same');
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api'], { api: true }) });

    const result = await runStep(ctx);

    expect(result.details.images.api.convenienceTag).toMatchObject({ tag: 'stg-current', status: 'unchanged' });
    expect(reg.requests.filter((r) => r.method === 'PUT')).toHaveLength(0);
  });

  test('a convenience tag equal to the release tag is a configuration error', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr, mock } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']), options: { release: 'staging-latest' } });
    await expect(runStep(ctx)).rejects.toThrow('the convenience tag "staging-latest" equals the release tag of image api; choose another convenience tag or release');
    expect(mock.calls()).toHaveLength(0);
  });

  test('a command killed by Ctrl-C is an interruption even when it only looks like a failed command', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ac = new AbortController();
    const ex = fakeExec(reg);
    const base = ex.exec.getMockImplementation();
    ex.exec.mockImplementation(async (cmd, args, opts) => {
      if (args.includes('build')) {
        ac.abort();
        return { exitCode: null, stdout: '', stderr: '' };
      }
      return base(cmd, args, opts);
    });
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']) });
    ctx.signal = ac.signal;
    await expect(runStep(ctx)).rejects.toBeInstanceOf(InterruptedError);
  });

  test('an invalid convenience tag is a configuration error before anything runs', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr, mock } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']), env: { STAGING_ROLLOUT_CONVENIENCE_TAG: '-bad tag' } });

    await expect(runStep(ctx)).rejects.toThrow(new InputError('STAGING_ROLLOUT_CONVENIENCE_TAG: "-bad tag" is not a valid image tag (letters, digits, _ . -; at most 128; not starting with . or -)'));
    expect(ex.calls).toHaveLength(0);
    expect(mock.calls()).toHaveLength(0);
  });
});
