// The image step with the command runner, HTTP and ECR injected: bad input and failures, dry run, tags and the
// registry address, the standalone CLI, helpers.
import { jest } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { run as runStep } from '../../runner/steps/images.mjs';
import { InputError, InterruptedError } from '../../runner/lib/errors.mjs';
import { parsePushDigest } from '../../runner/images/docker.mjs';
import http from 'node:http';
import { parseRegistryAddress, splitRepositoryUrl, createRegistryClient } from '../../runner/images/registry.mjs';
import { neededImages } from '../../runner/images/targets.mjs';
import { toCommandRunner } from '../../runner/images/exec.mjs';
import { plannedImageRefs } from '../../runner/images/run.mjs';
import { parseArgs as parseCliArgs } from '../../runner/verbs/images.mjs';
import { main as runnerMain } from '../../runner/main.mjs';
import { CONFIG_FILE, outputsFile } from '../support/staging-config.cjs';
import { PASSWORD, ECR_HOST, sha, tempDir, makeWorkspace, service, outputs, fakeRegistry, fakeExec, ecrMock, makeCtx, visibleText } from '../support/images.mjs';

describe('images step: bad input and failures', () => {
  test('missing context and missing Dockerfile: one clear error naming both, before any command or AWS call', async () => {
    const ws = makeWorkspace({ missingContext: ['admin'], missingDockerfile: ['frontend'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr, mock } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr });

    const err = await runStep(ctx).catch((e) => e);

    expect(err).toBeInstanceOf(InputError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(`images.admin.context: build context ${path.join(ws.dir, 'app', 'admin')} does not exist or is not a directory`);
    expect(err.message).toContain(`images.frontend.dockerfile: ${path.join(ws.dir, 'app', 'frontend', 'Dockerfile')} does not exist or is not a file`);
    expect(err.message).toContain('nothing was built');
    expect(ex.calls).toHaveLength(0);
    expect(mock.calls()).toHaveLength(0);
    expect(reg.requests).toHaveLength(0);
  });

  test('a needed image without a repository URL output is a configuration error', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: { repositoryUrls: {}, repositoryMutableTags: {} } });
    await expect(runStep(ctx)).rejects.toThrow(/stack output repository_urls has no entry for image "api"/);
  });

  test('ECR GetAuthorizationToken denied: the step fails with the AWS error, nothing is built', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const denied = Object.assign(new Error('User is not authorized to perform: ecr:GetAuthorizationToken'), { name: 'AccessDeniedException' });
    const { ecr } = ecrMock({ error: denied });
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']) });

    const result = await runStep(ctx);

    expect(result.status).toBe('failed');
    expect(result.reason).toBe('ECR GetAuthorizationToken failed: AccessDeniedException: User is not authorized to perform: ecr:GetAuthorizationToken');
    expect(ex.calls).toHaveLength(0);
    expect(ctx.state.images).toBeUndefined();
  });

  test('registry rejects the credentials on the tag check: fails with the registry answer, nothing built', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry({ password: 'another-password' });
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx, lines } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']) });

    const result = await runStep(ctx);

    expect(result.status).toBe('failed');
    expect(result.reason).toBe(`registry ${ECR_HOST} refused HEAD /v2/staging/api/manifests/r1 (HTTP 401): Unauthorized`);
    expect(ex.docker('build')).toHaveLength(0);
    expect(visibleText(lines, result, ex.calls)).not.toContain(PASSWORD);
  });

  test('docker login failure: the step fails with docker\'s own stderr and builds nothing', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg, { fail: { login: 'Error response from daemon: Get "https://x/v2/": denied: bad token' } });
    const { ecr } = ecrMock();
    const { ctx, lines } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']) });

    const result = await runStep(ctx);

    expect(result.status).toBe('failed');
    expect(result.reason).toContain('docker login to ' + ECR_HOST + ' failed (exit 1)');
    expect(result.reason).toContain('Error response from daemon: Get "https://x/v2/": denied: bad token');
    expect(ex.docker('build')).toHaveLength(0);
    expect(ctx.state.images.api.status).toBe('failed');
    expect(visibleText(lines, result, ex.calls)).not.toContain(PASSWORD);
  });

  test('build error: failed with the build output; images not yet started are not started', async () => {
    const ws = makeWorkspace({ keys: ['api', 'frontend', 'admin'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg, { fail: { build: 'COPY failed: file not found in build context: stat app.py: file does not exist' } });
    const { ecr } = ecrMock();
    const catalog = [service('api', 'api'), service('frontend', 'frontend'), service('admin', 'admin')];
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog, outs: outputs(['api', 'frontend', 'admin']), options: { imageConcurrency: 1 } });

    const result = await runStep(ctx);

    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/^image api: docker build of api failed \(exit 1\)/);
    expect(result.reason).toContain('COPY failed: file not found in build context');
    expect(ctx.state.images.api).toMatchObject({ status: 'failed' });
    expect(ctx.state.images.frontend).toMatchObject({ status: 'skipped' });
    expect(result.details.images.frontend.reason).toMatch(/^not started: image api:/);
    expect(ex.docker('build')).toHaveLength(1);
    expect(ex.docker('push')).toHaveLength(0);
    expect(result.checks.find((c) => c.name === 'image:api').status).toBe('failed');
  });

  test('push denied: failed with docker\'s stderr, no digest recorded, no convenience tag', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg, { fail: { push: 'denied: User is not authorized to perform: ecr:InitiateLayerUpload' } });
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api'], { api: true }) });

    const result = await runStep(ctx);

    expect(result.status).toBe('failed');
    expect(result.reason).toContain('denied: User is not authorized to perform: ecr:InitiateLayerUpload');
    expect(ctx.state.images.api.digest).toBeUndefined();
    expect(result.details.images.api.convenienceTag.status).toBe('skipped');
    expect(reg.requests.filter((r) => r.method === 'PUT')).toHaveLength(0);
  });

  test('an aborted run is an interruption, not a failure', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ac = new AbortController();
    const ex = fakeExec(reg, {
      onBuild: async () => {
        ac.abort();
        throw Object.assign(new Error('aborted'), { name: 'AbortError' });
      },
    });
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']) });
    ctx.signal = ac.signal;
    await expect(runStep(ctx)).rejects.toBeInstanceOf(InterruptedError);
  });
});

