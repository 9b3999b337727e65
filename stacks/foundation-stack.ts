// The `foundation` stack: everything the application needs, nothing running yet (every ECS service at 0).
// Construct IDs below are public API: they become Terraform resource addresses, so renaming one replaces the
// resources under it (see docs/foundation.md).
import { Construct } from 'constructs';
import { Aspects, TerraformOutput, TerraformStack, Token } from 'cdktf';
import type { IResolvable } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { SECRET_KEYS } from '../lib/config/index.cjs';
import type { SecretKey, ServiceCatalogOutput } from '../lib/config/index.cjs';
import type { EnvironmentConfig } from './config';
import { Keys, LogGroups } from './keys';
import { Network, VpcEndpoints } from './network';
import { SecurityGroups } from './security-groups';
import { Registry } from './registry';
import { Cluster } from './cluster';
import { Secrets } from './secrets';
import { DatabaseHost } from './database';
import { Cache } from './cache';
import { SharedStorage } from './storage';
import { LoadBalancer } from './load-balancer';
import { TaskIam, TaskRoleNeeds } from './iam';
import { Services } from './services';
import { StateOwner } from './state-owner';
import { PropsError, StackEnv, unique } from './util';
import { configureBackend } from './backend';
import { boundaryPolicyArn, PermissionsBoundary } from './boundary';
import { ResourceNames } from './names';

export const STACK_ID = 'foundation';

export interface FoundationStackProps {
  /** validated environment config (stacks/config.ts) */
  readonly environment: EnvironmentConfig;
}

export class FoundationStack extends TerraformStack {
  readonly env: StackEnv;
  readonly keys: Keys;
  readonly logGroups: LogGroups;
  readonly network: Network;
  readonly securityGroups: SecurityGroups;
  readonly endpoints: VpcEndpoints;
  readonly registry: Registry;
  readonly cluster: Cluster;
  readonly secrets: Secrets;
  readonly database: DatabaseHost;
  readonly cache: Cache;
  readonly storage: SharedStorage;
  readonly loadBalancer: LoadBalancer;
  readonly iam: TaskIam;
  readonly services: Services;
  readonly stateOwner: StateOwner;

