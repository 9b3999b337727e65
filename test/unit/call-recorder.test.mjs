// The opt-in AWS call recorder (runner/aws/clients.mjs, STAGING_ROLLOUT_AWS_CALL_LOG or recordTo): one JSON line
// per call (not per retry) with the fields that name resources, the ARNs an answer names, never a value.
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { createAwsClients } from '../../runner/aws/clients.mjs';

const creds = { accessKeyId: 'x', secretAccessKey: 'y' };
const TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/staging-api:7';

function recorded(answer, opts = {}) {
  const file = join(mkdtempSync(join(tmpdir(), 'recorder-')), 'calls.jsonl');
  const aws = createAwsClients({ region: 'us-east-1', credentials: creds, retry: { baseDelayMs: 1 }, transport: answer, recordTo: file, ...opts });
  const read = () => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
  return { aws, file, read };
}

test('resource names and answer ARNs are kept; secret values, parameter values and container definitions are not', async () => {
  const { aws, file, read } = recorded(async ({ operation }) => {
    if (operation === 'GetSecretValue') return { SecretString: '{"password":"hunter2"}', ARN: 'arn:x' };
    if (operation === 'RegisterTaskDefinition') return { taskDefinition: { taskDefinitionArn: TD, taskRoleArn: 'arn:aws:iam::123456789012:role/staging-task-api', executionRoleArn: 'arn:aws:iam::123456789012:role/staging-task-execution' } };
    if (operation === 'RunTask') return { tasks: [{ taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/staging-cluster/abc' }] };
    return {};
  });
  await aws.secrets.send(new GetSecretValueCommand({ SecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:staging/smoke-user-Ab12Cd' }));
  await aws.ssm.send(new PutParameterCommand({ Name: '/staging/releases/x', Value: '{"release":"r1","secretish":"v"}', Type: 'String', Overwrite: true }));
  await aws.ecs.send(new RegisterTaskDefinitionCommand({
    family: 'staging-api', taskRoleArn: 'arn:aws:iam::123456789012:role/staging-task-api', executionRoleArn: 'arn:aws:iam::123456789012:role/staging-task-execution',
    containerDefinitions: [{ name: 'api', image: 'i', environment: [{ name: 'K', value: 'not-to-keep' }] }], tags: [{ key: 'release', value: 'r1' }],
  }));
  await aws.ecs.send(new RunTaskCommand({ cluster: 'staging-cluster', taskDefinition: TD, tags: [{ key: 'release', value: 'r1' }] }));
  const text = readFileSync(file, 'utf8');
  for (const value of ['hunter2', 'secretish', 'not-to-keep', 'containerDefinitions', '"value"']) expect(text).not.toContain(value);
  expect(read()).toEqual([
    { client: 'secrets', operation: 'GetSecretValue', input: { SecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:staging/smoke-user-Ab12Cd' } },
    { client: 'ssm', operation: 'PutParameter', input: { Name: '/staging/releases/x', Type: 'String', Overwrite: true } },
    {
      client: 'ecs', operation: 'RegisterTaskDefinition',
      input: { family: 'staging-api', taskRoleArn: 'arn:aws:iam::123456789012:role/staging-task-api', executionRoleArn: 'arn:aws:iam::123456789012:role/staging-task-execution', tagKeys: ['release'] },
      outputArns: [TD],
      outputRoles: { taskDefinitionArn: TD, taskRoleArn: 'arn:aws:iam::123456789012:role/staging-task-api', executionRoleArn: 'arn:aws:iam::123456789012:role/staging-task-execution' },
    },
    { client: 'ecs', operation: 'RunTask', input: { cluster: 'staging-cluster', taskDefinition: TD, tagKeys: ['release'] }, outputArns: ['arn:aws:ecs:us-east-1:123456789012:task/staging-cluster/abc'] },
  ]);
});

test('one record per call, not per retry; a call that fails is recorded with its error name', async () => {
  let n = 0;
  const { aws, read } = recorded(async () => {
    n += 1;
    if (n < 3) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    throw Object.assign(new Error('nope'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } });
  });
  await expect(aws.secrets.send(new GetSecretValueCommand({ SecretId: 's' }))).rejects.toThrow('nope');
  expect(n).toBe(3);
  expect(read()).toEqual([{ client: 'secrets', operation: 'GetSecretValue', input: { SecretId: 's' }, error: 'ResourceNotFoundException' }]);
});

test('off unless asked: no file without recordTo or STAGING_ROLLOUT_AWS_CALL_LOG', async () => {
  const saved = process.env.STAGING_ROLLOUT_AWS_CALL_LOG;
  delete process.env.STAGING_ROLLOUT_AWS_CALL_LOG;
  try {
    const dir = mkdtempSync(join(tmpdir(), 'recorder-'));
    const aws = createAwsClients({ region: 'us-east-1', credentials: creds, transport: async () => ({}) });
    await aws.secrets.send(new GetSecretValueCommand({ SecretId: 's' }));
    expect(existsSync(join(dir, 'calls.jsonl'))).toBe(false);
    expect(aws.secrets.middlewareStack.identify().some((m) => m.startsWith('stagingRolloutCallRecorder'))).toBe(false);
  } finally {
    if (saved !== undefined) process.env.STAGING_ROLLOUT_AWS_CALL_LOG = saved;
  }
});
