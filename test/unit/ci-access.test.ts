// The ci-access stack over its synthesized Terraform JSON: synthesized only with a `ci` section (foundation
// unchanged either way), bad `ci` input exits 2 with the key named, OIDC trust per role, the rollout role's
// resource-level limits (PassRole, secrets, broad actions in one list), state access from the backend.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../main';
import { parseConfig } from '../../stacks/config';
import { BROAD_ROLLOUT_ACTIONS } from '../../stacks/ci-access/rollout-policy';
import { ResourceNames } from '../../stacks/names';
import { stagingWith, STAGING } from '../support/stack';
import { CI, S3, synthBoth, SYNTH_OUTDIR } from '../support/ci-access';
import { PROJECT_ROOT } from '../../lib/config/index.cjs';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { rolePolicyDocuments } = require('../support/iam-proof.cjs');
// eslint-disable-next-line @typescript-eslint/no-var-requires
const proofLib = require('../support/iam-proof.cjs');
/** a role's permissions as one document (its managed policies' statements, references left in) */
const policyOf = (json: any, key: string) => ({ Version: '2012-10-17', Statement: rolePolicyDocuments(json, key).flatMap((d: any) => d.Statement) });
const trustOf = (json: any, key: string) => JSON.parse(json.resource.aws_iam_role[`${key}-role`].assume_role_policy);
const ACCOUNT = '${data.aws_caller_identity.caller.account_id}';
const PARTITION = '${data.aws_partition.partition.partition}';

describe('ci-access: synthesized only with a ci section', () => {
  test('no ci section: no ci-access stack, and foundation is the same as with one but for the roles\' permissions boundary', () => {
    const without = synthBoth(STAGING);
    const withCi = synthBoth(stagingWith((c) => { c.ci = CI; }));
    expect(without.ciAccess).toBeNull();
    expect(withCi.ciAccess).not.toBeNull();
    const roles = Object.values<any>(withCi.foundation.resource.aws_iam_role);
    expect(roles.map((r) => r.permissions_boundary)).toEqual(roles.map(() => `arn:${PARTITION}:iam::${ACCOUNT}:policy/ci-access/staging-ci-foundation-boundary`));
    for (const r of roles) delete r.permissions_boundary;
    expect(withCi.foundation).toEqual(without.foundation);
    expect(Object.values<any>(without.foundation.resource.aws_iam_role).some((r) => 'permissions_boundary' in r)).toBe(false);
  });

  test('outputs are the role ARNs (and the OIDC providers)', () => {
    const { ciAccess } = synthBoth(stagingWith((c) => { c.ci = CI; }));
    expect(Object.keys(ciAccess.output).sort()).toEqual([
      'deploy_role_arn', 'foundation_boundary_policy_arn', 'github_oidc_provider_arn', 'plan_role_arn', 'rollout_role_arn', 'terraform_cloud_oidc_provider_arn',
      'terraform_cloud_plan_role_arn', 'terraform_cloud_role_arn',
    ]);
    expect(ciAccess.output.rollout_role_arn.value).toBe('${aws_iam_role.rollout-role.arn}');
    for (const [, role] of Object.entries<any>(ciAccess.resource.aws_iam_role)) expect(role.path).toBe('/ci-access/');
  });

  test('no terraformCloud: no run role; an existing provider ARN: no provider created, the trust names it', () => {
    const arn = 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com';
    const { ciAccess } = synthBoth(stagingWith((c) => { c.ci = { repository: 'acme/app', oidcProvider: arn }; }));
    expect(Object.keys(ciAccess.resource.aws_iam_role).sort()).toEqual(['deploy-role', 'plan-role', 'rollout-role']);
    expect(ciAccess.resource.aws_iam_openid_connect_provider).toBeUndefined();
    expect(trustOf(ciAccess, 'plan').Statement[0].Principal.Federated).toBe(arn);
  });

  test('the state of ci-access is its own, beside the foundation\'s', () => {
    // beside this environment's own foundation state (state/<env>/foundation.tfstate, docs/environments.md)
    const local = synthBoth(stagingWith((c) => { c.ci = CI; })).ciAccess.terraform.backend.local.path;
    expect(path.resolve(SYNTH_OUTDIR, 'stacks', 'ci-access', local)).toBe(path.join(PROJECT_ROOT, 'state', 'staging', 'foundation.ci-access.tfstate'));
    const s3 = synthBoth(stagingWith((c) => { c.ci = CI; c.backend = S3; })).ciAccess.terraform.backend.s3;
    expect(s3).toMatchObject({ bucket: S3.bucket, key: 'staging-rollout/foundation.ci-access.tfstate', use_lockfile: true });
    const cloud = synthBoth(stagingWith((c) => { c.ci = CI; c.backend = { type: 'cloud', organization: 'acme', workspace: 'staging' }; })).ciAccess.terraform.cloud;
    expect(cloud.workspaces.name).toBe('staging-ci-access');
  });
});

