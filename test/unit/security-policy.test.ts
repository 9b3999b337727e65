// Security policy over the synthesized Terraform JSON of the staging foundation: ingress, rule descriptions,
// encryption, IMDSv2, immutable tags, retention, no secret literals, least-privilege IAM.
import { Block, Synth, enabledServices, stagingWith, synth } from '../support/stack';

/** Actions AWS offers no resource-level permission for: the only ones that may be allowed on "*". */
const STAR_RESOURCE_ALLOWED = new Set([
  'ecr:GetAuthorizationToken',
  'logs:DescribeLogGroups',
  'ssm:UpdateInstanceInformation',
  'ssmmessages:CreateControlChannel',
  'ssmmessages:CreateDataChannel',
  'ssmmessages:OpenControlChannel',
  'ssmmessages:OpenDataChannel',
  'ec2messages:AcknowledgeMessage',
  'ec2messages:DeleteMessage',
  'ec2messages:FailMessage',
  'ec2messages:GetEndpoint',
  'ec2messages:GetMessages',
  'ec2messages:SendReply',
]);

/** Attribute names that carry secret values. */
const SECRET_ATTRIBUTES = ['password', 'passwords', 'master_password', 'secret_string', 'secret_binary', 'auth_token', 'private_key'];

let s: Synth;
/** the same config with cache.auth "iam" (the default is "password") */
let iam: Synth;
beforeAll(() => {
  s = synth();
  iam = synth(stagingWith((r) => { r.cache.auth = 'iam'; }));
});

