import { normalizeConfig, topologicalOrder } from '../../lib/config/index.cjs';
import { ConfigError } from '../../stacks/config';
import { stagingRaw } from '../support/staging-config.cjs';

const SOURCE = 'config/staging.json';
const staging = stagingRaw();

/** A deep copy of the staging config, changed by `edit`. */
function variant(edit: (raw: any) => void): any {
  const raw = JSON.parse(JSON.stringify(staging));
  edit(raw);
  return raw;
}

function errorOf(raw: unknown): ConfigError {
  try {
    normalizeConfig(raw, { source: SOURCE });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('normalizeConfig accepted the config');
}

describe('normalizeConfig on config/staging.json', () => {
  const { config, services } = normalizeConfig(staging, { source: SOURCE });

  test('keeps catalog order and names every service', () => {
    expect(services.map((s) => s.name)).toEqual(Object.keys(staging.services));
  });

  test('applies defaults', () => {
    const api = services.find((s) => s.name === 'api')!;
    expect(api).toMatchObject({ enabled: true, disabledReason: null, command: null, dependsOn: [], mounts: [], needsData: false, environment: {}, discoveryName: null });
    const fetcher = services.find((s) => s.name === 'tracker-fetcher-2')!;
    expect(fetcher).toMatchObject({ kind: 'worker', port: null, healthCheckPath: null, routing: null, needsData: true, mounts: [{ volume: 'data', containerPath: '/data', readOnly: false }] });
    const frontend = services.find((s) => s.name === 'frontend')!;
    expect(frontend.routing).toEqual({ default: true, pathPatterns: [], hostHeader: null, priority: null });
    expect(config.namePrefix).toBe('staging');
    expect(config.backend).toEqual({ type: 'local', path: 'state/staging/foundation.tfstate' });
    expect(config.migration.containerName).toBe('migration');
    expect(config.migration.secrets).toEqual(['database']);
    expect(config.database.protectDataVolume).toBe(true);
    expect(config.imageRegistry).toBeNull();
    expect('imageConvenienceTag' in config).toBe(false);
    expect(config.loadBalancer.healthCheck.matcher).toBe('200-399');
  });

  test('every service has the full normalised shape', () => {
    const keys = ['name', 'enabled', 'disabledReason', 'tier', 'kind', 'image', 'port', 'healthCheckPath', 'routing', 'healthCheck', 'command', 'dependsOn', 'mounts', 'needsData', 'environment', 'secrets', 'cpu', 'memory', 'desiredCount', 'discoveryName'];
    for (const s of services) expect(Object.keys(s).sort()).toEqual([...keys].sort());
  });

  test('defaults fill an almost empty config', () => {
    const { config: c, services: s } = normalizeConfig({
      environment: 'dev', region: 'eu-west-1', network: { cidr: '10.1.0.0/16' }, loadBalancer: { allowPublicHttp: true },
      images: { api: { context: '.' } }, migration: { command: ['migrate'] }, tiers: ['app'],
      services: { w: { tier: 'app', kind: 'worker', image: 'api' } }, smoke: { fetcherAnisetteCheck: 'off' },
    }, { source: 'dev.json' });
    expect(c.namePrefix).toBe('dev');
    expect(c.cluster).toEqual({ containerInsights: true, fargateSpotForWorkers: false, enableExecuteCommand: true, namespace: 'dev.internal' });
    expect(c.network).toEqual({ cidr: '10.1.0.0/16', azCount: 2, natGateways: 'single', flowLogRetentionDays: 14 });
    expect(c.migration).toMatchObject({ image: 'api', cpu: 256, memory: 512, timeoutSeconds: 900 });
    expect(s[0]).toMatchObject({ cpu: 256, memory: 512, desiredCount: 1, secrets: [], enabled: true });
  });

  test('the smoke section is part of the one schema: its rules apply to a whole config', () => {
    const raw = {
      environment: 'dev', region: 'eu-west-1', network: { cidr: '10.1.0.0/16' }, loadBalancer: { allowPublicHttp: true },
      images: { api: { context: '.' } }, migration: { command: ['migrate'] }, tiers: ['app'],
      services: { w: { tier: 'app', kind: 'worker', image: 'api' } },
    };
    expect(errorOf(raw).message).toBe('config/staging.json: smoke.fetcherAnisetteLogPattern: is required when smoke.fetcherAnisetteCheck is "log", got undefined');
    expect(normalizeConfig({ ...raw, smoke: { fetcherAnisetteCheck: 'off' } }).config.smoke).toMatchObject({ healthPath: '/health', databaseCheck: 'task', databaseCheckCommand: ['alembic', 'current'] });
  });

  test('image step settings pass through: imageRegistry, imageConvenienceTag (null = none)', () => {
    const { config: c } = normalizeConfig(variant((r) => { r.imageRegistry = 'http://127.0.0.1:5000'; r.imageConvenienceTag = null; }), { source: SOURCE });
    expect(c.imageRegistry).toBe('http://127.0.0.1:5000');
    expect(c.imageConvenienceTag).toBeNull();
    const { config: t } = normalizeConfig(variant((r) => { r.imageConvenienceTag = 'stg-current'; }), { source: SOURCE });
    expect(t.imageConvenienceTag).toBe('stg-current');
  });

  test('does not mutate its input', () => {
    const raw = variant(() => undefined);
    const before = JSON.stringify(raw);
    normalizeConfig(raw, { source: SOURCE });
    expect(JSON.stringify(raw)).toBe(before);
  });
});

describe('disabled services', () => {
  test('disabling anisette disables tracker-fetcher-2 with the reason', () => {
    const { services } = normalizeConfig(variant((r) => { r.services.anisette.enabled = false; }), { source: SOURCE });
    const off = services.filter((s) => !s.enabled);
    expect(off.map((s) => [s.name, s.disabledReason])).toEqual([
      ['anisette', 'disabled in config'],
      ['tracker-fetcher-2', 'dependency anisette is disabled'],
    ]);
    expect(services.filter((s) => s.enabled)).toHaveLength(Object.keys(staging.services).length - 2);
  });

  test('propagates transitively regardless of catalog order', () => {
    const { services } = normalizeConfig(variant((r) => {
      r.services = {
        c: { ...r.services['unified-geofence'], dependsOn: ['b'] },
        b: { ...r.services['unified-geofence'], dependsOn: ['a'] },
        a: { ...r.services['unified-geofence'], enabled: false },
        d: { ...r.services['unified-geofence'] },
      };
    }), { source: SOURCE });
    const reasons = Object.fromEntries(services.map((s) => [s.name, s.disabledReason]));
    expect(reasons).toEqual({ c: 'dependency b is disabled', b: 'dependency a is disabled', a: 'disabled in config', d: null });
  });
});

describe('topologicalOrder', () => {
  test('dependencies come first; catalog order where free', () => {
    const order = topologicalOrder([
      { name: 'x', dependsOn: ['z'] }, { name: 'y' }, { name: 'z' }, { name: 'w', dependsOn: ['x', 'y'] },
    ]);
    expect(order).toEqual(['y', 'z', 'x', 'w']);
  });

  test('reports a cycle with its path', () => {
    expect(() => topologicalOrder([{ name: 'a', dependsOn: ['b'] }, { name: 'b', dependsOn: ['a'] }]))
      .toThrow(new ConfigError('dependency cycle: a -> b -> a'));
    expect(() => topologicalOrder([{ name: 'a', dependsOn: ['a'] }])).toThrow('dependency cycle: a -> a');
  });

  test('rejects an unknown dependency', () => {
    expect(() => topologicalOrder([{ name: 'a', dependsOn: ['ghost'] }])).toThrow(ConfigError);
    expect(() => topologicalOrder([{ name: 'a', dependsOn: ['ghost'] }])).toThrow(/a depends on ghost/);
  });

  test('rejects a dependency on a later tier when tiers are given', () => {
    expect(() => topologicalOrder([{ name: 'a', tier: 'app', dependsOn: ['b'] }, { name: 'b', tier: 'workers' }], ['app', 'workers']))
      .toThrow(/later tier workers/);
  });

  test('normalizeConfig names the file for a cycle', () => {
    const e = errorOf(variant((r) => { r.services.anisette.dependsOn = ['tracker-fetcher-2']; }));
    expect(e.message).toBe(`${SOURCE}: services: dependency cycle: anisette -> tracker-fetcher-2 -> anisette`);
  });
});

describe('bad config is rejected with the file and JSON path', () => {
  const cases: Array<[string, (r: any) => void, string]> = [
    ['port as a string', (r) => { r.services.api.port = '80'; }, 'services.api.port: must be an integer 1-65535, got "80"'],
    ['unknown dependency', (r) => { r.services['tracker-fetcher-2'].dependsOn = ['anisete']; }, 'services.tracker-fetcher-2.dependsOn[0]: unknown service "anisete"'],
    ['dependency in a later tier', (r) => { r.services.api.dependsOn = ['anisette']; }, 'services.api.dependsOn[0]: "anisette" is in the later tier "workers"'],
    ['unknown image', (r) => { r.services.admin.image = 'adminz'; }, 'services.admin.image: unknown image "adminz" (images: api, frontend, admin, anisette)'],
    ['unknown tier', (r) => { r.services.admin.tier = 'web'; }, 'services.admin.tier: unknown tier "web" (tiers: app, workers)'],
    ['unknown kind', (r) => { r.services.admin.kind = 'cron'; }, 'services.admin.kind: must be one of "web", "worker", "support", got "cron"'],
    ['worker with a port', (r) => { r.services['unified-geofence'].port = 80; }, 'services.unified-geofence.port: a worker has no port, got 80'],
    ['web without routing', (r) => { delete r.services.admin.routing; }, 'services.admin.routing: must be an object, got undefined'],
    ['enabled not boolean', (r) => { r.services.anisette.enabled = 'no'; }, 'services.anisette.enabled: must be true or false, got "no"'],
    ['unknown secret', (r) => { r.services.api.secrets = ['database', 'redis']; }, 'services.api.secrets[1]: unknown secret "redis"'],
    ['duplicate secret', (r) => { r.services.api.secrets = ['app', 'app']; }, 'services.api.secrets[1]: duplicate value "app"'],
    ['typo in a service key', (r) => { r.services.api.dependOn = []; }, 'services.api.dependOn: unknown key'],
    ['typo next to the key it misses', (r) => { r.backend = { type: 'cloud', organization: 'acme', workspce: 'x' }; }, 'backend.workspce: unknown key (allowed: type, organization, workspace, hostname)'],
    ['bad mount volume', (r) => { r.services['tracker-fetcher-2'].mounts[0].volume = 'tmp'; }, 'services.tracker-fetcher-2.mounts[0].volume: must be one of "data", got "tmp"'],
    ['bad Fargate memory', (r) => { r.services.api.memory = 700; }, 'services.api.memory: must be a Fargate memory size for cpu 512'],
    ['bad Fargate cpu', (r) => { r.services.api.cpu = 300; }, 'services.api.cpu: must be a Fargate CPU value'],
    ['duplicate rule priority', (r) => { r.services.admin.routing.priority = 10; }, 'services.admin.routing.priority: duplicate listener rule priority 10 (also api)'],
    ['two default routes', (r) => { r.services.admin.routing = { default: true }; }, 'services.admin.routing.default: only one web service may be the default route (already frontend)'],
    ['path routing without patterns', (r) => { r.services.admin.routing.pathPatterns = []; }, 'services.admin.routing.pathPatterns: loadBalancer.routing is "path"'],
    ['host routing without host', (r) => { r.loadBalancer.routing = 'host'; }, 'services.api.routing.hostHeader: loadBalancer.routing is "host"'],
    ['bad CIDR', (r) => { r.network.cidr = '10.40.0.0/33'; }, 'network.cidr: must be an IPv4 CIDR block'],
    ['CIDR with host bits', (r) => { r.loadBalancer.allowedIngressCidrs = ['10.1.2.3/16']; }, 'loadBalancer.allowedIngressCidrs[0]: has host bits set'],
    ['one AZ', (r) => { r.network.azCount = 1; }, 'network.azCount: must be an integer 2-6, got 1'],
    ['NAT mode', (r) => { r.network.natGateways = 'many'; }, 'network.natGateways: must be one of "single", "perAz", got "many"'],
    ['retention', (r) => { r.logs.retentionDays = 10; }, 'logs.retentionDays: must be a CloudWatch Logs retention'],
    ['container health check timeout', (r) => { r.services.api.healthCheck = { command: ['true'], intervalSeconds: 10, timeoutSeconds: 10 }; },
      'services.api.healthCheck.timeoutSeconds: must be less than intervalSeconds (10), got 10'],
    ['container health check interval below ECS\'s', (r) => { r.services.api.healthCheck = { command: ['true'], intervalSeconds: 2 }; }, 'services.api.healthCheck.intervalSeconds: must be an integer 5-300, got 2'],
    ['container health check without a command', (r) => { r.services.api.healthCheck = { command: [] }; }, 'services.api.healthCheck.command: must not be empty'],
    ['container health check, shell string', (r) => { r.services.api.healthCheck = { command: 'curl -f localhost' }; }, 'services.api.healthCheck.command: must be an array of strings'],
    ['health check timeout', (r) => { r.loadBalancer.healthCheck.timeoutSeconds = 5; }, 'loadBalancer.healthCheck.timeoutSeconds: must be less than intervalSeconds (5), got 5'],
    ['certificate', (r) => { r.loadBalancer.certificateArn = 'my-cert'; }, 'loadBalancer.certificateArn: must be an ACM certificate ARN or null'],
    ['a misspelt service override (as from an extends overlay)', (r) => { r.services['notificaton-service'] = { desiredCount: 2 }; },
      'services.notificaton-service: unknown service: it is not in the catalog, and a new service needs tier, kind and image; did you mean "notification-service"?'],
    ['public plain HTTP not accepted', (r) => { delete r.loadBalancer.allowPublicHttp; },
      'loadBalancer.certificateArn: is null while allowedIngressCidrs contains 0.0.0.0/0: the ALB would serve plain HTTP to the whole internet; set certificateArn (an ACM certificate ARN, HTTPS), or narrow allowedIngressCidrs, or accept it with loadBalancer.allowPublicHttp: true'],
    ['public plain HTTP, opt-in not a boolean', (r) => { r.loadBalancer.allowPublicHttp = 'yes'; }, 'loadBalancer.allowPublicHttp: must be true or false, got "yes"'],
    ['backend type', (r) => { r.backend = { type: 'gcs' }; }, 'backend.type: must be one of "local", "s3", "cloud", got "gcs"'],
    ['s3 backend without bucket', (r) => { r.backend = { type: 's3' }; }, 'backend.bucket: must be a non-empty string, got undefined'],
    ['s3 backend without locking', (r) => { r.backend = { type: 's3', bucket: 'tf-state', useLockfile: false }; }, 'backend: S3 state needs locking'],
    ['cloud backend without organization', (r) => { r.backend = { type: 'cloud', workspace: 'w' }; }, 'backend.organization: must be a non-empty string, got undefined'],
    ['image registry', (r) => { r.imageRegistry = 'ftp://x'; }, 'imageRegistry: must be a registry address like "host:5000", "http://host:port" or "https://host" or null, got "ftp://x"'],
    ['convenience tag', (r) => { r.imageConvenienceTag = '-latest'; }, 'imageConvenienceTag: must be an image tag'],
    ['migration secret', (r) => { r.migration.secrets = ['db']; }, 'migration.secrets[0]: unknown secret "db"'],
    ['migration image', (r) => { r.migration.image = 'worker'; }, 'migration.image: unknown image "worker"'],
    ['unknown top-level key', (r) => { r.loadbalancer = {}; }, 'loadbalancer: unknown key'],
    ['services not an object', (r) => { r.services = []; }, 'services: must be an object, got an array'],
    ['uppercase service name', (r) => { r.services.Api = r.services.api; delete r.services.api; }, 'services.Api: service name must be lowercase'],
    ['reserved service name', (r) => { r.services.exec = r.services.api; delete r.services.api; }, 'services.exec: service name "exec" is reserved'],
    ['duplicate tier', (r) => { r.tiers = ['app', 'app']; }, 'tiers[1]: duplicate value "app"'],
    ['superuser', (r) => { r.database.username = 'postgres'; }, 'database.username: must not be the superuser "postgres"'],
    ['posix uid root', (r) => { r.storage.posixUid = 0; }, 'storage.posixUid: must be an integer 1-4294967295, got 0'],
    ['environment value type', (r) => { r.services['tracker-fetcher-2'].environment.RETRIES = 3; }, 'services.tracker-fetcher-2.environment.RETRIES: must be a string, got 3'],
    ['region', (r) => { r.region = 'US-EAST-1'; }, 'region: must be an AWS region like "us-east-1", got "US-EAST-1"'],
  ];

  test('plain HTTP needs no opt-in once the ALB has a certificate or is not open to the whole internet', () => {
    const unaccepted = (edit: (raw: any) => void) => variant((r) => { delete r.loadBalancer.allowPublicHttp; edit(r); });
    const https = normalizeConfig(unaccepted((r) => { r.loadBalancer.certificateArn = 'arn:aws:acm:us-east-1:123456789012:certificate/abc-123'; }), { source: SOURCE });
    expect(https.config.loadBalancer).toMatchObject({ allowPublicHttp: false, certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc-123' });
    const office = normalizeConfig(unaccepted((r) => { r.loadBalancer.allowedIngressCidrs = ['203.0.113.0/24']; }), { source: SOURCE });
    expect(office.config.loadBalancer).toMatchObject({ allowPublicHttp: false, certificateArn: null });
  });

  test.each(cases)('%s', (_label, edit, expected) => {
    const e = errorOf(variant(edit));
    expect(e.message.startsWith(`${SOURCE}: ${expected}`)).toBe(true);
    expect(e.source).toBe(SOURCE);
  });

  test('a non-object config', () => {
    expect(errorOf(null).message).toBe(`${SOURCE}: must be an object, got null`);
  });

  test('default source name is "config"', () => {
    expect(() => normalizeConfig(variant((r) => { r.region = 1; }))).toThrow(/^config: region: /);
  });
});