describe('ci-access: bad input exits 2 at synth with the key named', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['repository not owner/repo', { repository: 'staging-rollout' }, /ci\.repository: must be a GitHub repository as "owner\/repo", got "staging-rollout"/],
    ['repository with a bad owner', { repository: '-acme/app' }, /ci\.repository: must be a GitHub repository/],
    ['environment not a GitHub environment name', { repository: 'a/b', environment: 'stag ing' }, /ci\.environment: must be a GitHub environment name/],
    ['malformed OIDC provider ARN', { repository: 'a/b', oidcProvider: 'arn:aws:iam::1234:oidc-provider/token.actions.githubusercontent.com' }, /ci\.oidcProvider: must be "create" or an IAM OIDC provider ARN/],
    ['OIDC provider of another issuer', { repository: 'a/b', oidcProvider: 'arn:aws:iam::123456789012:oidc-provider/example.com' }, /ci\.oidcProvider: must be "create" or an IAM OIDC provider ARN like "arn:aws:iam::123456789012:oidc-provider\/token\.actions\.githubusercontent\.com"/],
    ['unknown key', { repository: 'a/b', roles: {} }, /ci\.roles: unknown key/],
    ['an environment no workflow job uses', { repository: 'a/b', environment: 'production' }, /ci\.environment: unknown environment "production": no job of \.github\/workflows uses it \(known: staging\)/],
    ['Terraform Cloud without workspace', { repository: 'a/b', terraformCloud: { organization: 'acme' } }, /ci\.terraformCloud\.workspace/],
  ];
  test.each(cases)('%s', (_name, ci, message) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-access-'));
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, JSON.stringify(stagingWith((c) => { c.ci = ci; delete c.$schema; })));
    const outdir = path.join(dir, 'out');
    const stderr: string[] = [];
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((s: any) => { stderr.push(String(s)); return true; });
    const env = { ...process.env };
    try {
      process.env.STAGING_ROLLOUT_CONFIG = file;
      process.env.CDKTF_OUTDIR = outdir;
      expect(main()).toBe(2);
    } finally {
      write.mockRestore();
      process.env = env;
    }
    expect(stderr.join('')).toMatch(message);
    expect(stderr.join('')).toContain(file);
    expect(fs.existsSync(outdir)).toBe(false); // nothing synthesized
  });
});

