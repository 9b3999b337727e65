// Registry, cluster and services constructs: ECR per image key, cluster settings, one task definition and one
// ECS service per enabled catalog service (created at 0, Terraform never undoing a release), migration family.
import { Block, STAGING, Synth, enabledServices, stagingWith, synth } from '../support/stack';
import { SECRET_VARIABLES } from '../../lib/config/contract.cjs';

let s: Synth;
const enabled = enabledServices();
beforeAll(() => {
  s = synth();
});

function containerOf(td: Block): string {
  // containerDefinitions is "${jsonencode([...])}": read the HCL object back
  const m = /^\$\{jsonencode\((.*)\)\}$/s.exec(td.container_definitions);
  expect(m).not.toBeNull();
  return m![1];
}
function taskDef(family: string): Block {
  return s.find('aws_ecs_task_definition', 'family', family);
}

describe('registry', () => {
  test('one immutable, scanned repository per image key with a lifecycle policy', () => {
    const repos = s.bodies('aws_ecr_repository');
    expect(repos.map((r) => r.name).sort()).toEqual(['staging/admin', 'staging/anisette', 'staging/api', 'staging/frontend']);
    expect(s.count('aws_ecr_lifecycle_policy')).toBe(4);
    for (const lp of s.bodies('aws_ecr_lifecycle_policy')) {
      const rules = JSON.parse(lp.policy).rules;
      expect(rules.map((r: Block) => r.selection.tagStatus)).toEqual(['untagged', 'any']);
      expect(rules.every((r: Block) => r.action.type === 'expire')).toBe(true);
    }
  });
});

describe('cluster', () => {
  test('Container Insights, Fargate + Fargate Spot, ECS Exec with KMS and CloudWatch logging, Cloud Map namespace', () => {
    const [c] = s.bodies('aws_ecs_cluster');
    expect(c.name).toBe('staging-cluster');
    expect(c.setting).toEqual([{ name: 'containerInsights', value: 'enabled' }]);
    expect(c.configuration.execute_command_configuration).toMatchObject({ kms_key_id: expect.stringMatching(/aws_kms_key/), logging: 'OVERRIDE' });
    const execGroup = s.find('aws_cloudwatch_log_group', 'name', '/ecs/staging/exec');
    expect(c.configuration.execute_command_configuration.log_configuration).toEqual({
      cloud_watch_log_group_name: `\${${s.address('aws_cloudwatch_log_group', execGroup)}.name}`,
      cloud_watch_encryption_enabled: true,
    });
    expect(s.bodies('aws_ecs_cluster_capacity_providers')[0].capacity_providers).toEqual(['FARGATE', 'FARGATE_SPOT']);
    expect(s.bodies('aws_service_discovery_private_dns_namespace')).toEqual([expect.objectContaining({ name: 'staging.internal' })]);
    const off = synth(stagingWith((r) => { r.cluster.containerInsights = false; }));
    expect(off.bodies('aws_ecs_cluster')[0].setting).toEqual([{ name: 'containerInsights', value: 'disabled' }]);
  });
});

