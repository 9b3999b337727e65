// The `ci-access` stack: the AWS roles CI assumes through OIDC (no stored keys), deployed once per environment
// by a human with admin rights (`cdktf deploy ci-access`), from the same config as `foundation` (its `ci`
// section). It reads nothing of foundation's state: every ARN comes from the config's names (stacks/names.ts).
//   plan role      read-only + state read          trust: repo:OWNER/REPO:ref:refs/heads/main
//   deploy role    applies foundation              trust: repo:OWNER/REPO:environment:<ci.environment>
//   rollout role   what the runner calls           trust: repo:OWNER/REPO:environment:<ci.environment>
//   tfc roles      (optional) Terraform Cloud: plan role (read-only) trust ...:workspace:<ws>:run_phase:plan,
//                  apply role (deploy) trust organization:<org>:project:*:workspace:<ws>:run_phase:apply
// Each role's permissions are managed policies that fit IAM's size limits (policy.ts splitPolicy). It also holds
// the permissions boundary of the foundation's roles (stacks/boundary.ts).
import { Construct } from 'constructs';
import { TerraformOutput, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import * as path from 'path';
import { ConfigError } from './config';
import type { EnvironmentConfig } from './config';
import { workflowEnvironments } from './ci-access/workflow-environments';
import { configureBackend, stackBackend } from './backend';
import { CI_PATH, ResourceNames } from './names';
import { ArnEnv, ATTACHED_POLICIES_MAX, MANAGED_POLICY_MAX_CHARS, PolicyDocument, referenceLengths, splitPolicy } from './policy';
import { rolloutPolicy } from './ci-access/rollout-policy';
import { deployPolicy, planPolicy } from './ci-access/foundation-policies';
import { boundaryPolicy, foundationRoleActions } from './boundary';
import { stateRead, stateWrite } from './ci-access/state-access';
import { PropsError } from './util';

export const CI_ACCESS_STACK_ID = 'ci-access';

/** The OIDC issuers the roles trust, with the audience each sends. */
export const GITHUB_OIDC = { host: 'token.actions.githubusercontent.com', audience: 'sts.amazonaws.com' } as const;
export const TFC_OIDC = { host: 'app.terraform.io', audience: 'aws.workload.identity' } as const;
/** Thumbprints AWS ignores for these issuers (it trusts their CA) but the API still requires. */
const THUMBPRINTS: Record<string, string[]> = {
  [GITHUB_OIDC.host]: ['6938fd4d98bab03faadb97b34396831e3780aea1', '1c58a3a8518e8759bf075b76b750d4f2df264fcd'],
  [TFC_OIDC.host]: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'],
};

export interface CiAccessStackProps {
  /** validated environment config with a `ci` section */
  readonly environment: EnvironmentConfig;
  /** the same environment's foundation stack, synthesized in the same app: the boundary derives from its role policies */
  readonly foundation: Construct;
}

export class CiAccessStack extends TerraformStack {
  /** role key (plan, deploy, rollout, terraform_cloud) -> role */
  readonly roles: Record<string, IamRole> = {};
  /** role key -> its policy document (Terraform references inside strings) */
  readonly policies: Record<string, PolicyDocument> = {};
  /** this environment's resource names (stacks/names.ts) */
  readonly names: ResourceNames;
  /** the config file (for error messages) */
  private readonly source: string;
  /** partition, region and account of every ARN (Terraform references) */
  private readonly arnEnv: ArnEnv;

  constructor(scope: Construct, id: string, props: CiAccessStackProps) {
    super(scope, id);
    const { config, services } = props.environment;
    const ci = config.ci;
    if (!ci) throw new PropsError('CiAccessStack', 'the config has no `ci` section');
    this.source = props.environment.source;
    configureBackend(this, stackBackend(config.backend, id));
    new AwsProvider(this, 'aws', { region: config.region, defaultTags: [{ tags: config.tags }] });
    const identity = new DataAwsCallerIdentity(this, 'caller');
    const partition = new DataAwsPartition(this, 'partition');
    const env: ArnEnv = { partition: partition.partition, region: config.region, accountId: identity.accountId };
    this.arnEnv = env;
    const names = new ResourceNames(config.namePrefix);
    this.names = names;

    const provider = (key: string, host: string, audience: string, existing: string): string => {
      if (existing !== 'create') return existing;
      return new IamOpenidConnectProvider(this, key, { url: `https://${host}`, clientIdList: [audience], thumbprintList: THUMBPRINTS[host] }).arn;
    };
    const github = provider('github-oidc', GITHUB_OIDC.host, GITHUB_OIDC.audience, ci.oidcProvider);
    const githubTrust = (subject: string) => trust(github, GITHUB_OIDC.host, GITHUB_OIDC.audience, { StringEquals: { [`${GITHUB_OIDC.host}:sub`]: subject } });
    const main = `repo:${ci.repository}:ref:refs/heads/main`;

    const enabled = services.filter((s) => s.enabled).map((s) => ({ name: s.name, kind: s.kind }));
    const backend = { env, backend: config.backend };
    const foundationOf = { env, names, cacheAuth: config.cache.auth, environment: config.environment };
    this.role('plan', githubTrust(main), planPolicy({ ...foundationOf, state: stateRead(backend) }), 'Plans `foundation`: read-only, plus state read');
    // the roles that change the environment trust only a job that runs in its GitHub environment (its reviewers
    // and branch rules apply); the read-only plan role any job on main
    const inEnvironment = `repo:${ci.repository}:environment:${ci.environment}`;
    this.role('deploy', githubTrust(inEnvironment), deployPolicy({ ...foundationOf, state: stateWrite(backend) }),
      'Applies `foundation` after the environment\'s approval');
    this.role('rollout', githubTrust(inEnvironment), rolloutPolicy({ env, names, services: enabled, imageKeys: Object.keys(config.images), stateRead: stateRead(backend) }),
      'The rollout runner: releases, status, history, rollback');
    new TerraformOutput(this, 'github_oidc_provider_arn', { value: github, description: 'IAM OIDC provider of GitHub Actions the roles trust' });

    // the permissions boundary every foundation role carries (stacks/boundary.ts), from foundation's role policies
    const boundary = new IamPolicy(this, 'foundation-boundary', {
      name: names.ciBoundaryPolicy,
      path: CI_PATH,
      description: 'Permissions boundary of the foundation roles: the actions of their own policies',
      policy: JSON.stringify(boundaryPolicy(foundationRoleActions(props.foundation))),
    });
    new TerraformOutput(this, 'foundation_boundary_policy_arn', { value: boundary.arn, description: 'Permissions boundary of every role the foundation creates' });

    if (ci.terraformCloud) {
      const tfc = ci.terraformCloud;
      const tfcProvider = provider('terraform-cloud-oidc', TFC_OIDC.host, TFC_OIDC.audience, tfc.oidcProvider);
      const phase = (p: 'plan' | 'apply') => trust(tfcProvider, TFC_OIDC.host, TFC_OIDC.audience,
        { StringLike: { [`${TFC_OIDC.host}:sub`]: `organization:${tfc.organization}:project:*:workspace:${tfc.workspace}:run_phase:${p}` } });
      // one role per run phase (TFC_AWS_PLAN_ROLE_ARN, TFC_AWS_APPLY_ROLE_ARN): a plan, which any speculative run of
      // the workspace makes, gets the read-only plan role; only an apply gets the deploy role. Terraform Cloud keeps
      // the state itself: no S3 state permission
      this.role('terraform_cloud_plan', phase('plan'), planPolicy({ ...foundationOf, state: [] }),
        `Terraform Cloud plans of workspace ${tfc.organization}/${tfc.workspace}: read-only (dynamic provider credentials)`);
      this.role('terraform_cloud', phase('apply'), deployPolicy({ ...foundationOf, state: [] }),
        `Terraform Cloud applies of workspace ${tfc.organization}/${tfc.workspace} (dynamic provider credentials)`);
      new TerraformOutput(this, 'terraform_cloud_oidc_provider_arn', { value: tfcProvider, description: 'IAM OIDC provider of Terraform Cloud the run role trusts' });
    }
  }

  private role(key: string, assumeRolePolicy: object, doc: PolicyDocument, description: string): void {
    const role = new IamRole(this, `${key.replace(/_/g, '-')}-role`, {
      name: this.names.ciRole(key),
      path: CI_PATH,
      description,
      assumeRolePolicy: JSON.stringify(assumeRolePolicy),
      maxSessionDuration: 3600,
    });
    // customer managed policies, not one inline policy: IAM caps a role's inline policies at 10,240 characters, which
    // the rollout role's per-resource ARNs pass at about ten services; managed ones scale to ten of 6,144 each
    const chunks = splitPolicy(doc, { references: referenceLengths(this.arnEnv) });
    if (chunks.length > ATTACHED_POLICIES_MAX) {
      throw new ConfigError(
        `${this.source}: ci: the ${key} role's permissions need ${chunks.length} managed policies of at most ${MANAGED_POLICY_MAX_CHARS} characters, ` +
          `over the ${ATTACHED_POLICIES_MAX} IAM attaches to one role by default; split the environment, or raise the account's quota and ATTACHED_POLICIES_MAX (stacks/policy.ts)`,
        { source: this.source, path: 'ci' },
      );
    }
    chunks.forEach((chunk, i) => {
      const id = `${key.replace(/_/g, '-')}-policy-${i + 1}`;
      const managed = new IamPolicy(this, id, {
        name: `${this.names.ciRole(key)}-${i + 1}`,
        path: CI_PATH,
        description: `${description} (${i + 1} of ${chunks.length})`,
        policy: JSON.stringify(chunk),
      });
      new IamRolePolicyAttachment(this, `${id}-attachment`, { role: role.name, policyArn: managed.arn });
    });
    this.roles[key] = role;
    this.policies[key] = doc;
    new TerraformOutput(this, `${key}_role_arn`, { value: role.arn, description: `${description} (role ARN)` });
  }
}

/** The repository's workflows (the deploy job's `environment` must be one of theirs). */
export const WORKFLOWS_DIR = path.resolve(__dirname, '..', '.github', 'workflows');

/**
 * Rules of the `ci` section that need more than the config: its environment must be one a workflow job uses
 * (else the deploy role would trust a subject no run ever has). Throws ConfigError naming file and key.
 */
export function checkCiConfig(environment: EnvironmentConfig, workflowsDir: string = WORKFLOWS_DIR): void {
  const ci = environment.config.ci;
  if (!ci) return;
  const known = workflowEnvironments(workflowsDir);
  if (known.length > 0 && !known.includes(ci.environment)) {
    const where = path.relative(process.cwd(), workflowsDir) || workflowsDir;
    throw new ConfigError(
      `${environment.source}: ci.environment: unknown environment ${JSON.stringify(ci.environment)}: no job of ${where} uses it (known: ${known.join(', ')}); set ci.environment to one of them, or add the environment to the workflow`,
      { source: environment.source, path: 'ci.environment' },
    );
  }
}

/** Trust policy for web identity tokens of one OIDC issuer, audience and subject condition. */
function trust(providerArn: string, host: string, audience: string, subject: Record<string, Record<string, string>>): object {
  const condition: Record<string, Record<string, string>> = { StringEquals: { [`${host}:aud`]: audience } };
  for (const [op, kv] of Object.entries(subject)) condition[op] = { ...(condition[op] ?? {}), ...kv };
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Federated: providerArn }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: condition }],
  };
}
