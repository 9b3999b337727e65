// Access to the foundation's Terraform state for the CI roles, from the config's backend (the one the
// `foundation` stack uses: lib/config/schema.cjs completeBackend gives bucket, key, lock settings). A `local` or
// `cloud` backend needs no AWS permission for state (a Terraform Cloud token reads cloud state).
import type { BackendConfig } from '../config';
import { allow, arn, ArnEnv, Statement } from '../policy';

export interface StateAccessProps {
  readonly env: ArnEnv;
  readonly backend: BackendConfig;
}

/** S3 object ARN of the state file and of its lock file (use_lockfile writes `<key>.tflock`). */
function s3Arns(env: ArnEnv, bucket: string, key: string) {
  const s3 = (rest: string) => arn(env, 's3', rest, { region: '', account: '' });
  return { bucket: s3(bucket), state: s3(`${bucket}/${key}`), lock: s3(`${bucket}/${key}.tflock`) };
}

/** KMS permissions when the state is encrypted with a customer key (limited to use through S3). */
function kms(env: ArnEnv, backend: Extract<BackendConfig, { type: 's3' }>, actions: string[]): Statement[] {
  if (!backend.kmsKeyId) return [];
  const key = backend.kmsKeyId.startsWith('arn:') ? backend.kmsKeyId : arn(env, 'kms', `key/${backend.kmsKeyId}`, { region: backend.region });
  return [allow('StateKey', actions, [key], { StringEquals: { 'kms:ViaService': `s3.${backend.region}.amazonaws.com` } })];
}

/** Read the state (plan with -lock=false, terraform output). */
export function stateRead(p: StateAccessProps): Statement[] {
  const b = p.backend;
  if (b.type !== 's3') return [];
  const a = s3Arns(p.env, b.bucket, b.key);
  return [
    allow('StateList', ['s3:ListBucket'], [a.bucket]),
    allow('StateRead', ['s3:GetObject'], [a.state]),
    ...kms(p.env, b, ['kms:Decrypt']),
  ];
}

/** Read and write the state, and hold its lock (apply). */
export function stateWrite(p: StateAccessProps): Statement[] {
  const b = p.backend;
  if (b.type !== 's3') return [];
  const a = s3Arns(p.env, b.bucket, b.key);
  const lock: Statement[] = [];
  if (b.useLockfile) lock.push(allow('StateLockFile', ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], [a.lock]));
  if (b.dynamodbTable) {
    lock.push(allow('StateLockTable', ['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
      [arn(p.env, 'dynamodb', `table/${b.dynamodbTable}`, { region: b.region })]));
  }
  return [
    allow('StateList', ['s3:ListBucket'], [a.bucket]),
    allow('StateReadWrite', ['s3:GetObject', 's3:PutObject'], [a.state]),
    ...lock,
    ...kms(p.env, b, ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']),
  ];
}
