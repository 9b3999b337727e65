// Typed environment config for the stack: reads a config file with the ONE shared reader (lib/catalog.cjs
// loadConfigFile: `"extends"` overlays, precise errors) and validates it with the shared catalog rules, so the
// stack and the runner accept and reject exactly the same configs.
import { ConfigError, loadConfigFile, normalizeConfig } from '../lib/catalog.cjs';
import type { NormalizedConfig, NormalizedService } from '../lib/catalog.cjs';

export { ConfigError };
export type { NormalizedConfig, NormalizedService };
export type { BackendConfig, SecretKey, NormalizedRouting, LoadedConfig } from '../lib/catalog.cjs';

/** A validated environment config and its normalised service catalog. */
export interface EnvironmentConfig {
  /** the config with every default applied */
  readonly config: NormalizedConfig;
  /** every catalog service in catalog order, disabled ones included (with `disabledReason`) */
  readonly services: NormalizedService[];
  /** file the config came from (for messages) */
  readonly source: string;
}

/** Default config file, relative to the project root. */
export const DEFAULT_CONFIG = 'config/staging.json';

/**
 * Validate an already parsed config.
 * @param raw parsed JSON
 * @param source name used in error messages
 */
export function parseConfig(raw: unknown, source = 'config'): EnvironmentConfig {
  const { config, services } = normalizeConfig(raw, { source });
  return { config, services, source };
}

/**
 * Read and validate a config file (following `"extends"`). Throws ConfigError naming the file (and the JSON
 * path of a bad value).
 * @param file path of the config file; relative paths are resolved against `cwd`
 */
export function loadConfig(file: string = DEFAULT_CONFIG, cwd: string = process.cwd()): EnvironmentConfig {
  const { config, services } = loadConfigFile(file, { cwd });
  return { config, services, source: file };
}
