// The `smoke` section of config/<env>.json on its own: validated by the one config schema
// (lib/config/smoke.cjs, where its fields, defaults and messages are declared) and with every default applied.
import configLib from '../../lib/config/index.cjs';

export class SmokeConfigError extends Error {
  /** @param {string} message */
  constructor(message) { super(message); this.name = 'SmokeConfigError'; }
}

/** Default timing of each check: per-attempt timeout, bounded attempts, pause between attempts. */
export const CHECK_DEFAULTS = configLib.CHECK_DEFAULTS;

/**
 * @typedef {import('../../lib/config/index.cjs').CheckTiming} CheckTiming
 * @typedef {import('../../lib/config/index.cjs').SmokeSettings} SmokeSettings
 */

/**
 * @param {unknown} raw  the config's `smoke` object
 * @param {{ source?: string }} [opts]
 * @returns {SmokeSettings}
 */
export function normalizeSmokeConfig(raw, opts = {}) {
  try {
    return configLib.normalizeSmoke(raw, opts);
  } catch (e) {
    if (e instanceof configLib.ConfigError) throw new SmokeConfigError(e.message);
    throw e;
  }
}
