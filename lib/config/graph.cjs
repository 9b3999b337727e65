'use strict';
// Rules across sections of a config, and the dependency graph of the catalog (docs/contract.md sections 1 and 6):
// names of tiers and images exist, routing is consistent across web services, dependencies are known, in the
// same or an earlier tier and acyclic; THE dependency order and THE spread of "disabled" to dependents, used by
// the config (index.cjs) and by the runner on the stack's service_catalog output (runner/lib/catalog.mjs).

const { ConfigError } = require('./errors.cjs');
const { RESERVED_NAMES, show } = require('./fields.cjs');

/**
 * @typedef {{ name: string, dependsOn?: readonly string[], tier?: string }} Node
 * @typedef {(path: string, message: string) => never} Fail
 */

/**
 * Service names in dependency order; stable (catalog order wherever the dependencies leave a choice).
 * Dependencies must be in the same or an earlier tier when services carry tiers and `tiers` is given.
 * Throws ConfigError: unknown dependency, dependency on a later tier, cycle (with its path).
 * @param {readonly Node[]} services
 * @param {readonly string[]} [tiers] tier order; when given, a dependency on a later tier is an error
 * @returns {string[]}
 */
function topologicalOrder(services, tiers) {
  /** @type {Map<string, Node>} */
  const byName = new Map();
  for (const s of services) byName.set(s.name, s);
  for (const s of services) {
    for (const d of s.dependsOn || []) {
      const dep = byName.get(d);
      if (!dep) throw new ConfigError(`unknown dependency: ${s.name} depends on ${d}, which is not in the catalog`);
      if (tiers && s.tier && dep.tier && tiers.indexOf(dep.tier) > tiers.indexOf(s.tier)) {
        throw new ConfigError(`${s.name} (tier ${s.tier}) depends on ${d} in the later tier ${dep.tier}`);
      }
    }
  }
  /** @type {Map<string, 'visiting'|'done'>} */
  const state = new Map();
  /** @type {string[]} */
  const stack = [];
  /** @param {string} n */
  const visit = (n) => {
    const st = state.get(n);
    if (st === 'done') return;
    if (st === 'visiting') throw new ConfigError(`dependency cycle: ${stack.slice(stack.indexOf(n)).concat(n).join(' -> ')}`);
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of byName.get(n)?.dependsOn || []) visit(d);
    stack.pop();
    state.set(n, 'done');
  };
  for (const s of services) visit(s.name);
  // Kahn's algorithm, always picking the earliest ready service in catalog order
  /** @type {string[]} */
  const order = [];
  const placed = new Set();
  while (order.length < services.length) {
    const next = /** @type {Node} */ (services.find((s) => !placed.has(s.name) && (s.dependsOn || []).every((d) => placed.has(d))));
    order.push(next.name);
    placed.add(next.name);
  }
  return order;
}

/**
 * THE spread of "disabled": a service whose dependency is disabled is disabled too, with the reason
 * `dependency <name> is disabled`. Returns copies in dependency order (topologicalOrder; same errors).
 * @template {{ name: string, enabled: boolean, disabledReason: string|null, dependsOn: readonly string[], tier?: string }} S
 * @param {readonly S[]} services
 * @param {readonly string[]} [tiers]
 * @returns {S[]}
 */
function resolveCatalog(services, tiers) {
  const order = topologicalOrder(services, tiers);
  const byName = new Map(services.map((s) => [s.name, { ...s }]));
  const get = (/** @type {string} */ n) => /** @type {S} */ (byName.get(n));
  for (const name of order) {
    const s = get(name);
    if (!s.enabled) continue;
    const off = s.dependsOn.find((d) => !get(d).enabled);
    if (off) {
      s.enabled = false;
      s.disabledReason = `dependency ${off} is disabled`;
    }
  }
  return order.map(get);
}

/**
 * THE wave rule of a tier: a service starts in the wave after the last of its dependencies among `active`
 * (the tier's enabled services, in dependency order); one with none of them starts in wave 0. Dependencies
 * outside `active` (earlier tiers) are stable already. Used by the runner's plan and the bench model.
 * @param {readonly { name: string, dependsOn: readonly string[] }[]} active
 * @returns {Map<string, number>} service name -> wave index
 */
