// Network: VPC over N availability zones with public and private subnets, NAT egress (one shared gateway or
// one per AZ), an S3 gateway endpoint, interface endpoints for the AWS APIs tasks and the database host use,
// and VPC flow logs into a KMS-encrypted log group.
import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { Route } from '@cdktf/provider-aws/lib/route';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
import { FlowLog } from '@cdktf/provider-aws/lib/flow-log';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones';
import { LOG_RETENTION_DAYS } from '../lib/config/index.cjs';
import { cidrSubnet, PropsError, StackEnv } from './util';

/** Interface endpoints created by default: ECR (api, dkr), CloudWatch Logs, Secrets Manager, KMS, and SSM with
 *  ssmmessages/ec2messages for Session Manager on the database host and ECS Exec. */
export const DEFAULT_INTERFACE_ENDPOINTS = ['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager', 'kms', 'ssm', 'ssmmessages', 'ec2messages'] as const;

export interface NetworkProps {
  readonly env: StackEnv;
  /** VPC CIDR, /16 to /22 */
  readonly cidr: string;
  /**
   * Number of availability zones (public + private subnet in each).
   * @default 2
   */
  readonly azCount?: number;
  /**
   * `single`: one NAT gateway shared by all private subnets; `perAz`: one per AZ.
   * @default 'single'
   */
  readonly natGateways?: 'single' | 'perAz';
  /** KMS key ARN for the flow log group */
  readonly kmsKeyArn: string;
  /**
   * Flow log retention in days.
   * @default 14
   */
  readonly flowLogRetentionDays?: number;
}

/** VPC, subnets, routing, NAT and flow logs. Subnet i of each tier is in AZ i. */
export class Network extends Construct {
  readonly vpc: Vpc;
  readonly publicSubnets: Subnet[] = [];
  readonly privateSubnets: Subnet[] = [];
  readonly privateRouteTables: RouteTable[] = [];
  readonly natGateways: NatGateway[] = [];
  readonly s3Endpoint: VpcEndpoint;
  readonly flowLogGroup: CloudwatchLogGroup;
  readonly flowLog: FlowLog;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const azCount = props.azCount ?? 2;
    const natMode = props.natGateways ?? 'single';
    const retention = props.flowLogRetentionDays ?? 14;
    if (!Number.isInteger(azCount) || azCount < 2 || azCount > 6) throw new PropsError('Network', `azCount must be an integer 2-6, got ${azCount}`);
    if (natMode !== 'single' && natMode !== 'perAz') throw new PropsError('Network', `natGateways must be "single" or "perAz", got ${JSON.stringify(natMode)}`);
    if (!LOG_RETENTION_DAYS.includes(retention)) throw new PropsError('Network', `flowLogRetentionDays must be a CloudWatch Logs retention value, got ${retention}`);
    const { prefix } = props.env;

