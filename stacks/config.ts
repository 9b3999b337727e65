// Typed environment config for the stack: reads a config file and validates it with the shared catalog rules
// (lib/catalog.cjs), so the stack and the runner accept and reject exactly the same configs.
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, normalizeConfig } from '../lib/catalog.cjs';
import type { NormalizedConfig, NormalizedService } from '../lib/catalog.cjs';

export { ConfigError };
export type { NormalizedConfig, NormalizedService };
export type { BackendConfig, SecretKey, NormalizedRouting } from '../lib/catalog.cjs';

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
 * Read and validate a config file. Throws ConfigError naming the file (and the JSON path of a bad value).
 * @param file path of the config file; relative paths are resolved against `cwd`
 */
export function loadConfig(file: string = DEFAULT_CONFIG, cwd: string = process.cwd()): EnvironmentConfig {
  const abs = path.resolve(cwd, file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(`${file}: cannot read config file (${code === 'ENOENT' ? 'no such file' : code ?? String(e)})`, { source: file });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON: ${(e as Error).message}`, { source: file });
  }
  return parseConfig(raw, file);
}