  constructor(scope: Construct, id: string, props: FoundationStackProps) {
    super(scope, id);
    const { config, services: catalog } = props.environment;
    if (!config || !Array.isArray(catalog)) throw new PropsError('FoundationStack', 'environment must come from loadConfig() or parseConfig()');
    const enabled = catalog.filter((s) => s.enabled);
    const web = enabled.filter((s) => s.kind === 'web');

    configureBackend(this, props.environment.config.backend);
    this.stateOwner = new StateOwner(this, 'state', { environment: config.environment });
    new AwsProvider(this, 'aws', { region: config.region, defaultTags: [{ tags: config.tags }] });
    const identity = new DataAwsCallerIdentity(this, 'caller');
    const partition = new DataAwsPartition(this, 'partition');
    this.env = { prefix: config.namePrefix, region: config.region, accountId: identity.accountId, partition: partition.partition };
    const env = this.env;
    // with a `ci` section the deploy role may write this environment's roles only under ci-access's boundary
    if (config.ci) Aspects.of(this).add(new PermissionsBoundary(boundaryPolicyArn(env, new ResourceNames(config.namePrefix))));

    this.keys = new Keys(this, 'keys', { env });
    const keyArn = this.keys.key.arn;
    this.logGroups = new LogGroups(this, 'log-groups', { env, kmsKeyArn: keyArn, retentionDays: config.logs.retentionDays, serviceNames: enabled.map((s) => s.name) });

    this.network = new Network(this, 'network', {
      env,
      cidr: config.network.cidr,
      azCount: config.network.azCount,
      natGateways: config.network.natGateways,
      kmsKeyArn: keyArn,
      flowLogRetentionDays: config.network.flowLogRetentionDays,
    });
    this.securityGroups = new SecurityGroups(this, 'security-groups', {
      env,
      vpcId: this.network.vpc.id,
      allowedIngressCidrs: config.loadBalancer.allowedIngressCidrs,
      https: config.loadBalancer.certificateArn !== null,
      webPorts: web.map((s) => s.port!),
      supportPorts: enabled.filter((s) => s.kind === 'support').map((s) => s.port!),
    });
    this.endpoints = new VpcEndpoints(this, 'endpoints', { env, network: this.network, securityGroupId: this.securityGroups.endpoints.id });
    const privateSubnetIds = this.network.privateSubnets.map((s) => s.id);

    this.registry = new Registry(this, 'registry', { env, imageKeys: Object.keys(config.images), kmsKeyArn: keyArn });
    this.cluster = new Cluster(this, 'cluster', {
      env,
      vpcId: this.network.vpc.id,
      namespace: config.cluster.namespace,
      kmsKeyArn: keyArn,
      execLogGroupName: this.logGroups.exec.name,
      containerInsights: config.cluster.containerInsights,
    });
    this.secrets = new Secrets(this, 'secrets', { env, kmsKeyArn: keyArn });
    this.cache = new Cache(this, 'cache', {
      env,
      subnetIds: privateSubnetIds,
      securityGroupId: this.securityGroups.cache.id,
      kmsKeyArn: keyArn,
      secretId: this.secrets.secrets.cache.id,
      nodeType: config.cache.nodeType,
      engineVersion: config.cache.engineVersion,
      replicas: config.cache.replicas,
      auth: config.cache.auth,
    });
    this.database = new DatabaseHost(this, 'database', {
      env,
      subnet: this.network.privateSubnets[0],
      securityGroupId: this.securityGroups.database.id,
      kmsKeyArn: keyArn,
      secretArn: this.secrets.secrets.database.arn,
      vpcCidr: config.network.cidr,
      instanceType: config.database.instanceType,
      dataVolumeGiB: config.database.dataVolumeGiB,
      postgresVersion: config.database.postgresVersion,
      databaseName: config.database.databaseName,
      username: config.database.username,
      protectDataVolume: config.database.protectDataVolume,
      // cache.auth "password": the host owns the cache app user's password (stacks/cache.ts)
      cache: this.cache.auth === 'password'
        ? {
            secretArn: this.secrets.secrets.cache.arn,
            userId: this.cache.appUserId,
            userArn: this.cache.appUserArn,
            port: this.cache.port,
            replicationGroupId: this.cache.replicationGroupId,
            replicationGroupArn: this.cache.replicationGroupArn,
          }
        : undefined,
    });
    this.storage = new SharedStorage(this, 'storage', {
      env,
      subnetIds: privateSubnetIds,
      securityGroupId: this.securityGroups.efs.id,
      kmsKeyArn: keyArn,
      dataPath: config.storage.dataPath,
      posixUid: config.storage.posixUid,
      posixGid: config.storage.posixGid,
    });
    this.loadBalancer = new LoadBalancer(this, 'load-balancer', {
      env,
      vpcId: this.network.vpc.id,
      subnetIds: this.network.publicSubnets.map((s) => s.id),
      securityGroupId: this.securityGroups.alb.id,
      services: web,
      settings: config.loadBalancer,
    });

    // IAM: the execution role reads only the secrets some container gets
    const usedSecrets = unique<SecretKey>([...enabled.flatMap((s) => s.secrets), ...config.migration.secrets]);
    const roleNeeds: Record<string, TaskRoleNeeds> = {};
    // elasticache:Connect only when the cache authenticates by IAM token; a password needs no IAM permission
    const iamCache = config.cache.auth === 'iam';
    for (const s of enabled) {
      const data = s.mounts.filter((m) => m.volume === 'data');
      roleNeeds[s.name] = {
        efs: data.length === 0 ? undefined : data.every((m) => m.readOnly) ? 'ro' : 'rw',
        cache: iamCache && s.secrets.includes('cache'),
      };
    }
    roleNeeds.migration = { cache: iamCache && config.migration.secrets.includes('cache') };
    this.iam = new TaskIam(this, 'iam', {
      env,
      kmsKeyArn: keyArn,
      repositoryArns: Object.values(this.registry.repositories).map((r) => r.arn),
      logGroupArns: [...Object.values(this.logGroups.services), this.logGroups.migration].map((g) => g.arn),
      secretArns: usedSecrets.map((k) => this.secrets.secrets[k].arn),
      taskRoles: roleNeeds,
      efs: { fileSystemArn: this.storage.fileSystem.arn, accessPointArn: this.storage.accessPoint.arn },
      cache: { replicationGroupArn: this.cache.replicationGroupArn, userArn: this.cache.appUserArn },
      exec: config.cluster.enableExecuteCommand ? { logGroupArn: this.logGroups.exec.arn } : undefined,
    });

    this.services = new Services(this, 'services', {
      env,
      services: enabled,
      clusterArn: this.cluster.cluster.arn,
      clusterDependencies: [this.cluster.capacityProviders],
      executionRoleArn: this.iam.executionRole.arn,
      taskRoleArns: Object.fromEntries(Object.entries(this.iam.taskRoles).map(([k, r]) => [k, r.arn])),
      repositoryUrls: Object.fromEntries(Object.entries(this.registry.repositories).map(([k, r]) => [k, r.repositoryUrl])),
      logGroupNames: Object.fromEntries(Object.entries(this.logGroups.services).map(([k, g]) => [k, g.name])),
      secretArns: Object.fromEntries(SECRET_KEYS.map((k) => [k, this.secrets.secrets[k].arn])) as Record<SecretKey, string>,
      subnetIds: privateSubnetIds,
      securityGroupId: this.securityGroups.tasks.id,
      efs: { fileSystemId: this.storage.fileSystem.id, accessPointId: this.storage.accessPoint.id, mountTargets: this.storage.mountTargets },
      namespaceId: this.cluster.namespace.id,
      targetGroupArns: Object.fromEntries(Object.entries(this.loadBalancer.targetGroups).map(([k, t]) => [k, t.arn])),
      loadBalancerDependencies: [this.loadBalancer.routingListener, ...Object.values(this.loadBalancer.rules)],
      migration: { ...config.migration, logGroupName: this.logGroups.migration.name },
      fargateSpotForWorkers: config.cluster.fargateSpotForWorkers,
      enableExecuteCommand: config.cluster.enableExecuteCommand,
    });

    this.addOutputs(props.environment);
  }