function walk(node: unknown, at: string, visit: (key: string, value: unknown, path: string) => void): void {
  if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${at}[${i}]`, visit));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      visit(k, v, `${at}.${k}`);
      walk(v, `${at}.${k}`, visit);
    }
  }
}

/** the security group address a rule belongs to ("aws_security_group.x") */
function groupOf(rule: Block): string {
  return /^\$\{(aws_security_group\.[^.]+)\.id\}$/.exec(rule.security_group_id)![1];
}
function groupAddress(name: 'alb' | 'tasks' | 'database' | 'cache' | 'efs' | 'endpoints'): string {
  const [addr] = s.resources('aws_security_group').filter(([, b]) => b.name === `staging-${name}`).map(([n]) => `aws_security_group.${n}`);
  return addr;
}

describe('network exposure', () => {
  test('security groups have no inline rules; every rule is a separate resource with a description', () => {
    for (const g of s.bodies('aws_security_group')) {
      expect(g.ingress).toBeUndefined();
      expect(g.egress).toBeUndefined();
      expect(g.description).toEqual(expect.any(String));
    }
    const rules = [...s.bodies('aws_vpc_security_group_ingress_rule'), ...s.bodies('aws_vpc_security_group_egress_rule')];
    expect(rules.length).toBeGreaterThan(10);
    for (const r of rules) {
      expect(typeof r.description).toBe('string');
      expect(r.description.length).toBeGreaterThan(5);
      expect(r.ip_protocol).toBe('tcp');
      expect(r.from_port).toBe(r.to_port); // single ports only, no ranges
      expect(r.cidr_ipv6).toBeUndefined();
    }
  });

  test('no 0.0.0.0/0 ingress except the ALB on 80 (and 443 only with a certificate)', () => {
    const open = s.bodies('aws_vpc_security_group_ingress_rule').filter((r) => r.cidr_ipv4 !== undefined);
    expect(open.length).toBeGreaterThan(0);
    for (const r of open) {
      expect(groupOf(r)).toBe(groupAddress('alb'));
      expect([80]).toContain(r.from_port);
    }
    const withCert = synth(stagingWith((r) => { r.loadBalancer.certificateArn = 'arn:aws:acm:us-east-1:123456789012:certificate/abc-123'; }));
    const ports = withCert.bodies('aws_vpc_security_group_ingress_rule').filter((r) => r.cidr_ipv4 !== undefined).map((r) => r.from_port).sort();
    expect(ports).toEqual([443, 80]);
  });

  test('every other ingress comes from a security group', () => {
    for (const r of s.bodies('aws_vpc_security_group_ingress_rule')) {
      if (groupOf(r) === groupAddress('alb')) continue;
      expect(r.cidr_ipv4).toBeUndefined();
      expect(r.referenced_security_group_id).toMatch(/^\$\{aws_security_group\.[^.]+\.id\}$/);
    }
  });

  test('egress to 0.0.0.0/0 is HTTPS only, and only from tasks and the database host', () => {
    const open = s.bodies('aws_vpc_security_group_egress_rule').filter((r) => r.cidr_ipv4 === '0.0.0.0/0');
    expect(open.map(groupOf).sort()).toEqual([groupAddress('database'), groupAddress('tasks')].sort());
    for (const r of open) expect(r.from_port).toBe(443);
  });

  test('data stores accept only their port and only from tasks (endpoints also from the database host)', () => {
    const ingressOf = (g: string) => s.bodies('aws_vpc_security_group_ingress_rule').filter((r) => groupOf(r) === g);
    const expectOnly = (g: string, port: number, from: string[]) => {
      const rules = ingressOf(groupAddress(g as any));
      expect(rules.map((r) => r.from_port)).toEqual(rules.map(() => port));
      expect(rules.map((r) => r.referenced_security_group_id).sort()).toEqual(from.map((f) => `\${${groupAddress(f as any)}.id}`).sort());
    };
    expectOnly('database', 5432, ['tasks']);
    expectOnly('cache', 6379, ['tasks']);
    expectOnly('efs', 2049, ['tasks']);
    expectOnly('endpoints', 443, ['tasks', 'database']);
    for (const g of ['cache', 'efs', 'endpoints']) {
      expect(s.bodies('aws_vpc_security_group_egress_rule').filter((r) => groupOf(r) === groupAddress(g as any))).toHaveLength(0);
    }
  });

  test('the ALB is the only internet-facing thing; no public IPs on subnets or the database host', () => {
    expect(s.bodies('aws_lb').map((b) => b.internal)).toEqual([false]);
    for (const sub of s.bodies('aws_subnet')) expect(sub.map_public_ip_on_launch ?? false).toBe(false);
    expect(s.bodies('aws_instance')[0].associate_public_ip_address).toBe(false);
    for (const svc of s.bodies('aws_ecs_service')) expect(svc.network_configuration.assign_public_ip).toBe(false);
  });

  test('the ALB drops invalid header fields', () => {
    expect(s.bodies('aws_lb')[0].drop_invalid_header_fields).toBe(true);
  });
});

describe('encryption at rest with the environment key', () => {
  const KEY = /^\$\{aws_kms_key\.[^.]+\.arn\}$/;

  test('one KMS key, rotation on', () => {
    expect(s.count('aws_kms_key')).toBe(1);
    expect(s.bodies('aws_kms_key')[0].enable_key_rotation).toBe(true);
  });

  test('ECR repositories', () => {
    for (const r of s.bodies('aws_ecr_repository')) {
      expect(r.encryption_configuration).toEqual([{ encryption_type: 'KMS', kms_key: expect.stringMatching(KEY) }]);
    }
  });

  test('EFS, EBS data and root volumes', () => {
    for (const f of s.bodies('aws_efs_file_system')) expect(f).toMatchObject({ encrypted: true, kms_key_id: expect.stringMatching(KEY) });
    for (const v of s.bodies('aws_ebs_volume')) expect(v).toMatchObject({ encrypted: true, kms_key_id: expect.stringMatching(KEY) });
    for (const i of s.bodies('aws_instance')) expect(i.root_block_device).toMatchObject({ encrypted: true, kms_key_id: expect.stringMatching(KEY) });
  });

  test('log groups (with retention), secrets, ElastiCache at rest and in transit', () => {
    expect(s.count('aws_cloudwatch_log_group')).toBeGreaterThan(0);
    for (const g of s.bodies('aws_cloudwatch_log_group')) {
      expect(g.kms_key_id).toMatch(KEY);
      expect(g.retention_in_days).toBeGreaterThan(0);
    }
    expect(s.count('aws_secretsmanager_secret')).toBe(4);
    for (const x of s.bodies('aws_secretsmanager_secret')) expect(x.kms_key_id).toMatch(KEY);
    for (const c of s.bodies('aws_elasticache_replication_group')) {
      expect(c).toMatchObject({ at_rest_encryption_enabled: 'true', kms_key_id: expect.stringMatching(KEY), transit_encryption_enabled: true, transit_encryption_mode: 'required' });
    }
  });

  test('EFS is mounted with TLS and IAM through the access point; the file system refuses plain transport', () => {
    const volumes = s.bodies('aws_ecs_task_definition').flatMap((t) => t.volume ?? []);
    expect(volumes.length).toBeGreaterThan(0);
    for (const v of volumes) {
      expect(v.efs_volume_configuration).toMatchObject({ transit_encryption: 'ENABLED', authorization_config: { iam: 'ENABLED', access_point_id: expect.stringMatching(/aws_efs_access_point/) } });
    }
    const [policy] = s.bodies('aws_efs_file_system_policy');
    const [deny] = s.policyStatements(policy.policy);
    expect(deny).toMatchObject({ effect: 'Deny', condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }] });
  });
});

describe('hosts and images', () => {
  test('database host: IMDSv2 required, hop limit 1, no key pair, SSM instance profile', () => {
    const [i] = s.bodies('aws_instance');
    expect(i.metadata_options).toMatchObject({ http_tokens: 'required', http_endpoint: 'enabled', http_put_response_hop_limit: 1 });
    expect(i.key_name).toBeUndefined();
    expect(i.iam_instance_profile).toMatch(/aws_iam_instance_profile/);
  });

  test('ECR: immutable tags and scan on push everywhere', () => {
    for (const r of s.bodies('aws_ecr_repository')) {
      expect(r.image_tag_mutability).toBe('IMMUTABLE');
      expect(r.image_scanning_configuration).toEqual({ scan_on_push: true });
    }
  });
});

describe('no secret values', () => {
  test('no secret-valued attribute anywhere in the synthesized JSON', () => {
    const found: string[] = [];
    walk(s.json, '$', (k, v, p) => {
      if (SECRET_ATTRIBUTES.includes(k) && v !== null && v !== false && !(Array.isArray(v) && v.length === 0)) found.push(p);
    });
    expect(found).toEqual([]);
  });

  test('cache.auth "password": no secret version at all (the database host writes both secrets)', () => {
    expect(s.resources('aws_secretsmanager_secret_version')).toEqual([]);
  });

  test('cache.auth "iam": the only secret version is the cache connection metadata, write-only, with non-secret keys', () => {
    const versions = iam.resources('aws_secretsmanager_secret_version');
    expect(versions).toHaveLength(1);
    const [, v] = versions[0];
    expect(v.secret_string).toBeUndefined();
    expect(v.secret_string_wo_version).toBe(2);
    expect(iam.byRef(v.secret_id).name).toBe('staging/cache');
    const keys = [...(v.secret_string_wo as string).matchAll(/"([A-Za-z]+)" ?= ?/g)].map((m) => m[1]).sort();
    expect(keys).toEqual(['auth', 'engine', 'host', 'port', 'region', 'replicationGroupId', 'tls', 'url', 'username']);
    expect(v.secret_string_wo).toContain('"auth" = "iam"');
    expect(v.secret_string_wo).toMatch(/"url" = "rediss:\/\/staging-app@\$\{aws_elasticache_replication_group\.[^}]+\.primary_endpoint_address\}:6379\/0"/);
  });

  test('the cache app user is created with IAM authentication in both modes (password mode: Terraform then ignores it), the default user is disabled, no passwords', () => {
    for (const [x, ignored] of [[s, ['authentication_mode']], [iam, undefined]] as const) {
      const users = x.bodies('aws_elasticache_user');
      const app = users.find((u) => u.user_name !== 'default')!;
      expect(app.authentication_mode).toEqual({ type: 'iam' });
      expect(app.lifecycle?.ignore_changes).toEqual(ignored);
      expect(app.user_name).toBe(app.user_id);
      const def = users.find((u) => u.user_name === 'default')!;
      expect(def.access_string).toMatch(/^off /);
      for (const u of users) expect(u.passwords).toBeUndefined();
    }
  });

  test('no string looks like an embedded credential (both cache modes)', () => {
    for (const x of [s, iam]) {
      const suspicious: string[] = [];
      walk(x.json, '$', (_k, v, p) => {
        if (typeof v !== 'string') return;
        if (/password\s*[=:]\s*['"][^'"$]/i.test(v) || /AKIA[0-9A-Z]{16}/.test(v) || /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(v)) suspicious.push(p);
        if (/(postgresql|rediss?):\/\/[^@\s/]+:[^@\s]+@/.test(v)) suspicious.push(p); // a URL with a password in it
      });
      expect(suspicious).toEqual([]);
    }
  });

  test('no secret-valued attribute in the synthesized JSON with cache.auth "iam" either', () => {
    const found: string[] = [];
    walk(iam.json, '$', (k, v, p) => {
      if (SECRET_ATTRIBUTES.includes(k) && v !== null && v !== false && !(Array.isArray(v) && v.length === 0)) found.push(p);
    });
    expect(found).toEqual([]);
  });

  test('the database password is generated on the host and handed over by file, never on a command line', () => {
    const ud: string = s.bodies('aws_instance')[0].user_data;
    expect(ud).toContain('secrets.token_urlsafe(32)');
    expect(ud).toMatch(/'put-secret-value', '--secret-id', secret_arn, '--secret-string', 'file:\/\/'/);
    // the cache password (cache.auth "password") reaches ModifyUser through a private file too
    expect(ud).toMatch(/'modify-user', '--cli-input-json', 'file:\/\/'/);
    expect(ud).not.toMatch(/set -x/);
    expect(ud).not.toMatch(/print\([^)]*password/);
  });
});

describe('IAM least privilege', () => {
  const allowStatements = (): Array<[string, Block]> =>
    s.data('aws_iam_policy_document').flatMap(([name, doc]) =>
      (doc.statement as Block[]).filter((st) => st.effect !== 'Deny').map((st) => [name, st] as [string, Block]));

  test('no wildcard actions in any IAM policy (the KMS key policy root statement aside)', () => {
    const offenders = allowStatements()
      .filter(([, st]) => st.sid !== 'AccountAdministersKeyThroughIam')
      .filter(([, st]) => (st.actions ?? []).some((a: string) => a.includes('*')))
      .map(([n, st]) => `${n}: ${st.actions}`);
    expect(offenders).toEqual([]);
    const root = allowStatements().filter(([, st]) => st.sid === 'AccountAdministersKeyThroughIam');
    expect(root).toHaveLength(1);
    expect(root[0][1].principals).toEqual([{ type: 'AWS', identifiers: [expect.stringMatching(/^arn:\$\{data\.aws_partition\.[^}]+\}:iam::\$\{data\.aws_caller_identity\.[^}]+\}:root$/)] }]);
  });

  test('"*" resources only for actions AWS cannot scope (explicit allow-list)', () => {
    const wide = allowStatements().filter(([, st]) => (st.resources ?? []).includes('*'));
    for (const [name, st] of wide) {
      // key policies: "*" means the key itself
      if (/key-policy/.test(name)) continue;
      for (const a of st.actions) expect([name, a, STAR_RESOURCE_ALLOWED.has(a)]).toEqual([name, a, true]);
    }
    expect(wide.length).toBeGreaterThan(0);
  });

  test('every inline role policy is a policy document data source; no managed policy attachments', () => {
    for (const p of s.bodies('aws_iam_role_policy')) expect(() => s.policyStatements(p.policy)).not.toThrow();
    expect(s.count('aws_iam_role_policy_attachment')).toBe(0);
    expect(s.count('aws_iam_policy')).toBe(0);
  });

  test('task execution role: only this environment\'s repositories, log groups, secrets and key', () => {
    const role = s.find('aws_iam_role', 'name', 'staging-task-execution');
    const policy = s.bodies('aws_iam_role_policy').find((p) => p.role === `\${${s.address('aws_iam_role', role)}.id}`)!;
    const st = Object.fromEntries(s.policyStatements(policy.policy).map((x) => [x.sid, x]));
    expect(Object.keys(st).sort()).toEqual(['DecryptWithEnvironmentKey', 'EcrLogin', 'PullOwnRepositories', 'ReadOwnSecrets', 'WriteOwnLogGroups']);
    expect(st.PullOwnRepositories.resources.sort()).toEqual(s.resources('aws_ecr_repository').map(([n]) => `\${aws_ecr_repository.${n}.arn}`).sort());
    // service log groups + migration, not the flow log or exec groups
    const serviceGroups = s.resources('aws_cloudwatch_log_group').filter(([, g]) => /^\/ecs\/staging\/(?!exec$)/.test(g.name));
    expect(serviceGroups).toHaveLength(enabledServices().length + 1); // the enabled services + migration
    expect(st.WriteOwnLogGroups.resources.sort()).toEqual(serviceGroups.map(([n]) => `\${aws_cloudwatch_log_group.${n}.arn}:*`).sort());
    // only secrets some container gets (smoke_user is for the runner, not for tasks)
    const names = st.ReadOwnSecrets.resources.map((r: string) => s.byRef(r).name).sort();
    expect(names).toEqual(['staging/app', 'staging/cache', 'staging/database']);
    expect(st.DecryptWithEnvironmentKey.actions).toEqual(['kms:Decrypt']);
  });

  test('task roles: EFS only for services with a data mount, through the access point; Valkey only with the cache secret', () => {
    const roles = s.resources('aws_iam_role').filter(([, r]) => /^staging-task-(?!execution$)/.test(r.name));
    expect(roles).toHaveLength(enabledServices().length + 1); // the enabled services + migration
    const statementsOf = (roleName: string): Block[] => {
      const [n] = roles.find(([, r]) => r.name === roleName)!;
      const p = s.bodies('aws_iam_role_policy').find((x) => x.role === `\${aws_iam_role.${n}.id}`);
      return p ? s.policyStatements(p.policy) : [];
    };
    const efsRoles = roles.filter(([, r]) => statementsOf(r.name).some((st) => st.sid === 'DataThroughAccessPoint')).map(([, r]) => r.name);
    const withData = enabledServices().filter((x) => x.mounts.some((m) => m.volume === 'data')).map((x) => `staging-task-${x.name}`);
    expect(withData).toContain('staging-task-tracker-fetcher-2');
    expect(efsRoles.sort()).toEqual(withData.sort());
    const efs = statementsOf('staging-task-tracker-fetcher-2').find((st) => st.sid === 'DataThroughAccessPoint')!;
    expect(efs.actions).toEqual(['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite']);
    expect(efs.condition[0]).toMatchObject({ test: 'StringEquals', variable: 'elasticfilesystem:AccessPointArn', values: [expect.stringMatching(/aws_efs_access_point/)] });
    // cache.auth "password" (the default): no task role may sign cache tokens
    expect(roles.filter(([, r]) => statementsOf(r.name).some((st) => st.sid === 'ValkeyIamAuth'))).toEqual([]);
  });

  test('cache.auth "iam": Valkey IAM auth only for task roles of services with the cache secret', () => {
    const roles = iam.resources('aws_iam_role').filter(([, r]) => /^staging-task-(?!execution$)/.test(r.name));
    const statementsOf = (roleName: string): Block[] => {
      const [n] = roles.find(([, r]) => r.name === roleName)!;
      const p = iam.bodies('aws_iam_role_policy').find((x) => x.role === `\${aws_iam_role.${n}.id}`);
      return p ? iam.policyStatements(p.policy) : [];
    };
    const cacheRoles = roles.filter(([, r]) => statementsOf(r.name).some((st) => st.sid === 'ValkeyIamAuth')).map(([, r]) => r.name).sort();
    const withCache = enabledServices().filter((x) => x.secrets.includes('cache')).map((x) => `staging-task-${x.name}`);
    expect(withCache).toContain('staging-task-api');
    expect(cacheRoles).toEqual(withCache.sort());
    const connect = statementsOf('staging-task-api').find((st) => st.sid === 'ValkeyIamAuth')!;
    expect(connect.actions).toEqual(['elasticache:Connect']);
    expect(connect.resources).toEqual([
      expect.stringMatching(/:elasticache:us-east-1:.*:replicationgroup:staging-valkey$/),
      expect.stringMatching(/:elasticache:us-east-1:.*:user:staging-app$/),
    ]);
  });

  test('ECS Exec permissions follow cluster.enableExecuteCommand', () => {
    const hasExec = (x: Synth) => x.data('aws_iam_policy_document').some(([, d]) => d.statement.some((st: Block) => st.sid === 'EcsExecChannels'));
    expect(hasExec(s)).toBe(true);
    const off = synth(stagingWith((r) => { r.cluster.enableExecuteCommand = false; }));
    expect(hasExec(off)).toBe(false);
    for (const svc of off.bodies('aws_ecs_service')) expect(svc.enable_execute_command).toBe(false);
  });

  test('trust policies: ECS tasks of this account only; the database role for EC2', () => {
    const trustDocs = s.bodies('aws_iam_role').map((r) => s.policyStatements(r.assume_role_policy)[0]);
    for (const st of trustDocs) {
      expect(st.actions).toEqual(['sts:AssumeRole']);
      expect(st.principals).toHaveLength(1);
      expect(st.principals[0].type).toBe('Service');
    }
    const ecs = trustDocs.filter((st) => st.principals[0].identifiers[0] === 'ecs-tasks.amazonaws.com');
    expect(ecs.length).toBeGreaterThan(0);
    for (const st of ecs) expect(st.condition.map((c: Block) => c.variable).sort()).toEqual(['aws:SourceAccount', 'aws:SourceArn']);
  });

  const hostStatements = (x: Synth) => {
    const role = x.find('aws_iam_role', 'name', 'staging-database-host');
    const policy = x.bodies('aws_iam_role_policy').find((p) => p.role === `\${${x.address('aws_iam_role', role)}.id}`)!;
    return Object.fromEntries(x.policyStatements(policy.policy).map((st) => [st.sid, st]));
  };
  const puts = (x: Synth) => x.data('aws_iam_policy_document').flatMap(([, d]) => d.statement).filter((st: Block) => (st.actions ?? []).includes('secretsmanager:PutSecretValue'));

  test('the database host may write only its own secrets, and use the key only through Secrets Manager', () => {
    for (const x of [s, iam]) {
      const st = hostStatements(x);
      expect(st.OwnDatabaseSecretOnly.resources).toHaveLength(1);
      expect(x.byRef(st.OwnDatabaseSecretOnly.resources[0]).name).toBe('staging/database');
      expect(st.OwnDatabaseSecretOnly.actions).toContain('secretsmanager:PutSecretValue');
      expect(st.KeyThroughSecretsManagerOnly.condition).toEqual([{ test: 'StringEquals', variable: 'kms:ViaService', values: ['secretsmanager.us-east-1.amazonaws.com'] }]);
    }
    // iam: no cache password exists, so the host may touch neither the cache secret nor the cache user
    expect(Object.keys(hostStatements(iam)).sort()).toEqual(['KeyThroughSecretsManagerOnly', 'OwnDatabaseSecretOnly', 'SessionManagerAgent']);
    expect(puts(iam)).toHaveLength(1);
  });

  test('cache.auth "password": the database host may write the cache secret and set the password of the cache app user, nothing else', () => {
    const st = hostStatements(s);
    expect(Object.keys(st).sort()).toEqual(['FindCacheEndpoint', 'KeyThroughSecretsManagerOnly', 'OwnCacheSecretOnly', 'OwnDatabaseSecretOnly', 'SessionManagerAgent', 'SetCacheAppUserPasswordOnly']);
    expect(st.FindCacheEndpoint.actions).toEqual(['elasticache:DescribeReplicationGroups']);
    expect(st.FindCacheEndpoint.resources).toEqual([expect.stringMatching(/:elasticache:us-east-1:.*:replicationgroup:staging-valkey$/)]);
    expect(st.OwnCacheSecretOnly.resources).toHaveLength(1);
    expect(s.byRef(st.OwnCacheSecretOnly.resources[0]).name).toBe('staging/cache');
    expect(st.SetCacheAppUserPasswordOnly.actions).toEqual(['elasticache:DescribeUsers', 'elasticache:ModifyUser']);
    expect(st.SetCacheAppUserPasswordOnly.resources).toEqual([expect.stringMatching(/:elasticache:us-east-1:.*:user:staging-app$/)]);
    expect(puts(s)).toHaveLength(2);
    expect(s.data('aws_iam_policy_document').flatMap(([, d]) => d.statement).filter((x: Block) => (x.actions ?? []).some((a: string) => a.startsWith('elasticache:Modify')))).toHaveLength(1);
  });
});

describe('disabling anisette', () => {
  let off: Synth;
  beforeAll(() => {
    off = synth(stagingWith((r) => { r.services.anisette.enabled = false; }));
  });

  test('removes every anisette and tracker-fetcher-2 resource and nothing else', () => {
    const mentions = (x: Synth, name: string) => JSON.stringify(x.json.resource).split(name).length - 1;
    expect(mentions(s, 'anisette')).toBeGreaterThan(0);
    expect(mentions(s, 'tracker-fetcher-2')).toBeGreaterThan(0);
    // the anisette ECR repository stays (an image key, not a service); nothing else names the two services
    const rest = JSON.stringify({ ...off.json.resource, aws_ecr_repository: undefined, aws_ecr_lifecycle_policy: undefined });
    expect(rest).not.toMatch(/tracker-fetcher-2|service-anisette|discovery-anisette|task-anisette/);
    const removed = (type: string) => s.count(type) - off.count(type);
    expect(removed('aws_ecs_service')).toBe(2);
    expect(removed('aws_ecs_task_definition')).toBe(2);
    expect(removed('aws_cloudwatch_log_group')).toBe(2);
    expect(removed('aws_iam_role')).toBe(2);
    expect(removed('aws_service_discovery_service')).toBe(1);
    expect(removed('aws_lb_target_group')).toBe(0);
    // the support-port rules go with the only support service
    expect(off.bodies('aws_vpc_security_group_ingress_rule').some((r) => r.from_port === 6969)).toBe(false);
  });

  test('the catalog output keeps both with enabled=false and the reason', () => {
    const cat = off.json.output.service_catalog.value;
    expect(cat.anisette).toMatchObject({ enabled: false, disabled_reason: 'disabled in config', ecs_service_name: null, task_family: null, log_group_name: null, discovery_name: null });
    expect(cat['tracker-fetcher-2']).toMatchObject({ enabled: false, disabled_reason: 'dependency anisette is disabled', ecs_service_name: null, target_group_arn: null });
  });
});
