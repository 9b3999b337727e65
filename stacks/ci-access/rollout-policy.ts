// The rollout role's policy: exactly what the runner (runner/) calls, named resource by resource from the
// config's names (stacks/names.ts), plus the ECR push that `docker push` does for the images step.
// Actions that cannot be limited to this environment's resources are listed once, in BROAD_ROLLOUT_ACTIONS,
// each with its reason. test/unit/ci-access-least-privilege.test.mjs and test/integration/least-privilege.test.mjs
// check this policy against the runner's recorded calls with a real IAM simulator.
import { SECRET_KEYS } from '../../lib/config/index.cjs';
import type { ResourceNames } from '../names';
import { allow, arn, ArnEnv, ConditionBlock, policy, PolicyDocument, Statement } from '../policy';

/** One action the rollout role holds on "*", and why it cannot be narrowed. */
export interface BroadAction {
  readonly action: string;
  readonly reason: string;
  /** a condition that still limits it (only where AWS supports one for the action) */
  readonly condition?: (ctx: RolloutPolicyProps) => ConditionBlock;
}

const clusterArn = (p: RolloutPolicyProps) => arn(p.env, 'ecs', `cluster/${p.names.cluster}`);

/** THE list of the rollout role's actions on "*" (docs/ci.md shows it). */
export const BROAD_ROLLOUT_ACTIONS: readonly BroadAction[] = [
  { action: 'ecr:GetAuthorizationToken', reason: 'AWS supports no resource for it: the registry login token is per account and region' },
  { action: 'ecs:DescribeTaskDefinition', reason: 'AWS supports no resource for it (task definitions are read by family:revision only)' },
  { action: 'ecs:ListTaskDefinitions', reason: 'AWS supports no resource for it (the runner lists by familyPrefix to find an identical earlier revision)' },
  {
    action: 'ecs:ListTasks',
    reason: 'authorized against container instances, which a Fargate cluster has none of; the ecs:cluster condition limits it to this cluster',
    condition: (p) => ({ ArnEquals: { 'ecs:cluster': clusterArn(p) } }),
  },
  { action: 'elasticloadbalancing:DescribeTargetHealth', reason: 'AWS supports no resource for it' },
  {
    action: 'elasticfilesystem:DescribeMountTargets',
    reason: 'the file system id is generated when foundation creates it; the config cannot name it without reading foundation\'s state (a cycle); metadata only',
  },
];

export interface RolloutPolicyProps {
  readonly env: ArnEnv;
  readonly names: ResourceNames;
  /** enabled catalog services (name) */
  readonly services: ReadonlyArray<{ readonly name: string; readonly kind: string }>;
  /** image keys of the config: one repository each */
  readonly imageKeys: string[];
  /** statements that read the foundation's state (terraform output), from the backend (state-access.ts) */
  readonly stateRead: Statement[];
}

