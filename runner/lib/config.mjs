// The environment config, read by the runner for the migration command and timeout and the smoke settings.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from './errors.mjs';
import { normalizeConfig, ConfigError } from './catalog.mjs';

/** @typedef {import('../../lib/catalog.cjs').NormalizedConfig} RunnerConfig */

/**
 * @param {string} file path as given (relative to cwd)
 * @param {string} cwd
 * @returns {Promise<RunnerConfig>}
 */
export async function loadConfig(file, cwd) {
  let text;
  try {
    text = await readFile(path.resolve(cwd, file), 'utf8');
  } catch (e) {
    const code = /** @type {NodeJS.ErrnoException} */ (e).code;
    throw new InputError(`--config ${file}: cannot read (${code === 'ENOENT' ? 'no such file' : code || String(e)})`);
  }
  let raw;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`--config ${file}: not valid JSON (${/** @type {Error} */ (e).message})`);
  }
  try {
    return normalizeConfig(raw, { source: file }).config;
  } catch (e) {
    if (e instanceof ConfigError) throw new InputError(e.message);
    throw e;
  }
}
