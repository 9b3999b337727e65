// The plan role's and the deploy role's policies: reading (plan) and creating (deploy) the `foundation` stack.
// The plan role holds only read actions (test/unit/ci-access-policies.test.ts checks every one against the IAM
// data's access levels). The deploy role is limited by name wherever the foundation's names are known in
// advance (stacks/names.ts); what stays broad is listed in DEPLOY_BROAD with its reason (docs/ci.md shows it).
import type { ResourceNames } from '../names';
import { allow, arn, ArnEnv, policy, PolicyDocument, Statement } from '../policy';
import { boundedRoleStatements } from '../boundary';
import { CI_PATH } from '../names';

export interface FoundationPolicyProps {
  readonly env: ArnEnv;
  readonly names: ResourceNames;
  /** foundation state read (plan) or read/write and lock (deploy): state-access.ts */
  readonly state: Statement[];
  /**
   * The config's cache.auth. Only with "iam" does Terraform own a version of the `cache` secret (connection
   * metadata, no password) that a refresh reads; with "password" that secret holds the cache password, which no
   * CI role may read.
   */
  readonly cacheAuth: 'password' | 'iam';
  /** the config's environment: the value of the Environment tag every foundation resource carries (default tags) */
  readonly environment: string;
}

/**
 * The plan role's only actions that the IAM data does not call List or Read, each with its reason (the unit test
 * allows exactly these and nothing else).
 */
export const PLAN_NOT_READ: ReadonlyArray<{ readonly action: string; readonly reason: string }> = [
  { action: 'kms:Decrypt', reason: 'cache.auth "iam" only: refreshing the `cache` secret\'s version (connection metadata) decrypts it; allowed only through Secrets Manager (kms:ViaService), where the role may read no other secret; it changes nothing' },
];


/** Read actions Terraform's refresh of the foundation resources uses (no Get* on secrets, parameters or objects). */
const READ_ACTIONS = [
  'ec2:Describe*',
  'ecs:Describe*', 'ecs:List*',
  'ecr:DescribeRepositories', 'ecr:GetLifecyclePolicy', 'ecr:GetRepositoryPolicy', 'ecr:ListTagsForResource',
  'logs:DescribeLogGroups', 'logs:ListTagsForResource', 'logs:ListTagsLogGroup',
  'elasticloadbalancing:Describe*',
  'elasticfilesystem:Describe*', 'elasticfilesystem:ListTagsForResource',
  'elasticache:Describe*', 'elasticache:ListTagsForResource',
  'iam:GetRole', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:ListAttachedRolePolicies', 'iam:GetInstanceProfile', 'iam:ListInstanceProfilesForRole',
  'kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:GetKeyRotationStatus', 'kms:ListResourceTags', 'kms:ListAliases',
  'secretsmanager:DescribeSecret', 'secretsmanager:GetResourcePolicy',
  'servicediscovery:GetNamespace', 'servicediscovery:GetService', 'servicediscovery:GetOperation', 'servicediscovery:ListTagsForResource',
  'route53:GetHostedZone', 'route53:ListResourceRecordSets',
];

function readStatements(p: FoundationPolicyProps): Statement[] {
  const { env, names } = p;
  const cacheSecret = arn(env, 'secretsmanager', `secret:${names.secret('cache')}-??????`);
  return [
    allow('ReadFoundation', READ_ACTIONS, ['*']),
    // the database host's AMI id: AWS's public parameters
    allow('ReadPublicAmiParameter', ['ssm:GetParameter', 'ssm:GetParameters'], [arn(env, 'ssm', 'parameter/aws/service/*', { account: '' })]),
    // cache.auth "iam": the `cache` secret's version is Terraform's (connection metadata, no password) and a refresh
    // reads it. With "password" the secret holds the password (the database host writes it): no CI role reads it.
    ...(p.cacheAuth === 'iam' ? [
      allow('ReadCacheMetadataSecret', ['secretsmanager:GetSecretValue'], [cacheSecret]),
      allow('DecryptCacheMetadataSecret', [PLAN_NOT_READ[0].action], ['*'], {
        StringEquals: { 'kms:ViaService': `secretsmanager.${env.region}.amazonaws.com` },
      }),
    ] : []),
    ...p.state,
  ];
}

