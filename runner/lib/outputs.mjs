// Foundation stack outputs (docs/contract.md section 2): load, validate, normalise.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from './errors.mjs';

/**
 * @typedef {object} CatalogEntry one normalised `service_catalog` entry (camelCase)
 * @property {string} name
 * @property {boolean} enabled
 * @property {string|null} disabledReason
 * @property {string} tier
 * @property {'web'|'worker'|'support'} kind
 * @property {string} image
 * @property {string[]} dependsOn
 * @property {boolean} needsData
 * @property {number} desiredCount
 * @property {string|null} ecsServiceName
 * @property {string|null} taskFamily
 * @property {string|null} containerName
 * @property {number|null} port
 * @property {string|null} targetGroupArn
 * @property {string|null} logGroupName
 * @property {string|null} discoveryName
 */

/**
 * @typedef {object} Outputs
 * @property {string} environment
 * @property {string} region
 * @property {string} clusterName
 * @property {string} clusterArn
 * @property {string[]} privateSubnetIds
 * @property {string} tasksSecurityGroupId
 * @property {Record<string, string>} repositoryUrls
 * @property {Record<string, boolean>} repositoryMutableTags
 * @property {string} albDnsName
 * @property {string} albUrl
 * @property {string} efsFileSystemId
 * @property {string} efsAccessPointId
 * @property {string} namespaceName
 * @property {Record<string, string>} secretArns
 * @property {string} migrationTaskFamily
 * @property {string} migrationContainerName
 * @property {string} migrationLogGroupName
 * @property {CatalogEntry[]} catalog services in catalog order
 * @property {Record<string, unknown>} raw the plain-form outputs as given
 */

/** @param {unknown} v */
function show(v) {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(v);
}

/** @param {unknown} v @returns {v is Record<string, unknown>} */
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Accept `terraform output -json` form or plain form; return plain form.
 * @param {unknown} raw @param {string} source
 * @returns {Record<string, unknown>}
 */
export function unwrapOutputs(raw, source) {
  if (!isObject(raw)) throw new InputError(`${source}: outputs must be a JSON object, got ${show(raw)}`);
  const entries = Object.entries(raw);
  if (entries.length === 0) throw new InputError(`${source}: outputs are empty (was the foundation stack applied?)`);
  /** @param {unknown} v */
  const isWrapped = (v) => isObject(v) && 'value' in v && Object.keys(v).every((k) => ['value', 'type', 'sensitive'].includes(k));
  const wrapped = entries.filter(([, v]) => isWrapped(v));
  if (wrapped.length === entries.length) return Object.fromEntries(entries.map(([k, v]) => [k, /** @type {any} */ (v).value]));
  if (wrapped.length > 0) {
    const plain = entries.find(([, v]) => !isWrapped(v));
    throw new InputError(`${source}: mixes terraform-output form ({"value": ...}, e.g. "${wrapped[0][0]}") and plain form (e.g. "${plain?.[0]}")`);
  }
  return /** @type {Record<string, unknown>} */ (raw);
}

/**
 * Validate plain-form outputs against the contract and normalise them.
 * @param {Record<string, unknown>} o plain-form outputs
 * @param {string} source file or command, for messages
 * @returns {Outputs}
 */
