// Observability and keys: the environment's one KMS key (rotation on) and the CloudWatch log groups of the
// services, the migration task and ECS Exec sessions, all encrypted with that key and with retention.
import { Construct } from 'constructs';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { LOG_RETENTION_DAYS } from '../lib/config/index.cjs';
import { PropsError, StackEnv } from './util';
import { ResourceNames } from './names';

export interface KeysProps {
  readonly env: StackEnv;
  /**
   * Days before a scheduled key deletion takes effect.
   * @default 30
   */
  readonly deletionWindowInDays?: number;
}

/** The environment's customer-managed KMS key. Its key policy lets this account's IAM policies and
 *  CloudWatch Logs of this region and account use it. */
export class Keys extends Construct {
  readonly key: KmsKey;
  readonly alias: KmsAlias;

  constructor(scope: Construct, id: string, props: KeysProps) {
    super(scope, id);
    const window = props.deletionWindowInDays ?? 30;
    if (!Number.isInteger(window) || window < 7 || window > 30) {
      throw new PropsError('Keys', `deletionWindowInDays must be an integer 7-30, got ${window}`);
    }
    const { env } = props;
    const policy = new DataAwsIamPolicyDocument(this, 'key-policy', {
      statement: [
        {
          sid: 'AccountAdministersKeyThroughIam',
          effect: 'Allow',
          principals: [{ type: 'AWS', identifiers: [`arn:${env.partition}:iam::${env.accountId}:root`] }],
          actions: ['kms:*'],
          resources: ['*'],
        },
        {
          sid: 'CloudWatchLogsOfThisAccountAndRegion',
          effect: 'Allow',
          principals: [{ type: 'Service', identifiers: [`logs.${env.region}.amazonaws.com`] }],
          actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
          resources: ['*'],
          condition: [
            {
              test: 'ArnLike',
              variable: 'kms:EncryptionContext:aws:logs:arn',
              values: [`arn:${env.partition}:logs:${env.region}:${env.accountId}:log-group:*`],
            },
          ],
        },
      ],
    });
    this.key = new KmsKey(this, 'key', {
      description: `${env.prefix}: logs, ECR, EFS, EBS, Secrets Manager, ElastiCache and ECS Exec`,
      enableKeyRotation: true,
      deletionWindowInDays: window,
      policy: policy.json,
    });
    this.alias = new KmsAlias(this, 'alias', { name: new ResourceNames(env.prefix).keyAlias, targetKeyId: this.key.keyId });
  }
}

export interface LogGroupsProps {
  readonly env: StackEnv;
  /** KMS key ARN that encrypts every log group */
  readonly kmsKeyArn: string;
  /** retention in days (a CloudWatch Logs retention value) */
  readonly retentionDays: number;
  /** services that get a log group (only enabled services) */
  readonly serviceNames: string[];
}

/** One log group per enabled service, one for the migration task, one for ECS Exec session logs. */
export class LogGroups extends Construct {
  /** service name -> log group */
  readonly services: Record<string, CloudwatchLogGroup> = {};
  readonly migration: CloudwatchLogGroup;
  readonly exec: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: LogGroupsProps) {
    super(scope, id);
    if (!LOG_RETENTION_DAYS.includes(props.retentionDays)) {
      throw new PropsError('LogGroups', `retentionDays must be a CloudWatch Logs retention value, got ${props.retentionDays}`);
    }
    const group = (cid: string, name: string) =>
      new CloudwatchLogGroup(this, cid, { name, retentionInDays: props.retentionDays, kmsKeyId: props.kmsKeyArn });
    const names = new ResourceNames(props.env.prefix);
    for (const name of props.serviceNames) {
      if (name === 'migration' || name === 'exec') throw new PropsError('LogGroups', `service name "${name}" collides with a reserved log group`);
      this.services[name] = group(`service-${name}`, names.logGroup(name));
    }
    this.migration = group('migration', names.logGroup('migration'));
    this.exec = group('exec', names.logGroup('exec'));
  }
}