describe('images step: dry run', () => {
  test('says what would be built, skipped or tagged and runs no docker command', async () => {
    const ws = makeWorkspace({ keys: ['api', 'frontend'] });
    const reg = fakeRegistry();
    const d = reg.add('staging/frontend', 'r1');
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const catalog = [service('api', 'api'), service('frontend', 'frontend')];
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog, outs: outputs(['api', 'frontend'], { api: true }), options: { dryRun: true } });

    const result = await runStep(ctx);

    expect(result.status).toBe('skipped');
    expect(result.reason).toBe('dry run: 1 to build and push, 1 already in the registry');
    expect(result.details.images.api).toMatchObject({ action: 'build-and-push', digest: null });
    expect(result.details.images.api.reason).toMatch(/^dry run: would build .*Dockerfile and push 123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/staging\/api:r1$/);
    expect(result.details.images.api.convenienceTag.status).toBe('would-update');
    expect(result.details.images.frontend).toMatchObject({ status: 'skipped-exists', digest: d, action: 'none' });
    expect(result.details.images.frontend.convenienceTag.reason).toMatch(/immutable/);
    expect(ex.calls.filter((c) => c.argv[0] === 'docker')).toHaveLength(0);
    expect(reg.requests.filter((r) => r.method !== 'HEAD')).toHaveLength(0);
  });
});