/** The plan role: read-only, plus state read. */
export function planPolicy(p: FoundationPolicyProps): PolicyDocument {
  return policy(readStatements(p));
}

/** Why the deploy role keeps an action on more than this environment's named resources. */
export const DEPLOY_BROAD: ReadonlyArray<{ readonly actions: string[]; readonly reason: string }> = [
  { actions: ['ec2:*'], reason: 'VPC, subnets, routes, NAT, endpoints, security groups, the database instance and volume get generated ids; limited to the config\'s region' },
  { actions: ['elasticfilesystem:*'], reason: 'the file system id is generated; limited to the region' },
  { actions: ['elasticache:*'], reason: 'replication group, users, user group and subnet group; limited to the region (the cluster ids ElastiCache derives are not all predictable)' },
  { actions: ['servicediscovery:*', 'route53:CreateHostedZone', 'route53:DeleteHostedZone', 'route53:ChangeResourceRecordSets', 'route53:GetChange', 'route53:ListHostedZonesByName', 'route53:AssociateVPCWithHostedZone'],
    reason: 'the Cloud Map namespace and its private hosted zone get generated ids' },
  { actions: ['kms:CreateKey', 'kms:EnableKeyRotation', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:TagResource', 'kms:UntagResource', 'kms:CreateGrant', 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*'],
    reason: 'the key id is generated; the key\'s own policy limits its use; limited to the region' },
  { actions: ['ecs:DeregisterTaskDefinition', 'ecs:CreateCluster', 'ecs:TagResource'], reason: 'task definitions and the cluster are created before they have an ARN to match' },
  { actions: ['iam:CreateServiceLinkedRole'], reason: 'first use of ECS, ELB, ElastiCache, EFS in an account; limited by iam:AWSServiceName' },
];

/** The broad services of DEPLOY_BROAD whose resources carry the Environment tag (default tags): guarded by it. */
export const DEPLOY_TAG_GUARDED_ACTIONS = ['ec2:*', 'elasticfilesystem:*', 'elasticache:*'];
const TAG_GUARDED: ReadonlyArray<[string, string]> = [
  ['NeverAnotherEnvironmentsResources', 'aws:ResourceTag/Environment'],
  ['NeverCreateForAnotherEnvironment', 'aws:RequestTag/Environment'],
];