export function normalizeOutputs(o, source) {
  /** @param {string} key @param {string} msg @returns {never} */
  const fail = (key, msg) => {
    throw new InputError(`${source}: output ${key}: ${msg}`);
  };
  /** @param {string} k */
  const str = (k) => {
    const v = o[k];
    if (v === undefined) fail(k, 'missing (required by docs/contract.md section 2)');
    if (typeof v !== 'string' || v === '') fail(k, `must be a non-empty string, got ${show(v)}`);
    return /** @type {string} */ (v);
  };
  /** @param {string} k */
  const strList = (k) => {
    const v = o[k];
    if (v === undefined) fail(k, 'missing (required by docs/contract.md section 2)');
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || x === '')) fail(k, `must be a non-empty list of strings, got ${show(v)}`);
    return /** @type {string[]} */ (v);
  };
  /** @param {string} k @param {'string'|'boolean'} type */
  const map = (k, type) => {
    const v = o[k];
    if (v === undefined) fail(k, 'missing (required by docs/contract.md section 2)');
    if (!isObject(v)) fail(k, `must be a map of ${type}, got ${show(v)}`);
    for (const [mk, mv] of Object.entries(v)) {
      if (typeof mv !== type || (type === 'string' && mv === '')) fail(`${k}.${mk}`, `must be a ${type === 'string' ? 'non-empty string' : 'boolean'}, got ${show(mv)}`);
    }
    return /** @type {any} */ (v);
  };

  const out = {
    environment: str('environment'),
    region: str('region'),
    clusterName: str('cluster_name'),
    clusterArn: str('cluster_arn'),
    privateSubnetIds: strList('private_subnet_ids'),
    tasksSecurityGroupId: str('tasks_security_group_id'),
    repositoryUrls: /** @type {Record<string, string>} */ (map('repository_urls', 'string')),
    repositoryMutableTags: /** @type {Record<string, boolean>} */ (map('repository_mutable_tags', 'boolean')),
    albDnsName: str('alb_dns_name'),
    albUrl: str('alb_url'),
    efsFileSystemId: str('efs_file_system_id'),
    efsAccessPointId: str('efs_access_point_id'),
    namespaceName: str('namespace_name'),
    secretArns: /** @type {Record<string, string>} */ (map('secret_arns', 'string')),
    migrationTaskFamily: str('migration_task_family'),
    migrationContainerName: str('migration_container_name'),
    migrationLogGroupName: str('migration_log_group_name'),
    catalog: normalizeCatalog(o.service_catalog, source),
    raw: o,
  };
  for (const s of out.catalog) {
    if (s.enabled && !(s.image in out.repositoryUrls)) {
      fail(`service_catalog.${s.name}.image`, `"${s.image}" has no entry in repository_urls (${Object.keys(out.repositoryUrls).join(', ')})`);
    }
  }
  return out;
}

/**
 * @param {unknown} v @param {string} source
 * @returns {CatalogEntry[]}
 */