/** The rollout role's policy document. */
export function rolloutPolicy(p: RolloutPolicyProps): PolicyDocument {
  const { env, names } = p;
  const cluster = names.cluster;
  // each service and the one-off migration: a task family, a log group and a task role each (the `run` verb's one-off
  // tasks use the services' families: MigrationAndSmokeTasksRun and LogsRead cover them)
  const runnables = [...p.services.map((s) => s.name), 'migration'];
  const families = runnables.map((n) => names.taskFamily(n));
  const taskDefinitionArns = families.map((f) => arn(env, 'ecs', `task-definition/${f}:*`));
  const serviceArns = p.services.map((s) => arn(env, 'ecs', `service/${cluster}/${names.service(s.name)}`));
  const taskArns = [arn(env, 'ecs', `task/${cluster}/*`)];
  const repositories = p.imageKeys.map((k) => arn(env, 'ecr', `repository/${names.repository(k)}`));
  const logGroups = runnables.flatMap((n) => {
    const g = arn(env, 'logs', `log-group:${names.logGroup(n)}`);
    return [g, `${g}:*`];
  });
  // Secrets Manager appends "-" and 6 random characters to a secret's name in its ARN
  const secret = (k: (typeof SECRET_KEYS)[number]) => arn(env, 'secretsmanager', `secret:${names.secret(k)}-??????`);
  const ledger = arn(env, 'ssm', `parameter${names.ledgerPath}`);
  const lock = arn(env, 'ssm', `parameter${names.lockName}`);
  const passRoles = [names.executionRole, ...runnables.map((n) => names.taskRole(n))]
    .map((r) => arn(env, 'iam', `role/${r}`, { region: '' }));
  const inCluster = { ArnEquals: { 'ecs:cluster': clusterArn(p) } };

  const broad = new Map<string, BroadAction[]>();
  for (const b of BROAD_ROLLOUT_ACTIONS) {
    const key = JSON.stringify(b.condition?.(p) ?? null);
    broad.set(key, [...(broad.get(key) ?? []), b]);
  }
  const broadStatements = [...broad.entries()].map(([key, list], i) =>
    allow(i === 0 ? 'OnlyOnStar' : `OnlyOnStar${i}`, list.map((b) => b.action), ['*'], (JSON.parse(key) as ConditionBlock | null) ?? undefined));

  return policy([
    ...broadStatements,
    allow('ServicesRead', ['ecs:DescribeServices'], serviceArns, inCluster),
    allow('ServicesUpdate', ['ecs:UpdateService'], serviceArns, inCluster),
    allow('TaskDefinitionsRegister', ['ecs:RegisterTaskDefinition'], taskDefinitionArns),
    allow('MigrationAndSmokeTasksRun', ['ecs:RunTask'], taskDefinitionArns, inCluster),
    allow('TasksDescribeStop', ['ecs:DescribeTasks', 'ecs:StopTask'], taskArns, inCluster),
    // `exec` (runner/verbs/exec.mjs): ECS Exec into this cluster's tasks only; ECS authorizes the call against the
    // cluster and the task (both required resource types). The session itself needs no further permission of the
    // caller: session-manager-plugin opens it with the token ExecuteCommand returns
    allow('EcsExecIntoThisClustersTasks', ['ecs:ExecuteCommand'], [clusterArn(p), ...taskArns], inCluster),
    // the release tag on new revisions and one-off tasks (RegisterTaskDefinition and RunTask with `tags`)
    allow('TagOnCreateOnly', ['ecs:TagResource'], [...taskDefinitionArns, ...taskArns], {
      StringEquals: { 'ecs:CreateAction': ['RegisterTaskDefinition', 'RunTask'] },
    }),
    allow('PassOnlyThisEnvironmentsTaskRoles', ['iam:PassRole'], passRoles, { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } }),
    allow('ImagesReadAndPush', [
      'ecr:DescribeImages', 'ecr:BatchGetImage', 'ecr:BatchCheckLayerAvailability',
      'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage',
    ], repositories),
    allow('LogsRead', ['logs:GetLogEvents', 'logs:FilterLogEvents'], logGroups),
    allow('SecretsMetadata', ['secretsmanager:DescribeSecret'], SECRET_KEYS.map(secret)),
    allow('SmokeUserSecretRead', ['secretsmanager:GetSecretValue'], [secret('smoke_user')]),
    // the secret is under the environment's key: Secrets Manager decrypts it for the role (which may read no other
    // secret). The key's id is generated by foundation, so the key is named by its alias; only through Secrets Manager
    allow('SmokeUserSecretDecrypt', ['kms:Decrypt'], [arn(env, 'kms', 'key/*')], {
      StringEquals: { 'kms:ViaService': `secretsmanager.${env.region}.amazonaws.com` },
      'ForAnyValue:StringEquals': { 'kms:ResourceAliases': names.keyAlias },
    }),
    // the ledger is read by path only (runner/ledger: GetParametersByPath); no GetParameter: the runner never reads one
    // entry by name. DeleteParameters: retention prunes the oldest entries.
    allow('ReleaseLedger', ['ssm:GetParametersByPath', 'ssm:PutParameter', 'ssm:DeleteParameters'], [ledger, `${ledger}/*`]),
    // the environment's lock (runner/ledger/lock.mjs): created with Overwrite=false, read, renewed, deleted
    allow('EnvironmentLock', ['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter'], [lock]),
    ...p.stateRead,
  ]);
}
