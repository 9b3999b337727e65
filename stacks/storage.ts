// Shared storage: EFS for /data, encrypted with the environment key, a mount target in every private subnet,
// one access point with a fixed POSIX owner, and a file system policy that refuses unencrypted transport.
import { Construct } from 'constructs';
import { EfsFileSystem } from '@cdktf/provider-aws/lib/efs-file-system';
import { EfsMountTarget } from '@cdktf/provider-aws/lib/efs-mount-target';
import { EfsAccessPoint } from '@cdktf/provider-aws/lib/efs-access-point';
import { EfsFileSystemPolicy } from '@cdktf/provider-aws/lib/efs-file-system-policy';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { PropsError, StackEnv } from './util';

export interface SharedStorageProps {
  readonly env: StackEnv;
  readonly subnetIds: string[];
  readonly securityGroupId: string;
  readonly kmsKeyArn: string;
  /** root directory of the access point, e.g. "/data" */
  readonly dataPath: string;
  readonly posixUid: number;
  readonly posixGid: number;
}

export class SharedStorage extends Construct {
  readonly fileSystem: EfsFileSystem;
  readonly mountTargets: EfsMountTarget[];
  readonly accessPoint: EfsAccessPoint;

  constructor(scope: Construct, id: string, props: SharedStorageProps) {
    super(scope, id);
    if (props.subnetIds.length === 0) throw new PropsError('SharedStorage', 'subnetIds must not be empty');
    if (!/^\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(props.dataPath)) throw new PropsError('SharedStorage', `dataPath must be an absolute path other than "/", got ${JSON.stringify(props.dataPath)}`);
    for (const [k, v] of [['posixUid', props.posixUid], ['posixGid', props.posixGid]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new PropsError('SharedStorage', `${k} must be a positive integer (not root), got ${v}`);
    }
    const { prefix } = props.env;
    this.fileSystem = new EfsFileSystem(this, 'file-system', {
      creationToken: `${prefix}-data`,
      encrypted: true,
      kmsKeyId: props.kmsKeyArn,
      performanceMode: 'generalPurpose',
      throughputMode: 'elastic',
      tags: { Name: `${prefix}-data` },
    });
    this.mountTargets = props.subnetIds.map((subnetId, i) => new EfsMountTarget(this, `mount-target-${i}`, {
      fileSystemId: this.fileSystem.id,
      subnetId,
      securityGroups: [props.securityGroupId],
    }));
    this.accessPoint = new EfsAccessPoint(this, 'access-point', {
      fileSystemId: this.fileSystem.id,
      posixUser: { uid: props.posixUid, gid: props.posixGid },
      rootDirectory: {
        path: props.dataPath,
        creationInfo: { ownerUid: props.posixUid, ownerGid: props.posixGid, permissions: '0750' },
      },
      tags: { Name: `${prefix}-data` },
    });
    const policy = new DataAwsIamPolicyDocument(this, 'policy', {
      statement: [{
        sid: 'DenyUnencryptedTransport',
        effect: 'Deny',
        principals: [{ type: 'AWS', identifiers: ['*'] }],
        actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite', 'elasticfilesystem:ClientRootAccess'],
        resources: [this.fileSystem.arn],
        condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
      }],
    });
    new EfsFileSystemPolicy(this, 'file-system-policy', { fileSystemId: this.fileSystem.id, policy: policy.json });
  }
}
