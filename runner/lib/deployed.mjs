// THE comparison of the config a run was given with what is deployed (the stack outputs), before any AWS call
// (docs/environments.md). Pure: no I/O.
//  - outputs of another environment: refused (InputError, exit 2);
//  - a catalog the stack does not have yet (services added, removed, enabled or disabled, or with another
//    tier, kind, image or dependencies): refused with the difference and "run `cdktf deploy foundation` first";
//  - a desired count that differs: reported, and the config's count is used (the runner owns releases, and
//    Terraform ignores desired_count after creation).
import { InputError } from './errors.mjs';

/**
 * @typedef {import('../../lib/config/index.cjs').Config} Config
 * @typedef {import('./outputs.mjs').Outputs} Outputs
 * @typedef {{ name: string, deployed: number, config: number }} CountChange
 */

const sameList = (/** @type {readonly string[]} */ a, /** @type {readonly string[]} */ b) => [...a].sort().join(',') === [...b].sort().join(',');
const list = (/** @type {readonly string[]} */ xs) => (xs.length ? xs.join(', ') : 'none');

/**
 * The catalog differences that need a foundation deploy, one line each ("<service>: <what>").
 * @param {Config} config @param {Outputs} outputs
 * @returns {string[]}
 */
export function catalogDifferences(config, outputs) {
  const wanted = Object.values(config.services);
  const deployed = new Map(outputs.catalog.map((e) => [e.name, e]));
  /** @type {string[]} */
  const diffs = [];
  for (const s of wanted) {
    const d = deployed.get(s.name);
    if (!d) {
      diffs.push(`${s.name}: in the config, not deployed (added)`);
      continue;
    }
    if (s.enabled !== d.enabled) {
      diffs.push(`${s.name}: ${s.enabled ? 'enabled' : `disabled (${s.disabledReason})`} in the config, ${d.enabled ? 'enabled' : 'disabled'} in the deployed stack`);
    }
    if (s.tier !== d.tier) diffs.push(`${s.name}: tier "${s.tier}" in the config, "${d.tier}" deployed`);
    if (s.kind !== d.kind) diffs.push(`${s.name}: kind "${s.kind}" in the config, "${d.kind}" deployed`);
    if (s.image !== d.image) diffs.push(`${s.name}: image "${s.image}" in the config, "${d.image}" deployed`);
    if (!sameList(s.dependsOn, d.dependsOn)) diffs.push(`${s.name}: dependsOn [${list(s.dependsOn)}] in the config, [${list(d.dependsOn)}] deployed`);
  }
  const names = new Set(wanted.map((s) => s.name));
  for (const d of outputs.catalog) if (!names.has(d.name)) diffs.push(`${d.name}: deployed, not in the config (removed)`);
  return diffs;
}

/**
 * Compare the config with the deployed outputs. Throws InputError (exit 2, nothing changed) for another
 * environment's outputs, or, when `catalog` is set (verbs that change services), for catalog differences.
 * Returns the outputs with the config's desired counts, and the counts that differ.
 * @param {{ config: Config, outputs: Outputs, configFile: string, source: string, catalog?: boolean }} input
 * @returns {{ outputs: Outputs, countChanges: CountChange[] }}
 */
export function compareDeployed({ config, outputs, configFile, source, catalog = true }) {
  if (outputs.environment !== config.environment) {
    throw new InputError(
      `--config ${configFile} is environment "${config.environment}", but the stack outputs (${source}) are environment "${outputs.environment}"'s ` +
        `(cluster ${outputs.clusterName}); nothing was changed. Point --config at ${outputs.environment}'s config, or read ${config.environment}'s outputs ` +
        `(synthesize it: STAGING_ROLLOUT_CONFIG=${configFile} npx cdktf synth, or --outputs FILE)`,
    );
  }
  if (!catalog) return { outputs, countChanges: [] };
  const diffs = catalogDifferences(config, outputs);
  if (diffs.length) {
    throw new InputError(
      `the service catalog of --config ${configFile} is not deployed yet (stack outputs: ${source}); nothing was changed:\n` +
        `${diffs.map((d) => `  - ${d}`).join('\n')}\nrun \`cdktf deploy foundation\` first (STAGING_ROLLOUT_CONFIG=${configFile}), then rerun`,
    );
  }
  /** @type {CountChange[]} */
  const countChanges = [];
  const catalogOut = outputs.catalog.map((e) => {
    const want = config.services[e.name]?.desiredCount;
    if (want === undefined || want === e.desiredCount) return e;
    countChanges.push({ name: e.name, deployed: e.desiredCount, config: want });
    return { ...e, desiredCount: want };
  });
  return { outputs: countChanges.length ? { ...outputs, catalog: catalogOut } : outputs, countChanges };
}

/** One line per count change, for the log and the dry run. @param {CountChange[]} changes */
export function formatCountChanges(changes) {
  return changes.map((c) => `desired count of ${c.name}: ${c.deployed} in the deployed stack, ${c.config} in the config: the runner uses the config's ${c.config}`);
}
