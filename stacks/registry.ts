// Registry: one ECR repository per image key, immutable tags, scan on push, KMS encryption, lifecycle policy.
import { Construct } from 'constructs';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { EcrLifecyclePolicy } from '@cdktf/provider-aws/lib/ecr-lifecycle-policy';
import { PropsError, StackEnv } from './util';
import { ResourceNames } from './names';

export interface RegistryProps {
  readonly env: StackEnv;
  /** image keys (config `images`) */
  readonly imageKeys: string[];
  readonly kmsKeyArn: string;
  /**
   * Tagged images kept per repository (older ones expire).
   * @default 50
   */
  readonly keepTaggedImages?: number;
  /**
   * Days after which untagged images expire.
   * @default 7
   */
  readonly untaggedExpiryDays?: number;
}

export class Registry extends Construct {
  /** image key -> repository */
  readonly repositories: Record<string, EcrRepository> = {};

  constructor(scope: Construct, id: string, props: RegistryProps) {
    super(scope, id);
    const keep = props.keepTaggedImages ?? 50;
    const untaggedDays = props.untaggedExpiryDays ?? 7;
    if (props.imageKeys.length === 0) throw new PropsError('Registry', 'imageKeys must not be empty');
    if (!Number.isInteger(keep) || keep < 1) throw new PropsError('Registry', `keepTaggedImages must be a positive integer, got ${keep}`);
    if (!Number.isInteger(untaggedDays) || untaggedDays < 1) throw new PropsError('Registry', `untaggedExpiryDays must be a positive integer, got ${untaggedDays}`);
    const policy = JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          description: `expire untagged images after ${untaggedDays} days`,
          selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: untaggedDays },
          action: { type: 'expire' },
        },
        {
          rulePriority: 2,
          description: `keep the ${keep} most recent images`,
          selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: keep },
          action: { type: 'expire' },
        },
      ],
    });
    for (const key of props.imageKeys) {
      const repo = new EcrRepository(this, `repository-${key}`, {
        name: new ResourceNames(props.env.prefix).repository(key),
        imageTagMutability: 'IMMUTABLE',
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: [{ encryptionType: 'KMS', kmsKey: props.kmsKeyArn }],
        forceDelete: false,
      });
      new EcrLifecyclePolicy(this, `lifecycle-${key}`, { repository: repo.name, policy });
      this.repositories[key] = repo;
    }
  }
}
