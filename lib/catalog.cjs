'use strict';
// The shared catalog rules of docs/contract.md (sections 1 and 6). Plain CommonJS with JSDoc so the TypeScript
// stack (require) and the ES-module runner (import) validate an environment config the same way.
// Every error is a ConfigError whose message names the source file and the JSON path of the bad value.
// loadConfigFile is THE one reader of config files (stack, runner, image CLI), with `"extends"` overlays.

const fs = require('fs');
const nodePath = require('path');

/** Keys of the stack's secrets (docs/contract.md section 2, `secret_arns`). */
const SECRET_KEYS = Object.freeze(['database', 'cache', 'app', 'smoke_user']);
const KINDS = Object.freeze(['web', 'worker', 'support']);
const VOLUMES = Object.freeze(['data']);
/** Names the stack uses for its own log groups and roles (`/ecs/<prefix>/migration`, `/ecs/<prefix>/exec`). */
const RESERVED_NAMES = Object.freeze(['migration', 'exec']);
/** Values CloudWatch Logs accepts for retention_in_days. */
const LOG_RETENTION_DAYS = Object.freeze([
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
]);
/** Fargate CPU units -> allowed memory (MiB). */
const FARGATE_MEMORY = Object.freeze({
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
});
const TOP_LEVEL_KEYS = Object.freeze([
  'environment', 'namePrefix', 'region', 'tags', 'backend', 'network', 'loadBalancer', 'database', 'cache',
  'storage', 'logs', 'cluster', 'images', 'migration', 'tiers', 'services', 'smoke', 'imageRegistry',
  'imageConvenienceTag',
]);
const SERVICE_KEYS = Object.freeze([
  'tier', 'kind', 'image', 'enabled', 'port', 'healthCheckPath', 'routing', 'command', 'dependsOn', 'mounts',
  'environment', 'secrets', 'cpu', 'memory', 'desiredCount', 'discoveryName',
]);

function range(from, to, step) {
  const out = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

class ConfigError extends Error {
  /**
   * @param {string} message full message (already prefixed with source and path when known)
   * @param {{ source?: string, path?: string }} [where]
   */
  constructor(message, where = {}) {
    super(message);
    this.name = 'ConfigError';
    /** @type {string|undefined} */
    this.source = where.source;
    /** @type {string|undefined} */
    this.path = where.path;
  }
}

/** @param {unknown} v */
function show(v) {
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** @param {unknown} v @returns {v is Record<string, unknown>} */
function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON path segment for a key: `a.b` or `a["odd key"]`. */
function joinPath(base, key) {
  if (typeof key === 'number') return `${base}[${key}]`;
  const seg = /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key) ? key : JSON.stringify(key);
  if (!base) return seg;
  return /^[A-Za-z_$]/.test(seg) ? `${base}.${seg}` : `${base}[${seg}]`;
}

/** Validation context bound to one source file. */
class Checker {
  /** @param {string} source */
  constructor(source) {
    this.source = source;
  }

  /** @param {string} path @param {string} message @returns {never} */
  fail(path, message) {
    const where = path ? `${path}: ` : '';
    throw new ConfigError(`${this.source}: ${where}${message}`, { source: this.source, path });
  }

  /** @returns {Record<string, unknown>} */
  object(v, path) {
    if (!isObject(v)) this.fail(path, `must be an object, got ${show(v)}`);
    return v;
  }

  /** Optional object: undefined -> {} */
  section(v, path) {
    if (v === undefined) return {};
    return this.object(v, path);
  }

  /** Reject keys not in `allowed` (keys starting with `$` are comments). */
  keys(obj, allowed, path) {
    for (const k of Object.keys(obj)) {
      if (k.startsWith('$')) continue;
      if (!allowed.includes(k)) this.fail(joinPath(path, k), `unknown key (allowed: ${allowed.join(', ')})`);
    }
  }

  string(v, path, { pattern, hint, def } = {}) {
    if (v === undefined && def !== undefined) return def;
    if (typeof v !== 'string' || v.length === 0) this.fail(path, `must be a non-empty string, got ${show(v)}`);
    if (pattern && !pattern.test(v)) this.fail(path, `must be ${hint || `a string matching ${pattern}`}, got ${show(v)}`);
    return v;
  }

  nullableString(v, path, opts = {}) {
    if (v === undefined || v === null) return null;
    return this.string(v, path, opts);
  }

  integer(v, path, { min, max, def } = {}) {
    if (v === undefined && def !== undefined) return def;
    const bounds = min !== undefined && max !== undefined ? ` ${min}-${max}` : min !== undefined ? ` >= ${min}` : '';
    if (typeof v !== 'number' || !Number.isInteger(v) || (min !== undefined && v < min) || (max !== undefined && v > max)) {
      this.fail(path, `must be an integer${bounds}, got ${show(v)}`);
    }
    return v;
  }

  boolean(v, path, def) {
    if (v === undefined && def !== undefined) return def;
    if (typeof v !== 'boolean') this.fail(path, `must be true or false, got ${show(v)}`);
    return v;
  }

  oneOf(v, path, values, def) {
    if (v === undefined && def !== undefined) return def;
    if (!values.includes(v)) this.fail(path, `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${show(v)}`);
    return v;
  }

  stringArray(v, path, { def, nonEmpty, unique = true, pattern, hint } = {}) {
    if (v === undefined && def !== undefined) return def.slice();
    if (!Array.isArray(v)) this.fail(path, `must be an array of strings, got ${show(v)}`);
    if (nonEmpty && v.length === 0) this.fail(path, 'must not be empty');
    v.forEach((item, i) => this.string(item, joinPath(path, i), { pattern, hint }));
    if (unique) {
      const seen = new Set();
      v.forEach((item, i) => {
        if (seen.has(item)) this.fail(joinPath(path, i), `duplicate value ${show(item)}`);
        seen.add(item);
      });
    }
    return v.slice();
  }

  stringMap(v, path, { keyPattern, keyHint } = {}) {
    if (v === undefined) return {};
    const obj = this.object(v, path);
    const out = {};
    for (const [k, val] of Object.entries(obj)) {
      if (keyPattern && !keyPattern.test(k)) this.fail(joinPath(path, k), `key must be ${keyHint}`);
      if (typeof val !== 'string') this.fail(joinPath(path, k), `must be a string, got ${show(val)}`);
      out[k] = val;
    }
    return out;
  }

  cidr(v, path) {
    const s = this.string(v, path);
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) {
      this.fail(path, `must be an IPv4 CIDR block like "10.0.0.0/16", got ${show(v)}`);
    }
    const ip = m.slice(1, 5).reduce((acc, o) => acc * 256 + Number(o), 0);
    const bits = Number(m[5]);
    const hostMask = bits === 0 ? 2 ** 32 - 1 : 2 ** (32 - bits) - 1;
    if (ip % (hostMask + 1) !== 0) this.fail(path, `has host bits set (not a network address): ${show(v)}`);
    return s;
  }

  retention(v, path, def) {
    if (v === undefined) return def;
    if (!LOG_RETENTION_DAYS.includes(v)) {
      this.fail(path, `must be a CloudWatch Logs retention (${LOG_RETENTION_DAYS.join(', ')}), got ${show(v)}`);
    }
    return v;
  }

  fargateSize(cpuRaw, memRaw, path, defs) {
    const cpu = this.integer(cpuRaw, joinPath(path, 'cpu'), { def: defs.cpu });
    if (!(String(cpu) in FARGATE_MEMORY)) {
      this.fail(joinPath(path, 'cpu'), `must be a Fargate CPU value (${Object.keys(FARGATE_MEMORY).join(', ')}), got ${show(cpuRaw)}`);
    }
    const memory = this.integer(memRaw, joinPath(path, 'memory'), { def: defs.memory });
    const allowed = FARGATE_MEMORY[cpu];
    if (!allowed.includes(memory)) {
      this.fail(joinPath(path, 'memory'), `must be a Fargate memory size for cpu ${cpu} (${allowed[0]}-${allowed[allowed.length - 1]} MiB in steps of ${allowed.length > 1 ? allowed[1] - allowed[0] : 0}${cpu === 256 ? ': 512, 1024, 2048' : ''}), got ${show(memRaw)}`);
    }
    return { cpu, memory };
  }
}

