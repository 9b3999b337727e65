// Keys, secrets, database host, cache and shared storage constructs.
import { spawnSync } from 'child_process';
import { Synth, stagingWith, synth } from '../support/stack';
import { databaseUserData } from '../../stacks/database-user-data';

let s: Synth;
beforeAll(() => {
  s = synth();
});

describe('keys and secrets', () => {
  test('the key policy lets CloudWatch Logs of this region and account use the key, for log groups only', () => {
    const [key] = s.bodies('aws_kms_key');
    const st = Object.fromEntries(s.policyStatements(key.policy).map((x) => [x.sid, x]));
    expect(Object.keys(st).sort()).toEqual(['AccountAdministersKeyThroughIam', 'CloudWatchLogsOfThisAccountAndRegion']);
    const logs = st.CloudWatchLogsOfThisAccountAndRegion;
    expect(logs.principals).toEqual([{ type: 'Service', identifiers: ['logs.us-east-1.amazonaws.com'] }]);
    expect(logs.condition).toEqual([{ test: 'ArnLike', variable: 'kms:EncryptionContext:aws:logs:arn', values: [expect.stringMatching(/^arn:.*:logs:us-east-1:.*:log-group:\*$/)] }]);
    expect(logs.actions).not.toContain('kms:*');
    expect(s.bodies('aws_kms_alias')).toEqual([expect.objectContaining({ name: 'alias/staging' })]);
  });

  test('four secrets, named per environment, never with a value from Terraform', () => {
    expect(s.bodies('aws_secretsmanager_secret').map((x) => x.name).sort()).toEqual(['staging/app', 'staging/cache', 'staging/database', 'staging/smoke-user']);
    for (const x of s.bodies('aws_secretsmanager_secret')) expect(x.recovery_window_in_days).toBe(7);
  });
});

describe('database host', () => {
  test('private subnet, database SG, instance type from config, AMI from the AL2023 SSM parameter matching the architecture', () => {
    const [i] = s.bodies('aws_instance');
    expect(s.count('aws_instance')).toBe(1);
    expect(i.instance_type).toBe('t3.small');
    expect(s.byRef(i.subnet_id).tags.Tier).toBe('private');
    expect(i.vpc_security_group_ids.map((r: string) => s.byRef(r).name)).toEqual(['staging-database']);
    expect(s.byRef(i.ami).name).toBe('/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64');
    expect(i.lifecycle.ignore_changes).toEqual(['ami']);
    const arm = synth(stagingWith((r) => { r.database.instanceType = 't4g.small'; }));
    expect(arm.byRef(arm.bodies('aws_instance')[0].ami).name).toMatch(/-arm64$/);
  });

  test('separate encrypted data volume in the instance\'s AZ, protected from destroy, attached by its own resource', () => {
    const [v] = s.bodies('aws_ebs_volume');
    const [i] = s.bodies('aws_instance');
    expect(v).toMatchObject({ size: 20, type: 'gp3', encrypted: true, final_snapshot: true, lifecycle: { prevent_destroy: true } });
    expect(v.availability_zone).toBe(i.subnet_id.replace(/\.id\}$/, '.availability_zone}'));
    const [a] = s.bodies('aws_volume_attachment');
    expect(a).toMatchObject({ device_name: '/dev/sdf', stop_instance_before_detaching: true });
    expect(s.byRef(a.volume_id)).toBe(v);
    expect(s.byRef(a.instance_id)).toBe(i);
    // the instance does not embed the volume (so replacing it leaves the volume alone)
    expect(i.ebs_block_device).toBeUndefined();
    const unprotected = synth(stagingWith((r) => { r.database.protectDataVolume = false; r.database.dataVolumeGiB = 50; }));
    expect(unprotected.bodies('aws_ebs_volume')[0]).toMatchObject({ size: 50, lifecycle: { prevent_destroy: false } });
  });

  test('user data: PostgreSQL of the configured version, the data volume by id, the database secret, TLS-only pg_hba', () => {
    const ud: string = s.bodies('aws_instance')[0].user_data;
    expect(ud).toMatch(/^#!\/bin\/bash\n/);
    expect(ud).toContain(`PG_MAJOR='15'`);
    expect(ud).toContain(`dnf install -y "postgresql$PG_MAJOR-server"`);
    expect(ud).toMatch(/VOLUME_ID='\$\{aws_ebs_volume\.[^.]+\.id\}'/);
    expect(ud).toMatch(/SECRET_ARN='\$\{aws_secretsmanager_secret\.secrets_secret-database_[A-F0-9]+\.arn\}'/);
    expect(ud).toContain(`VPC_CIDR='10.40.0.0/16'`);
    expect(ud).toContain('hostssl $DB_NAME $DB_USER $VPC_CIDR scram-sha-256');
    expect(ud).toContain('if ! blkid "$DEV"'); // formats only a blank volume
    // cache.auth "password" (default): the cache secret, user and endpoint the host sets the password for
    expect(ud).toMatch(/CACHE_SECRET_ARN='\$\{aws_secretsmanager_secret\.secrets_secret-cache_[A-F0-9]+\.arn\}'/);
    expect(ud).toContain(`CACHE_USER_ID='staging-app'`);
    expect(ud).toContain(`CACHE_GROUP_ID='staging-valkey'`);
    // no reference to the cache resources (the host neither waits for nor is replaced with them): the endpoint is
    // looked up at boot; no Terraform template sequences other than the three references
    expect(ud).not.toMatch(/aws_elasticache/);
    expect(ud.match(/\$\{/g)).toHaveLength(3);
    expect(ud).not.toContain('%{');
  });

  test('the rendered script is valid bash and its embedded Python parses', () => {
    const ud = databaseUserData({ secretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:x', volumeId: 'vol-0abc', region: 'us-east-1', pgVersion: '15', dbName: 'app', user: 'app', vpcCidr: '10.40.0.0/16' });
    const bash = spawnSync('bash', ['-n'], { input: ud, encoding: 'utf8' });
    const python = /<<'PY'\n([\s\S]*?)\nPY\n/.exec(ud)![1];
    const py = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], { input: python, encoding: 'utf8' });
    // the tools are part of the documented machine setup; their absence is reported, not passed
    const missing = [bash, py].map((r, i) => (r.error ? ['bash', 'python3'][i] : null)).filter(Boolean);
    if (missing.length) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('../../scripts/lib/skips.cjs').recordSkip({ suite: 'stack-data', test: 'user data syntax', reason: `${missing.join(', ')} not installed` });
    }
    if (!bash.error) expect([bash.status, bash.stderr]).toEqual([0, '']);
    if (!py.error) expect([py.status, py.stderr]).toEqual([0, '']);
    expect(python).toContain('put-secret-value');
  });

  test('the user data renderer refuses unknown placeholders and is deterministic', () => {
    const v = { secretArn: 'arn:x', volumeId: 'vol-1', region: 'eu-west-1', pgVersion: '16', dbName: 'db', user: 'u', vpcCidr: '10.0.0.0/16' };
    expect(databaseUserData(v)).toBe(databaseUserData(v));
    expect(databaseUserData(v)).toContain(`REGION='eu-west-1'`);
    expect(databaseUserData(v)).not.toMatch(/@[A-Z_]+@/);
  });
});