    const azs = new DataAwsAvailabilityZones(this, 'azs', { state: 'available' });
    this.vpc = new Vpc(this, 'vpc', {
      cidrBlock: props.cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: `${prefix}-vpc` },
    });
    const igw = new InternetGateway(this, 'igw', { vpcId: this.vpc.id, tags: { Name: `${prefix}-igw` } });

    const publicRt = new RouteTable(this, 'public-rt', { vpcId: this.vpc.id, tags: { Name: `${prefix}-public` } });
    new Route(this, 'public-default-route', { routeTableId: publicRt.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: igw.id });

    // 16 equal blocks: private subnets take blocks 0..5, public subnets blocks 8..13
    for (let i = 0; i < azCount; i++) {
      const az = Fn.element(azs.names, i);
      const pub = new Subnet(this, `public-${i}`, {
        vpcId: this.vpc.id,
        cidrBlock: cidrSubnet(props.cidr, 4, 8 + i),
        availabilityZone: az,
        mapPublicIpOnLaunch: false,
        tags: { Name: `${prefix}-public-${i}`, Tier: 'public' },
      });
      new RouteTableAssociation(this, `public-rta-${i}`, { subnetId: pub.id, routeTableId: publicRt.id });
      this.publicSubnets.push(pub);
      this.privateSubnets.push(new Subnet(this, `private-${i}`, {
        vpcId: this.vpc.id,
        cidrBlock: cidrSubnet(props.cidr, 4, i),
        availabilityZone: az,
        tags: { Name: `${prefix}-private-${i}`, Tier: 'private' },
      }));
    }

    const natCount = natMode === 'perAz' ? azCount : 1;
    for (let i = 0; i < natCount; i++) {
      const eip = new Eip(this, `nat-eip-${i}`, { domain: 'vpc', tags: { Name: `${prefix}-nat-${i}` } });
      this.natGateways.push(new NatGateway(this, `nat-${i}`, {
        allocationId: eip.id,
        subnetId: this.publicSubnets[i].id,
        tags: { Name: `${prefix}-nat-${i}` },
        dependsOn: [igw],
      }));
    }
    for (let i = 0; i < azCount; i++) {
      const rt = new RouteTable(this, `private-rt-${i}`, { vpcId: this.vpc.id, tags: { Name: `${prefix}-private-${i}` } });
      new Route(this, `private-default-route-${i}`, { routeTableId: rt.id, destinationCidrBlock: '0.0.0.0/0', natGatewayId: this.natGateways[natMode === 'perAz' ? i : 0].id });
      new RouteTableAssociation(this, `private-rta-${i}`, { subnetId: this.privateSubnets[i].id, routeTableId: rt.id });
      this.privateRouteTables.push(rt);
    }

    this.s3Endpoint = new VpcEndpoint(this, 'endpoint-s3', {
      vpcId: this.vpc.id,
      serviceName: `com.amazonaws.${props.env.region}.s3`,
      vpcEndpointType: 'Gateway',
      routeTableIds: this.privateRouteTables.map((rt) => rt.id),
      tags: { Name: `${prefix}-s3` },
    });

    // flow logs
    this.flowLogGroup = new CloudwatchLogGroup(this, 'flow-log-group', {
      name: `/vpc/${prefix}/flow-logs`,
      retentionInDays: retention,
      kmsKeyId: props.kmsKeyArn,
    });
    const trust = new DataAwsIamPolicyDocument(this, 'flow-log-trust', {
      statement: [{
        effect: 'Allow',
        actions: ['sts:AssumeRole'],
        principals: [{ type: 'Service', identifiers: ['vpc-flow-logs.amazonaws.com'] }],
        condition: [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.env.accountId] }],
      }],
    });
    const role = new IamRole(this, 'flow-log-role', { name: `${prefix}-flow-logs`, assumeRolePolicy: trust.json });
    const write = new DataAwsIamPolicyDocument(this, 'flow-log-policy', {
      statement: [{
        sid: 'WriteFlowLogs',
        effect: 'Allow',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [this.flowLogGroup.arn, `${this.flowLogGroup.arn}:*`],
      }],
    });
    new IamRolePolicy(this, 'flow-log-role-policy', { name: 'write-flow-logs', role: role.id, policy: write.json });
    this.flowLog = new FlowLog(this, 'flow-log', {
      vpcId: this.vpc.id,
      trafficType: 'ALL',
      logDestinationType: 'cloud-watch-logs',
      logDestination: this.flowLogGroup.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
      tags: { Name: `${prefix}-flow-logs` },
    });
  }
}

export interface VpcEndpointsProps {
  readonly env: StackEnv;
  readonly network: Network;
  /** security group of the interface endpoints (443 from tasks and the database host) */
  readonly securityGroupId: string;
  /**
   * Interface endpoint service suffixes (`com.amazonaws.<region>.<suffix>`).
   * @default DEFAULT_INTERFACE_ENDPOINTS
   */
  readonly services?: readonly string[];
}

/** Interface endpoints with private DNS in every private subnet, so images, secrets, keys, logs and SSM are
 *  reached without the internet. */
export class VpcEndpoints extends Construct {
  /** service suffix -> endpoint */
  readonly endpoints: Record<string, VpcEndpoint> = {};

  constructor(scope: Construct, id: string, props: VpcEndpointsProps) {
    super(scope, id);
    const services = props.services ?? DEFAULT_INTERFACE_ENDPOINTS;
    if (services.length === 0) throw new PropsError('VpcEndpoints', 'services must not be empty');
    for (const svc of services) {
      if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(svc)) throw new PropsError('VpcEndpoints', `invalid endpoint service ${JSON.stringify(svc)}`);
      this.endpoints[svc] = new VpcEndpoint(this, `endpoint-${svc.replace(/\./g, '-')}`, {
        vpcId: props.network.vpc.id,
        serviceName: `com.amazonaws.${props.env.region}.${svc}`,
        vpcEndpointType: 'Interface',
        privateDnsEnabled: true,
        subnetIds: props.network.privateSubnets.map((s) => s.id),
        securityGroupIds: [props.securityGroupId],
        tags: { Name: `${props.env.prefix}-${svc}` },
      });
    }
  }
}
