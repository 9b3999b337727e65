// Services: per enabled catalog service a placeholder task definition revision (`<repo>:bootstrap`) and an ECS
// service created at desired_count 0 with the deployment circuit breaker (rollback on) and
// ignore_changes [desired_count, task_definition], so a later deploy never undoes a release by the runner.
// Web services sit behind their target group; support services register in Cloud Map; the migration task
// gets a task definition family only.
import { Construct } from 'constructs';
import { Fn, ITerraformDependable } from 'cdktf';
import { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition';
import { EcsService } from '@cdktf/provider-aws/lib/ecs-service';
import { ServiceDiscoveryService } from '@cdktf/provider-aws/lib/service-discovery-service';
import type { Service, SecretKey } from '../lib/config/index.cjs';
import { containerContract, valueFrom } from '../lib/config/contract.cjs';
import { PropsError, StackEnv } from './util';
import { ResourceNames } from './names';

/** Image tag of the placeholder revision Terraform registers; the runner registers release revisions. */
export const BOOTSTRAP_TAG = 'bootstrap';
/** Name of the EFS volume in task definitions (the catalog's `data` mount). */
export const DATA_VOLUME = 'data';

export interface ServicesProps {
  readonly env: StackEnv;
  /** enabled services only */
  readonly services: Service[];
  readonly clusterArn: string;
  /**
   * Every service waits for these (the capacity providers must be associated before a strategy names them).
   * @default []
   */
  readonly clusterDependencies?: ITerraformDependable[];
  readonly executionRoleArn: string;
  /** service name (and "migration") -> task role ARN */
  readonly taskRoleArns: Record<string, string>;
  /** image key -> repository URL */
  readonly repositoryUrls: Record<string, string>;
  /** service name -> log group name */
  readonly logGroupNames: Record<string, string>;
  /** secret key -> secret ARN */
  readonly secretArns: Record<SecretKey, string>;
  readonly subnetIds: string[];
  readonly securityGroupId: string;
  readonly efs: { fileSystemId: string; accessPointId: string; mountTargets: ITerraformDependable[] };
  readonly namespaceId: string;
  /** web service name -> target group ARN */
  readonly targetGroupArns: Record<string, string>;
  /** web services wait for these (the target group must be attached to a listener) */
  readonly loadBalancerDependencies: ITerraformDependable[];
  readonly migration: { image: string; command: string[]; cpu: number; memory: number; containerName: string; secrets: SecretKey[]; logGroupName: string };
  /**
   * Run workers on FARGATE_SPOT.
   * @default false
   */
  readonly fargateSpotForWorkers?: boolean;
  /**
   * @default true
   */
  readonly enableExecuteCommand?: boolean;
  /**
   * Seconds the ALB health check is ignored after a web task starts.
   * @default 30
   */
  readonly healthCheckGracePeriodSeconds?: number;
}

interface ContainerSpec {
  name: string;
  image: string;
  command: string[] | null;
  /** the catalog's container health check (null: none) */
  healthCheck: Service['healthCheck'];
  port: number | null;
  environment: Record<string, string>;
  secrets: SecretKey[];
  logGroupName: string;
  mounts: Service['mounts'];
}

export class Services extends Construct {
  /** service name -> placeholder task definition */
  readonly taskDefinitions: Record<string, EcsTaskDefinition> = {};
  /** service name -> ECS service */
  readonly ecsServices: Record<string, EcsService> = {};
  /** support service name -> Cloud Map service */
  readonly discoveryServices: Record<string, ServiceDiscoveryService> = {};
  readonly migrationTaskDefinition: EcsTaskDefinition;
  readonly migrationFamily: string;

  constructor(scope: Construct, id: string, props: ServicesProps) {
    super(scope, id);
    const { env } = props;
    const names = new ResourceNames(env.prefix);
    const exec = props.enableExecuteCommand ?? true;
    const grace = props.healthCheckGracePeriodSeconds ?? 30;
    for (const s of props.services) {
      if (!s.enabled) throw new PropsError('Services', `service ${s.name} is disabled (${s.disabledReason}); pass enabled services only`);
      if (!(s.image in props.repositoryUrls)) throw new PropsError('Services', `service ${s.name}: no repository for image "${s.image}"`);
      if (!(s.name in props.taskRoleArns)) throw new PropsError('Services', `service ${s.name}: no task role`);
      if (!(s.name in props.logGroupNames)) throw new PropsError('Services', `service ${s.name}: no log group`);
      if (s.kind === 'web' && !(s.name in props.targetGroupArns)) throw new PropsError('Services', `web service ${s.name}: no target group`);
    }

    const taskDefinition = (tid: string, family: string, spec: ContainerSpec, size: { cpu: number; memory: number }, taskRoleArn: string) => {
      const needsData = spec.mounts.some((m) => m.volume === DATA_VOLUME);
      // the application contract: PORT and the conventional variables from secret JSON keys
      const contract = containerContract({ secrets: spec.secrets, port: spec.port });
      const environment: Record<string, string> = { ...spec.environment, ...contract.environment };
      const container: Record<string, unknown> = {
        name: spec.name,
        image: `${spec.image}:${BOOTSTRAP_TAG}`,
        essential: true,
        // Soft limit = the task's memory (one container per task, so it may use all of it; the hard limit is the
        // task size). Fargate does not need it; moto 5.2.1 RunTask fails with HTTP 500 without a container-level
        // memory, and it documents the container's share explicitly. Release revisions copy it (runner).
        memoryReservation: size.memory,
        portMappings: spec.port === null ? [] : [{ name: spec.name, containerPort: spec.port, protocol: 'tcp' }],
        environment: Object.keys(environment).sort().map((k) => ({ name: k, value: environment[k] })),
        secrets: contract.secrets.map((r) => ({ name: r.name, valueFrom: valueFrom(props.secretArns[r.secret as SecretKey], r.key) })),
        mountPoints: spec.mounts.map((m) => ({ sourceVolume: m.volume, containerPath: m.containerPath, readOnly: m.readOnly })),
        logConfiguration: {
          logDriver: 'awslogs',
          options: { 'awslogs-group': spec.logGroupName, 'awslogs-region': env.region, 'awslogs-stream-prefix': spec.name },
        },
        linuxParameters: { initProcessEnabled: true },
      };
      if (spec.command) container.command = spec.command;
      if (spec.healthCheck) {
        const h = spec.healthCheck;
        // exec form (no shell): the catalog's argv as ECS's ["CMD", ...]
        container.healthCheck = { command: ['CMD', ...h.command], interval: h.intervalSeconds, timeout: h.timeoutSeconds, retries: h.retries, startPeriod: h.startPeriodSeconds };
      }
      return new EcsTaskDefinition(this, tid, {
        family,
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: String(size.cpu),
        memory: String(size.memory),
        executionRoleArn: props.executionRoleArn,
        taskRoleArn,
        runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
        containerDefinitions: Fn.jsonencode([container]),
        volume: needsData
          ? [{
              name: DATA_VOLUME,
              efsVolumeConfiguration: {
                fileSystemId: props.efs.fileSystemId,
                rootDirectory: '/',
                transitEncryption: 'ENABLED',
                authorizationConfig: { accessPointId: props.efs.accessPointId, iam: 'ENABLED' },
              },
            }]
          : [],
      });
    };

    for (const s of props.services) {
      const family = names.taskFamily(s.name);
      const td = taskDefinition(`task-definition-${s.name}`, family, {
        name: s.name,
        image: props.repositoryUrls[s.image],
        command: s.command,
        healthCheck: s.healthCheck,
        port: s.port,
        environment: s.environment,
        secrets: s.secrets,
        logGroupName: props.logGroupNames[s.name],
        mounts: s.mounts,
      }, s, props.taskRoleArns[s.name]);
      this.taskDefinitions[s.name] = td;

      let registry: ServiceDiscoveryService | undefined;
      if (s.kind === 'support') {
        registry = new ServiceDiscoveryService(this, `discovery-${s.name}`, {
          name: s.discoveryName!,
          dnsConfig: { namespaceId: props.namespaceId, dnsRecords: [{ type: 'A', ttl: 10 }], routingPolicy: 'MULTIVALUE' },
          healthCheckCustomConfig: { failureThreshold: 1 },
        });
        this.discoveryServices[s.name] = registry;
      }
      const dependsOn: ITerraformDependable[] = [...(props.clusterDependencies ?? [])];
      if (s.kind === 'web') dependsOn.push(...props.loadBalancerDependencies);
      if (s.needsData) dependsOn.push(...props.efs.mountTargets);
      const spot = s.kind === 'worker' && (props.fargateSpotForWorkers ?? false);
      this.ecsServices[s.name] = new EcsService(this, `service-${s.name}`, {
        name: names.service(s.name),
        cluster: props.clusterArn,
        taskDefinition: td.arn,
        desiredCount: 0,
        capacityProviderStrategy: [{ capacityProvider: spot ? 'FARGATE_SPOT' : 'FARGATE', weight: 1, base: 0 }],
        platformVersion: 'LATEST',
        networkConfiguration: { subnets: props.subnetIds, securityGroups: [props.securityGroupId], assignPublicIp: false },
        deploymentCircuitBreaker: { enable: true, rollback: true },
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
        enableExecuteCommand: exec,
        enableEcsManagedTags: true,
        propagateTags: 'SERVICE',
        waitForSteadyState: false,
        ...(s.kind === 'web'
          ? {
              healthCheckGracePeriodSeconds: grace,
              loadBalancer: [{ targetGroupArn: props.targetGroupArns[s.name], containerName: s.name, containerPort: s.port! }],
            }
          : {}),
        ...(registry ? { serviceRegistries: { registryArn: registry.arn } } : {}),
        lifecycle: { ignoreChanges: ['desired_count', 'task_definition'] },
        dependsOn,
      });
    }

    this.migrationFamily = names.taskFamily('migration');
    if (!(props.migration.image in props.repositoryUrls)) throw new PropsError('Services', `migration: no repository for image "${props.migration.image}"`);
    if (!('migration' in props.taskRoleArns)) throw new PropsError('Services', 'migration: no task role');
    this.migrationTaskDefinition = taskDefinition('task-definition-migration', this.migrationFamily, {
      name: props.migration.containerName,
      image: props.repositoryUrls[props.migration.image],
      command: props.migration.command,
      healthCheck: null,
      port: null,
      environment: {},
      secrets: props.migration.secrets,
      logGroupName: props.migration.logGroupName,
      mounts: [],
    }, props.migration, props.taskRoleArns.migration);
  }
}
