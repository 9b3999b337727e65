// THE names of the environment's named resources, from the config's namePrefix alone. The `foundation` stack
// names its resources with these, and the `ci-access` stack builds the rollout and deploy roles' resource ARNs
// from the same functions (no reference to foundation's state, so no cycle between the two stacks).
import { SECRET_KEYS } from '../lib/config/index.cjs';
import type { SecretKey } from '../lib/config/index.cjs';
import { boundedName } from './util';
import { ledgerPath, lockName } from '../lib/config/names.cjs';

/** Names of one environment's resources (`prefix` = config `namePrefix`). */
export class ResourceNames {
  constructor(readonly prefix: string) {}

  /** ECS cluster */
  get cluster(): string {
    return `${this.prefix}-cluster`;
  }
  /** ECS service of a catalog service */
  service(name: string): string {
    return `${this.prefix}-${name}`;
  }
  /** task-definition family of a catalog service, or of "migration" */
  taskFamily(name: string): string {
    return `${this.prefix}-${name}`;
  }
  /** ECR repository of an image key */
  repository(imageKey: string): string {
    return `${this.prefix}/${imageKey}`;
  }
  /** log group of a catalog service, or of the reserved "migration" and "exec" groups */
  logGroup(name: string): string {
    return `/ecs/${this.prefix}/${name}`;
  }
  /** Secrets Manager secret name (AWS appends "-" and 6 random characters to its ARN) */
  secret(key: SecretKey): string {
    return `${this.prefix}/${key.replace(/_/g, '-')}`;
  }
  /** every secret name, by key */
  get secrets(): Record<SecretKey, string> {
    return Object.fromEntries(SECRET_KEYS.map((k) => [k, this.secret(k)])) as Record<SecretKey, string>;
  }
  /** target group of a web service (ARNs end in a random id: `targetgroup/<name>/<id>`) */
  targetGroup(name: string): string {
    return boundedName(`${this.prefix}-${name}`, 32);
  }
  /** the application load balancer */
  get loadBalancer(): string {
    return boundedName(`${this.prefix}-alb`, 32);
  }
  /** alias of the environment's KMS key (its id is generated; policies outside foundation name the key by it) */
  get keyAlias(): string {
    return `alias/${this.prefix}`;
  }
  /** the task execution role */
  get executionRole(): string {
    return `${this.prefix}-task-execution`;
  }
  /** task role of a catalog service, or of "migration" */
  taskRole(key: string): string {
    return `${this.prefix}-task-${key}`;
  }
  /** SSM Parameter Store path of the release ledger (the runner's rule: lib/config/names.cjs) */
  get ledgerPath(): string {
    return ledgerPath(this.prefix);
  }
  /** SSM parameter of the environment's lock, one change at a time (the runner's rule: lib/config/names.cjs) */
  get lockName(): string {
    return lockName(this.prefix);
  }
  /** IAM name prefix of every role and instance profile the foundation creates */
  get iamPrefix(): string {
    return `${this.prefix}-`;
  }
  /** a role of ci-access (under CI_PATH): `<prefix>-ci-<key>`; its managed policies are `<that>-<n>` */
  ciRole(key: string): string {
    return `${this.prefix}-ci-${key.replace(/_/g, '-')}`;
  }
  /** the permissions boundary of the foundation roles, a managed policy of ci-access (under CI_PATH) */
  get ciBoundaryPolicy(): string {
    return `${this.prefix}-ci-foundation-boundary`;
  }
}

/** The IAM path of everything ci-access creates (roles, their policies, the boundary): the deploy role never reaches it. */
export const CI_PATH = '/ci-access/';
