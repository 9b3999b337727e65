'use strict';
// The environment config (docs/contract.md sections 1 and 6) and the stack outputs contract (section 2), for the
// TypeScript stack (require) and the ES-module runner (import). Plain CommonJS with JSDoc; the types come from
// the zod declarations (schema.cjs, service.cjs, smoke.cjs, outputs.cjs). Every error is a ConfigError whose
// message names the source file and the JSON path of the bad value (and, for files, its line and column).

const f = require('./fields.cjs');
const { ConfigError, configErrorOf, describeIssue, firstIssue } = require('./errors.cjs');
const { ConfigSchema } = require('./schema.cjs');
const { SmokeSchema, CHECK_DEFAULTS } = require('./smoke.cjs');
const { OutputsSchema, ServiceCatalogEntrySchema, showOutputValue } = require('./outputs.cjs');
const { checkConfig, topologicalOrder, resolveCatalog, waveLevels } = require('./graph.cjs');
const { resolveAddresses } = require('./addresses.cjs');
const { readConfigFile, mergeOverlay } = require('./load.cjs');
const { PROJECT_ROOT, localStatePath, stateLocation, checkStateConflicts } = require('./state.cjs');

/**
 * @typedef {import('./schema.cjs').Config} Config
 * @typedef {import('./schema.cjs').ConfigInput} ConfigInput
 * @typedef {import('./schema.cjs').Backend} Backend
 * @typedef {import('./service.cjs').Service} Service
 * @typedef {import('./service.cjs').Route} Route
 * @typedef {import('./smoke.cjs').SmokeSettings} SmokeSettings
 * @typedef {import('./smoke.cjs').CheckTiming} CheckTiming
 * @typedef {import('./outputs.cjs').CatalogEntry} CatalogEntry
 * @typedef {import('./outputs.cjs').ServiceCatalogOutput} ServiceCatalogOutput
 * @typedef {import('./outputs.cjs').ContractOutputs} ContractOutputs
 * @typedef {Config['backend']} BackendConfig
 * @typedef {typeof f.SECRET_KEYS[number]} SecretKey
 * @typedef {typeof f.KINDS[number]} ServiceKind
 * @typedef {{ config: Config, services: Service[] }} NormalizedResult
 * @typedef {NormalizedResult & { raw: Record<string, unknown>, file: string, source: string, files: string[] }} LoadedConfig
 */

/**
 * A copy of `v` without object keys starting with `$` (`$schema`, `$comment`: comments for people and editors).
 * @param {unknown} v @returns {unknown}
 */
function withoutComments(v) {
  if (Array.isArray(v)) return v.map(withoutComments);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('$')).map(([k, x]) => [k, withoutComments(x)]));
}

/**
 * A service entry that only changes settings (no tier: an override, typically in an `extends` overlay) under a name
 * one or two letters away from a service that exists: a misspelt override, which would otherwise read as a new
 * service missing its tier. @param {unknown} raw @returns {{ name: string, like: string } | null}
 */
function misspeltService(raw) {
  const services = raw && typeof raw === 'object' ? /** @type {any} */ (raw).services : null;
  if (!services || typeof services !== 'object' || Array.isArray(services)) return null;
  const entries = Object.entries(services).filter(([k]) => !k.startsWith('$'));
  const complete = entries.filter(([, v]) => v && typeof v === 'object' && 'tier' in v).map(([k]) => k);
  for (const [name, v] of entries) {
    if (!v || typeof v !== 'object' || 'tier' in v) continue;
    const like = closestName(name, complete);
    if (like) return { name, like };
  }
  return null;
}

/**
 * The candidate one or two edits away from `name` (the nearest first), for a "did you mean" in a message.
 * @param {string} name @param {readonly string[]} candidates @returns {string|null}
 */
function closestName(name, candidates) {
  const near = candidates.map((c) => ({ c, d: editDistance(name, c) })).filter((x) => x.d <= 2).sort((a, b) => a.d - b.d)[0];
  return near ? near.c : null;
}

