// Foundation stack outputs (docs/contract.md section 2): load, unwrap the `terraform output -json` form, and read
// them with the one contract declared in lib/config/outputs.cjs (the shape the stack writes).
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import configLib from '../../lib/config/index.cjs';
import { InputError } from './errors.mjs';

/**
 * @typedef {import('../../lib/config/index.cjs').CatalogEntry} CatalogEntry one `service_catalog` entry as read
 * @typedef {import('../../lib/config/index.cjs').ContractOutputs & { raw: Record<string, unknown> }} Outputs
 *   the outputs of docs/contract.md section 2 (camelCase; `catalog` in catalog order) and the plain form as given
 */

/** How a bad outputs value is shown in messages (as in lib/config/outputs.cjs). */
const show = configLib.showOutputValue;

/** @param {unknown} v @returns {v is Record<string, unknown>} */
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Accept `terraform output -json` form or plain form; return plain form.
 * @param {unknown} raw @param {string} source
 * @returns {Record<string, unknown>}
 */
export function unwrapOutputs(raw, source) {
  if (!isObject(raw)) throw new InputError(`${source}: outputs must be a JSON object, got ${show(raw)}`);
  const entries = Object.entries(raw);
  if (entries.length === 0) throw new InputError(`${source}: outputs are empty (was the foundation stack applied?)`);
  /** @param {unknown} v */
  const isWrapped = (v) => isObject(v) && 'value' in v && Object.keys(v).every((k) => ['value', 'type', 'sensitive'].includes(k));
  const wrapped = entries.filter(([, v]) => isWrapped(v));
  if (wrapped.length === entries.length) return Object.fromEntries(entries.map(([k, v]) => [k, /** @type {{ value: unknown }} */ (v).value]));
  if (wrapped.length > 0) {
    const plain = entries.find(([, v]) => !isWrapped(v));
    throw new InputError(`${source}: mixes terraform-output form ({"value": ...}, e.g. "${wrapped[0][0]}") and plain form (e.g. "${plain?.[0]}")`);
  }
  return /** @type {Record<string, unknown>} */ (raw);
}

/**
 * Validate plain-form outputs against the contract (lib/config/outputs.cjs) and normalise them.
 * @param {Record<string, unknown>} o plain-form outputs
 * @param {string} source file or command, for messages
 * @returns {Outputs}
 */
export function normalizeOutputs(o, source) {
  try {
    return { ...configLib.parseOutputs(o, source), raw: o };
  } catch (e) {
    if (e instanceof configLib.ConfigError) throw new InputError(e.message);
    throw e;
  }
}

/**
 * Read the outputs from `--outputs FILE`, or run `terraform output -json` in the stack directory.
 * @param {{ file: string|null, stackDir: string, cwd: string, exec: import('./types.mjs').Exec }} opts
 * @returns {Promise<Outputs>}
 */
export async function loadOutputs({ file, stackDir, cwd, exec }) {
  if (file) {
    const abs = path.resolve(cwd, file);
    let text;
    try {
      text = await readFile(abs, 'utf8');
    } catch (e) {
      const code = /** @type {NodeJS.ErrnoException} */ (e).code;
      throw new InputError(`--outputs ${file}: cannot read (${code === 'ENOENT' ? 'no such file' : code || String(e)})`);
    }
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new InputError(`--outputs ${file}: not valid JSON (${/** @type {Error} */ (e).message})`);
    }
    return normalizeOutputs(unwrapOutputs(parsed, file), file);
  }
  const dir = path.resolve(cwd, stackDir);
  const st = await stat(dir).catch(() => null);
  if (!st || !st.isDirectory()) {
    throw new InputError(`no --outputs FILE given and ${stackDir} does not exist: synthesize and deploy the foundation stack (cdktf deploy foundation) or pass --outputs FILE`);
  }
  const source = `terraform -chdir=${stackDir} output -json`;
  let res;
  try {
    // -no-color: the cause is quoted in the message, without escape codes
    res = await exec('terraform', [`-chdir=${dir}`, 'output', '-no-color', '-json'], { cwd });
  } catch (e) {
    throw new InputError(`${source}: could not run terraform (${/** @type {Error} */ (e).message}); install Terraform or pass --outputs FILE`);
  }
  if (res.exitCode !== 0) {
    // terraform's whole message (it names the cause first: "Backend initialization required", a missing state),
    // its lines joined, bounded
    const why = res.stderr.replace(/\u001b\[[0-9;]*m/g, '').split('\n').map((l) => l.replace(/^[│╷╵]\s?/, '').trim()).filter(Boolean).join(' ');
    throw new InputError(`${source} failed (exit ${res.exitCode}): ${why.length > 600 ? `${why.slice(0, 600)}...` : why || 'no message'}; pass --outputs FILE instead`);
  }
  let parsed;
  try {
    parsed = JSON.parse(res.stdout);
  } catch (e) {
    throw new InputError(`${source}: printed no valid JSON (${/** @type {Error} */ (e).message})`);
  }
  return normalizeOutputs(unwrapOutputs(parsed, source), source);
}
