// The app: config loading and rejection at synth, backends, default tags, outputs per docs/contract.md
// section 2, constructor validation, and the `cdktf synth` entry point.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { App, Testing } from 'cdktf';
import { ConfigError, loadConfig } from '../../stacks/config';
import { Network } from '../../stacks/network';
import { SecurityGroups } from '../../stacks/security-groups';
import { LogGroups } from '../../stacks/keys';
import { Registry } from '../../stacks/registry';
import { boundedName, cidrSubnet } from '../../stacks/util';
import { FoundationStack } from '../../stacks/foundation-stack';
import { REPO, Synth, enabledServices, stagingWith, synth } from '../support/stack';

const CONTRACT_OUTPUTS = [
  'environment', 'region', 'cluster_name', 'cluster_arn', 'private_subnet_ids', 'tasks_security_group_id', 'repository_urls',
  'repository_mutable_tags', 'alb_dns_name', 'alb_url', 'efs_file_system_id', 'efs_access_point_id', 'namespace_name', 'secret_arns',
  'migration_task_family', 'migration_container_name', 'migration_log_group_name', 'service_catalog',
];
const CATALOG_KEYS = [
  'name', 'enabled', 'disabled_reason', 'tier', 'kind', 'image', 'depends_on', 'needs_data', 'desired_count', 'ecs_service_name',
  'task_family', 'container_name', 'port', 'target_group_arn', 'log_group_name', 'discovery_name',
];

