// Drift after the apply: a second plan of the applied workdir, the changes it holds with the attributes that
// cause them, the `drift` list of lib/emulator-gaps.json (what moto does not round-trip), and the changes that
// list does not explain (a stack that does not converge).
import fs from 'node:fs';
import path from 'node:path';
import { terraform, withEmulatorEnv } from '../terraform.mjs';
import { DEFAULT_GAPS_FILE } from '../paths.mjs';

/** @typedef {import('./plan-json.mjs').PlanJson} PlanJson */

/**
 * A second plan of an applied workdir: what Terraform would still change. On real AWS right after an apply this
 * is empty; on moto it holds the skipped resources and the attributes moto does not round-trip
 * (emulator-gaps.json `drift`). Writes <workdir>/replan.json.
 * @param {{ endpoint: string, workdir: string, region?: string }} opts
 * @returns {Promise<{ changes: PlannedChange[], durationMs: number }>}
 */
export async function replanFoundation(opts) {
  const workdir = path.resolve(opts.workdir);
  const cliConfig = path.join(workdir, '.harness', 'terraformrc');
  if (!fs.existsSync(cliConfig)) throw new Error(`${workdir} was not prepared by applyFoundation (no .harness/terraformrc)`);
  const env = withEmulatorEnv(opts.endpoint, { region: opts.region });
  const tf = (/** @type {string[]} */ args) => terraform(args, { cwd: workdir, env, cliConfig });
  const started = Date.now();
  await tf(['plan', '-no-color', '-input=false', '-out=replan.tfplan']);
  /** @type {PlanJson} */
  const json = JSON.parse(await tf(['show', '-json', 'replan.tfplan']));
  fs.writeFileSync(path.join(workdir, 'replan.json'), JSON.stringify(json));
  return { changes: summarizeChanges(json), durationMs: Date.now() - started };
}

/**
 * @typedef {object} PlannedChange
 * @property {string} address
 * @property {string} type
 * @property {string | null} name    the resource's `name` attribute, when it has one
 * @property {string[]} actions      e.g. ['update'], ['delete', 'create'], ['create']
 * @property {string[]} changed      top-level attributes whose known planned value differs from the current one
 * @property {string[]} replacePaths top-level attributes forcing replacement, leaving out those that are merely
 *                                   unknown because something upstream is replaced
 */

/**
 * The managed resources a plan would change, with the attributes that cause it.
 * @param {PlanJson} planJson  `terraform show -json <plan>`
 * @returns {PlannedChange[]}
 */
export function summarizeChanges(planJson) {
  /** @type {PlannedChange[]} */
  const out = [];
  for (const c of planJson.resource_changes ?? []) {
    const actions = c.change?.actions ?? [];
    if (c.mode !== 'managed' || actions.every((a) => a === 'no-op' || a === 'read')) continue;
    const before = c.change.before ?? {};
    const after = c.change.after ?? {};
    const unknown = c.change.after_unknown ?? {};
    const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((k) => unknown[k] !== true && JSON.stringify(canonical(before[k])) !== JSON.stringify(canonical(after[k])))
      .sort();
    const replacePaths = [...new Set((c.change.replace_paths ?? []).map((p) => String(p[0])))]
      .filter((k) => unknown[k] !== true)
      .sort();
    const name = typeof before.name === 'string' ? before.name : typeof after.name === 'string' ? after.name : null;
    out.push({ address: c.address, type: c.type, name, actions, changed, replacePaths });
  }
  return out;
}

/** JSON value with sorted object keys, for comparison. @param {unknown} v @returns {unknown} */
function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const o = /** @type {Record<string, unknown>} */ (v);
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, canonical(o[k])]));
  }
  return v;
}

/**
 * @typedef {object} Drift
 * @property {string} type
 * @property {string[]} attributes  attributes moto does not round-trip
 * @property {string} reason
 */

/**
 * The `drift` list of the emulator gap file (attributes moto does not store or reports differently).
 * @param {string} [file]
 * @returns {Drift[]}
 */
export function loadDrift(file = DEFAULT_GAPS_FILE) {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  const list = raw.drift ?? [];
  if (!Array.isArray(list)) throw new Error(`${file}: "drift" must be an array`);
  return list.map((/** @type {any} */ d, /** @type {number} */ i) => {
    const where = `${file}: drift[${i}]`;
    if (!d || typeof d.type !== 'string' || !/^[a-z0-9_]+$/.test(d.type)) throw new Error(`${where}.type: must be a resource type like aws_xyz`);
    if (!Array.isArray(d.attributes) || d.attributes.length === 0 || !d.attributes.every((/** @type {unknown} */ a) => typeof a === 'string' && a)) {
      throw new Error(`${where}.attributes: must be a non-empty list of attribute names`);
    }
    if (typeof d.reason !== 'string' || d.reason.trim().length < 10) throw new Error(`${where}.reason: must say what moto does (at least 10 characters)`);
    return { type: d.type, attributes: d.attributes, reason: d.reason };
  });
}

/**
 * Changes of a re-plan that neither create a skipped resource nor come from listed emulator drift: on moto these
 * point at a stack that does not converge (a perpetual diff), which real AWS would show too.
 * @param {PlannedChange[]} changes
 * @param {{ skipped: string[], drift: Drift[] }} known
 * @returns {{ address: string, actions: string[], unexplained: string[] }[]}
 */
export function unexplainedChanges(changes, known) {
  const skipped = new Set(known.skipped);
  /** @type {{ address: string, actions: string[], unexplained: string[] }[]} */
  const out = [];
  for (const c of changes) {
    if (c.actions.length === 1 && c.actions[0] === 'create' && skipped.has(c.address)) continue;
    const allowed = new Set(known.drift.filter((d) => d.type === c.type).flatMap((d) => d.attributes));
    const replace = c.actions.includes('delete') && c.actions.includes('create');
    // a replacement is explained by what forces it; an in-place update by every attribute it changes
    const causes = replace ? c.replacePaths : c.changed;
    const unexplained = causes.filter((k) => !allowed.has(k));
    if (unexplained.length || (causes.length === 0 && !replace) || c.actions.includes('delete') !== replace) {
      out.push({ address: c.address, actions: c.actions, unexplained: unexplained.length ? unexplained : ['(no attribute explains it)'] });
    }
  }
  return out;
}
