// Plan and apply the synthesized `foundation` stack with real Terraform against moto_server. The whole stack
// is planned; the emulator gaps (gaps.mjs) and their dependents are left out of the apply and reported as
// skipped, with reasons.
import fs from 'node:fs';
import path from 'node:path';
import { terraform, writeCliConfig, withEmulatorEnv } from '../terraform.mjs';
import { DEFAULT_GAPS_FILE, REPO_ROOT } from '../paths.mjs';
import { loadGaps, dependencyGraph, computeSkips, configAddress } from './gaps.mjs';

/** @typedef {import('./plan-json.mjs').PlanJson} PlanJson */
/** @typedef {import('./plan-json.mjs').StateJson} StateJson */
/** @typedef {import('./plan-json.mjs').StateModule} StateModule */

export const HARNESS_OVERRIDE_FILE = 'zz_harness_override.tf.json';

/**
 * Shared by plan and apply: harness override (local state in the workdir), mirror-only CLI config,
 * init / validate / plan of the whole stack, plan JSON written to <workdir>/plan.json.
 * @param {{ endpoint: string, workdir: string, region?: string, log?: (msg: string) => void }} opts
 */
async function prepareAndPlan(opts) {
  const workdir = path.resolve(opts.workdir);
  const log = opts.log ?? (() => {});
  if (!fs.existsSync(path.join(workdir, 'cdk.tf.json'))) throw new Error(`${workdir} holds no cdk.tf.json (synthesize first)`);
  const stateFile = path.join(workdir, 'terraform.tfstate');
  // The harness's only change to the synthesized stack: local state inside the workdir (whatever backend
  // the config chose), never the developer's or CI's real backend.
  fs.writeFileSync(
    path.join(workdir, HARNESS_OVERRIDE_FILE),
    JSON.stringify({ terraform: { backend: { local: { path: stateFile } } } }, null, 2) + '\n',
  );
  for (const f of [stateFile, `${stateFile}.backup`, path.join(workdir, 'plan.tfplan'), path.join(workdir, 'plan.json')]) {
    fs.rmSync(f, { force: true });
  }
  fs.rmSync(path.join(workdir, '.terraform', 'terraform.tfstate'), { force: true });
  const cliConfig = writeCliConfig(path.join(workdir, '.harness'));
  const env = withEmulatorEnv(opts.endpoint, { region: opts.region });
  const tf = (/** @type {string[]} */ args) => terraform(args, { cwd: workdir, env, cliConfig });
  /** @type {Record<string, number>} */
  const timings = {};
  const timed = async (/** @type {string} */ name, /** @type {() => Promise<string>} */ fn) => {
    const t = Date.now();
    log(`terraform ${name} ...`);
    const out = await fn();
    timings[name] = Date.now() - t;
    log(`terraform ${name}: ${timings[name]} ms`);
    return out;
  };
  await timed('init', () => tf(['init', '-no-color', '-reconfigure']));
  await timed('validate', () => tf(['validate', '-no-color']));
  await timed('plan', () => tf(['plan', '-no-color', '-input=false', '-out=plan.tfplan']));
  const planJsonText = await tf(['show', '-json', 'plan.tfplan']);
  const planJsonFile = path.join(workdir, 'plan.json');
  fs.writeFileSync(planJsonFile, planJsonText);
  /** @type {PlanJson} */
  const plan = JSON.parse(planJsonText);
  return { workdir, tf, timed, timings, stateFile, cliConfig, planJsonFile, plan };
}

/**
 * init / validate / plan of the whole stack against the emulator, without applying.
 * @param {{ endpoint: string, workdir: string, region?: string, log?: (msg: string) => void }} opts
 * @returns {Promise<{ plan: PlanJson, planJsonFile: string, timings: Record<string, number>, workdir: string }>}
 */
export async function planFoundation(opts) {
  const { plan, planJsonFile, timings, workdir } = await prepareAndPlan(opts);
  return { plan, planJsonFile, timings, workdir };
}

/**
 * @typedef {object} ApplyResult
 * @property {Record<string, any>} outputs   `terraform output -json` (values under .value)
 * @property {string[]} planned              managed resource instance addresses in the full plan
 * @property {string[]} applied              managed resource instance addresses in the state after apply
 * @property {{ address: string, reason: string }[]} skipped  planned instances left out, with reasons
 * @property {{ name: string, reason: string }[]} skippedOutputs  outputs that depend on skipped resources
 * @property {Record<string, number>} timings  ms per phase: init, validate, plan, apply, refresh (only with skips), output
 * @property {string} stateFile
 * @property {string} planJsonFile
 * @property {string} workdir
 * @property {string} cliConfig
 */

