// Typed environment config for the stack: reads a config file with the ONE shared reader (lib/config:
// `"extends"` overlays, precise errors) and validates it with the one schema, so the stack and the runner
// accept and reject exactly the same configs. The types come from the zod declaration (lib/config/schema.cjs).
import * as fs from 'fs';
import * as path from 'path';
import * as configLib from '../lib/config/index.cjs';
import type { Config, Service } from '../lib/config/index.cjs';

const { DEFAULT_CONFIG_PATH, loadConfigFile, normalizeConfig, checkStateConflicts, localStatePath } = configLib;

/** Error of a bad config: the message names the file, the JSON path and (for files) the line and column. */
export const ConfigError = configLib.ConfigError;
export type ConfigError = InstanceType<typeof configLib.ConfigError>;
export type { Config, Service };
export type { BackendConfig, SecretKey, Route, LoadedConfig } from '../lib/config/index.cjs';

/** A validated environment config and its normalised service catalog. */
export interface EnvironmentConfig {
  /** the config with every default applied */
  readonly config: Config;
  /** every catalog service in catalog order, disabled ones included (with `disabledReason`) */
  readonly services: Service[];
  /** file the config came from (for messages) */
  readonly source: string;
}

/** Default config file, relative to the project root. */
export const DEFAULT_CONFIG = DEFAULT_CONFIG_PATH;

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
 * path, line and column of a bad value).
 * @param file path of the config file; relative paths are resolved against `cwd`
 */
export function loadConfig(file: string = DEFAULT_CONFIG, cwd: string = process.cwd()): EnvironmentConfig {
  const { config, services } = loadConfigFile(file, { cwd });
  return { config, services, source: file };
}

/** Where state lived before it was per environment: inside the synthesized stack directory. */
export const LEGACY_LOCAL_STATE = path.join('stacks', 'foundation', 'terraform.foundation.tfstate');

/**
 * Refuse to synthesize an environment whose state would not be its own (docs/environments.md): another
 * environment's config beside `file` resolves to the same state location, or this environment's local state
 * still sits at the pre-per-environment place inside `outdir` (a deploy would start from empty state).
 * Throws ConfigError (exit 2).
 */
export function assertOwnState(file: string, environment: EnvironmentConfig, outdir: string, cwd: string = process.cwd(), root?: string): void {
  const { config } = environment;
  checkStateConflicts(file, config, (other: string) => loadConfigFile(other, { cwd }).config, { cwd, root });
  if (config.backend.type !== 'local') return;
  const legacy = path.resolve(cwd, outdir, LEGACY_LOCAL_STATE);
  const target = localStatePath(config.backend, root);
  if (!fs.existsSync(legacy) || fs.existsSync(target)) return;
  let owner: unknown;
  try {
    owner = JSON.parse(fs.readFileSync(legacy, 'utf8'))?.outputs?.environment?.value;
  } catch {
    owner = undefined;
  }
  if (owner !== config.environment) return;
  throw new ConfigError(
    `${file}: backend.path: the state of environment "${config.environment}" is still at ${path.relative(cwd, legacy)}, where every environment used to share it; ` +
      `move it before deploying: mkdir -p ${path.relative(cwd, path.dirname(target)) || '.'} && mv ${path.relative(cwd, legacy)} ${path.relative(cwd, target)}`,
    { source: file, path: 'backend.path' },
  );
}

/** The backend a synthesized stack names: `terraform.backend.<type>`, or `terraform.cloud`. */
function synthesizedBackend(tf: Record<string, any> | undefined): { type: string; config: Record<string, unknown> } | null {
  if (tf?.cloud) return { type: 'cloud', config: { organization: tf.cloud.organization, hostname: tf.cloud.hostname, workspaces: tf.cloud.workspaces } };
  const [type, config] = Object.entries<Record<string, unknown>>(tf?.backend ?? {})[0] ?? [];
  return type ? { type, config } : null;
}

/**
 * After a synth: when the stack directory was last initialized (`.terraform/terraform.tfstate`, which holds only
 * the backend settings Terraform last used, never resources) for a backend other than the one just synthesized,
 * forget that setting, as `terraform init -reconfigure` does. The next `cdktf deploy` then uses this
 * environment's own state instead of offering to migrate the other environment's state into it. Returns the
 * note to print, or null.
 */
export function forgetOtherBackend(stackDir: string): string | null {
  const cache = path.join(stackDir, '.terraform', 'terraform.tfstate');
  let cached: { type?: string; config?: Record<string, unknown> } | undefined;
  let now: ReturnType<typeof synthesizedBackend>;
  try {
    cached = JSON.parse(fs.readFileSync(cache, 'utf8'))?.backend;
    now = synthesizedBackend(JSON.parse(fs.readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8'))?.terraform);
  } catch {
    return null;
  }
  if (!cached || !now) return null;
  const same = cached.type === now.type && Object.entries(now.config).every(([k, v]) => {
    const c = cached!.config?.[k];
    return k === 'workspaces' ? JSON.stringify((c as any)?.name ?? c) === JSON.stringify((v as any)?.name ?? v) : JSON.stringify(c) === JSON.stringify(v);
  });
  if (same) return null;
  fs.rmSync(cache, { force: true });
  return `note: ${stackDir} was last initialized for another state (${cached.type}); that setting was dropped so the next init uses this environment's own state (nothing was migrated)`;
}