describe('services', () => {
  test('counts: a task definition per enabled service plus migration; an ECS service per enabled service', () => {
    expect(enabled).toHaveLength(Object.keys(STAGING.services).length); // every catalog service of the config is enabled
    expect(s.count('aws_ecs_task_definition')).toBe(enabled.length + 1);
    expect(s.count('aws_ecs_service')).toBe(enabled.length);
    expect(s.count('aws_cloudwatch_log_group')).toBe(enabled.length + 3); // + migration, exec, flow logs
    expect(s.bodies('aws_ecs_service').map((x) => x.name).sort()).toEqual(enabled.map((x) => `staging-${x.name}`).sort());
  });

  test('every service: desired 0, circuit breaker with rollback, ignore_changes [desired_count, task_definition], private subnets, tasks SG', () => {
    const tasksSg = `\${${s.address('aws_security_group', s.find('aws_security_group', 'name', 'staging-tasks'))}.id}`;
    for (const svc of s.bodies('aws_ecs_service')) {
      expect(svc.desired_count).toBe(0);
      expect(svc.deployment_circuit_breaker).toEqual({ enable: true, rollback: true });
      expect(svc.lifecycle.ignore_changes).toEqual(['desired_count', 'task_definition']);
      expect(svc.network_configuration).toEqual({ subnets: expect.any(Array), security_groups: [tasksSg], assign_public_ip: false });
      expect(svc.network_configuration.subnets).toHaveLength(2);
      expect(svc.enable_execute_command).toBe(true);
      expect(svc.capacity_provider_strategy).toEqual([{ capacity_provider: 'FARGATE', weight: 1, base: 0 }]);
      // the strategy names providers that must already be associated with the cluster
      expect(svc.depends_on).toContain(`aws_ecs_cluster_capacity_providers.${s.resources('aws_ecs_cluster_capacity_providers')[0][0]}`);
    }
  });

  test('web services sit behind their own target group and wait for the listener', () => {
    for (const w of enabled.filter((x) => x.kind === 'web')) {
      const svc = s.find('aws_ecs_service', 'name', `staging-${w.name}`);
      expect(svc.load_balancer).toHaveLength(1);
      expect(svc.load_balancer[0]).toMatchObject({ container_name: w.name, container_port: w.port });
      expect(s.byRef(svc.load_balancer[0].target_group_arn)).toMatchObject({ port: w.port, target_type: 'ip' });
      expect(svc.depends_on.some((d: string) => d.startsWith('aws_lb_listener.'))).toBe(true);
      expect(svc.health_check_grace_period_seconds).toBe(30);
    }
    for (const o of enabled.filter((x) => x.kind !== 'web')) {
      expect(s.find('aws_ecs_service', 'name', `staging-${o.name}`).load_balancer).toBeUndefined();
    }
  });

  test('support services register in Cloud Map under their discovery name; others do not', () => {
    const svc = s.find('aws_ecs_service', 'name', 'staging-anisette');
    const reg = s.byRef(svc.service_registries.registry_arn);
    expect(reg).toMatchObject({ name: 'anisette', dns_config: { routing_policy: 'MULTIVALUE', dns_records: [{ type: 'A', ttl: 10 }] } });
    expect(s.count('aws_service_discovery_service')).toBe(1);
    expect(s.bodies('aws_ecs_service').filter((x) => x.service_registries).map((x) => x.name)).toEqual(['staging-anisette']);
  });

  test('services with a data mount wait for every EFS mount target', () => {
    const svc = s.find('aws_ecs_service', 'name', 'staging-tracker-fetcher-2');
    expect(svc.depends_on.filter((d: string) => d.startsWith('aws_efs_mount_target.'))).toHaveLength(2);
    expect(s.find('aws_ecs_service', 'name', 'staging-api').depends_on.some((d: string) => d.startsWith('aws_efs_mount_target.'))).toBe(false);
  });

  test('task definitions: placeholder image <repo>:bootstrap, Fargate awsvpc, sizes, roles, logs, secrets by ARN', () => {
    for (const x of enabled) {
      const td = taskDef(`staging-${x.name}`);
      expect(td).toMatchObject({ network_mode: 'awsvpc', requires_compatibilities: ['FARGATE'], cpu: String(x.cpu), memory: String(x.memory) });
      expect(s.byRef(td.execution_role_arn).name).toBe('staging-task-execution');
      expect(s.byRef(td.task_role_arn).name).toBe(`staging-task-${x.name}`);
      const c = containerOf(td);
      const repo = s.find('aws_ecr_repository', 'name', `staging/${x.image}`);
      expect(c).toContain(`"image" = "\${${s.address('aws_ecr_repository', repo)}.repository_url}:bootstrap"`);
      expect(c).toContain(`"name" = "${x.name}"`);
      const group = s.find('aws_cloudwatch_log_group', 'name', `/ecs/staging/${x.name}`);
      expect(c).toContain(`"awslogs-group" = ${s.address('aws_cloudwatch_log_group', group)}.name,`);
      // the application contract: each mapped variable from its secret's JSON key; whole JSON only for `app`
      let refs = 0;
      for (const key of x.secrets) {
        const secret = s.find('aws_secretsmanager_secret', 'name', `staging/${key.replace('_', '-')}`);
        const arn = `\${${s.address('aws_secretsmanager_secret', secret)}.arn}`;
        const mapped = SECRET_VARIABLES.filter((v) => v.secret === key);
        if (mapped.length === 0) { expect(c).toContain(`"name" = "${key.toUpperCase()}_SECRET", "valueFrom" = ${arn.slice(2, -1)}`); refs++; }
        for (const v of mapped) { expect(c).toContain(`"name" = "${v.name}", "valueFrom" = "${arn}:${v.key}::"`); refs++; }
      }
      expect((c.match(/"valueFrom"/g) ?? []).length).toBe(refs);
      expect(c.includes('"DATABASE_URL"')).toBe(x.secrets.includes('database'));
      expect(c.includes('"REDIS_URL"')).toBe(x.secrets.includes('cache'));
      expect(c).not.toMatch(/"(DATABASE|CACHE)_SECRET"/);
      if (x.port) expect(c).toContain(`"name" = "PORT", "value" = "${x.port}"`);
      else expect(c).not.toContain('"PORT"');
      if (x.port) expect(c).toContain(`"containerPort" = ${x.port}`);
      else expect(c).toContain('"portMappings" = []');
      if (x.command) expect(c).toContain(`"command" = [${x.command.map((a) => `"${a}"`).join(', ')}]`);
      else expect(c).not.toContain('"command"');
    }
  });

  test('EFS volume only where the catalog mounts data: access point, TLS, IAM, mounted at the container path', () => {
    const withVolume = s.bodies('aws_ecs_task_definition').filter((t) => (t.volume ?? []).length > 0);
    expect(withVolume.map((t) => t.family)).toEqual(['staging-tracker-fetcher-2']);
    const [v] = withVolume[0].volume;
    expect(v.name).toBe('data');
    expect(v.efs_volume_configuration.authorization_config.access_point_id).toMatch(/^\$\{aws_efs_access_point\./);
    const c = containerOf(withVolume[0]);
    expect(c).toContain('"sourceVolume" = "data", "containerPath" = "/data", "readOnly" = false');
    expect(c).toContain('"name" = "ANISETTE_URL", "value" = "http://anisette.staging.internal:6969"');
  });

  test('the migration task definition: family, container name, command, api image, database secret, own log group', () => {
    const td = taskDef('staging-migration');
    expect(td).toMatchObject({ cpu: '256', memory: '512' });
    const c = containerOf(td);
    expect(c).toContain('"name" = "migration"');
    expect(c).toContain('"command" = ["alembic", "upgrade", "head"]');
    expect(c).toContain('repository_url}:bootstrap"');
    expect(c).toContain('"DATABASE_URL"');
    expect(c).not.toContain('"DATABASE_SECRET"');
    expect(c).not.toContain('"APP_SECRET"');
    expect(c).not.toContain('"PORT"');
    expect(c).toMatch(/"awslogs-group" = aws_cloudwatch_log_group\.log-groups_migration_[A-F0-9]+\.name,/);
    expect(s.byRef(td.task_role_arn).name).toBe('staging-task-migration');
    expect(s.bodies('aws_ecs_service').some((x) => x.name === 'staging-migration')).toBe(false);
  });

  test('every container of every task definition reserves memory: memoryReservation = the task memory (moto RunTask needs one)', () => {
    const tds = s.bodies('aws_ecs_task_definition');
    expect(tds).toHaveLength(enabled.length + 1);
    for (const td of tds) {
      const c = containerOf(td);
      const all = [...c.matchAll(/"memoryReservation" = (\d+)/g)].map((m) => Number(m[1]));
      // one container per task definition, so exactly one reservation
      expect([td.family, all.length]).toEqual([td.family, (c.match(/"essential" = true/g) ?? []).length]);
      for (const r of all) {
        expect(r).toBeGreaterThan(0);
        expect(r).toBeLessThanOrEqual(Number(td.memory));
      }
      expect(all[0]).toBe(Number(td.memory));
    }
    const bigger = synth(stagingWith((r) => { r.services.api.memory = 2048; r.services.api.cpu = 512; }));
    expect(containerOf(bigger.find('aws_ecs_task_definition', 'family', 'staging-api'))).toContain('"memoryReservation" = 2048');
  });

  test('a catalog healthCheck becomes the container\'s ECS healthCheck (exec form, defaults filled); none by default', () => {
    for (const td of s.bodies('aws_ecs_task_definition')) expect([td.family, containerOf(td).includes('"healthCheck"')]).toEqual([td.family, false]);
    const checked = synth(stagingWith((r) => { r.services.api.healthCheck = { command: ['python3', '-m', 'app.healthcheck'], intervalSeconds: 10, retries: 2 }; }));
    expect(containerOf(checked.find('aws_ecs_task_definition', 'family', 'staging-api'))).toContain(
      '"healthCheck" = {"command" = ["CMD", "python3", "-m", "app.healthcheck"], "interval" = 10, "timeout" = 5, "retries" = 2, "startPeriod" = 0}');
    expect(containerOf(checked.find('aws_ecs_task_definition', 'family', 'staging-admin'))).not.toContain('"healthCheck"');
  });

  test('fargateSpotForWorkers puts workers (only) on FARGATE_SPOT', () => {
    const spot = synth(stagingWith((r) => { r.cluster.fargateSpotForWorkers = true; }));
    for (const x of enabled) {
      const svc = spot.find('aws_ecs_service', 'name', `staging-${x.name}`);
      expect([x.name, svc.capacity_provider_strategy[0].capacity_provider]).toEqual([x.name, x.kind === 'worker' ? 'FARGATE_SPOT' : 'FARGATE']);
    }
  });
});