const NAME = /^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$/;
const NAME_HINT = 'lowercase letters, digits and hyphens, starting with a letter';
const ENV_VAR = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DNS_LABEL = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DOMAIN = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$|^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const HOST_HEADER = /^(\*\.)?([a-z0-9*?]([a-z0-9*?-]{0,61}[a-z0-9*?])?\.)+[a-z0-9*?-]{1,63}$/;
const ABS_PATH = /^\/[A-Za-z0-9._\-/]*$/;
const PATH_PATTERN = /^\/[A-Za-z0-9._~\-/*?%+=&:@]*$/;

/**
 * Validate an environment config and apply every default.
 * @param {unknown} raw parsed JSON
 * @param {{ source?: string }} [opts] file name used in error messages
 * @returns {{ config: import('./catalog').NormalizedConfig, services: import('./catalog').NormalizedService[] }}
 */
function normalizeConfig(raw, opts = {}) {
  const c = new Checker(opts.source || 'config');
  const root = c.object(raw, '');
  c.keys(root, TOP_LEVEL_KEYS, '');

  const environment = c.string(root.environment, 'environment', { pattern: /^[a-z][a-z0-9-]{0,19}$/, hint: `${NAME_HINT}, at most 20 characters` });
  const namePrefix = c.string(root.namePrefix, 'namePrefix', { pattern: /^[a-z][a-z0-9-]{0,14}[a-z0-9]$|^[a-z]$/, hint: `${NAME_HINT}, at most 16 characters (ALB and target group names are limited to 32)`, def: environment });
  const region = c.string(root.region, 'region', { pattern: /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, hint: 'an AWS region like "us-east-1"' });
  const tags = c.stringMap(root.tags, 'tags');
  for (const k of Object.keys(tags)) {
    if (k.length > 128 || k.toLowerCase().startsWith('aws:')) c.fail(joinPath('tags', k), 'tag keys must be at most 128 characters and must not start with "aws:"');
    if (tags[k].length > 256) c.fail(joinPath('tags', k), 'tag values must be at most 256 characters');
  }

  const backend = normalizeBackend(c, root.backend, region);

  // network
  const netRaw = c.section(root.network, 'network');
  c.keys(netRaw, ['cidr', 'azCount', 'natGateways', 'flowLogRetentionDays'], 'network');
  const network = {
    cidr: c.cidr(netRaw.cidr, 'network.cidr'),
    azCount: c.integer(netRaw.azCount, 'network.azCount', { min: 2, max: 6, def: 2 }),
    natGateways: c.oneOf(netRaw.natGateways, 'network.natGateways', ['single', 'perAz'], 'single'),
    flowLogRetentionDays: c.retention(netRaw.flowLogRetentionDays, 'network.flowLogRetentionDays', 14),
  };
  const prefixLen = Number(network.cidr.split('/')[1]);
  if (prefixLen < 16 || prefixLen > 22) c.fail('network.cidr', `prefix length must be /16 to /22 (the stack carves ${network.azCount * 2} subnets out of it), got /${prefixLen}`);

  // load balancer
  const lbRaw = c.section(root.loadBalancer, 'loadBalancer');
  c.keys(lbRaw, ['certificateArn', 'routing', 'allowedIngressCidrs', 'healthCheck', 'deregistrationDelaySeconds', 'sslPolicy'], 'loadBalancer');
  const hcRaw = c.section(lbRaw.healthCheck, 'loadBalancer.healthCheck');
  c.keys(hcRaw, ['intervalSeconds', 'timeoutSeconds', 'healthyThreshold', 'unhealthyThreshold', 'matcher'], 'loadBalancer.healthCheck');
  const healthCheck = {
    intervalSeconds: c.integer(hcRaw.intervalSeconds, 'loadBalancer.healthCheck.intervalSeconds', { min: 5, max: 300, def: 5 }),
    timeoutSeconds: c.integer(hcRaw.timeoutSeconds, 'loadBalancer.healthCheck.timeoutSeconds', { min: 2, max: 120, def: 3 }),
    healthyThreshold: c.integer(hcRaw.healthyThreshold, 'loadBalancer.healthCheck.healthyThreshold', { min: 2, max: 10, def: 2 }),
    unhealthyThreshold: c.integer(hcRaw.unhealthyThreshold, 'loadBalancer.healthCheck.unhealthyThreshold', { min: 2, max: 10, def: 2 }),
    matcher: c.string(hcRaw.matcher, 'loadBalancer.healthCheck.matcher', { pattern: /^[1-5]\d\d(-[1-5]\d\d)?(,[1-5]\d\d(-[1-5]\d\d)?)*$/, hint: 'HTTP codes like "200" or "200-399"', def: '200-399' }),
  };
  if (healthCheck.timeoutSeconds >= healthCheck.intervalSeconds) {
    c.fail('loadBalancer.healthCheck.timeoutSeconds', `must be less than intervalSeconds (${healthCheck.intervalSeconds}), got ${healthCheck.timeoutSeconds}`);
  }
  const loadBalancer = {
    certificateArn: c.nullableString(lbRaw.certificateArn, 'loadBalancer.certificateArn', { pattern: /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/, hint: 'an ACM certificate ARN or null' }),
    routing: c.oneOf(lbRaw.routing, 'loadBalancer.routing', ['path', 'host'], 'path'),
    allowedIngressCidrs: c.stringArray(lbRaw.allowedIngressCidrs, 'loadBalancer.allowedIngressCidrs', { def: ['0.0.0.0/0'], nonEmpty: true }),
    healthCheck,
    deregistrationDelaySeconds: c.integer(lbRaw.deregistrationDelaySeconds, 'loadBalancer.deregistrationDelaySeconds', { min: 0, max: 3600, def: 5 }),
    sslPolicy: c.string(lbRaw.sslPolicy, 'loadBalancer.sslPolicy', { pattern: /^ELBSecurityPolicy-[A-Za-z0-9-]+$/, hint: 'an ELB security policy name', def: 'ELBSecurityPolicy-TLS13-1-2-2021-06' }),
  };
  loadBalancer.allowedIngressCidrs.forEach((v, i) => c.cidr(v, `loadBalancer.allowedIngressCidrs[${i}]`));

  // database
  const dbRaw = c.section(root.database, 'database');
  c.keys(dbRaw, ['instanceType', 'dataVolumeGiB', 'postgresVersion', 'databaseName', 'username', 'protectDataVolume'], 'database');
  const database = {
    instanceType: c.string(dbRaw.instanceType, 'database.instanceType', { pattern: /^[a-z][a-z0-9-]*\.[a-z0-9]+$/, hint: 'an EC2 instance type like "t3.small"', def: 't3.small' }),
    dataVolumeGiB: c.integer(dbRaw.dataVolumeGiB, 'database.dataVolumeGiB', { min: 1, max: 16384, def: 20 }),
    postgresVersion: c.string(dbRaw.postgresVersion, 'database.postgresVersion', { pattern: /^\d{2}$/, hint: 'a PostgreSQL major version like "15"', def: '15' }),
    databaseName: c.string(dbRaw.databaseName, 'database.databaseName', { pattern: /^[a-z_][a-z0-9_]{0,62}$/, hint: 'a lowercase SQL identifier', def: 'app' }),
    username: c.string(dbRaw.username, 'database.username', { pattern: /^[a-z_][a-z0-9_]{0,62}$/, hint: 'a lowercase SQL identifier', def: 'app' }),
    // lifecycle.prevent_destroy on the EBS data volume; false only for throwaway environments (emulator tests)
    protectDataVolume: c.boolean(dbRaw.protectDataVolume, 'database.protectDataVolume', true),
  };
  if (database.username === 'postgres') c.fail('database.username', 'must not be the superuser "postgres"');

  // cache
  const cacheRaw = c.section(root.cache, 'cache');
  c.keys(cacheRaw, ['nodeType', 'engineVersion', 'replicas'], 'cache');
  const cache = {
    nodeType: c.string(cacheRaw.nodeType, 'cache.nodeType', { pattern: /^cache\.[a-z0-9]+\.[a-z0-9]+$/, hint: 'an ElastiCache node type like "cache.t4g.micro"', def: 'cache.t4g.micro' }),
    engineVersion: c.string(cacheRaw.engineVersion, 'cache.engineVersion', { pattern: /^[78]\.\d+$/, hint: 'a Valkey version like "8.0"', def: '8.0' }),
    replicas: c.integer(cacheRaw.replicas, 'cache.replicas', { min: 0, max: 5, def: 0 }),
  };

  // storage
  const stRaw = c.section(root.storage, 'storage');
  c.keys(stRaw, ['dataPath', 'posixUid', 'posixGid'], 'storage');
  const storage = {
    dataPath: c.string(stRaw.dataPath, 'storage.dataPath', { pattern: /^\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, hint: 'an absolute path like "/data" (not "/")', def: '/data' }),
    posixUid: c.integer(stRaw.posixUid, 'storage.posixUid', { min: 1, max: 4294967295, def: 1000 }),
    posixGid: c.integer(stRaw.posixGid, 'storage.posixGid', { min: 1, max: 4294967295, def: 1000 }),
  };

  const logsRaw = c.section(root.logs, 'logs');
  c.keys(logsRaw, ['retentionDays'], 'logs');
  const logs = { retentionDays: c.retention(logsRaw.retentionDays, 'logs.retentionDays', 14) };

  const clRaw = c.section(root.cluster, 'cluster');
  c.keys(clRaw, ['containerInsights', 'fargateSpotForWorkers', 'enableExecuteCommand', 'namespace'], 'cluster');
  const cluster = {
    containerInsights: c.boolean(clRaw.containerInsights, 'cluster.containerInsights', true),
    fargateSpotForWorkers: c.boolean(clRaw.fargateSpotForWorkers, 'cluster.fargateSpotForWorkers', false),
    enableExecuteCommand: c.boolean(clRaw.enableExecuteCommand, 'cluster.enableExecuteCommand', true),
    namespace: c.string(clRaw.namespace, 'cluster.namespace', { pattern: DOMAIN, hint: 'a lowercase DNS name like "staging.internal"', def: `${environment}.internal` }),
  };

  // images: the build fields belong to the image step; only the key set and `context` are checked here,
  // other fields pass through unchanged.
  const imgRaw = c.object(root.images, 'images');
  if (Object.keys(imgRaw).filter((k) => !k.startsWith('$')).length === 0) c.fail('images', 'must name at least one image');
  const images = {};
  for (const [key, val] of Object.entries(imgRaw)) {
    if (key.startsWith('$')) continue;
    const p = joinPath('images', key);
    if (!NAME.test(key) || key.length > 40) c.fail(p, `image key must be ${NAME_HINT} (at most 40 characters)`);
    const img = c.object(val, p);
    images[key] = {
      ...img,
      context: c.string(img.context, joinPath(p, 'context')),
      dockerfile: c.string(img.dockerfile, joinPath(p, 'dockerfile'), { def: 'Dockerfile' }),
    };
  }
  const imageKeys = Object.keys(images);

  // migration
  const migRaw = c.object(root.migration, 'migration');
  c.keys(migRaw, ['image', 'command', 'cpu', 'memory', 'timeoutSeconds', 'containerName', 'secrets'], 'migration');
  const migImage = c.string(migRaw.image, 'migration.image', { def: 'api' });
  if (!imageKeys.includes(migImage)) c.fail('migration.image', `unknown image ${show(migImage)} (images: ${imageKeys.join(', ')})`);
  const migration = {
    image: migImage,
    command: c.stringArray(migRaw.command, 'migration.command', { nonEmpty: true, unique: false }),
    ...c.fargateSize(migRaw.cpu, migRaw.memory, 'migration', { cpu: 256, memory: 512 }),
    timeoutSeconds: c.integer(migRaw.timeoutSeconds, 'migration.timeoutSeconds', { min: 30, max: 86400, def: 900 }),
    containerName: c.string(migRaw.containerName, 'migration.containerName', { pattern: NAME, hint: NAME_HINT, def: 'migration' }),
    secrets: c.stringArray(migRaw.secrets, 'migration.secrets', { def: ['database'] }),
  };
  migration.secrets.forEach((k, i) => {
    if (!SECRET_KEYS.includes(k)) c.fail(`migration.secrets[${i}]`, `unknown secret ${show(k)} (secrets: ${SECRET_KEYS.join(', ')})`);
  });

  const tiers = c.stringArray(root.tiers, 'tiers', { nonEmpty: true, pattern: NAME, hint: NAME_HINT });

  // services
  const svcRaw = c.object(root.services, 'services');
  const names = Object.keys(svcRaw).filter((k) => !k.startsWith('$'));
  if (names.length === 0) c.fail('services', 'must name at least one service');
  /** @type {any[]} */
  const services = [];
  for (const name of names) {
    const p = joinPath('services', name);
    if (!NAME.test(name) || name.length > 32) c.fail(p, `service name must be ${NAME_HINT} (at most 32 characters)`);
    if (RESERVED_NAMES.includes(name)) c.fail(p, `service name ${show(name)} is reserved (log group and task role of the ${name} task)`);
    if (name === migration.containerName) c.fail(p, `service name collides with migration.containerName ${show(name)}`);
    services.push(normalizeService(c, name, svcRaw[name], p, { tiers, imageKeys, loadBalancer, names }));
  }

  // routing across web services
  const web = services.filter((s) => s.kind === 'web');
  const defaults = web.filter((s) => s.routing.default);
  if (defaults.length > 1) c.fail(`services.${defaults[1].name}.routing.default`, `only one web service may be the default route (already ${defaults[0].name})`);
  const priorities = new Map();
  for (const s of web) {
    if (s.routing.priority === null) continue;
    const other = priorities.get(s.routing.priority);
    if (other) c.fail(`${joinPath(joinPath('services', s.name), 'routing')}.priority`, `duplicate listener rule priority ${s.routing.priority} (also ${other})`);
    priorities.set(s.routing.priority, s.name);
  }
  const discovery = new Map();
  for (const s of services) {
    if (!s.discoveryName) continue;
    const other = discovery.get(s.discoveryName);
    if (other) c.fail(`${joinPath('services', s.name)}.discoveryName`, `duplicate discovery name ${show(s.discoveryName)} (also ${other})`);
    discovery.set(s.discoveryName, s.name);
  }

  // dependencies: same or earlier tier, no cycles; then disabled propagation in dependency order
  const tierOf = new Map(services.map((s) => [s.name, s.tier]));
  for (const s of services) {
    s.dependsOn.forEach((d, i) => {
      if (tiers.indexOf(tierOf.get(d)) > tiers.indexOf(s.tier)) {
        c.fail(`${joinPath('services', s.name)}.dependsOn[${i}]`, `${show(d)} is in the later tier ${show(tierOf.get(d))} (${s.name} is in ${show(s.tier)}); a dependency must be in the same or an earlier tier`);
      }
    });
  }
  let order;
  try {
    order = topologicalOrder(services);
  } catch (e) {
    if (e instanceof ConfigError) c.fail('services', e.message);
    throw e;
  }
  const byName = new Map(services.map((s) => [s.name, s]));
  for (const n of order) {
    const s = byName.get(n);
    if (!s.enabled) continue;
    const off = s.dependsOn.find((d) => !byName.get(d).enabled);
    if (off) {
      s.enabled = false;
      s.disabledReason = `dependency ${off} is disabled`;
    }
  }

  // image step settings (docs/images.md): registry override and convenience tag; absent convenience tag means
  // the image step's default, null means none
  const imageRegistry = c.nullableString(root.imageRegistry, 'imageRegistry', { pattern: /^(https?:\/\/)?[A-Za-z0-9.-]+(:\d{1,5})?$/, hint: 'a registry address like "host:5000", "http://host:port" or "https://host" or null' });
  const convenience = root.imageConvenienceTag === undefined ? {}
    : { imageConvenienceTag: c.nullableString(root.imageConvenienceTag, 'imageConvenienceTag', { pattern: /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, hint: 'an image tag (letters, digits, _ . -; at most 128; not starting with . or -) or null' }) };

  const config = {
    environment, namePrefix, region, tags, backend, network, loadBalancer, database, cache, storage, logs,
    cluster, images, migration, tiers, imageRegistry, ...convenience,
    services: Object.fromEntries(services.map((s) => [s.name, s])),
    smoke: root.smoke === undefined ? {} : c.object(root.smoke, 'smoke'),
  };
  return { config, services };
}

function normalizeBackend(c, raw, region) {
  const b = c.section(raw, 'backend');
  const type = c.oneOf(b.type, 'backend.type', ['local', 's3', 'cloud'], 'local');
  if (type === 'local') {
    c.keys(b, ['type', 'path'], 'backend');
    return { type, path: c.string(b.path, 'backend.path', { pattern: /^[^\0]+\.tfstate$/, hint: 'a file path ending in .tfstate', def: 'terraform.foundation.tfstate' }) };
  }
  if (type === 's3') {
    c.keys(b, ['type', 'bucket', 'key', 'region', 'dynamodbTable', 'useLockfile', 'kmsKeyId'], 'backend');
    const out = {
      type,
      bucket: c.string(b.bucket, 'backend.bucket', { pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, hint: 'an S3 bucket name' }),
      key: c.string(b.key, 'backend.key', { pattern: /^[^/].*[^/]$/, hint: 'an object key not starting or ending with "/"', def: 'staging-rollout/foundation.tfstate' }),
      region: c.string(b.region, 'backend.region', { pattern: /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, hint: 'an AWS region', def: region }),
      dynamodbTable: c.nullableString(b.dynamodbTable, 'backend.dynamodbTable', { pattern: /^[A-Za-z0-9_.-]{3,255}$/, hint: 'a DynamoDB table name' }),
      useLockfile: c.boolean(b.useLockfile, 'backend.useLockfile', b.dynamodbTable ? false : true),
      kmsKeyId: c.nullableString(b.kmsKeyId, 'backend.kmsKeyId'),
    };
    if (!out.useLockfile && !out.dynamodbTable) c.fail('backend', 'S3 state needs locking: set useLockfile: true or a dynamodbTable');
    return out;
  }
  c.keys(b, ['type', 'organization', 'workspace', 'hostname'], 'backend');
  return {
    type,
    organization: c.string(b.organization, 'backend.organization', { pattern: /^[A-Za-z0-9_-]+$/, hint: 'a Terraform Cloud organization name' }),
    workspace: c.string(b.workspace, 'backend.workspace', { pattern: /^[A-Za-z0-9_-]{1,90}$/, hint: 'a workspace name (letters, digits, "-" and "_")' }),
    hostname: c.string(b.hostname, 'backend.hostname', { pattern: DOMAIN, hint: 'a host name', def: 'app.terraform.io' }),
  };
}

function normalizeService(c, name, raw, p, ctx) {
  const s = c.object(raw, p);
  c.keys(s, SERVICE_KEYS, p);
  const at = (k) => joinPath(p, k);
  const tier = c.string(s.tier, at('tier'));
  if (!ctx.tiers.includes(tier)) c.fail(at('tier'), `unknown tier ${show(tier)} (tiers: ${ctx.tiers.join(', ')})`);
  const kind = c.oneOf(s.kind, at('kind'), KINDS);
  const image = c.string(s.image, at('image'));
  if (!ctx.imageKeys.includes(image)) c.fail(at('image'), `unknown image ${show(image)} (images: ${ctx.imageKeys.join(', ')})`);
  const enabled = c.boolean(s.enabled, at('enabled'), true);

  let port = null;
  if (kind === 'worker') {
    if (s.port !== undefined && s.port !== null) c.fail(at('port'), `a worker has no port, got ${show(s.port)}`);
  } else {
    port = c.integer(s.port, at('port'), { min: 1, max: 65535 });
  }

  let healthCheckPath = null;
  let routing = null;
  if (kind === 'web') {
    healthCheckPath = c.string(s.healthCheckPath, at('healthCheckPath'), { pattern: /^\/[A-Za-z0-9._~\-/?=&%]*$/, hint: 'an absolute URL path like "/health"' });
    routing = normalizeRouting(c, s.routing, at('routing'), ctx.loadBalancer.routing);
  } else {
    if (s.healthCheckPath !== undefined && s.healthCheckPath !== null) c.fail(at('healthCheckPath'), `only web services have an ALB health check (kind is ${kind})`);
    if (s.routing !== undefined && s.routing !== null) c.fail(at('routing'), `only web services are routed by the ALB (kind is ${kind})`);
  }

  let discoveryName = null;
  if (kind === 'support') {
    discoveryName = c.string(s.discoveryName, at('discoveryName'), { pattern: DNS_LABEL, hint: 'a DNS label (lowercase letters, digits, hyphens)', def: name });
  } else if (s.discoveryName !== undefined && s.discoveryName !== null) {
    c.fail(at('discoveryName'), `only support services are registered in Cloud Map (kind is ${kind})`);
  }

  const command = s.command === undefined || s.command === null ? null : c.stringArray(s.command, at('command'), { nonEmpty: true, unique: false });
  const dependsOn = c.stringArray(s.dependsOn, at('dependsOn'), { def: [] });
  dependsOn.forEach((d, i) => {
    const dp = `${at('dependsOn')}[${i}]`;
    if (!ctx.names.includes(d)) c.fail(dp, `unknown service ${show(d)} (services: ${ctx.names.join(', ')})`);
  });

  const mountsRaw = s.mounts === undefined ? [] : s.mounts;
  if (!Array.isArray(mountsRaw)) c.fail(at('mounts'), `must be an array, got ${show(mountsRaw)}`);
  const mounts = mountsRaw.map((m, i) => {
    const mp = `${at('mounts')}[${i}]`;
    const mo = c.object(m, mp);
    c.keys(mo, ['volume', 'containerPath', 'readOnly'], mp);
    return {
      volume: c.oneOf(mo.volume, `${mp}.volume`, VOLUMES),
      containerPath: c.string(mo.containerPath, `${mp}.containerPath`, { pattern: ABS_PATH, hint: 'an absolute path' }),
      readOnly: c.boolean(mo.readOnly, `${mp}.readOnly`, false),
    };
  });
  const paths = new Set();
  mounts.forEach((m, i) => {
    if (paths.has(m.containerPath)) c.fail(`${at('mounts')}[${i}].containerPath`, `duplicate mount path ${show(m.containerPath)}`);
    paths.add(m.containerPath);
  });

  const environment = c.stringMap(s.environment, at('environment'), { keyPattern: ENV_VAR, keyHint: 'an environment variable name ([A-Za-z_][A-Za-z0-9_]*)' });
  const secrets = c.stringArray(s.secrets, at('secrets'), { def: [] });
  secrets.forEach((k, i) => {
    if (!SECRET_KEYS.includes(k)) c.fail(`${at('secrets')}[${i}]`, `unknown secret ${show(k)} (secrets: ${SECRET_KEYS.join(', ')})`);
  });
  const { cpu, memory } = c.fargateSize(s.cpu, s.memory, p, { cpu: 256, memory: 512 });
  const desiredCount = c.integer(s.desiredCount, at('desiredCount'), { min: 0, max: 100, def: 1 });

  return {
    name, enabled, disabledReason: enabled ? null : 'disabled in config', tier, kind, image, port,
    healthCheckPath, routing, command, dependsOn, mounts, needsData: mounts.some((m) => m.volume === 'data'),
    environment, secrets, cpu, memory, desiredCount, discoveryName,
  };
}

function normalizeRouting(c, raw, p, mode) {
  const r = c.object(raw, p);
  c.keys(r, ['default', 'pathPatterns', 'hostHeader', 'priority'], p);
  const isDefault = c.boolean(r.default, `${p}.default`, false);
  const pathPatterns = c.stringArray(r.pathPatterns, `${p}.pathPatterns`, { def: [], pattern: PATH_PATTERN, hint: 'a URL path pattern starting with "/"' });
  if (pathPatterns.length > 5) c.fail(`${p}.pathPatterns`, `at most 5 path patterns per listener rule, got ${pathPatterns.length}`);
  const hostHeader = c.nullableString(r.hostHeader, `${p}.hostHeader`, { pattern: HOST_HEADER, hint: 'a lowercase host name like "api.example.com"' });
  const priority = r.priority === undefined || r.priority === null ? null : c.integer(r.priority, `${p}.priority`, { min: 1, max: 50000 });
  if (!isDefault) {
    if (mode === 'path' && pathPatterns.length === 0) c.fail(`${p}.pathPatterns`, 'loadBalancer.routing is "path": a non-default web service needs at least one path pattern');
    if (mode === 'host' && !hostHeader) c.fail(`${p}.hostHeader`, 'loadBalancer.routing is "host": a non-default web service needs a hostHeader');
    if (priority === null) c.fail(`${p}.priority`, 'a non-default route needs a priority (1-50000)');
  }
  return { default: isDefault, pathPatterns, hostHeader, priority };
}

/**
 * Service names in dependency order; stable (catalog order wherever the dependencies leave a choice).
 * Dependencies must be in the same or an earlier tier when services carry tiers and `tiers` is given.
 * @param {{ name: string, dependsOn?: string[], tier?: string }[]} services
 * @param {string[]} [tiers] tier order; when given, a dependency on a later tier is an error
 * @returns {string[]}
 */
function topologicalOrder(services, tiers) {
  const byName = new Map();
  for (const s of services) byName.set(s.name, s);
  for (const s of services) {
    for (const d of s.dependsOn || []) {
      if (!byName.has(d)) throw new ConfigError(`unknown dependency: ${s.name} depends on ${d}, which is not in the catalog`);
      if (tiers && s.tier && byName.get(d).tier && tiers.indexOf(byName.get(d).tier) > tiers.indexOf(s.tier)) {
        throw new ConfigError(`${s.name} (tier ${s.tier}) depends on ${d} in the later tier ${byName.get(d).tier}`);
      }
    }
  }
  // depth-first for cycle reporting
  const state = new Map(); // name -> 'visiting' | 'done'
  const stack = [];
  const visit = (n) => {
    const st = state.get(n);
    if (st === 'done') return;
    if (st === 'visiting') {
      const cycle = stack.slice(stack.indexOf(n)).concat(n);
      throw new ConfigError(`dependency cycle: ${cycle.join(' -> ')}`);
    }
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of byName.get(n).dependsOn || []) visit(d);
    stack.pop();
    state.set(n, 'done');
  };
  for (const s of services) visit(s.name);
  // Kahn's algorithm, always picking the earliest ready service in catalog order
  const order = [];
  const placed = new Set();
  while (order.length < services.length) {
    const next = services.find((s) => !placed.has(s.name) && (s.dependsOn || []).every((d) => placed.has(d)));
    order.push(next.name);
    placed.add(next.name);
  }
  return order;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading config files: `"extends": "other.json"` overlays (docs/contract.md section 1)

/**
 * Offset of the first JSON syntax error in `text` (a strict scanner; JSON.parse of Node 20 does not always say
 * where), or null when the scanner finds none.
 * @param {string} text
 */
function jsonErrorOffset(text) {
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const fail = () => { throw i; };
  const lit = (w) => { if (text.startsWith(w, i)) i += w.length; else fail(); };
  const str = () => {
    i++;
    for (;;) {
      if (i >= text.length) fail();
      const ch = text[i];
      if (ch === '"') { i++; return; }
      if (ch < ' ') fail();
      if (ch === '\\') {
        i++;
        if (text[i] === 'u') { if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail(); i += 5; }
        else if ('"\\/bfnrt'.includes(text[i]) && i < text.length) i++;
        else fail();
      } else i++;
    }
  };
  const num = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m || m[0] === '' || m[0] === '-') fail();
    i += m[0].length;
  };
  const value = () => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        str(); ws();
        if (text[i] !== ':') fail();
        i++; value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail();
      }
    } else if (ch === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail();
      }
    } else if (ch === '"') str();
    else if (ch === 't') lit('true');
    else if (ch === 'f') lit('false');
    else if (ch === 'n') lit('null');
    else num();
  };
  try {
    if (text.charCodeAt(0) === 0xfeff) i = 1;
    value(); ws();
    return i < text.length ? i : null;
  } catch (at) {
    return typeof at === 'number' ? Math.min(at, text.length) : null;
  }
}

