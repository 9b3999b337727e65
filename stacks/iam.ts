// IAM for tasks: one task execution role that pulls only this environment's repositories, writes only its log
// groups and reads only its secrets; one task role per service (and one for the migration task) with only what
// that service needs: EFS through the access point for `data` mounts, elasticache:Connect for services that
// get the `cache` secret, ssmmessages + the exec log group + the key for ECS Exec.
import { Construct } from 'constructs';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { DataAwsIamPolicyDocument, DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { PropsError, StackEnv } from './util';
import { ResourceNames } from './names';

/** What one task role needs. */
export interface TaskRoleNeeds {
  /**
   * EFS access: 'rw' (ClientMount + ClientWrite), 'ro' (ClientMount) or none.
   * @default undefined (no EFS access)
   */
  readonly efs?: 'rw' | 'ro';
  /**
   * IAM authentication to the Valkey replication group.
   * @default false
   */
  readonly cache?: boolean;
}

export interface TaskIamProps {
  readonly env: StackEnv;
  readonly kmsKeyArn: string;
  /** ECR repositories tasks may pull from */
  readonly repositoryArns: string[];
  /** log groups tasks write to */
  readonly logGroupArns: string[];
  /** secrets injected into containers */
  readonly secretArns: string[];
  /** role key (service name or "migration") -> needs */
  readonly taskRoles: Record<string, TaskRoleNeeds>;
  readonly efs: { fileSystemArn: string; accessPointArn: string };
  readonly cache: { replicationGroupArn: string; userArn: string };
  /**
   * ECS Exec: when set, every task role may open exec sessions and log them here.
   * @default undefined (no ECS Exec permissions)
   */
  readonly exec?: { logGroupArn: string };
}

export class TaskIam extends Construct {
  readonly executionRole: IamRole;
  /** role key -> task role */
  readonly taskRoles: Record<string, IamRole> = {};

  constructor(scope: Construct, id: string, props: TaskIamProps) {
    super(scope, id);
    const { env } = props;
    if (props.repositoryArns.length === 0) throw new PropsError('TaskIam', 'repositoryArns must not be empty');
    if (props.logGroupArns.length === 0) throw new PropsError('TaskIam', 'logGroupArns must not be empty');
    const trust = new DataAwsIamPolicyDocument(this, 'ecs-tasks-trust', {
      statement: [{
        effect: 'Allow',
        actions: ['sts:AssumeRole'],
        principals: [{ type: 'Service', identifiers: ['ecs-tasks.amazonaws.com'] }],
        condition: [
          { test: 'StringEquals', variable: 'aws:SourceAccount', values: [env.accountId] },
          { test: 'ArnLike', variable: 'aws:SourceArn', values: [`arn:${env.partition}:ecs:${env.region}:${env.accountId}:*`] },
        ],
      }],
    });

    this.executionRole = new IamRole(this, 'execution-role', { name: new ResourceNames(env.prefix).executionRole, assumeRolePolicy: trust.json });
    const execStatements: DataAwsIamPolicyDocumentStatement[] = [
      // GetAuthorizationToken has no resource-level permissions: AWS requires "*"
      { sid: 'EcrLogin', effect: 'Allow', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
      { sid: 'PullOwnRepositories', effect: 'Allow', actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'], resources: props.repositoryArns },
      { sid: 'WriteOwnLogGroups', effect: 'Allow', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: props.logGroupArns.map((a) => `${a}:*`) },
      // the key decrypts the containers' secrets for ECS, through Secrets Manager only (ECR and CloudWatch Logs use
      // the key by their own grants and key-policy statement, not through this role)
      {
        sid: 'DecryptWithEnvironmentKey', effect: 'Allow', actions: ['kms:Decrypt'], resources: [props.kmsKeyArn],
        condition: [{ test: 'StringEquals', variable: 'kms:ViaService', values: [`secretsmanager.${env.region}.amazonaws.com`] }],
      },
    ];
    if (props.secretArns.length > 0) {
      execStatements.push({ sid: 'ReadOwnSecrets', effect: 'Allow', actions: ['secretsmanager:GetSecretValue'], resources: props.secretArns });
    }
    const execPolicy = new DataAwsIamPolicyDocument(this, 'execution-policy', { statement: execStatements });
    new IamRolePolicy(this, 'execution-role-policy', { name: 'task-execution', role: this.executionRole.id, policy: execPolicy.json });

    for (const [key, needs] of Object.entries(props.taskRoles)) {
      const role = new IamRole(this, `task-role-${key}`, { name: new ResourceNames(env.prefix).taskRole(key), assumeRolePolicy: trust.json });
      this.taskRoles[key] = role;
      const statements: DataAwsIamPolicyDocumentStatement[] = [];
      if (needs.efs) {
        statements.push({
          sid: 'DataThroughAccessPoint',
          effect: 'Allow',
          actions: needs.efs === 'rw' ? ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'] : ['elasticfilesystem:ClientMount'],
          resources: [props.efs.fileSystemArn],
          condition: [{ test: 'StringEquals', variable: 'elasticfilesystem:AccessPointArn', values: [props.efs.accessPointArn] }],
        });
      }
      if (needs.cache) {
        statements.push({ sid: 'ValkeyIamAuth', effect: 'Allow', actions: ['elasticache:Connect'], resources: [props.cache.replicationGroupArn, props.cache.userArn] });
      }
      if (props.exec) {
        // the ssmmessages channel actions have no resource-level permissions: AWS requires "*"
        statements.push(
          { sid: 'EcsExecChannels', effect: 'Allow', actions: ['ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel'], resources: ['*'] },
          { sid: 'EcsExecSessionLogs', effect: 'Allow', actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'], resources: [props.exec.logGroupArn, `${props.exec.logGroupArn}:*`] },
          // DescribeLogGroups has no resource-level permissions: AWS requires "*"
          { sid: 'EcsExecFindLogGroup', effect: 'Allow', actions: ['logs:DescribeLogGroups'], resources: ['*'] },
          { sid: 'EcsExecSessionKey', effect: 'Allow', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.kmsKeyArn] },
        );
      }
      if (statements.length > 0) {
        const doc = new DataAwsIamPolicyDocument(this, `task-policy-${key}`, { statement: statements });
        new IamRolePolicy(this, `task-role-policy-${key}`, { name: `task-${key}`, role: role.id, policy: doc.json });
      }
    }
  }
}