/**
 * terraform init (providers only from the local mirror) / validate / plan (everything) / apply (everything but
 * the emulator gaps and their dependents) / output, against the emulator at `endpoint`.
 * @param {{ endpoint: string, workdir: string, gapsFile?: string, region?: string, parallelism?: number, log?: (msg: string) => void }} opts
 *   workdir: the synthesized stack directory (holds cdk.tf.json); the harness writes its files there.
 *   parallelism: terraform apply -parallelism (default STAGING_ROLLOUT_TF_PARALLELISM or 10)
 * @returns {Promise<ApplyResult>}
 */
export async function applyFoundation(opts) {
  const gaps = loadGaps(opts.gapsFile);
  const log = opts.log ?? (() => {});
  const { workdir, tf, timed, timings, stateFile, cliConfig, planJsonFile, plan } = await prepareAndPlan(opts);
  const planned = (plan.resource_changes ?? [])
    .filter((c) => c.mode === 'managed' && !c.change.actions.includes('no-op') && !c.change.actions.includes('delete'))
    .map((c) => c.address);

  const graph = dependencyGraph(plan);
  const skips = computeSkips(graph, gaps);
  const skipped = planned.filter((a) => skips.has(configAddress(a))).map((a) => ({ address: a, reason: /** @type {string} */ (skips.get(configAddress(a))) }));
  const targets = [...new Set(planned.map(configAddress))].filter((a) => !skips.has(a));
  const skippedOutputs = [...graph.outputs]
    .filter(([, deps]) => [...deps].some((d) => skips.has(d)))
    .map(([name, deps]) => ({ name, reason: `depends on ${[...deps].filter((d) => skips.has(d)).join(', ')}, which the apply left out` }));

  // the apply time is dominated by the provider's fixed waits on the critical path (30 gave the same 76 s as 10)
  const parallelism = `-parallelism=${opts.parallelism ?? (Number(process.env.STAGING_ROLLOUT_TF_PARALLELISM) || 10)}`;
  const applyArgs = skips.size === 0
    ? ['apply', '-no-color', '-input=false', '-auto-approve', parallelism, 'plan.tfplan']
    : ['apply', '-no-color', '-input=false', '-auto-approve', parallelism, ...targets.map((t) => `-target=${t}`)];
  try {
    const applyLog = await timed('apply', () => tf(applyArgs));
    fs.writeFileSync(path.join(workdir, '.harness', 'apply.log'), applyLog);
  } catch (e) {
    const err = /** @type {Error} */ (e);
    err.message +=
      `\n(if this is an emulator limitation rather than a stack bug, add the resource to ${path.relative(REPO_ROOT, opts.gapsFile ?? DEFAULT_GAPS_FILE)} with the reason)`;
    throw err;
  }
  if (skips.size > 0) {
    // A targeted apply does not write root outputs that reference no targeted resource (constants such as
    // `environment`); a refresh-only apply evaluates and stores every output without changing resources.
    try {
      await timed('refresh', () => tf(['apply', '-refresh-only', '-no-color', '-input=false', '-auto-approve']));
    } catch (e) {
      if (skippedOutputs.length === 0) throw e;
      log(`refresh-only apply failed (outputs that depend on skipped resources): ${/** @type {Error} */ (e).message.split('\n')[0]}`);
    }
  }
  /** @type {StateJson} */
  const stateJson = JSON.parse(await tf(['show', '-json']));
  const applied = listStateResources(stateJson?.values?.root_module).filter((a) => !a.startsWith('data.'));
  const outputs = JSON.parse(await timed('output', () => tf(['output', '-json'])));
  return { outputs, planned, applied, skipped, skippedOutputs, timings, stateFile, planJsonFile, workdir, cliConfig };
}

/**
 * Every resource address in a state module and its children.
 * @param {StateModule | undefined} mod
 * @returns {string[]}
 */
function listStateResources(mod) {
  if (!mod) return [];
  return [...(mod.resources ?? []).map((r) => r.address), ...(mod.child_modules ?? []).flatMap((m) => listStateResources(m))];
}