describe('ci-access: trust', () => {
  const { ciAccess } = synthBoth(stagingWith((c) => { c.ci = { ...CI, environment: 'staging' }; }));
  const condition = (key: string) => trustOf(ciAccess, key).Statement[0].Condition;
  test.each([
    ['plan', 'repo:acme/staging-rollout:ref:refs/heads/main'],
    ['deploy', 'repo:acme/staging-rollout:environment:staging'],
    ['rollout', 'repo:acme/staging-rollout:environment:staging'],
  ])('%s role: GitHub OIDC, audience sts.amazonaws.com, subject %s', (key, sub) => {
    const t = trustOf(ciAccess, key);
    expect(t.Statement).toHaveLength(1);
    expect(t.Statement[0]).toMatchObject({ Effect: 'Allow', Action: 'sts:AssumeRoleWithWebIdentity', Principal: { Federated: '${aws_iam_openid_connect_provider.github-oidc.arn}' } });
    expect(condition(key)).toEqual({ StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com', 'token.actions.githubusercontent.com:sub': sub } });
  });
  test.each([['terraform-cloud', 'apply'], ['terraform-cloud-plan', 'plan']])('Terraform Cloud role %s: that workspace only, any project, run phase %s only', (key, phase) => {
    expect(trustOf(ciAccess, key).Statement[0].Principal.Federated).toBe('${aws_iam_openid_connect_provider.terraform-cloud-oidc.arn}');
    expect(condition(key)).toEqual({
      StringEquals: { 'app.terraform.io:aud': 'aws.workload.identity' },
      StringLike: { 'app.terraform.io:sub': `organization:acme:project:*:workspace:staging-foundation:run_phase:${phase}` },
    });
  });

  test('the Terraform Cloud plan role holds the plan role\'s actions (read-only), the apply role the deploy role\'s', () => {
    // Terraform Cloud keeps the state: the GitHub roles' S3 state actions aside, the same actions
    const where = { ...proofLib.TEST_WHERE, region: 'us-east-1' };
    const actions = (key: string) => proofLib.allowedActions(proofLib.synthesizedPolicy(ciAccess, key, where)).filter((a: string) => !a.startsWith('s3:')).sort();
    expect(actions('terraform_cloud_plan')).toEqual(actions('plan'));
    expect(actions('terraform_cloud')).toEqual(actions('deploy'));
    expect(actions('terraform_cloud_plan')).not.toEqual(actions('terraform_cloud'));
  });
});

describe('ci-access: the rollout role names this environment\'s resources', () => {
  const raw = stagingWith((c) => { c.ci = CI; c.backend = S3; });
  const { ciAccess } = synthBoth(raw);
  const doc = policyOf(ciAccess, 'rollout');
  const names = new ResourceNames(parseConfig(raw).config.namePrefix);
  const enabled = parseConfig(raw).services.filter((s) => s.enabled);
  const statementsWith = (action: string) => doc.Statement.filter((s: any) => s.Action.includes(action));

  test('iam:PassRole only on the execution role and the task roles, only to ecs-tasks', () => {
    const [pass, ...more] = statementsWith('iam:PassRole');
    expect(more).toEqual([]);
    expect(pass.Resource.sort()).toEqual([names.executionRole, ...enabled.map((s) => names.taskRole(s.name)), names.taskRole('migration')]
      .map((r) => `arn:${PARTITION}:iam::${ACCOUNT}:role/${r}`).sort());
    expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
  });

  test('GetSecretValue only on the smoke_user secret; DescribeSecret on the four secrets', () => {
    expect(statementsWith('secretsmanager:GetSecretValue').flatMap((s: any) => s.Resource))
      .toEqual([`arn:${PARTITION}:secretsmanager:us-east-1:${ACCOUNT}:secret:${names.secret('smoke_user')}-??????`]);
    expect(statementsWith('secretsmanager:DescribeSecret').flatMap((s: any) => s.Resource)).toHaveLength(4);
  });

  test('"*" only for the actions of BROAD_ROLLOUT_ACTIONS, each with a reason', () => {
    const onStar = doc.Statement.filter((s: any) => s.Resource.includes('*')).flatMap((s: any) => s.Action).sort();
    expect(onStar).toEqual(BROAD_ROLLOUT_ACTIONS.map((b) => b.action).sort());
    for (const b of BROAD_ROLLOUT_ACTIONS) expect(b.reason.length).toBeGreaterThan(20);
    // the rest name resources: nothing else ends in a bare wildcard service
    for (const s of doc.Statement.filter((x: any) => !x.Resource.includes('*'))) {
      for (const r of s.Resource) expect(r).toMatch(/^arn:/);
    }
  });

  test('services, families, repositories, log groups and the ledger by name; target groups are not touched', () => {
    const all = doc.Statement.flatMap((s: any) => s.Resource).join('\n');
    for (const s of enabled) {
      expect(all).toContain(`service/${names.cluster}/${names.service(s.name)}`);
      expect(all).toContain(`task-definition/${names.taskFamily(s.name)}:*`);
      expect(all).toContain(`log-group:${names.logGroup(s.name)}`);
    }
    for (const k of Object.keys(parseConfig(raw).config.images)) expect(all).toContain(`repository/${names.repository(k)}`);
    expect(all).toContain(`parameter${names.ledgerPath}/*`);
    expect(statementsWith('ssm:PutParameter')[0].Resource).toEqual([`arn:${PARTITION}:ssm:us-east-1:${ACCOUNT}:parameter${names.ledgerPath}`, `arn:${PARTITION}:ssm:us-east-1:${ACCOUNT}:parameter${names.ledgerPath}/*`]);
  });

  test('state: the rollout and plan roles read the foundation state object; the deploy role also writes it and its lock file', () => {
    const obj = `arn:${PARTITION}:s3:::${S3.bucket}/${S3.key}`;
    for (const key of ['rollout', 'plan']) {
      const d = policyOf(ciAccess, key);
      expect(d.Statement.filter((s: any) => s.Resource.includes(obj)).flatMap((s: any) => s.Action)).toEqual(['s3:GetObject']);
    }
    const deploy = policyOf(ciAccess, 'deploy');
    expect(deploy.Statement.filter((s: any) => s.Resource.includes(obj)).flatMap((s: any) => s.Action).sort()).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(deploy.Statement.find((s: any) => s.Sid === 'StateLockFile').Resource).toEqual([`${obj}.tflock`]);
  });

  test('the deploy role may never touch the CI roles or the boundary, nor lift the boundary of a foundation role', () => {
    const deny = policyOf(ciAccess, 'deploy').Statement.filter((s: any) => s.Effect === 'Deny' && s.Action.every((a: string) => a.startsWith('iam:')));
    expect(deny).toEqual([
      { Sid: 'NeverLiftTheBoundary', Effect: 'Deny', Action: ['iam:DeleteRolePermissionsBoundary'], Resource: [`arn:${PARTITION}:iam::${ACCOUNT}:role/staging-*`] },
      { Sid: 'NeverTheCiRolesOrBoundary', Effect: 'Deny', Action: ['iam:*'], Resource: [`arn:${PARTITION}:iam::${ACCOUNT}:role/ci-access/*`, `arn:${PARTITION}:iam::${ACCOUNT}:policy/ci-access/*`] },
    ]);
  });
});

describe('the workflow takes its roles from ci-access\'s outputs', () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { parse } = require('yaml');
  const root = path.resolve(__dirname, '..', '..');
  const wf = parse(fs.readFileSync(path.join(root, '.github/workflows/staging-rollout.yml'), 'utf8'));
  const docs = fs.readFileSync(path.join(root, 'docs/ci.md'), 'utf8');
  const { ciAccess } = synthBoth(stagingWith((c) => { c.ci = CI; }));
  const assumed = (job: string) => wf.jobs[job].steps.filter((s: any) => String(s.uses ?? '').startsWith('aws-actions/configure-aws-credentials'))
    .map((s: any) => /^\$\{\{ vars\.([A-Z_]+) \}\}$/.exec(s.with['role-to-assume'])?.[1]);

  test.each([['plan', 'plan'], ['deploy', 'deploy'], ['rollout', 'rollout']])('job %s assumes the %s role: a variable set from that output, as docs/ci.md says', (job, key) => {
    const variable = `STAGING_${key.toUpperCase()}_ROLE_ARN`;
    expect(assumed(job)).toEqual([variable]);
    expect(ciAccess.output[`${key}_role_arn`]).toBeDefined();
    expect(docs).toContain(`gh variable set ${variable}`.padEnd(`gh variable set STAGING_ROLLOUT_ROLE_ARN`.length) + ` --body "$(terraform output -raw ${key}_role_arn)"`);
  });

  test('the deploy job runs in the environment the deploy role trusts', () => {
    expect(wf.jobs.deploy.environment.name).toBe(parseConfig(stagingWith((c) => { c.ci = CI; })).config.ci!.environment);
  });

  test('docs/ci.md has no hand-written role policy left', () => {
    expect(docs).not.toMatch(/It needs ECR push;|This role creates the foundation\./);
    expect(docs).toContain('npx cdktf deploy ci-access');
  });
});
