// Database host: PostgreSQL on one EC2 instance in a private subnet. IMDSv2 only, no key pair (Session
// Manager instead), encrypted root volume and a separate encrypted EBS data volume that outlives the instance
// (prevent_destroy, attached by a separate aws_volume_attachment). The password is generated ON THE HOST and
// written to the `database` secret with PutSecretValue; Terraform never sees it. With cache.auth "password" the
// host also generates the cache app user's password, writes the whole `cache` secret and sets the password in
// the cache with ElastiCache ModifyUser (stacks/cache.ts); its role may do that for that one user only.
import { Construct } from 'constructs';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { EbsVolume } from '@cdktf/provider-aws/lib/ebs-volume';
import { VolumeAttachment } from '@cdktf/provider-aws/lib/volume-attachment';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DataAwsSsmParameter } from '@cdktf/provider-aws/lib/data-aws-ssm-parameter';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { PropsError, StackEnv } from './util';
import { databaseUserData } from './database-user-data';
import type { UserDataCache } from './database-user-data';

/** Actions the SSM agent needs for Session Manager; AWS requires Resource "*" for them. */
export const SSM_AGENT_ACTIONS = [
  'ssm:UpdateInstanceInformation',
  'ssmmessages:CreateControlChannel',
  'ssmmessages:CreateDataChannel',
  'ssmmessages:OpenControlChannel',
  'ssmmessages:OpenDataChannel',
  'ec2messages:AcknowledgeMessage',
  'ec2messages:DeleteMessage',
  'ec2messages:FailMessage',
  'ec2messages:GetEndpoint',
  'ec2messages:GetMessages',
  'ec2messages:SendReply',
];

export const DATA_DEVICE_NAME = '/dev/sdf';

export interface DatabaseHostProps {
  readonly env: StackEnv;
  /** private subnet of the host; the data volume is created in its AZ */
  readonly subnet: Subnet;
  readonly securityGroupId: string;
  readonly kmsKeyArn: string;
  /** ARN of the `database` secret the host writes */
  readonly secretArn: string;
  /** VPC CIDR allowed in pg_hba.conf (the security group narrows it to tasks) */
  readonly vpcCidr: string;
  /**
   * The cache app user whose password this host generates and sets (cache.auth "password").
   * @default undefined (cache.auth "iam": no cache password exists)
   */
  readonly cache?: DatabaseHostCache;
  /**
   * @default 't3.small'
   */
  readonly instanceType?: string;
  /**
   * @default 20
   */
  readonly dataVolumeGiB?: number;
  /**
   * PostgreSQL major version (Amazon Linux 2023 package postgresql<N>-server).
   * @default '15'
   */
  readonly postgresVersion?: string;
  /**
   * @default 'app'
   */
  readonly databaseName?: string;
  /**
   * @default 'app'
   */
  readonly username?: string;
  /**
   * lifecycle.prevent_destroy on the data volume.
   * @default true
   */
  readonly protectDataVolume?: boolean;
  /**
   * SSM public parameter with the AMI id; the architecture follows the instance type (…-arm64 for Graviton).
   * @default '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-<arch>'
   */
  readonly amiParameter?: string;
}

/**
 * What the host needs to own the cache password: the secret, the RBAC user and the replication group. Ids and
 * ARNs built from names, no reference to the cache resources: the host does not wait for (or get replaced with)
 * the replication group; its bootstrap looks the endpoint up when the group is available.
 */
export interface DatabaseHostCache extends UserDataCache {
  readonly userArn: string;
  readonly replicationGroupArn: string;
}

export class DatabaseHost extends Construct {
  readonly instance: Instance;
  readonly dataVolume: EbsVolume;
  readonly attachment: VolumeAttachment;
  readonly role: IamRole;
  /** PostgreSQL port */
  readonly port = 5432;

