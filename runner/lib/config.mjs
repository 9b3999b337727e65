// The environment config as the runner reads it: the ONE shared reader and schema (lib/config: `"extends"`
// overlays, every section validated, the smoke settings included), checked before AWS is called (bad input
// exits 2).
import { InputError } from './errors.mjs';
import { loadConfigFile, ConfigError } from './catalog.mjs';

/** @typedef {import('../../lib/config/index.cjs').Config} RunnerConfig */

/**
 * Read, merge and validate the config file (its smoke settings included).
 * @param {string} file path as given (relative to cwd)
 * @param {string} cwd
 * @returns {Promise<{ config: RunnerConfig, path: string, files: string[], smoke: import('../../lib/config/index.cjs').SmokeSettings }>}
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
  return { config: loaded.config, path: loaded.file, files: loaded.files, smoke: loaded.config.smoke };
}
