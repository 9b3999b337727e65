// Security groups as a least-privilege graph. Every rule is a separate aws_vpc_security_group_ingress_rule /
// egress_rule with a description; the groups themselves carry no inline rules (Terraform removes the default
// allow-all egress of a new group).
//
//   clients (allowedIngressCidrs) -> alb :80 (+ :443 with a certificate)
//   alb -> tasks :<each web port>
//   tasks -> tasks :<each support port> (Cloud Map), db :5432, cache :6379, efs :2049, endpoints :443,
//            internet :443 (through NAT: external HTTPS APIs and S3 through its gateway endpoint)
//   db host -> endpoints :443, internet :443 (packages through NAT)
import { Construct } from 'constructs';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { PropsError, StackEnv, unique } from './util';

export interface SecurityGroupsProps {
  readonly env: StackEnv;
  readonly vpcId: string;
  /** client CIDRs allowed to reach the ALB */
  readonly allowedIngressCidrs: string[];
  /** open 443 on the ALB (only when an HTTPS listener exists) */
  readonly https: boolean;
  /** container ports of enabled web services (ALB targets) */
  readonly webPorts: number[];
  /** container ports of enabled support services (reached by other tasks over Cloud Map) */
  readonly supportPorts: number[];
  /**
   * Let tasks reach HTTPS endpoints on the internet through NAT.
   * @default true
   */
  readonly tasksInternetHttps?: boolean;
}

const PORTS = { postgres: 5432, valkey: 6379, nfs: 2049, https: 443, http: 80 } as const;

export class SecurityGroups extends Construct {
  readonly alb: SecurityGroup;
  readonly tasks: SecurityGroup;
  readonly database: SecurityGroup;
  readonly cache: SecurityGroup;
  readonly efs: SecurityGroup;
  readonly endpoints: SecurityGroup;

  constructor(scope: Construct, id: string, props: SecurityGroupsProps) {
    super(scope, id);
    const { prefix } = props.env;
    if (props.allowedIngressCidrs.length === 0) throw new PropsError('SecurityGroups', 'allowedIngressCidrs must not be empty');
    for (const p of [...props.webPorts, ...props.supportPorts]) {
      if (!Number.isInteger(p) || p < 1 || p > 65535) throw new PropsError('SecurityGroups', `invalid port ${p}`);
    }
    const group = (gid: string, description: string) =>
      new SecurityGroup(this, gid, { name: `${prefix}-${gid}`, description, vpcId: props.vpcId, tags: { Name: `${prefix}-${gid}` } });
    this.alb = group('alb', 'ALB: HTTP(S) from allowed clients, to web tasks');
    this.tasks = group('tasks', 'ECS tasks (app, workers, one-off tasks)');
    this.database = group('database', 'PostgreSQL host: 5432 from tasks');
    this.cache = group('cache', 'Valkey: 6379 from tasks');
    this.efs = group('efs', 'EFS mount targets: NFS from tasks');
    this.endpoints = group('endpoints', 'VPC interface endpoints: HTTPS from tasks and the database host');

    const tcp = (port: number) => ({ ipProtocol: 'tcp', fromPort: port, toPort: port });
    const ingress = (rid: string, sg: SecurityGroup, port: number, description: string, from: { sg?: SecurityGroup; cidr?: string }) =>
      new VpcSecurityGroupIngressRule(this, rid, {
        securityGroupId: sg.id, ...tcp(port), description,
        ...(from.sg ? { referencedSecurityGroupId: from.sg.id } : { cidrIpv4: from.cidr }),
      });
    const egress = (rid: string, sg: SecurityGroup, port: number, description: string, to: { sg?: SecurityGroup; cidr?: string }) =>
      new VpcSecurityGroupEgressRule(this, rid, {
        securityGroupId: sg.id, ...tcp(port), description,
        ...(to.sg ? { referencedSecurityGroupId: to.sg.id } : { cidrIpv4: to.cidr }),
      });

    // internet -> ALB
    props.allowedIngressCidrs.forEach((cidr, i) => {
      ingress(`alb-http-${i}`, this.alb, PORTS.http, `HTTP from allowed clients ${cidr}`, { cidr });
      if (props.https) ingress(`alb-https-${i}`, this.alb, PORTS.https, `HTTPS from allowed clients ${cidr}`, { cidr });
    });
    // ALB -> web tasks
    for (const port of unique(props.webPorts)) {
      egress(`alb-to-tasks-${port}`, this.alb, port, `ALB to web tasks on ${port}`, { sg: this.tasks });
      ingress(`tasks-from-alb-${port}`, this.tasks, port, `Web tasks on ${port} from the ALB`, { sg: this.alb });
    }
    // tasks -> support services (Cloud Map)
    for (const port of unique(props.supportPorts)) {
      egress(`tasks-to-support-${port}`, this.tasks, port, `Tasks to support services on ${port}`, { sg: this.tasks });
      ingress(`tasks-from-tasks-${port}`, this.tasks, port, `Support services on ${port} from tasks`, { sg: this.tasks });
    }
    // tasks -> data stores and endpoints
    egress('tasks-to-database', this.tasks, PORTS.postgres, 'Tasks to PostgreSQL', { sg: this.database });
    ingress('database-from-tasks', this.database, PORTS.postgres, 'PostgreSQL from tasks', { sg: this.tasks });
    egress('tasks-to-cache', this.tasks, PORTS.valkey, 'Tasks to Valkey', { sg: this.cache });
    ingress('cache-from-tasks', this.cache, PORTS.valkey, 'Valkey from tasks', { sg: this.tasks });
    egress('tasks-to-efs', this.tasks, PORTS.nfs, 'Tasks to EFS mount targets', { sg: this.efs });
    ingress('efs-from-tasks', this.efs, PORTS.nfs, 'NFS from tasks', { sg: this.tasks });
    egress('tasks-to-endpoints', this.tasks, PORTS.https, 'Tasks to VPC interface endpoints', { sg: this.endpoints });
    ingress('endpoints-from-tasks', this.endpoints, PORTS.https, 'HTTPS from tasks', { sg: this.tasks });
    if (props.tasksInternetHttps ?? true) {
      egress('tasks-to-internet-https', this.tasks, PORTS.https, 'Tasks to HTTPS on the internet through NAT (external APIs, S3)', { cidr: '0.0.0.0/0' });
    }
    // database host -> endpoints and package repositories
    egress('database-to-endpoints', this.database, PORTS.https, 'Database host to VPC interface endpoints (SSM, Secrets Manager, logs)', { sg: this.endpoints });
    ingress('endpoints-from-database', this.endpoints, PORTS.https, 'HTTPS from the database host', { sg: this.database });
    egress('database-to-internet-https', this.database, PORTS.https, 'Database host to HTTPS package repositories through NAT', { cidr: '0.0.0.0/0' });
  }
}