/** Levenshtein distance. @param {string} a @param {string} b */
function editDistance(a, b) {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * Validate an environment config and apply every default; services in catalog order, "disabled" spread to
 * dependents.
 * @param {unknown} raw parsed JSON
 * @param {{ source?: string }} [opts] file name used in error messages
 * @returns {NormalizedResult}
 */
function normalizeConfig(raw, opts = {}) {
  const source = opts.source || 'config';
  const misspelt = misspeltService(raw);
  if (misspelt) {
    throw new ConfigError(`${source}: services.${misspelt.name}: unknown service: it is not in the catalog, and a new service needs tier, kind and image; did you mean "${misspelt.like}"?`,
      { source, path: `services.${misspelt.name}` });
  }
  const parsed = ConfigSchema.safeParse(withoutComments(raw));
  if (!parsed.success) throw configErrorOf(parsed.error, source);
  const config = parsed.data;
  checkConfig(config, (path, message) => {
    throw new ConfigError(`${source}: ${path}: ${message}`, { source, path });
  });
  const list = Object.values(config.services);
  const fail = (/** @type {string} */ path, /** @type {string} */ message) => {
    throw new ConfigError(`${source}: ${path}: ${message}`, { source, path });
  };
  const resolved = new Map(resolveAddresses(resolveCatalog(list), config.cluster.namespace, fail).map((s) => [s.name, s]));
  const services = list.map((s) => /** @type {Service} */ (resolved.get(s.name)));
  return { config: { ...config, services: Object.fromEntries(services.map((s) => [s.name, s])) }, services };
}

/**
 * THE config file reader: read `file` (relative to `cwd`), follow `"extends"`, validate with normalizeConfig.
 * Errors are ConfigErrors naming the file: cannot read, not JSON (with line and column), an `extends` cycle, or
 * a validation error naming the JSON path, the line and column, and the file that set the value.
 * @param {string} file
 * @param {{ cwd?: string }} [opts]
 * @returns {LoadedConfig}
 */
function loadConfigFile(file, opts = {}) {
  const read = readConfigFile(file, opts);
  try {
    const { config, services } = normalizeConfig(read.raw, { source: file });
    return { config, services, raw: read.raw, file: read.file, source: file, files: read.files };
  } catch (e) {
    throw e instanceof ConfigError ? read.locate(e) : e;
  }
}

/**
 * The smoke section alone, validated with defaults applied (the same rules as in a whole config).
 * @param {unknown} raw the config's `smoke` value (absent or null: every default)
 * @param {{ source?: string }} [opts]
 * @returns {SmokeSettings}
 */
function normalizeSmoke(raw, opts = {}) {
  const parsed = SmokeSchema.safeParse(raw === undefined || raw === null ? {} : withoutComments(raw));
  if (parsed.success) return parsed.data;
  const { path, message } = describeIssue(firstIssue(parsed.error.issues));
  const at = path ? `smoke.${path}` : 'smoke';
  throw new ConfigError(`${opts.source ? `${opts.source}: ` : ''}${at}: ${message}`, { source: opts.source, path: at });
}

/**
 * The stack outputs (plain form) read against the contract; throws ConfigError "<source>: output <key>: ...".
 * @param {Record<string, unknown>} plain
 * @param {string} source
 * @returns {ContractOutputs}
 */
function parseOutputs(plain, source) {
  const parsed = OutputsSchema.safeParse(plain);
  if (parsed.success) return parsed.data;
  const { path, message } = describeIssue(firstIssue(parsed.error.issues));
  throw new ConfigError(`${source}: output ${path}: ${message}`, { source, path });
}

module.exports = {
  ConfigError, ConfigSchema, SmokeSchema, OutputsSchema, ServiceCatalogEntrySchema, CHECK_DEFAULTS,
  normalizeConfig, loadConfigFile, normalizeSmoke, PROJECT_ROOT, localStatePath, stateLocation, checkStateConflicts, parseOutputs, showOutputValue, topologicalOrder, resolveCatalog, waveLevels, mergeOverlay, closestName,
  DEFAULT_CONFIG_PATH: f.DEFAULT_CONFIG_PATH, IMAGE_TAG_PATTERN: f.IMAGE_TAG_PATTERN, IMAGE_TAG_HINT: f.IMAGE_TAG_HINT,
  IMAGE_TAG_GRAMMAR: f.IMAGE_TAG_GRAMMAR,
  REGISTRY_ADDRESS_PATTERN: f.REGISTRY_ADDRESS_PATTERN,
  SECRET_KEYS: f.SECRET_KEYS, KINDS: f.KINDS, LOG_RETENTION_DAYS: /** @type {readonly number[]} */ (f.LOG_RETENTION_DAYS), FARGATE_MEMORY: f.FARGATE_MEMORY,
};