export function normalizeCatalog(v, source) {
  const base = `${source}: output service_catalog`;
  if (v === undefined) throw new InputError(`${base}: missing (required by docs/contract.md section 2)`);
  if (!isObject(v) || Object.keys(v).length === 0) throw new InputError(`${base}: must be a non-empty map of services, got ${show(v)}`);
  /** @type {CatalogEntry[]} */
  const list = [];
  for (const [key, raw] of Object.entries(v)) {
    const at = `${base}.${key}`;
    if (!isObject(raw)) throw new InputError(`${at}: must be an object, got ${show(raw)}`);
    /** @param {string} k @param {string} msg @returns {never} */
    const fail = (k, msg) => {
      throw new InputError(`${at}.${k}: ${msg}`);
    };
    /** @param {string} k */
    const s = (k) => {
      const x = raw[k];
      if (typeof x !== 'string' || x === '') fail(k, `must be a non-empty string, got ${show(x)}`);
      return /** @type {string} */ (x);
    };
    const enabled = raw.enabled;
    if (typeof enabled !== 'boolean') fail('enabled', `must be true or false, got ${show(enabled)}`);
    /** @param {string} k */
    const idOrNull = (k) => {
      const x = raw[k];
      if (x === null || x === undefined) {
        if (enabled && ['ecs_service_name', 'task_family', 'container_name'].includes(k)) fail(k, 'missing for an enabled service');
        return null;
      }
      if (typeof x !== 'string' || x === '') fail(k, `must be a non-empty string or null, got ${show(x)}`);
      return /** @type {string} */ (x);
    };
    const name = s('name');
    if (name !== key) fail('name', `"${name}" does not match its key "${key}"`);
    const kind = s('kind');
    if (!['web', 'worker', 'support'].includes(kind)) fail('kind', `must be "web", "worker" or "support", got ${show(kind)}`);
    const dependsOn = raw.depends_on === undefined || raw.depends_on === null ? [] : raw.depends_on;
    if (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string' || d === '')) fail('depends_on', `must be a list of service names, got ${show(dependsOn)}`);
    const desired = raw.desired_count;
    if (typeof desired !== 'number' || !Number.isInteger(desired) || desired < 0) fail('desired_count', `must be an integer >= 0, got ${show(desired)}`);
    const port = raw.port ?? null;
    if (port !== null && (typeof port !== 'number' || !Number.isInteger(port))) fail('port', `must be an integer or null, got ${show(port)}`);
    const needsData = raw.needs_data ?? false;
    if (typeof needsData !== 'boolean') fail('needs_data', `must be true or false, got ${show(needsData)}`);
    const reason = raw.disabled_reason ?? null;
    if (reason !== null && typeof reason !== 'string') fail('disabled_reason', `must be a string or null, got ${show(reason)}`);
    list.push({
      name,
      enabled: /** @type {boolean} */ (enabled),
      disabledReason: enabled ? null : (/** @type {string|null} */ (reason) ?? 'disabled'),
      tier: s('tier'),
      kind: /** @type {'web'|'worker'|'support'} */ (kind),
      image: s('image'),
      dependsOn: /** @type {string[]} */ (dependsOn),
      needsData: /** @type {boolean} */ (needsData),
      desiredCount: /** @type {number} */ (desired),
      ecsServiceName: idOrNull('ecs_service_name'),
      taskFamily: idOrNull('task_family'),
      containerName: idOrNull('container_name'),
      port: /** @type {number|null} */ (port),
      targetGroupArn: idOrNull('target_group_arn'),
      logGroupName: idOrNull('log_group_name'),
      discoveryName: idOrNull('discovery_name'),
    });
  }
  return list;
}

/**
 * Read the outputs from `--outputs FILE`, or run `terraform output -json` in the stack directory.
 * @param {{ file: string|null, stackDir: string, cwd: string, exec: import('./types.mjs').Exec }} opts
 * @returns {Promise<Outputs>}
 */
export async function loadOutputs({ file, stackDir, cwd, exec }) {
  if (file) {
    const abs = path.resolve(cwd, file);
    let text;
    try {
      text = await readFile(abs, 'utf8');
    } catch (e) {
      const code = /** @type {NodeJS.ErrnoException} */ (e).code;
      throw new InputError(`--outputs ${file}: cannot read (${code === 'ENOENT' ? 'no such file' : code || String(e)})`);
    }
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new InputError(`--outputs ${file}: not valid JSON (${/** @type {Error} */ (e).message})`);
    }
    return normalizeOutputs(unwrapOutputs(parsed, file), file);
  }
  const dir = path.resolve(cwd, stackDir);
  const st = await stat(dir).catch(() => null);
  if (!st || !st.isDirectory()) {
    throw new InputError(`no --outputs FILE given and ${stackDir} does not exist: synthesize and deploy the foundation stack (cdktf deploy foundation) or pass --outputs FILE`);
  }
  const source = `terraform -chdir=${stackDir} output -json`;
  let res;
  try {
    res = await exec('terraform', [`-chdir=${dir}`, 'output', '-json'], { cwd });
  } catch (e) {
    throw new InputError(`${source}: could not run terraform (${/** @type {Error} */ (e).message}); install Terraform or pass --outputs FILE`);
  }
  if (res.exitCode !== 0) {
    throw new InputError(`${source} failed (exit ${res.exitCode}): ${res.stderr.trim().split('\n').slice(-3).join(' ') || 'no message'}; pass --outputs FILE instead`);
  }
  let parsed;
  try {
    parsed = JSON.parse(res.stdout);
  } catch (e) {
    throw new InputError(`${source}: printed no valid JSON (${/** @type {Error} */ (e).message})`);
  }
  return normalizeOutputs(unwrapOutputs(parsed, source), source);
}