/** The deploy role: creates and updates the foundation (all that the plan role reads, plus writes). */
export function deployPolicy(p: FoundationPolicyProps): PolicyDocument {
  const { env, names } = p;
  const pre = names.prefix;
  const global = { region: '' };
  const inRegion = { StringEquals: { 'aws:RequestedRegion': env.region } };
  const roleArn = (n: string) => arn(env, 'iam', `role/${n}`, global);
  const broad = (i: number) => DEPLOY_BROAD[i].actions;
  const bounded = boundedRoleStatements(env, names);
  return policy([
    ...readStatements(p),
    // by name: everything whose name the foundation builds from namePrefix
    allow('EcsByName', ['ecs:*'], [
      arn(env, 'ecs', `cluster/${names.cluster}`), arn(env, 'ecs', `service/${names.cluster}/${names.service('*')}`), arn(env, 'ecs', `task-definition/${names.taskFamily('*')}:*`),
    ]),
    allow('EcrByName', ['ecr:*'], [arn(env, 'ecr', `repository/${names.repository('*')}`)]),
    allow('LogsByName', ['logs:*'], [arn(env, 'logs', `log-group:${names.logGroup('*')}`), arn(env, 'logs', `log-group:/vpc/${pre}/*`)]),
    allow('SecretsByName', [
      'secretsmanager:CreateSecret', 'secretsmanager:DeleteSecret', 'secretsmanager:UpdateSecret', 'secretsmanager:PutSecretValue',
      'secretsmanager:TagResource', 'secretsmanager:UntagResource', 'secretsmanager:RestoreSecret', 'secretsmanager:ListSecretVersionIds',
    ], [arn(env, 'secretsmanager', `secret:${pre}/*`)]),
    allow('LoadBalancerByName', ['elasticloadbalancing:*'], [
      arn(env, 'elasticloadbalancing', `loadbalancer/app/${names.loadBalancer}/*`),
      arn(env, 'elasticloadbalancing', `listener/app/${names.loadBalancer}/*`),
      arn(env, 'elasticloadbalancing', `listener-rule/app/${names.loadBalancer}/*`),
      arn(env, 'elasticloadbalancing', `targetgroup/${pre}-*/*`),
    ]),
    allow('KmsAliasByName', ['kms:CreateAlias', 'kms:DeleteAlias', 'kms:UpdateAlias'], [arn(env, 'kms', `alias/${pre}`), arn(env, 'kms', 'key/*')]),
    // what a foundation role may do is bounded (boundary.ts): those writes only on a role that carries the boundary
    bounded.withBoundary,
    allow('IamRolesByName', [
      'iam:DeleteRole', 'iam:UpdateRole', 'iam:TagRole', 'iam:UntagRole',
      'iam:CreateInstanceProfile', 'iam:DeleteInstanceProfile', 'iam:AddRoleToInstanceProfile', 'iam:RemoveRoleFromInstanceProfile', 'iam:TagInstanceProfile',
    ], [roleArn(`${names.iamPrefix}*`), arn(env, 'iam', `instance-profile/${names.iamPrefix}*`, global)]),
    allow('PassFoundationRoles', ['iam:PassRole'], [roleArn(`${names.iamPrefix}*`)], {
      StringEquals: { 'iam:PassedToService': ['ecs-tasks.amazonaws.com', 'ec2.amazonaws.com', 'vpc-flow-logs.amazonaws.com'] },
    }),
    // what stays broad (DEPLOY_BROAD), each limited as far as AWS allows
    allow('Ec2InRegion', broad(0), ['*'], inRegion),
    allow('EfsInRegion', broad(1), ['*'], inRegion),
    allow('ElastiCacheInRegion', broad(2), ['*'], inRegion),
    allow('CloudMap', broad(3), ['*']),
    allow('KmsKeysInRegion', broad(4), ['*'], inRegion),
    allow('EcsCreate', broad(5), ['*'], inRegion),
    allow('ServiceLinkedRoles', broad(6), ['*'], {
      StringEquals: { 'iam:AWSServiceName': ['ecs.amazonaws.com', 'elasticloadbalancing.amazonaws.com', 'elasticache.amazonaws.com', 'elasticfilesystem.amazonaws.com'] },
    }),
    bounded.keep,
    // what stays broad by id is still kept off another environment's resources: a resource tagged with another
    // Environment is never changed or deleted, and nothing is created tagged for another one. (Null "false": only
    // where the request carries the tag; untagged and tag-less resources and actions are not matched.)
    ...TAG_GUARDED.map(([sid, key]) => ({
      Sid: sid, Effect: 'Deny' as const, Action: DEPLOY_TAG_GUARDED_ACTIONS, Resource: ['*'],
      Condition: { Null: { [key]: 'false' }, StringNotEquals: { [key]: p.environment } },
    })),
    // never the CI roles or the boundary: a deploy role that could edit them could make itself anything
    { Sid: 'NeverTheCiRolesOrBoundary', Effect: 'Deny', Action: ['iam:*'], Resource: [arn(env, 'iam', `role${CI_PATH}*`, global), arn(env, 'iam', `policy${CI_PATH}*`, global)] },
  ]);
}