let s: Synth;
let tmp: string;
beforeAll(() => {
  s = synth();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-app-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('outputs (docs/contract.md section 2)', () => {
  test('exactly the contract outputs, each with a description, none sensitive', () => {
    expect(Object.keys(s.json.output).sort()).toEqual([...CONTRACT_OUTPUTS].sort());
    for (const [name, o] of Object.entries<any>(s.json.output)) {
      expect([name, typeof o.description, o.description.length > 10]).toEqual([name, 'string', true]);
      expect(o.sensitive).toBeUndefined();
    }
  });

  test('identifier outputs reference the resources', () => {
    const o = s.json.output;
    expect(o.environment.value).toBe('staging');
    expect(o.region.value).toBe('us-east-1');
    expect(o.cluster_name.value).toMatch(/^\$\{aws_ecs_cluster\.[^.]+\.name\}$/);
    expect(o.cluster_arn.value).toMatch(/^\$\{aws_ecs_cluster\.[^.]+\.arn\}$/);
    expect(o.private_subnet_ids.value.map((r: string) => s.byRef(r).tags.Tier)).toEqual(['private', 'private']);
    expect(s.byRef(o.tasks_security_group_id.value).name).toBe('staging-tasks');
    expect(Object.keys(o.repository_urls.value).sort()).toEqual(['admin', 'anisette', 'api', 'frontend']);
    expect(o.repository_mutable_tags.value).toEqual({ api: false, frontend: false, admin: false, anisette: false });
    expect(o.alb_dns_name.value).toMatch(/^\$\{aws_lb\.[^.]+\.dns_name\}$/);
    expect(o.efs_file_system_id.value).toMatch(/^\$\{aws_efs_file_system\./);
    expect(o.efs_access_point_id.value).toMatch(/^\$\{aws_efs_access_point\./);
    expect(o.namespace_name.value).toMatch(/^\$\{aws_service_discovery_private_dns_namespace\./);
    expect(Object.keys(o.secret_arns.value).sort()).toEqual(['app', 'cache', 'database', 'smoke_user']);
    for (const v of Object.values<string>(o.secret_arns.value)) expect(v).toMatch(/^\$\{aws_secretsmanager_secret\.[^.]+\.arn\}$/);
    expect(o.migration_task_family.value).toBe('staging-migration');
    expect(o.migration_container_name.value).toBe('migration');
    expect(s.byRef(o.migration_log_group_name.value).name).toBe('/ecs/staging/migration');
  });

  test('service_catalog: every catalog service with the contract keys and values', () => {
    const cat = s.json.output.service_catalog.value;
    expect(Object.keys(cat).sort()).toEqual(enabledServices().map((x) => x.name).sort());
    for (const x of enabledServices()) {
      const e = cat[x.name];
      expect(Object.keys(e).sort()).toEqual([...CATALOG_KEYS].sort());
      expect(e).toMatchObject({ name: x.name, enabled: true, disabled_reason: null, tier: x.tier, kind: x.kind, image: x.image, depends_on: x.dependsOn, needs_data: x.needsData, desired_count: x.desiredCount, container_name: x.name, port: x.port });
      expect(s.byRef(e.ecs_service_name).name).toBe(`staging-${x.name}`);
      expect(s.byRef(e.task_family).family).toBe(`staging-${x.name}`);
      expect(s.byRef(e.log_group_name).name).toBe(`/ecs/staging/${x.name}`);
      if (x.kind === 'web') expect(s.byRef(e.target_group_arn).port).toBe(x.port);
      else expect(e.target_group_arn).toBeNull();
      expect(e.discovery_name).toBe(x.kind === 'support' ? x.discoveryName : null);
    }
    expect(cat['tracker-fetcher-2']).toMatchObject({ depends_on: ['anisette'], needs_data: true, port: null, kind: 'worker' });
  });
});

describe('provider and backends', () => {
  test('provider pinned region and default tags from config', () => {
    expect(s.json.provider.aws).toEqual([expect.objectContaining({ region: 'us-east-1', default_tags: [{ tags: { Project: 'staging-rollout', Environment: 'staging', ManagedBy: 'cdktf' } }] })]);
    expect(s.json.terraform.required_providers.aws.version).toBe('5.100.0');
  });

  test('local backend by default, one state file per environment outside the synthesized directory (environments.test.ts)', () => {
    const rel = s.json.terraform.backend.local.path;
    expect(path.resolve(os.tmpdir(), 'staging-rollout-stack-tests', 'stacks', 'foundation', rel)).toBe(path.join(REPO, 'state', 'staging', 'foundation.tfstate'));
  });

  test('S3 backend with encryption and lockfile locking, or DynamoDB locking', () => {
    const lockfile = synth(stagingWith((r) => { r.backend = { type: 's3', bucket: 'acme-tf-state', key: 'staging/foundation.tfstate' }; }));
    expect(lockfile.json.terraform.backend).toEqual({ s3: { bucket: 'acme-tf-state', key: 'staging/foundation.tfstate', region: 'us-east-1', encrypt: true, use_lockfile: true } });
    const dynamo = synth(stagingWith((r) => { r.backend = { type: 's3', bucket: 'acme-tf-state', dynamodbTable: 'tf-locks', region: 'eu-west-1' }; }));
    expect(dynamo.json.terraform.backend.s3).toEqual({ bucket: 'acme-tf-state', key: 'staging-rollout/staging/foundation.tfstate', region: 'eu-west-1', encrypt: true, dynamodb_table: 'tf-locks' });
  });

  test('Terraform Cloud backend with a named workspace', () => {
    const cloud = synth(stagingWith((r) => { r.backend = { type: 'cloud', organization: 'acme', workspace: 'staging-foundation' }; }));
    expect(cloud.json.terraform.cloud).toEqual({ hostname: 'app.terraform.io', organization: 'acme', workspaces: { name: 'staging-foundation' } });
    expect(cloud.json.terraform.backend).toBeUndefined();
  });
});

describe('config rejected at synth with the file and JSON path', () => {
  const write = (name: string, content: string) => {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, content);
    return p;
  };

  test('loadConfig: missing file, invalid JSON, invalid value', () => {
    expect(() => loadConfig(path.join(tmp, 'missing.json'))).toThrow(new ConfigError(`${path.join(tmp, 'missing.json')}: cannot read config file (no such file)`));
    const bad = write('bad.json', '{ "environment": ');
    expect(() => loadConfig(bad)).toThrow(/bad\.json: not valid JSON: /);
    const port = write('port.json', JSON.stringify(stagingWith((r) => { r.services.admin.port = 0; })));
    expect(() => loadConfig(port)).toThrow(`${port}: services.admin.port: must be an integer 1-65535, got 0`);
  });

  test('FoundationStack refuses a raw config', () => {
    expect(() => new FoundationStack(Testing.app(), 'foundation', { environment: {} as any })).toThrow(/FoundationStack: environment must come from loadConfig\(\) or parseConfig\(\)/);
  });

  test('the app entry (cdktf.json "app") exits 2 with the precise message and writes nothing', () => {
    const bad = write('unknown-image.json', JSON.stringify(stagingWith((r) => { r.services.admin.image = 'nope'; })));
    const outdir = path.join(tmp, 'out-bad');
    const run = spawnSync(process.execPath, ['--require', './scripts/lib/ts-register.cjs', 'main.ts'], {
      cwd: REPO, env: { ...process.env, STAGING_ROLLOUT_CONFIG: bad, CDKTF_OUTDIR: outdir }, encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    // the file is one line of JSON: the value "nope" sits at the column the message names
    const column = fs.readFileSync(bad, 'utf8').indexOf('"nope"') + 1;
    expect(run.stderr.trim()).toBe(`error: ${bad}: services.admin.image: unknown image "nope" (images: api, frontend, admin, anisette) (line 1, column ${column})`);
    expect(fs.existsSync(path.join(outdir, 'stacks'))).toBe(false);
  });

  test('the app entry synthesizes the default config into cdktf.out/stacks/foundation', () => {
    const outdir = path.join(tmp, 'out-good');
    const run = spawnSync(process.execPath, ['--require', './scripts/lib/ts-register.cjs', 'main.ts'], {
      cwd: REPO, env: { ...process.env, STAGING_ROLLOUT_CONFIG: '', CDKTF_OUTDIR: outdir }, encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const json = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'foundation', 'cdk.tf.json'), 'utf8'));
    expect(Object.keys(json.output).sort()).toEqual([...CONTRACT_OUTPUTS].sort());
  });
});

describe('construct props validation', () => {
  const env = { prefix: 'x', region: 'us-east-1', accountId: '123456789012', partition: 'aws' };
  const scope = () => new FoundationStackScope();
  class FoundationStackScope extends App {
    constructor() {
      super({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'stack-props-')) });
    }
  }
  const stackIn = () => new (require('cdktf').TerraformStack)(scope(), 's');

  test('precise errors for bad props', () => {
    expect(() => new Network(stackIn(), 'n', { env, cidr: '10.0.0.0/16', azCount: 1, kmsKeyArn: 'k' })).toThrow('Network: azCount must be an integer 2-6, got 1');
    expect(() => new Network(stackIn(), 'n', { env, cidr: '10.0.0.0/16', natGateways: 'many' as any, kmsKeyArn: 'k' })).toThrow('Network: natGateways must be "single" or "perAz", got "many"');
    expect(() => new SecurityGroups(stackIn(), 'sg', { env, vpcId: 'v', allowedIngressCidrs: [], https: false, webPorts: [], supportPorts: [] })).toThrow('SecurityGroups: allowedIngressCidrs must not be empty');
    expect(() => new SecurityGroups(stackIn(), 'sg', { env, vpcId: 'v', allowedIngressCidrs: ['0.0.0.0/0'], https: false, webPorts: [70000], supportPorts: [] })).toThrow('SecurityGroups: invalid port 70000');
    expect(() => new LogGroups(stackIn(), 'l', { env, kmsKeyArn: 'k', retentionDays: 10, serviceNames: [] })).toThrow('LogGroups: retentionDays must be a CloudWatch Logs retention value, got 10');
    expect(() => new Registry(stackIn(), 'r', { env, imageKeys: [], kmsKeyArn: 'k' })).toThrow('Registry: imageKeys must not be empty');
  });

  test('helpers: cidrSubnet like Terraform, boundedName stable and bounded', () => {
    expect(cidrSubnet('10.40.0.0/16', 4, 0)).toBe('10.40.0.0/20');
    expect(cidrSubnet('10.40.0.0/16', 4, 8)).toBe('10.40.128.0/20');
    expect(cidrSubnet('10.40.0.0/22', 4, 15)).toBe('10.40.3.192/26');
    expect(() => cidrSubnet('10.40.0.0/16', 4, 16)).toThrow(/out of range/);
    expect(boundedName('short', 32)).toBe('short');
    const long = boundedName('staging-long-env-a-very-long-web-service-name', 32);
    expect(long).toHaveLength(32);
    expect(long).toBe(boundedName('staging-long-env-a-very-long-web-service-name', 32));
    expect(long).not.toBe(boundedName('staging-long-env-a-very-long-web-service-nam2', 32));
  });
});
