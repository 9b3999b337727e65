// The runner's view of the service catalog: the `service_catalog` output, checked against the config's tiers
// and put in dependency order with "disabled" spread to dependents by THE rule of lib/config/graph.cjs
// (docs/contract.md sections 1 and 6).
import configLib from '../../lib/config/index.cjs';
import { InputError } from './errors.mjs';

export const { waveLevels, ConfigError, loadConfigFile } = configLib;

/** @typedef {import('../../lib/config/index.cjs').CatalogEntry} Service */

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
  try {
    return configLib.resolveCatalog(services, tiers);
  } catch (e) {
    if (e instanceof ConfigError) throw new InputError(`${source}: service_catalog: ${e.message}`);
    throw e;
  }
}