  /** Outputs exactly per docs/contract.md section 2. */
  private addOutputs(environment: EnvironmentConfig): void {
    const { config, services: catalog } = environment;
    const out = (name: string, value: unknown, description: string) => new TerraformOutput(this, name, { value, description });

    out('environment', config.environment, 'Environment name (config `environment`)');
    out('region', config.region, 'AWS region the stack is deployed in');
    out('cluster_name', this.cluster.cluster.name, 'ECS cluster name');
    out('cluster_arn', this.cluster.cluster.arn, 'ECS cluster ARN');
    out('private_subnet_ids', this.network.privateSubnets.map((s) => s.id), 'Private subnets for services and one-off tasks');
    out('tasks_security_group_id', this.securityGroups.tasks.id, 'Security group for app, worker and one-off tasks');
    out('repository_urls', Object.fromEntries(Object.entries(this.registry.repositories).map(([k, r]) => [k, r.repositoryUrl])), 'Image key -> ECR repository URL');
    out('repository_mutable_tags', Object.fromEntries(Object.keys(this.registry.repositories).map((k) => [k, false])), 'Image key -> whether the repository allows mutable tags (false: immutable)');
    out('alb_dns_name', this.loadBalancer.alb.dnsName, 'ALB DNS name');
    out('alb_url', this.loadBalancer.url, 'https://host with a certificate, else http://host');
    out('efs_file_system_id', this.storage.fileSystem.id, 'EFS file system for /data');
    out('efs_access_point_id', this.storage.accessPoint.id, 'EFS access point for /data');
    out('namespace_name', this.cluster.namespace.name, 'Cloud Map private DNS namespace');
    out('secret_arns', Object.fromEntries(SECRET_KEYS.map((k) => [k, this.secrets.secrets[k].arn])), 'Secret key -> Secrets Manager ARN (never values)');
    out('migration_task_family', this.services.migrationFamily, 'Task definition family of the migration task');
    out('migration_container_name', config.migration.containerName, 'Container name of the migration task');
    out('migration_log_group_name', this.logGroups.migration.name, 'Log group of the migration task');

    // cdktf cannot synthesize a literal null inside an output value; Token.nullValue() renders as JSON null
    const orNull = <T>(v: T | null): T | IResolvable => (v === null ? Token.nullValue() : v);
    // every key of the one catalog-entry shape the runner reads (lib/config/outputs.cjs), each value as written
    const entries: Record<string, { [K in keyof Required<ServiceCatalogOutput>]: ServiceCatalogOutput[K] | IResolvable }> = {};
    for (const s of catalog) {
      const on = s.enabled;
      entries[s.name] = {
        name: s.name,
        enabled: on,
        disabled_reason: orNull(s.disabledReason),
        tier: s.tier,
        kind: s.kind,
        image: s.image,
        depends_on: s.dependsOn,
        needs_data: s.needsData,
        desired_count: s.desiredCount,
        ecs_service_name: orNull(on ? this.services.ecsServices[s.name].name : null),
        task_family: orNull(on ? this.services.taskDefinitions[s.name].family : null),
        container_name: orNull(on ? s.name : null),
        port: orNull(s.port),
        target_group_arn: orNull(on && s.kind === 'web' ? this.loadBalancer.targetGroups[s.name].arn : null),
        log_group_name: orNull(on ? this.logGroups.services[s.name].name : null),
        discovery_name: orNull(on && s.kind === 'support' ? s.discoveryName : null),
      };
    }
    out('service_catalog', entries, 'Service name -> catalog entry (docs/contract.md section 2); disabled services have null AWS identifiers');
  }
}