function waveLevels(active) {
  /** @type {Map<string, number>} */
  const level = new Map();
  for (const s of active) {
    const deps = s.dependsOn.filter((d) => level.has(d)).map((d) => /** @type {number} */ (level.get(d)) + 1);
    level.set(s.name, Math.max(0, ...deps));
  }
  return level;
}

/**
 * Rules across sections of a validated config; calls `fail(path, message)` on the first broken one.
 * @param {import('./schema.cjs').Config} config
 * @param {Fail} fail
 */
function checkConfig(config, fail) {
  const imageKeys = Object.keys(config.images);
  if (!imageKeys.includes(config.migration.image)) fail('migration.image', `unknown image ${show(config.migration.image)} (images: ${imageKeys.join(', ')})`);
  const services = Object.values(config.services);
  const names = services.map((s) => s.name);
  const mode = config.loadBalancer.routing;
  for (const s of services) {
    const p = `services.${s.name}`;
    if (RESERVED_NAMES.includes(s.name)) fail(p, `service name ${show(s.name)} is reserved (log group and task role of the ${s.name} task)`);
    if (s.name === config.migration.containerName) fail(p, `service name collides with migration.containerName ${show(s.name)}`);
    if (!config.tiers.includes(s.tier)) fail(`${p}.tier`, `unknown tier ${show(s.tier)} (tiers: ${config.tiers.join(', ')})`);
    if (!imageKeys.includes(s.image)) fail(`${p}.image`, `unknown image ${show(s.image)} (images: ${imageKeys.join(', ')})`);
    const r = s.routing;
    if (r && !r.default) {
      if (mode === 'path' && r.pathPatterns.length === 0) fail(`${p}.routing.pathPatterns`, 'loadBalancer.routing is "path": a non-default web service needs at least one path pattern');
      if (mode === 'host' && !r.hostHeader) fail(`${p}.routing.hostHeader`, 'loadBalancer.routing is "host": a non-default web service needs a hostHeader');
      if (r.priority === null) fail(`${p}.routing.priority`, 'a non-default route needs a priority (1-50000)');
    }
    s.dependsOn.forEach((d, i) => {
      if (!names.includes(d)) fail(`${p}.dependsOn[${i}]`, `unknown service ${show(d)} (services: ${names.join(', ')})`);
    });
  }
  uniqueAcross(services.filter((s) => s.routing?.default), () => true, (s, first) => fail(`services.${s.name}.routing.default`, `only one web service may be the default route (already ${first.name})`));
  uniqueAcross(services, (s) => s.routing?.priority ?? null, (s, first) => fail(`services.${s.name}.routing.priority`, `duplicate listener rule priority ${s.routing?.priority} (also ${first.name})`));
  uniqueAcross(services, (s) => s.discoveryName, (s, first) => fail(`services.${s.name}.discoveryName`, `duplicate discovery name ${show(s.discoveryName)} (also ${first.name})`));
  const tierOf = new Map(services.map((s) => [s.name, s.tier]));
  for (const s of services) {
    s.dependsOn.forEach((d, i) => {
      const t = /** @type {string} */ (tierOf.get(d));
      if (config.tiers.indexOf(t) > config.tiers.indexOf(s.tier)) {
        fail(`services.${s.name}.dependsOn[${i}]`, `${show(d)} is in the later tier ${show(t)} (${s.name} is in ${show(s.tier)}); a dependency must be in the same or an earlier tier`);
      }
    });
  }
  try {
    topologicalOrder(services);
  } catch (e) {
    if (e instanceof ConfigError) fail('services', e.message);
    throw e;
  }
}

/**
 * Calls `clash(item, first)` for the first item whose non-null key an earlier item already has.
 * @template T @param {T[]} items @param {(x: T) => unknown} key @param {(x: T, first: T) => void} clash
 */
function uniqueAcross(items, key, clash) {
  const seen = new Map();
  for (const x of items) {
    const k = key(x);
    if (k === null || k === undefined) continue;
    if (seen.has(k)) clash(x, seen.get(k));
    seen.set(k, x);
  }
}

module.exports = { topologicalOrder, resolveCatalog, waveLevels, checkConfig };