describe('images step: tags and registry address', () => {
  test('without an explicit release each image is tagged with the git commit of its context', async () => {
    const ws = makeWorkspace({ keys: ['api', 'frontend'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const catalog = [service('api', 'api'), service('frontend', 'frontend')];
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog, outs: outputs(['api', 'frontend']), options: { release: null } });

    await runStep(ctx);

    // the fake git answers c0ffee<length of the context dir name>
    expect(ctx.state.images.api.tag).toBe('c0ffee3');
    expect(ctx.state.images.frontend.tag).toBe('c0ffee8');
    const revParse = ex.calls.filter((c) => c.argv.includes('rev-parse'));
    for (const c of revParse) expect(c.argv).toContain('--short=12');
    expect(revParse.map((c) => c.argv[2]).sort()).toEqual([path.join(ws.dir, 'app', 'api'), path.join(ws.dir, 'app', 'frontend')]);
    const build = ex.docker('build').find((b) => b.argv.includes(path.join(ws.dir, 'app', 'api')));
    expect(build.argv).toContain('org.opencontainers.image.revision=c0ffee3');
  });

  test('plannedImageRefs gives the references the step would use, without registry or docker', async () => {
    const ws = makeWorkspace({ keys: ['api', 'frontend'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const refs = await plannedImageRefs({ config: ws.config, configPath: ws.configPath, services: [service('api', 'api'), service('frontend', 'frontend')], outputs: outputs(['api', 'frontend']), exec: ex.exec, env: {} });
    expect(refs).toEqual({
      api: { repository: `${ECR_HOST}/staging/api`, tag: 'c0ffee3', uri: `${ECR_HOST}/staging/api:c0ffee3`, registry: { scheme: 'https', host: ECR_HOST }, name: 'staging/api' },
      frontend: { repository: `${ECR_HOST}/staging/frontend`, tag: 'c0ffee8', uri: `${ECR_HOST}/staging/frontend:c0ffee8`, registry: { scheme: 'https', host: ECR_HOST }, name: 'staging/frontend' },
    });
    expect(ex.calls.filter((c) => c.argv[0] === 'docker')).toHaveLength(0);
    expect(reg.requests).toHaveLength(0);
  });

  test('a context with uncommitted changes and no explicit release is refused', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    ex.exec.mockImplementation(async (cmd, args) => {
      if (args.includes('rev-parse')) return { exitCode: 0, stdout: 'abc1234\n', stderr: '' };
      if (args.includes('status')) return { exitCode: 0, stdout: ' M main.py\n', stderr: '' };
      return { exitCode: 127, stdout: '', stderr: 'unexpected' };
    });
    const { ecr, mock } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']), options: { release: null } });

    await expect(runStep(ctx)).rejects.toThrow(/image api: build context .* has uncommitted changes, so commit abc1234 does not describe it; commit them or pass a release \(--release TAG\)/);
    expect(mock.calls()).toHaveLength(0);
  });

  test('registry address from configuration replaces the repository host, http scheme honoured', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    ws.config.imageRegistry = 'http://127.0.0.1:5999';
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']) });

    await runStep(ctx);

    expect(ctx.state.images.api.uri).toBe('127.0.0.1:5999/staging/api:r1');
    expect(reg.requests.every((r) => r.url.startsWith('http://127.0.0.1:5999/v2/'))).toBe(true);
    expect(ex.docker('login')[0].argv.at(-1)).toBe('127.0.0.1:5999');
  });

  test('the environment variable wins over the config key, and a bad address is a clear error', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    ws.config.imageRegistry = 'http://127.0.0.1:5999';
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']), env: { STAGING_ROLLOUT_IMAGE_REGISTRY: 'mirror.example.com/path' } });
    await expect(runStep(ctx)).rejects.toThrow('STAGING_ROLLOUT_IMAGE_REGISTRY: "mirror.example.com/path" is not a registry address (expected "host[:port]" or "http(s)://host[:port]", no path)');
  });

  test('bearer-token registries: the challenge is followed with the same credentials', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry({ bearer: true });
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api'], { api: true }) });

    const result = await runStep(ctx);

    expect(result.status).toBe('passed');
    const tokenReqs = reg.requests.filter((r) => r.url.includes('/token'));
    expect(tokenReqs.map((r) => new URL(r.url).searchParams.get('scope'))).toEqual(['repository:staging/api:pull', 'repository:staging/api:pull,push']);
    expect(result.details.images.api.convenienceTag.status).toBe('updated');
  });
});

