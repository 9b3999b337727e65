// The ci-access stack on moto_server (shared harness: scripts/lib/jest-global-setup.mjs), and the least-privilege
// proof of its rollout role: the foundation's config plus a `ci` section is synthesized, `ci-access` is
// validated and applied with real Terraform; then every AWS call of the real runner (the images step with real
// Docker, a rollout of every other step, an immediate rerun, a second release, status, history, rollback) is
// recorded (STAGING_ROLLOUT_AWS_CALL_LOG, runner/aws/clients.mjs), mapped to IAM requests
// (test/support/iam-calls.cjs; docker push's registry actions are declared there) and evaluated by @cloud-copilot/iam-simulate against the
// SYNTHESIZED rollout role policy. Fails on any denied call and on any allowed action no call used that is not
// in EXPECTED_UNEXERCISED (test/support/iam-proof.cjs).
import { mkdirSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import path from 'node:path';
import { jest } from '@jest/globals';
import itEnv from '../../scripts/lib/it-env.cjs';
import { synthFoundation } from '../../scripts/lib/foundation/synth.mjs';
import { applyFoundation } from '../../scripts/lib/foundation/apply.mjs';
import iamCalls from '../support/iam-calls.cjs';
import proof from '../support/iam-proof.cjs';
import { runRunner, ROOT } from '../support/runner-cli.mjs';
import { dockerUnavailable, skipOrFail, ecrClient, startRegistry, makeContext } from '../fixtures/images/harness.mjs';

const env = itEnv.requireFoundation('least privilege: ci-access on the emulator');
const STAMP = Date.now().toString(36);
const itDir = process.env.STAGING_ROLLOUT_IT_DIR || path.join(ROOT, '.work/it');
const work = path.join(itDir, 'least-privilege');

/** The runner with the call recorder on (runner/aws/clients.mjs) */
const cli = (/** @type {string[]} */ args, /** @type {string} */ callLog) => runRunner(args, { STAGING_ROLLOUT_AWS_CALL_LOG: callLog });

if (!env) {
  describe('least privilege against the emulator', () => {
    test('SKIPPED: the integration environment is not available (skip record written by it-env)', () => {
      expect(itEnv.loadFoundation().status).not.toBe('applied');
    });
  });
} else {
  describe('ci-access on the emulator and the rollout role against the runner\'s recorded calls', () => {
    jest.setTimeout(600_000);
    const outputs = Object.fromEntries(Object.entries(JSON.parse(readFileSync(env.outputsFile, 'utf8'))).map(([k, v]) => [k, v.value]));
    const where = { ...proof.TEST_WHERE, region: env.region };
    const callLog = path.join(work, `calls-${STAMP}.jsonl`);
    /** @type {any} */
    let stackJson;
    /** @type {any} */
    let applied;
    const measured = {};

    beforeAll(async () => {
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work, { recursive: true });
      const configPath = path.join(work, 'ci.json');
      writeFileSync(configPath, JSON.stringify({
        extends: env.configPath,
        ci: { repository: 'acme/staging-rollout', terraformCloud: { organization: 'acme', workspace: 'staging-foundation' } },
      }, null, 2));
      const t = Date.now();
      const { stackDir } = await synthFoundation({ outdir: path.join(work, 'cdktf.out'), configPath, stack: 'ci-access' });
      measured.synthMs = Date.now() - t;
      stackJson = JSON.parse(readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8'));
      expect(existsSync(path.join(work, 'cdktf.out', 'stacks', 'foundation', 'cdk.tf.json'))).toBe(true);
      applied = await applyFoundation({ endpoint: env.endpoint, workdir: stackDir, region: env.region });
      measured.apply = applied.timings;
    });

    afterAll(() => {
      writeFileSync(path.join(itDir, 'least-privilege-measurements.json'), `${JSON.stringify(measured, null, 2)}\n`);
    });

    test('ci-access: terraform validate and apply on the emulator; every role and the OIDC providers exist; outputs are the role ARNs', () => {
      expect(applied.skipped).toEqual([]);
      for (const key of ['plan', 'deploy', 'rollout', 'terraform_cloud', 'terraform_cloud_plan']) {
        expect(applied.outputs[`${key}_role_arn`].value).toMatch(new RegExp(`^arn:aws:iam::${where.accountId}:role/ci-access/[a-z0-9-]+-ci-${key.replace(/_/g, '-')}$`));
      }
      expect(applied.outputs.github_oidc_provider_arn.value).toBe(`arn:aws:iam::${where.accountId}:oidc-provider/token.actions.githubusercontent.com`);
      expect(applied.outputs.terraform_cloud_oidc_provider_arn.value).toBe(`arn:aws:iam::${where.accountId}:oidc-provider/app.terraform.io`);
      // the boundary policy exists where every foundation role of this config points (the same name from both stacks)
      const foundationJson = JSON.parse(readFileSync(path.join(work, 'cdktf.out', 'stacks', 'foundation', 'cdk.tf.json'), 'utf8'));
      const boundaries = [...new Set(Object.values(foundationJson.resource.aws_iam_role).map((r) => proof.fillReferences(String(r.permissions_boundary), where)))];
      expect(boundaries).toEqual([applied.outputs.foundation_boundary_policy_arn.value]);
      // what AWS holds for each role (its managed policies, attached) is the synthesized policy with the account and
      // partition filled in
      const state = JSON.parse(readFileSync(applied.stateFile, 'utf8'));
      const of = (type) => state.resources.filter((r) => r.type === type).map((r) => ({ ...r.instances[0].attributes, resource: r.name }));
      expect(of('aws_iam_role_policy')).toEqual([]);
      const policies = of('aws_iam_policy');
      const attachments = of('aws_iam_role_policy_attachment');
      for (const key of ['plan', 'deploy', 'rollout', 'terraform_cloud', 'terraform_cloud_plan']) {
        const id = `${key.replace(/_/g, '-')}-policy-`;
        const mine = policies.filter((p) => p.resource.startsWith(id)).sort((a, b) => Number(a.resource.slice(id.length)) - Number(b.resource.slice(id.length)));
        expect(mine.length).toBeGreaterThan(0);
        const roleName = applied.outputs[`${key}_role_arn`].value.split('/').pop();
        expect(attachments.filter((a) => a.role === roleName).map((a) => a.policy_arn).sort()).toEqual(mine.map((p) => p.arn).sort());
        expect({ key, policy: { Version: '2012-10-17', Statement: mine.flatMap((p) => JSON.parse(p.policy).Statement) } })
          .toEqual({ key, policy: proof.synthesizedPolicy(stackJson, key, where) });
      }
    });

    /**
     * The images step as the runner runs it (`--only images`: real dockerd, a local registry that takes the
     * credentials moto's ECR hands out, STAGING_ROLLOUT_IMAGE_REGISTRY), recorded into `callLog`. Where Docker
     * cannot run, a skip is recorded (CI fails instead) and the step's calls stay only declared.
     * @param {string} release @returns {Promise<boolean>} whether it ran
     */
    async function recordImagesStep(release) {
      const unavailable = dockerUnavailable();
      if (skipOrFail(unavailable, 'least privilege', 'the images step\'s AWS calls recorded (real Docker)')) return false;
      const registry = await startRegistry(ecrClient(env.endpoint, env.region));
      try {
        // the foundation's config with build contexts that exist (one git repository each), as images-runner does
        const config = JSON.parse(readFileSync(env.configPath, 'utf8'));
        const images = path.join(work, 'images');
        for (const key of Object.keys(config.images)) {
          makeContext(key === 'frontend' ? 'frontend' : 'api', path.join(images, 'app', key), `${key} ${STAMP}`);
          config.images[key] = { ...config.images[key], context: `../app/${key}`, dockerfile: 'Dockerfile' };
        }
        mkdirSync(path.join(images, 'config'), { recursive: true });
        const configFile = path.join(images, 'config', 'staging.json');
        writeFileSync(configFile, JSON.stringify(config, null, 2));
        const t = Date.now();
        const res = await runRunner(['--only', 'images', '--config', configFile, '--outputs', env.outputsFile, '--release', release],
          { STAGING_ROLLOUT_AWS_CALL_LOG: callLog, STAGING_ROLLOUT_IMAGE_REGISTRY: registry.address });
        measured.imagesMs = Date.now() - t;
        expect({ code: res.code, err: res.err.replace(/^warning: .*\n?/gm, '') }).toEqual({ code: 0, err: '' });
        return true;
      } finally {
        await registry.stop();
      }
    }

    test('every call of a rollout, its rerun, a second release, status, history and rollback is allowed; every allowed action is used', async () => {
      const inputs = ['--outputs', env.outputsFile];
      const imagesRecorded = await recordImagesStep(`lp-r1-${STAMP}`);
      // the images step ran first (recordImagesStep); then every other step runs (smoke included: its checks that
      // need running containers report skipped on the emulator, the rest make their calls). docker push's registry
      // actions are the declared requests of iamCalls.dockerPushRequests (the registry protocol, not the AWS API)
      const rollout = (r) => [...inputs, '--release', r, '--skip', 'images', '--poll-interval', '0.2', '--service-timeout', '60', '--migration-timeout', '60'];
      const runs = [
        ['rollout', rollout(`lp-r1-${STAMP}`)], ['rerun', rollout(`lp-r1-${STAMP}`)], ['rollout 2', rollout(`lp-r2-${STAMP}`)],
        ['status', ['status', ...inputs, '--json']], ['history', ['history', ...inputs, '--json']],
        ['rollback', ['rollback', ...inputs, '--poll-interval', '0.2', '--service-timeout', '60']],
        ['status after rollback', ['status', ...inputs, '--json']],
      ];
      const t = Date.now();
      for (const [name, args] of runs) {
        const res = await cli(args, callLog);
        expect({ name, code: res.code, err: res.err.replace(/^warning: .*\n?/gm, '') }).toEqual({ name, code: 0, err: '' });
      }
      measured.runsMs = Date.now() - t;
      const records = readFileSync(callLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      // calls AWS answered with an error (a missing image or log stream) were authorized first: they are checked too
      expect(records.length).toBeGreaterThan(50);
      // never a value: the recorder keeps resource names only
      expect(readFileSync(callLog, 'utf8')).not.toMatch(/SecretString|"Value"|containerDefinitions/);

      const repositories = Object.values(outputs.repository_urls).map((u) => String(u).split('/').slice(1).join('/'));
      const requests = [...iamCalls.iamRequests(records, where), ...iamCalls.dockerPushRequests(where, repositories)];
      const policy = proof.synthesizedPolicy(stackJson, 'rollout', where);
      // KMS honours the role's policy only as far as the environment key's own policy (foundation's) lets IAM decide
      const kmsKey = proof.keyPolicy(JSON.parse(readFileSync(path.join(work, 'cdktf.out', 'stacks', 'foundation', 'cdk.tf.json'), 'utf8')), where);
      const who = { principal: applied.outputs.rollout_role_arn.value, accountId: where.accountId, resourcePolicy: (r) => (r.action.startsWith('kms:') ? kmsKey : undefined) };
      const results = await proof.evaluate(policy, requests, who);
      measured.calls = records.length;
      measured.iamRequests = requests.length;
      measured.byOperation = records.reduce((m, r) => ({ ...m, [`${r.client}.${r.operation}`]: (m[`${r.client}.${r.operation}`] ?? 0) + 1 }), {});

      const notAllowed = results.filter((r) => r.result !== 'Allowed').map((r) => ({ ...r.request, result: r.result, errors: r.errors }));
      expect(notAllowed).toEqual([]);
      const used = new Set(requests.map((r) => r.action));
      const unused = proof.allowedActions(policy).filter((a) => !used.has(a) && !(a in proof.EXPECTED_UNEXERCISED));
      expect(unused).toEqual([]);
      // the expected-but-unexercised list holds only actions the policy has and no run used
      for (const a of Object.keys(proof.EXPECTED_UNEXERCISED)) {
        expect({ a, inPolicy: proof.allowedActions(policy).includes(a), used: used.has(a) }).toEqual({ a, inPolicy: true, used: false });
      }
      // and each statement is needed by a real (or declared) call: without it, one is denied
      const t2 = Date.now();
      for (const st of policy.Statement.filter((x) => [].concat(x.Action).some((a) => used.has(a)))) {
        const cut = { ...policy, Statement: policy.Statement.filter((x) => x !== st) };
        const relevant = requests.filter((r) => [].concat(st.Action).includes(r.action));
        const res = await proof.evaluate(cut, relevant, who);
        expect({ without: st.Sid, denied: res.some((x) => x.result !== 'Allowed') }).toEqual({ without: st.Sid, denied: true });
      }
      measured.removalMs = Date.now() - t2;
      // each runner operation family the ledger and day-two verbs use was recorded
      const recordedOps = ['ecs.RegisterTaskDefinition', 'ecs.RunTask', 'ecs.UpdateService', 'ssm.PutParameter', 'ssm.GetParametersByPath', 'secrets.DescribeSecret'];
      if (imagesRecorded) recordedOps.push('ecr.GetAuthorizationToken', 'ecr.DescribeImages');
      for (const op of recordedOps) {
        expect(measured.byOperation[op] ?? 0).toBeGreaterThan(0);
      }
    });
  });
}