/** Where JSON.parse failed, as " (line L, column C)". */
function jsonPosition(text, message) {
  const m = /position (\d+)/.exec(message);
  const pos = m ? Number(m[1]) : jsonErrorOffset(text);
  if (pos === null) return '';
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return ` (line ${line}, column ${column})`;
}

/** How a file is named in messages: relative to cwd when inside it, else absolute. */
function shownPath(abs, cwd) {
  const rel = nodePath.relative(cwd, abs);
  return rel && !rel.startsWith('..') && !nodePath.isAbsolute(rel) ? rel : abs;
}

/** @param {string} abs @param {string} shown @returns {Record<string, unknown>} */
function readJsonObject(abs, shown) {
  let text;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    const code = e && e.code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : code || String(e);
    throw new ConfigError(`${shown}: cannot read config file (${why})`, { source: shown });
  }
  let raw;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${shown}: not valid JSON: ${e.message.replace(/\s*\n\s*/g, ' ')}${jsonPosition(text, e.message)}`, { source: shown });
  }
  if (!isObject(raw)) throw new ConfigError(`${shown}: must be a JSON object, got ${show(raw)}`, { source: shown });
  return raw;
}

/**
 * Deep merge for overlays: objects merge key by key, arrays and scalars replace, `null` removes the key.
 * @param {Record<string, unknown>} base @param {Record<string, unknown>} over
 */
function mergeOverlay(base, over) {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else if (isObject(v) && isObject(out[k])) out[k] = mergeOverlay(out[k], v);
    else out[k] = isObject(v) ? mergeOverlay({}, v) : v;
  }
  return out;
}

/** Record which file set each JSON path (deeper files overwrite). */
function markOrigins(origins, value, base, file) {
  if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      const p = joinPath(base, k);
      if (v === null) {
        for (const key of [...origins.keys()]) if (key === p || key.startsWith(`${p}.`) || key.startsWith(`${p}[`)) origins.delete(key);
        continue;
      }
      origins.set(p, file);
      markOrigins(origins, v, p, file);
    }
  } else if (Array.isArray(value)) {
    for (const key of [...origins.keys()]) if (key.startsWith(`${base}[`)) origins.delete(key);
    value.forEach((v, i) => {
      origins.set(joinPath(base, i), file);
      markOrigins(origins, v, joinPath(base, i), file);
    });
  }
}

/**
 * Read `abs` and, through `extends`, its parents; merged raw config (parents first). Image `context` paths of
 * every file are rebased onto `rootDir` (the directory of the file that was asked for), so they resolve
 * against the file that declared them.
 */
function readChain(abs, shown, ctx, chain) {
  if (chain.includes(abs)) {
    throw new ConfigError(`${shown}: "extends" cycle: ${[...chain, abs].map((f) => shownPath(f, ctx.cwd)).join(' -> ')}`, { source: shown, path: 'extends' });
  }
  const raw = readJsonObject(abs, shown);
  const own = { ...raw };
  delete own.extends;
  if (isObject(own.images)) {
    const images = {};
    for (const [key, img] of Object.entries(own.images)) {
      if (isObject(img) && typeof img.context === 'string' && img.context !== '' && !nodePath.isAbsolute(img.context)) {
        const rebased = nodePath.relative(ctx.rootDir, nodePath.resolve(nodePath.dirname(abs), img.context)) || '.';
        images[key] = { ...img, context: rebased };
      } else images[key] = img;
    }
    own.images = images;
  }
  let merged = own;
  const files = [abs];
  if (raw.extends !== undefined) {
    if (typeof raw.extends !== 'string' || raw.extends === '') {
      throw new ConfigError(`${shown}: extends: must be the path of another config file (relative to this one), got ${show(raw.extends)}`, { source: shown, path: 'extends' });
    }
    const parentAbs = nodePath.resolve(nodePath.dirname(abs), raw.extends);
    const parent = readChain(parentAbs, shownPath(parentAbs, ctx.cwd), ctx, [...chain, abs]);
    merged = mergeOverlay(parent.raw, own);
    files.unshift(...parent.files);
  }
  markOrigins(ctx.origins, own, '', shown);
  return { raw: merged, files };
}

/**
 * THE config file reader: read `file` (relative to `cwd`), follow `"extends"` (a path relative to the extending
 * file; objects deep-merge, arrays and scalars replace, `null` removes a key; cycles are an error), validate with
 * normalizeConfig. Relative image contexts are rebased onto the directory of `file`, so they resolve against
 * the file that declared them. Errors are ConfigErrors naming the file: cannot read, not JSON (with line and
 * column), or a validation error naming the JSON path and, when the value came from a parent, that file.
 * @param {string} file
 * @param {{ cwd?: string }} [opts]
 */
function loadConfigFile(file, opts = {}) {
  if (typeof file !== 'string' || file === '') throw new ConfigError(`config file: must be a path, got ${show(file)}`);
  const cwd = opts.cwd || process.cwd();
  const abs = nodePath.resolve(cwd, file);
  const ctx = { cwd, rootDir: nodePath.dirname(abs), origins: new Map() };
  const { raw, files } = readChain(abs, file, ctx, []);
  try {
    const { config, services } = normalizeConfig(raw, { source: file });
    return { config, services, raw, file: abs, source: file, files };
  } catch (e) {
    if (!(e instanceof ConfigError) || files.length < 2 || !e.path) throw e;
    // the file that set the value at the error's path (or at its nearest parent path)
    let p = e.path;
    let origin = ctx.origins.get(p);
    while (!origin && p) {
      const up = p.replace(/(\.[^.[\]]+|\[[^\]]*\])$/, '');
      p = up === p ? '' : up;
      origin = ctx.origins.get(p);
    }
    if (!origin || origin === file) throw e;
    throw new ConfigError(`${e.message} (set in ${origin}, extended by ${file})`, { source: e.source, path: e.path });
  }
}

module.exports = {
  ConfigError, normalizeConfig, topologicalOrder, loadConfigFile, mergeOverlay, SECRET_KEYS, KINDS, LOG_RETENTION_DAYS, FARGATE_MEMORY,
};