describe('cache', () => {
  test('Valkey replication group in private subnets, cache SG only, RBAC user group', () => {
    const [rg] = s.bodies('aws_elasticache_replication_group');
    expect(rg).toMatchObject({
      replication_group_id: 'staging-valkey', engine: 'valkey', engine_version: '8.0', parameter_group_name: 'default.valkey8',
      node_type: 'cache.t4g.micro', port: 6379, num_cache_clusters: 1, automatic_failover_enabled: false, multi_az_enabled: false,
    });
    expect(rg.security_group_ids.map((r: string) => s.byRef(r).name)).toEqual(['staging-cache']);
    const sg = s.byRef(`\${aws_elasticache_subnet_group.${s.resources('aws_elasticache_subnet_group')[0][0]}.name}`);
    expect(sg.subnet_ids.map((r: string) => s.byRef(r).tags.Tier)).toEqual(['private', 'private']);
    expect(rg.user_group_ids).toHaveLength(1);
    const [group] = s.bodies('aws_elasticache_user_group');
    expect(group.engine).toBe('valkey');
    expect(group.user_ids).toHaveLength(2);
    const replicas = synth(stagingWith((r) => { r.cache.replicas = 1; }));
    expect(replicas.bodies('aws_elasticache_replication_group')[0]).toMatchObject({ num_cache_clusters: 2, automatic_failover_enabled: true, multi_az_enabled: true });
  });
});

describe('shared storage', () => {
  test('EFS encrypted, a mount target per private subnet with the EFS SG, access point owned by the configured POSIX user', () => {
    const [fs] = s.bodies('aws_efs_file_system');
    expect(fs).toMatchObject({ encrypted: true, creation_token: 'staging-data' });
    const mts = s.bodies('aws_efs_mount_target');
    expect(mts).toHaveLength(2);
    for (const m of mts) {
      expect(s.byRef(m.subnet_id).tags.Tier).toBe('private');
      expect(m.security_groups.map((r: string) => s.byRef(r).name)).toEqual(['staging-efs']);
    }
    expect(new Set(mts.map((m) => m.subnet_id)).size).toBe(2);
    const [ap] = s.bodies('aws_efs_access_point');
    expect(ap.posix_user).toEqual({ uid: 1000, gid: 1000 });
    expect(ap.root_directory).toEqual({ path: '/data', creation_info: { owner_uid: 1000, owner_gid: 1000, permissions: '0750' } });
    const other = synth(stagingWith((r) => { r.storage = { dataPath: '/srv/shared', posixUid: 4242, posixGid: 4343 }; }));
    const [ap2] = other.bodies('aws_efs_access_point');
    expect(ap2.posix_user).toEqual({ uid: 4242, gid: 4343 });
    expect(ap2.root_directory.path).toBe('/srv/shared');
  });
});
