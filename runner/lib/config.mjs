// The environment config as the runner reads it: the ONE shared reader (lib/catalog.cjs loadConfigFile, with
// `"extends"` overlays) plus the smoke settings, all checked before AWS is called (bad input exits 2).
import { InputError } from './errors.mjs';
import { loadConfigFile, ConfigError } from './catalog.mjs';
import { normalizeSmokeConfig, SmokeConfigError } from '../smoke/settings.mjs';

/** @typedef {import('../../lib/catalog.cjs').NormalizedConfig} RunnerConfig */

/**
 * @param {string} file path as given (relative to cwd)
 * @param {string} cwd
 * @returns {Promise<RunnerConfig>}
 */
export async function loadConfig(file, cwd) {
  return (await loadRunnerConfig(file, cwd)).config;
}

/**
 * Read, merge and validate the config file, and validate its smoke settings.
 * @param {string} file path as given (relative to cwd)
 * @param {string} cwd
 * @returns {Promise<{ config: RunnerConfig, path: string, files: string[], smoke: import('../smoke/settings.mjs').SmokeSettings }>}
 *   path: absolute path of the file (relative paths inside it resolve against its directory)
 */
export async function loadRunnerConfig(file, cwd) {
  let loaded;
  try {
    loaded = loadConfigFile(file, { cwd });
  } catch (e) {
    if (e instanceof ConfigError) throw new InputError(`--config ${e.message}`);
    throw e;
  }
  let smoke;
  try {
    smoke = normalizeSmokeConfig(loaded.config.smoke, { source: file });
  } catch (e) {
    if (e instanceof SmokeConfigError) throw new InputError(`--config ${e.message}`);
    throw e;
  }
  return { config: loaded.config, path: loaded.file, files: loaded.files, smoke };
}
