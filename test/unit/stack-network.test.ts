// Network construct: VPC, subnets over the AZs, NAT (single / per AZ), endpoints, flow logs.
import { Synth, stagingWith, synth } from '../support/stack';

function ipRange(cidr: string): [number, number] {
  const [ip, bits] = cidr.split('/');
  const start = ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  return [start, start + 2 ** (32 - Number(bits)) - 1];
}

let s: Synth;
beforeAll(() => {
  s = synth();
});

describe('VPC and subnets', () => {
  test('one VPC with DNS support and the config CIDR', () => {
    expect(s.bodies('aws_vpc')).toEqual([expect.objectContaining({ cidr_block: '10.40.0.0/16', enable_dns_hostnames: true, enable_dns_support: true })]);
  });

  test('a public and a private subnet in each of azCount AZs, inside the VPC and disjoint', () => {
    const subnets = s.bodies('aws_subnet');
    expect(subnets).toHaveLength(4);
    const byTier = (t: string) => subnets.filter((x) => x.tags.Tier === t);
    expect(byTier('public')).toHaveLength(2);
    expect(byTier('private')).toHaveLength(2);
    const [vs, ve] = ipRange('10.40.0.0/16');
    const ranges = subnets.map((x) => ipRange(x.cidr_block)).sort((a, b) => a[0] - b[0]);
    ranges.forEach(([a, b], i) => {
      expect(a).toBeGreaterThanOrEqual(vs);
      expect(b).toBeLessThanOrEqual(ve);
      if (i > 0) expect(a).toBeGreaterThan(ranges[i - 1][1]);
    });
    // subnet i of each tier sits in AZ i
    for (const tier of ['public', 'private']) {
      const azIndex = byTier(tier).map((x) => [x.tags.Name, /^\$\{element\(data\.aws_availability_zones\.[^.]+\.names, (\d)\)\}$/.exec(x.availability_zone)![1]]);
      expect(azIndex.sort()).toEqual([[`staging-${tier}-0`, '0'], [`staging-${tier}-1`, '1']]);
    }
  });

  test('three AZs give six subnets and the ALB spans three public subnets', () => {
    const three = synth(stagingWith((r) => { r.network.azCount = 3; }));
    expect(three.count('aws_subnet')).toBe(6);
    expect(three.bodies('aws_lb')[0].subnets).toHaveLength(3);
    expect(three.count('aws_efs_mount_target')).toBe(3);
  });
});

describe('routing and NAT', () => {
  test('single NAT by default: one EIP and gateway, every private route table points at it', () => {
    expect(s.count('aws_nat_gateway')).toBe(1);
    expect(s.count('aws_eip')).toBe(1);
    const nat = `\${${s.address('aws_nat_gateway', s.bodies('aws_nat_gateway')[0])}.id}`;
    const natRoutes = s.bodies('aws_route').filter((r) => r.nat_gateway_id);
    expect(natRoutes).toHaveLength(2);
    for (const r of natRoutes) expect(r).toMatchObject({ destination_cidr_block: '0.0.0.0/0', nat_gateway_id: nat });
    const igwRoutes = s.bodies('aws_route').filter((r) => r.gateway_id);
    expect(igwRoutes).toHaveLength(1);
    expect(s.count('aws_route_table_association')).toBe(4);
  });

  test('perAz: one NAT gateway per AZ, each private route table uses its own AZ\'s gateway', () => {
    const per = synth(stagingWith((r) => { r.network.natGateways = 'perAz'; }));
    expect(per.count('aws_nat_gateway')).toBe(2);
    expect(per.count('aws_eip')).toBe(2);
    const targets = per.bodies('aws_route').filter((r) => r.nat_gateway_id).map((r) => r.nat_gateway_id);
    expect(new Set(targets).size).toBe(2);
    // each NAT gateway is in a different public subnet
    expect(new Set(per.bodies('aws_nat_gateway').map((n) => n.subnet_id)).size).toBe(2);
  });
});

describe('VPC endpoints', () => {
  test('interface endpoints for ECR, logs, Secrets Manager, KMS and SSM; S3 as a gateway', () => {
    const eps = s.bodies('aws_vpc_endpoint');
    expect(eps).toHaveLength(9);
    const iface = eps.filter((e) => e.vpc_endpoint_type === 'Interface').map((e) => e.service_name).sort();
    expect(iface).toEqual(['ec2messages', 'ecr.api', 'ecr.dkr', 'kms', 'logs', 'secretsmanager', 'ssm', 'ssmmessages'].map((x) => `com.amazonaws.us-east-1.${x}`).sort());
    for (const e of eps.filter((x) => x.vpc_endpoint_type === 'Interface')) {
      expect(e.private_dns_enabled).toBe(true);
      expect(e.subnet_ids).toHaveLength(2);
      expect(e.security_group_ids).toEqual([`\${${s.address('aws_security_group', s.find('aws_security_group', 'name', 'staging-endpoints'))}.id}`]);
    }
    const [gw] = eps.filter((e) => e.vpc_endpoint_type === 'Gateway');
    expect(gw.service_name).toBe('com.amazonaws.us-east-1.s3');
    expect(gw.route_table_ids).toHaveLength(2);
  });
});

describe('flow logs', () => {
  test('all traffic to a KMS-encrypted log group with the configured retention, through a scoped role', () => {
    const [fl] = s.bodies('aws_flow_log');
    expect(s.count('aws_flow_log')).toBe(1);
    expect(fl).toMatchObject({ traffic_type: 'ALL', log_destination_type: 'cloud-watch-logs' });
    const group = s.byRef(fl.log_destination);
    expect(group).toMatchObject({ name: '/vpc/staging/flow-logs', retention_in_days: 14, kms_key_id: expect.stringMatching(/aws_kms_key/) });
    const role = s.byRef(fl.iam_role_arn);
    expect(s.policyStatements(role.assume_role_policy)[0].principals[0].identifiers).toEqual(['vpc-flow-logs.amazonaws.com']);
    const retention = synth(stagingWith((r) => { r.network.flowLogRetentionDays = 30; }));
    expect(retention.find('aws_cloudwatch_log_group', 'name', '/vpc/staging/flow-logs').retention_in_days).toBe(30);
  });
});