  constructor(scope: Construct, id: string, props: DatabaseHostProps) {
    super(scope, id);
    const instanceType = props.instanceType ?? 't3.small';
    const size = props.dataVolumeGiB ?? 20;
    const pgVersion = props.postgresVersion ?? '15';
    const dbName = props.databaseName ?? 'app';
    const user = props.username ?? 'app';
    if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(instanceType)) throw new PropsError('DatabaseHost', `instanceType must look like "t3.small", got ${JSON.stringify(instanceType)}`);
    if (!Number.isInteger(size) || size < 1 || size > 16384) throw new PropsError('DatabaseHost', `dataVolumeGiB must be an integer 1-16384, got ${size}`);
    if (!/^\d{2}$/.test(pgVersion)) throw new PropsError('DatabaseHost', `postgresVersion must be a major version like "15", got ${JSON.stringify(pgVersion)}`);
    for (const [k, v] of [['databaseName', dbName], ['username', user]] as const) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(v)) throw new PropsError('DatabaseHost', `${k} must be a lowercase SQL identifier, got ${JSON.stringify(v)}`);
    }
    const { env } = props;
    const arch = /^[a-z]+\d+g[a-z]*\./.test(instanceType) ? 'arm64' : 'x86_64';
    const ami = new DataAwsSsmParameter(this, 'ami', {
      name: props.amiParameter ?? `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arch}`,
    });

    const trust = new DataAwsIamPolicyDocument(this, 'trust', {
      statement: [{ effect: 'Allow', actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: ['ec2.amazonaws.com'] }] }],
    });
    this.role = new IamRole(this, 'role', { name: `${env.prefix}-database-host`, assumeRolePolicy: trust.json });
    const policy = new DataAwsIamPolicyDocument(this, 'policy', {
      statement: [
        {
          sid: 'SessionManagerAgent',
          effect: 'Allow',
          actions: SSM_AGENT_ACTIONS,
          resources: ['*'],
        },
        {
          sid: 'OwnDatabaseSecretOnly',
          effect: 'Allow',
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [props.secretArn],
        },
        ...(props.cache
          ? [
              {
                sid: 'OwnCacheSecretOnly',
                effect: 'Allow',
                actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:DescribeSecret'],
                resources: [props.cache.secretArn],
              },
              {
                sid: 'SetCacheAppUserPasswordOnly',
                effect: 'Allow',
                actions: ['elasticache:DescribeUsers', 'elasticache:ModifyUser'],
                resources: [props.cache.userArn],
              },
              {
                sid: 'FindCacheEndpoint',
                effect: 'Allow',
                actions: ['elasticache:DescribeReplicationGroups'],
                resources: [props.cache.replicationGroupArn],
              },
            ]
          : []),
        {
          sid: 'KeyThroughSecretsManagerOnly',
          effect: 'Allow',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [props.kmsKeyArn],
          condition: [{ test: 'StringEquals', variable: 'kms:ViaService', values: [`secretsmanager.${env.region}.amazonaws.com`] }],
        },
      ],
    });
    new IamRolePolicy(this, 'role-policy', { name: 'database-host', role: this.role.id, policy: policy.json });
    const profile = new IamInstanceProfile(this, 'profile', { name: `${env.prefix}-database-host`, role: this.role.name });

    this.dataVolume = new EbsVolume(this, 'data-volume', {
      availabilityZone: props.subnet.availabilityZone,
      size,
      type: 'gp3',
      encrypted: true,
      kmsKeyId: props.kmsKeyArn,
      finalSnapshot: true,
      tags: { Name: `${env.prefix}-database-data` },
      lifecycle: { preventDestroy: props.protectDataVolume ?? true },
    });

    this.instance = new Instance(this, 'instance', {
      ami: ami.value,
      instanceType,
      subnetId: props.subnet.id,
      vpcSecurityGroupIds: [props.securityGroupId],
      iamInstanceProfile: profile.name,
      associatePublicIpAddress: false,
      metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled', httpPutResponseHopLimit: 1, instanceMetadataTags: 'disabled' },
      rootBlockDevice: { encrypted: true, kmsKeyId: props.kmsKeyArn, volumeType: 'gp3', volumeSize: 8, deleteOnTermination: true },
      userData: databaseUserData({
        secretArn: props.secretArn,
        volumeId: this.dataVolume.id,
        region: env.region,
        pgVersion,
        dbName,
        user,
        vpcCidr: props.vpcCidr,
        cache: props.cache,
      }),
      userDataReplaceOnChange: true,
      tags: { Name: `${env.prefix}-database` },
      // a new AMI release must not replace the host behind the operator's back
      lifecycle: { ignoreChanges: ['ami'] },
    });

    this.attachment = new VolumeAttachment(this, 'data-attachment', {
      deviceName: DATA_DEVICE_NAME,
      volumeId: this.dataVolume.id,
      instanceId: this.instance.id,
      stopInstanceBeforeDetaching: true,
    });
  }
}