describe('the images verb (npx zx runner/rollout.mjs images)', () => {
  /** the runner's front door with output captured; any AWS client asked for fails the test */
  const cliMain = async (argv) => {
    const err = [];
    const res = await runnerMain(['images', ...argv], {
      write: () => {}, writeErr: (l) => err.push(l),
      createAws: () => { throw new Error('no AWS client may be created for bad input'); },
    });
    return { exit: res.exitCode, calls: res.awsCalls, err: err.join('\n') };
  };

  test('flags parse into the step options; --no-convenience-tag means none', () => {
    expect(parseCliArgs(['--outputs', 'o.json', '--release=r9', '--image-registry', 'http://127.0.0.1:5000', '--no-convenience-tag', '--image-concurrency', '3', '--dry-run'])).toMatchObject({
      outputs: 'o.json', release: 'r9', imageRegistry: 'http://127.0.0.1:5000', convenienceTag: false, imageConcurrency: 3, dryRun: true,
    });
    expect(() => parseCliArgs(['--release'])).toThrow('--release needs a value');
    expect(() => parseCliArgs(['--release', 'no/slash'])).toThrow('--release: "no/slash" is not a valid image tag');
    expect(() => parseCliArgs(['--bogus'])).toThrow('unknown flag --bogus (see --help)');
  });

  test('bad input exits 2 with the reason on stderr', async () => {
    expect(await cliMain(['--bogus'])).toMatchObject({ exit: 2, calls: 0 });
    const missing = await cliMain(['--outputs', '/nonexistent/outputs.json', '--config', CONFIG_FILE]);
    expect(missing).toMatchObject({ exit: 2, calls: 0 });
    expect(missing.err).toContain('--outputs /nonexistent/outputs.json: cannot read (no such file)');
  });

  test('another environment\'s outputs: exit 2 before any build or AWS call (the runner\'s guard)', async () => {
    const dir = tempDir('images-cli-');
    const qa = path.join(dir, 'qa.json');
    fs.writeFileSync(qa, JSON.stringify({ extends: CONFIG_FILE, environment: 'qa' }));
    const r = await cliMain(['--config', qa, '--outputs', outputsFile(), '--dry-run']);
    expect(r).toMatchObject({ exit: 2, calls: 0 });
    expect(r.err).toContain('is environment "qa", but the stack outputs');
  });
});

