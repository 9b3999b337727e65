// Cache: ElastiCache Valkey replication group, encrypted at rest (environment key) and in transit (TLS
// required), in the private subnets, reachable only from the tasks security group. Authentication is RBAC; the
// built-in `default` user is replaced by a disabled one. Two modes (config cache.auth):
// - "password" (default): the app user is created with IAM authentication (nobody can log in yet: no task role
//   gets elasticache:Connect) and the database host's bootstrap switches it to a password it generates, stores in
//   the `cache` secret and sets with ModifyUser (stacks/database.ts). Terraform ignores the user's
//   authentication_mode afterwards, so the password is never in code, synthesized JSON, state or plan.
// - "iam": the app user authenticates with short-lived IAM tokens (elasticache:Connect); no password exists, and
//   the `cache` secret gets only connection metadata from Terraform values (write-only argument).
import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { ElasticacheSubnetGroup } from '@cdktf/provider-aws/lib/elasticache-subnet-group';
import { ElasticacheReplicationGroup } from '@cdktf/provider-aws/lib/elasticache-replication-group';
import { ElasticacheUser } from '@cdktf/provider-aws/lib/elasticache-user';
import { ElasticacheUserGroup } from '@cdktf/provider-aws/lib/elasticache-user-group';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version';
import { cacheSecretValue } from '../lib/config/contract.cjs';
import { PropsError, StackEnv } from './util';

/** Version of the `cache` secret's connection metadata in "iam" mode (secret_string_wo_version). */
export const CONNECTION_METADATA_VERSION = 2;

export type CacheAuth = 'password' | 'iam';

export interface CacheProps {
  readonly env: StackEnv;
  readonly subnetIds: string[];
  readonly securityGroupId: string;
  readonly kmsKeyArn: string;
  /** the `cache` secret: Terraform writes connection metadata into it in "iam" mode only */
  readonly secretId: string;
  /**
   * "password": the database host sets a generated password on the app user (see the file comment);
   * "iam": IAM token authentication.
   * @default 'password'
   */
  readonly auth?: CacheAuth;
  /**
   * @default 'cache.t4g.micro'
   */
  readonly nodeType?: string;
  /**
   * Valkey version, e.g. "8.0" (the parameter group is default.valkey<major>).
   * @default '8.0'
   */
  readonly engineVersion?: string;
  /**
   * Read replicas; more than 0 turns on automatic failover and Multi-AZ.
   * @default 0
   */
  readonly replicas?: number;
}

export class Cache extends Construct {
  readonly replicationGroup: ElasticacheReplicationGroup;
  readonly appUser: ElasticacheUser;
  readonly userGroup: ElasticacheUserGroup;
  readonly subnetGroup: ElasticacheSubnetGroup;
  /** the app user's id (= its user name, as IAM authentication requires) */
  readonly appUserId: string;
  readonly replicationGroupId: string;
  /** ARNs built from the ids (no dependency on the created resources): what elasticache:Connect is granted on */
  readonly replicationGroupArn: string;
  readonly appUserArn: string;
  /** "iam" mode only: the write-only connection metadata version */
  readonly connectionMetadata?: SecretsmanagerSecretVersion;
  readonly auth: CacheAuth;
  readonly port = 6379;

  constructor(scope: Construct, id: string, props: CacheProps) {
    super(scope, id);
    const nodeType = props.nodeType ?? 'cache.t4g.micro';
    const version = props.engineVersion ?? '8.0';
    const replicas = props.replicas ?? 0;
    if (!/^[78]\.\d+$/.test(version)) throw new PropsError('Cache', `engineVersion must be a Valkey version like "8.0", got ${JSON.stringify(version)}`);
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > 5) throw new PropsError('Cache', `replicas must be an integer 0-5, got ${replicas}`);
    if (props.subnetIds.length === 0) throw new PropsError('Cache', 'subnetIds must not be empty');
    this.auth = props.auth ?? 'password';
    if (this.auth !== 'password' && this.auth !== 'iam') throw new PropsError('Cache', `auth must be "password" or "iam", got ${JSON.stringify(this.auth)}`);
    const { prefix } = props.env;

    this.subnetGroup = new ElasticacheSubnetGroup(this, 'subnet-group', {
      name: `${prefix}-cache`,
      description: `${prefix}: private subnets for Valkey`,
      subnetIds: props.subnetIds,
    });
    this.appUserId = `${prefix}-app`;
    this.replicationGroupId = `${prefix}-valkey`;
    const arnBase = `arn:${props.env.partition}:elasticache:${props.env.region}:${props.env.accountId}`;
    this.replicationGroupArn = `${arnBase}:replicationgroup:${this.replicationGroupId}`;
    this.appUserArn = `${arnBase}:user:${this.appUserId}`;
    this.appUser = new ElasticacheUser(this, 'app-user', {
      userId: this.appUserId,
      userName: this.appUserId,
      engine: 'valkey',
      accessString: 'on ~* +@all -@admin',
      // created with IAM in both modes; in "password" mode the database host switches it to its password, and
      // Terraform must not switch it back (nor ever hold the password)
      authenticationMode: { type: 'iam' },
      ...(this.auth === 'password' ? { lifecycle: { ignoreChanges: ['authentication_mode'] } } : {}),
    });
    const disabledDefault = new ElasticacheUser(this, 'default-user', {
      userId: `${prefix}-default-off`,
      userName: 'default',
      engine: 'valkey',
      accessString: 'off -@all',
      authenticationMode: { type: 'no-password-required' },
    });
    this.userGroup = new ElasticacheUserGroup(this, 'user-group', {
      userGroupId: `${prefix}-users`,
      engine: 'valkey',
      userIds: [disabledDefault.userId, this.appUser.userId],
    });
    this.replicationGroup = new ElasticacheReplicationGroup(this, 'replication-group', {
      replicationGroupId: this.replicationGroupId,
      description: `${prefix}: Valkey for the application`,
      engine: 'valkey',
      engineVersion: version,
      parameterGroupName: `default.valkey${version.split('.')[0]}`,
      nodeType,
      port: this.port,
      numCacheClusters: 1 + replicas,
      automaticFailoverEnabled: replicas > 0,
      multiAzEnabled: replicas > 0,
      subnetGroupName: this.subnetGroup.name,
      securityGroupIds: [props.securityGroupId],
      atRestEncryptionEnabled: 'true',
      kmsKeyId: props.kmsKeyArn,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      userGroupIds: [this.userGroup.userGroupId],
      autoMinorVersionUpgrade: 'true',
      applyImmediately: true,
      snapshotRetentionLimit: 0,
    });

    if (this.auth === 'iam') {
      // Connection metadata only (host, port, user, TLS, auth by IAM token), written through the write-only
      // argument so not even this lands in state. Bump CONNECTION_METADATA_VERSION when its shape changes.
      this.connectionMetadata = new SecretsmanagerSecretVersion(this, 'connection-metadata', {
        secretId: props.secretId,
        secretStringWoVersion: CONNECTION_METADATA_VERSION,
        secretStringWo: Fn.jsonencode(cacheSecretValue({
          host: this.replicationGroup.primaryEndpointAddress,
          port: this.port,
          username: this.appUserId,
          replicationGroupId: this.replicationGroup.replicationGroupId,
          region: props.env.region,
        })),
      });
    }
  }
}
