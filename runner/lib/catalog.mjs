// The runner's view of the service catalog: the `service_catalog` output, checked with the shared rules of
// lib/catalog.cjs (docs/contract.md sections 1 and 6).
import catalogLib from '../../lib/catalog.cjs';
import { InputError } from './errors.mjs';

export const { normalizeConfig, topologicalOrder, ConfigError, loadConfigFile } = catalogLib;

/** @typedef {import('./outputs.mjs').CatalogEntry} Service */

/**
 * Check the catalog against the config's tier order and the shared dependency rules; propagate disabled
 * dependencies. Returns the services in dependency order (catalog order where free).
 * @param {Service[]} services
 * @param {string[]} tiers
 * @param {string} source
 * @returns {Service[]}
 */
export function checkCatalog(services, tiers, source) {
  for (const s of services) {
    if (!tiers.includes(s.tier)) {
      throw new InputError(`${source}: service_catalog.${s.name}.tier: unknown tier "${s.tier}" (config tiers: ${tiers.join(', ')})`);
    }
  }
  let order;
  try {
    order = topologicalOrder(services, tiers);
  } catch (e) {
    if (e instanceof ConfigError) throw new InputError(`${source}: service_catalog: ${e.message}`);
    throw e;
  }
  const byName = new Map(services.map((s) => [s.name, { ...s }]));
  for (const name of order) {
    const s = /** @type {Service} */ (byName.get(name));
    if (!s.enabled) continue;
    const off = s.dependsOn.find((d) => !byName.get(d)?.enabled);
    if (off) {
      s.enabled = false;
      s.disabledReason = `dependency ${off} is disabled`;
    }
  }
  return order.map((n) => /** @type {Service} */ (byName.get(n)));
}