describe('helpers', () => {
  test('a docker config directory from configuration is used and kept', async () => {
    const ws = makeWorkspace({ keys: ['api'] });
    const reg = fakeRegistry();
    const ex = fakeExec(reg);
    const { ecr } = ecrMock();
    const dockerDir = tempDir('images-unit-docker-');
    const { ctx } = makeCtx({ ws, reg, ex, ecr, catalog: [service('api', 'api')], outs: outputs(['api']), env: { STAGING_ROLLOUT_DOCKER_CONFIG: dockerDir } });
    await runStep(ctx);
    for (const c of ex.calls.filter((c) => c.argv[0] === 'docker')) expect(c.argv.slice(1, 3)).toEqual(['--config', dockerDir]);
    expect(fs.existsSync(dockerDir)).toBe(true);
  });


  test('an injected exec that does not declare stdin support never receives the password; stdin commands go to the stdin runner', async () => {
    const exec = jest.fn(async () => ({ exitCode: 0, stdout: 'ok', stderr: '' }));
    const stdinRunner = jest.fn(async () => ({ exitCode: 0, stdout: 'Login Succeeded', stderr: '' }));
    const run = toCommandRunner(exec, { stdinRunner });
    await run(['docker', 'login', '--username', 'AWS', '--password-stdin', 'h'], { input: PASSWORD });
    await run(['docker', 'push', 'h/x:1']);
    expect(stdinRunner).toHaveBeenCalledWith(['docker', 'login', '--username', 'AWS', '--password-stdin', 'h'], { input: PASSWORD });
    expect(exec).toHaveBeenCalledTimes(1);
    expect(exec).toHaveBeenCalledWith('docker', ['push', 'h/x:1'], {});
    expect(JSON.stringify(exec.mock.calls)).not.toContain(PASSWORD);
    // one that declares it gets the input itself
    const exec2 = Object.assign(jest.fn(async () => ({ exitCode: 0, stdout: '', stderr: '' })), { stdin: true });
    await toCommandRunner(exec2, { stdinRunner })(['docker', 'login'], { input: PASSWORD });
    expect(exec2).toHaveBeenCalledWith('docker', ['login'], { input: PASSWORD });
    expect(stdinRunner).toHaveBeenCalledTimes(1);
  });


  test('parsePushDigest picks the line of the pushed tag', () => {
    const d1 = sha('a');
    const d2 = sha('b');
    expect(parsePushDigest(`abc: Pushed\nold: digest: ${d1} size: 1\nr1: digest: ${d2} size: 528\n`, 'r1')).toBe(d2);
    expect(parsePushDigest('no digest here', 'r1')).toBeNull();
  });

  test('registry address and repository URL parsing', () => {
    // no scheme: plain HTTP for a loopback host (as Docker's default insecure 127.0.0.0/8), HTTPS for any other
    expect(parseRegistryAddress('127.0.0.1:5000')).toEqual({ scheme: 'http', host: '127.0.0.1:5000' });
    expect(parseRegistryAddress('localhost:5000')).toEqual({ scheme: 'http', host: 'localhost:5000' });
    expect(parseRegistryAddress('https://127.0.0.1:5000')).toEqual({ scheme: 'https', host: '127.0.0.1:5000' });
    expect(parseRegistryAddress('registry.example.com:5000')).toEqual({ scheme: 'https', host: 'registry.example.com:5000' });
    expect(parseRegistryAddress('127.0.0.1.example.com')).toEqual({ scheme: 'https', host: '127.0.0.1.example.com' });
    expect(parseRegistryAddress('http://localhost:5000/')).toEqual({ scheme: 'http', host: 'localhost:5000' });
    expect(() => parseRegistryAddress('ftp://x')).toThrow(/not a registry address/);
    expect(splitRepositoryUrl(`${ECR_HOST}/staging/api`)).toEqual({ host: ECR_HOST, name: 'staging/api' });
    expect(() => splitRepositoryUrl('no-slash')).toThrow(/not a repository URL/);
  });

  test('HTTPS spoken to a plain-HTTP registry (a real server): the error names the http:// way out', async () => {
    const server = http.createServer((_req, res) => { res.writeHead(404); res.end(); });
    await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
    const host = `127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`;
    try {
      const tls = createRegistryClient({ address: { scheme: 'https', host }, credentials: { username: 'u', password: 'p' } });
      await expect(tls.manifest('staging/api', 'r1')).rejects.toThrow(`if ${host} serves plain HTTP, give it as http://${host}`);
      // the same address without a scheme is loopback, so plain HTTP: it answers
      const plain = createRegistryClient({ address: parseRegistryAddress(host), credentials: { username: 'u', password: 'p' } });
      await expect(plain.manifest('staging/api', 'r1')).resolves.toMatchObject({ exists: false });
    } finally {
      server.close();
    }
  });

  test('neededImages rejects a service image that is not a configured image key', () => {
    expect(() => neededImages({ api: { context: 'x' } }, [service('web', 'web')])).toThrow('service web: image "web" is not a key of config images (api)');
  });
});
