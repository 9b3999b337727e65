// Cluster: ECS cluster with Fargate and Fargate Spot capacity providers, Container Insights, ECS Exec
// (KMS-encrypted session, logged to CloudWatch) and the private Cloud Map namespace for support services.
import { Construct } from 'constructs';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster';
import { EcsClusterCapacityProviders } from '@cdktf/provider-aws/lib/ecs-cluster-capacity-providers';
import { ServiceDiscoveryPrivateDnsNamespace } from '@cdktf/provider-aws/lib/service-discovery-private-dns-namespace';
import { StackEnv } from './util';
import { ResourceNames } from './names';

export interface ClusterProps {
  readonly env: StackEnv;
  readonly vpcId: string;
  /** Cloud Map private DNS namespace, e.g. "staging.internal" */
  readonly namespace: string;
  readonly kmsKeyArn: string;
  /** log group name of ECS Exec session logs */
  readonly execLogGroupName: string;
  /**
   * @default true
   */
  readonly containerInsights?: boolean;
}

export class Cluster extends Construct {
  readonly cluster: EcsCluster;
  readonly capacityProviders: EcsClusterCapacityProviders;
  readonly namespace: ServiceDiscoveryPrivateDnsNamespace;

  constructor(scope: Construct, id: string, props: ClusterProps) {
    super(scope, id);
    this.cluster = new EcsCluster(this, 'cluster', {
      name: new ResourceNames(props.env.prefix).cluster,
      setting: [{ name: 'containerInsights', value: (props.containerInsights ?? true) ? 'enabled' : 'disabled' }],
      configuration: {
        executeCommandConfiguration: {
          kmsKeyId: props.kmsKeyArn,
          logging: 'OVERRIDE',
          logConfiguration: { cloudWatchLogGroupName: props.execLogGroupName, cloudWatchEncryptionEnabled: true },
        },
      },
    });
    this.capacityProviders = new EcsClusterCapacityProviders(this, 'capacity-providers', {
      clusterName: this.cluster.name,
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1, base: 0 }],
    });
    this.namespace = new ServiceDiscoveryPrivateDnsNamespace(this, 'namespace', {
      name: props.namespace,
      description: `${props.env.prefix}: support services reached by name`,
      vpc: props.vpcId,
    });
  }
}
