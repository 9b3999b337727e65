// Synthesize the `foundation` stack and apply it with real Terraform against moto_server.
// Resources the emulator cannot create are listed ONCE, with reasons, in lib/emulator-gaps.json;
// they are still planned, and they (plus everything that depends on them) are left out of the apply and
// reported as skipped.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { terraform, writeCliConfig, withEmulatorEnv } from './terraform.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_GAPS_FILE = path.join(REPO_ROOT, 'lib', 'emulator-gaps.json');
export const HARNESS_OVERRIDE_FILE = 'zz_harness_override.tf.json';
export const STACK_NAME = 'foundation';

/**
 * Run the CDKTF app directly (node + a transpile-only TypeScript hook; no cdktf CLI, no ts-node) and return
 * the synthesized stack directory.
 * @param {{ outdir: string, configPath?: string, env?: NodeJS.ProcessEnv, stack?: string, app?: string }} opts
 *   app: entry file (default main.ts in the repo root)
 * @returns {Promise<{ stackDir: string, durationMs: number }>}
 */
export async function synthFoundation(opts) {
  const outdir = path.resolve(opts.outdir);
  const stack = opts.stack ?? STACK_NAME;
  const app = opts.app ?? path.join(REPO_ROOT, 'main.ts');
  if (!fs.existsSync(app)) throw new Error(`CDKTF app entry ${app} does not exist`);
  fs.rmSync(outdir, { recursive: true, force: true });
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...process.env, ...(opts.env ?? {}), CDKTF_OUTDIR: outdir };
  if (opts.configPath) env.STAGING_ROLLOUT_CONFIG = path.resolve(opts.configPath);
  const started = Date.now();
  const { code, stdout, stderr } = await run(
    process.execPath,
    ['-r', path.join(REPO_ROOT, 'scripts', 'lib', 'ts-register.cjs'), app],
    { cwd: path.dirname(app), env },
  );
  const durationMs = Date.now() - started;
  if (code !== 0) throw new Error(`synth of ${path.relative(REPO_ROOT, app)} failed (exit ${code}):\n${stderr || stdout}`);
  const stackDir = path.join(outdir, 'stacks', stack);
  if (!fs.existsSync(path.join(stackDir, 'cdk.tf.json'))) {
    throw new Error(`synth produced no ${path.join(stackDir, 'cdk.tf.json')} (stacks: ${listDir(path.join(outdir, 'stacks'))})`);
  }
  return { stackDir, durationMs };
}

/** @param {string} dir */
function listDir(dir) {
  try {
    return fs.readdirSync(dir).join(', ') || 'none';
  } catch {
    return 'none';
  }
}

/**
 * @param {string} cmd @param {string[]} args @param {import('node:child_process').SpawnOptions} opts
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
function run(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (b) => (stdout += b));
    child.stderr?.on('data', (b) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * @typedef {object} Gap
 * @property {string} [type]     resource type, e.g. aws_elasticache_replication_group (every resource of it)
 * @property {string} [address]  one resource address (config address, no instance key)
 * @property {string} reason     why moto cannot create it
 */

/**
 * Read and validate the emulator gap list.
 * @param {string} [file]
 * @returns {Gap[]}
 */
export function loadGaps(file = DEFAULT_GAPS_FILE) {
  let raw;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read emulator gap list: ${/** @type {Error} */ (e).message}`);
  }
  if (!raw || !Array.isArray(raw.gaps)) throw new Error(`${file}: expected an object with a "gaps" array`);
  return raw.gaps.map((/** @type {any} */ g, /** @type {number} */ i) => {
    const where = `${file}: gaps[${i}]`;
    if (!g || typeof g !== 'object') throw new Error(`${where}: must be an object`);
    if ((g.type === undefined) === (g.address === undefined)) throw new Error(`${where}: needs exactly one of "type" or "address"`);
    if (g.type !== undefined && (typeof g.type !== 'string' || !/^[a-z0-9_]+$/.test(g.type))) {
      throw new Error(`${where}.type: must be a resource type like aws_xyz, got ${JSON.stringify(g.type)}`);
    }
    if (g.address !== undefined && (typeof g.address !== 'string' || !/^(data\.)?[a-z0-9_]+\.[A-Za-z0-9_-]+$/.test(g.address))) {
      throw new Error(`${where}.address: must be a resource address like aws_xyz.name, got ${JSON.stringify(g.address)}`);
    }
    if (typeof g.reason !== 'string' || g.reason.trim().length < 10) {
      throw new Error(`${where}.reason: must say why the emulator cannot create it (at least 10 characters)`);
    }
    return g.type !== undefined ? { type: g.type, reason: g.reason } : { address: g.address, reason: g.reason };
  });
}

const NON_RESOURCE_PREFIXES = new Set(['var', 'local', 'each', 'count', 'path', 'terraform', 'self', 'module']);

/**
 * Normalise a Terraform reference (`aws_vpc.main.id`, `data.aws_x.y.json`, `aws_subnet.s[0]`) to the
 * configuration address it names, or null for var/local/each/... references.
 * @param {string} ref
 * @returns {string | null}
 */
export function referenceToAddress(ref) {
  const parts = ref.replace(/\[[^\]]*\]/g, '').split('.');
  if (parts[0] === 'data') return parts.length >= 3 ? `data.${parts[1]}.${parts[2]}` : null;
  if (NON_RESOURCE_PREFIXES.has(parts[0]) || parts.length < 2) return null;
  return `${parts[0]}.${parts[1]}`;
}

/**
 * Collect every `references` entry inside a plan-JSON expressions tree.
 * @param {unknown} node
 * @param {Set<string>} into
 */
function collectReferences(node, into) {
  if (Array.isArray(node)) {
    for (const n of node) collectReferences(n, into);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'references' && Array.isArray(v)) {
        for (const r of v) if (typeof r === 'string') into.add(r);
      } else {
        collectReferences(v, into);
      }
    }
  }
}

/**
 * Dependency graph of the root module's resources and data sources from `terraform show -json <plan>`.
 * @param {any} planJson
 * @returns {{ resources: Map<string, { type: string, mode: string, deps: Set<string> }>, outputs: Map<string, Set<string>> }}
 */
export function dependencyGraph(planJson) {
  const root = planJson?.configuration?.root_module ?? {};
  if (root.module_calls && Object.keys(root.module_calls).length) {
    throw new Error(`the foundation uses modules (${Object.keys(root.module_calls).join(', ')}); the harness only resolves root-module dependencies`);
  }
  /** @type {Map<string, { type: string, mode: string, deps: Set<string> }>} */
  const resources = new Map();
  for (const r of root.resources ?? []) {
    const refs = new Set();
    collectReferences(r.expressions, refs);
    collectReferences(r.count_expression, refs);
    collectReferences(r.for_each_expression, refs);
    for (const d of r.depends_on ?? []) refs.add(d);
    const deps = new Set();
    for (const ref of refs) {
      const a = referenceToAddress(ref);
      if (a && a !== r.address) deps.add(a);
    }
    resources.set(r.address, { type: r.type, mode: r.mode, deps });
  }
  /** @type {Map<string, Set<string>>} */
  const outputs = new Map();
  for (const [name, o] of Object.entries(root.outputs ?? {})) {
    const refs = new Set();
    collectReferences(/** @type {any} */ (o).expression, refs);
    collectReferences(/** @type {any} */ (o).depends_on, refs);
    const deps = new Set();
    for (const ref of refs) {
      const a = referenceToAddress(ref);
      if (a) deps.add(a);
    }
    outputs.set(name, deps);
  }
  return { resources, outputs };
}

/**
 * Which configuration addresses to leave out: those matched by a gap, and transitively every resource or data
 * source that references one of them. Each skipped address gets a reason naming the gap it comes from.
 * @param {ReturnType<typeof dependencyGraph>} graph
 * @param {Gap[]} gaps
 * @returns {Map<string, string>} address -> reason
 */
export function computeSkips(graph, gaps) {
  /** @type {Map<string, string>} */
  const skip = new Map();
  /** @type {Map<string, string>} address -> the gap-matched address it comes from */
  const origin = new Map();
  for (const [address, r] of graph.resources) {
    const gap = gaps.find((g) => g.address === address || (g.type !== undefined && r.mode === 'managed' && g.type === r.type));
    if (gap) {
      skip.set(address, `emulator gap: ${gap.reason}`);
      origin.set(address, address);
    }
  }
  let changed = true;
  while (changed) {
    changed = false;
    for (const [address, r] of graph.resources) {
      if (skip.has(address)) continue;
      const dep = [...r.deps].find((d) => skip.has(d));
      if (dep) {
        const root = /** @type {string} */ (origin.get(dep));
        origin.set(address, root);
        skip.set(address, `depends on ${dep}${root !== dep ? ` (via ${root})` : ''}, which the emulator cannot create`);
        changed = true;
      }
    }
  }
  return skip;
}

/** Strip an instance key: aws_subnet.private[0] -> aws_subnet.private */
export const configAddress = (/** @type {string} */ a) => a.replace(/\[[^\]]*\]$/, '');

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
  return { workdir, tf, timed, timings, stateFile, cliConfig, planJsonFile, plan: JSON.parse(planJsonText) };
}

/**
 * init / validate / plan of the whole stack against the emulator, without applying.
 * @param {{ endpoint: string, workdir: string, region?: string, log?: (msg: string) => void }} opts
 * @returns {Promise<{ plan: any, planJsonFile: string, timings: Record<string, number>, workdir: string }>}
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
    .filter((/** @type {any} */ c) => c.mode === 'managed' && !c.change.actions.includes('no-op') && !c.change.actions.includes('delete'))
    .map((/** @type {any} */ c) => c.address);

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
  const stateJson = JSON.parse(await tf(['show', '-json']));
  const applied = listStateResources(stateJson?.values?.root_module).filter((a) => !a.startsWith('data.'));
  const outputs = JSON.parse(await timed('output', () => tf(['output', '-json'])));
  return { outputs, planned, applied, skipped, skippedOutputs, timings, stateFile, planJsonFile, workdir, cliConfig };
}

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
 * @param {any} planJson  `terraform show -json <plan>`
 * @returns {PlannedChange[]}
 */
export function summarizeChanges(planJson) {
  /** @type {PlannedChange[]} */
  const out = [];
  for (const c of planJson.resource_changes ?? []) {
    const actions = c.change?.actions ?? [];
    if (c.mode !== 'managed' || actions.every((/** @type {string} */ a) => a === 'no-op' || a === 'read')) continue;
    const before = c.change.before ?? {};
    const after = c.change.after ?? {};
    const unknown = c.change.after_unknown ?? {};
    const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((k) => unknown[k] !== true && JSON.stringify(canonical(before[k])) !== JSON.stringify(canonical(after[k])))
      .sort();
    const replacePaths = [...new Set((c.change.replace_paths ?? []).map((/** @type {unknown[]} */ p) => String(p[0])))]
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
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(/** @type {any} */ (v)[k])]));
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

/**
 * @param {any} mod
 * @returns {string[]}
 */
function listStateResources(mod) {
  if (!mod) return [];
  return [
    ...(mod.resources ?? []).map((/** @type {any} */ r) => r.address),
    ...(mod.child_modules ?? []).flatMap((/** @type {any} */ m) => listStateResources(m)),
  ];
}

/**
 * What ECS holds right after the apply, before any suite changes it (the runner tests update services):
 * the cluster and, for every enabled catalog service, its ECS service and task-definition family.
 * @param {{ endpoint: string, region: string, outputs: Record<string, { value: any }> }} opts
 * @returns {Promise<{ cluster: { name: string, status?: string } | null, services: Record<string, any>, taskDefinitions: Record<string, any> }>}
 */
export async function snapshotEcs(opts) {
  const { ECSClient, DescribeClustersCommand, DescribeServicesCommand, DescribeTaskDefinitionCommand } = await import('@aws-sdk/client-ecs');
  const ecs = new ECSClient({ endpoint: opts.endpoint, region: opts.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  try {
    const clusterName = opts.outputs.cluster_name?.value;
    const catalog = opts.outputs.service_catalog?.value;
    if (typeof clusterName !== 'string' || !catalog) return { cluster: null, services: {}, taskDefinitions: {} };
    const c = await ecs.send(new DescribeClustersCommand({ clusters: [clusterName] }));
    const entries = Object.values(/** @type {Record<string, any>} */ (catalog)).filter((e) => e.enabled);
    /** @type {Record<string, any>} */
    const services = {};
    const names = entries.map((e) => e.ecs_service_name);
    for (let i = 0; i < names.length; i += 10) {
      const r = await ecs.send(new DescribeServicesCommand({ cluster: clusterName, services: names.slice(i, i + 10) }));
      for (const s of r.services ?? []) {
        services[/** @type {string} */ (s.serviceName)] = {
          status: s.status,
          desiredCount: s.desiredCount,
          taskDefinition: s.taskDefinition,
          deploymentCircuitBreaker: s.deploymentConfiguration?.deploymentCircuitBreaker ?? null,
        };
      }
    }
    /** @type {Record<string, any>} */
    const taskDefinitions = {};
    for (const e of entries) {
      const r = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: e.task_family }));
      taskDefinitions[e.task_family] = {
        revision: r.taskDefinition?.revision,
        containers: (r.taskDefinition?.containerDefinitions ?? []).map((d) => ({ name: d.name, image: d.image })),
      };
    }
    return { cluster: { name: clusterName, status: c.clusters?.[0]?.status }, services, taskDefinitions };
  } finally {
    ecs.destroy();
  }
}

/**
 * Act like a release on one ECS service (new task-definition revision + desired count 1), as the runner does,
 * run `fn` (a re-plan), then put the service back as Terraform left it and deregister the probe revision.
 * Proves with real Terraform that a later deploy leaves release-owned attributes alone.
 * @template T
 * @param {{ endpoint: string, region: string, cluster: string, service: string, family: string }} opts
 * @param {() => Promise<T>} fn
 * @returns {Promise<{ result: T, probe: { service: string, taskDefinitionArn: string, desiredCount: number, restored: { taskDefinition?: string, desiredCount?: number } } }>}
 */
export async function withReleaseProbe(opts, fn) {
  const ecsMod = await import('@aws-sdk/client-ecs');
  const ecs = new ecsMod.ECSClient({ endpoint: opts.endpoint, region: opts.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  try {
    const [svc] = (await ecs.send(new ecsMod.DescribeServicesCommand({ cluster: opts.cluster, services: [opts.service] }))).services ?? [];
    if (!svc) throw new Error(`release probe: service ${opts.service} not found in ${opts.cluster}`);
    const td = (await ecs.send(new ecsMod.DescribeTaskDefinitionCommand({ taskDefinition: opts.family }))).taskDefinition;
    if (!td) throw new Error(`release probe: task definition family ${opts.family} not found`);
    /** @type {any} */
    const input = {
      family: td.family,
      containerDefinitions: (td.containerDefinitions ?? []).map((c) => ({ ...c, image: String(c.image).replace(/:[^:/]+$/, ':release-probe') })),
      taskRoleArn: td.taskRoleArn,
      executionRoleArn: td.executionRoleArn,
      networkMode: td.networkMode,
      requiresCompatibilities: td.requiresCompatibilities,
      cpu: td.cpu,
      memory: td.memory,
      volumes: td.volumes,
    };
    const registered = (await ecs.send(new ecsMod.RegisterTaskDefinitionCommand(input))).taskDefinition;
    const arn = /** @type {string} */ (registered?.taskDefinitionArn);
    await ecs.send(new ecsMod.UpdateServiceCommand({ cluster: opts.cluster, service: opts.service, taskDefinition: arn, desiredCount: 1 }));
    /** @type {T} */
    let result;
    try {
      result = await fn();
    } finally {
      await ecs.send(
        new ecsMod.UpdateServiceCommand({ cluster: opts.cluster, service: opts.service, taskDefinition: svc.taskDefinition, desiredCount: svc.desiredCount }),
      );
      await ecs.send(new ecsMod.DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
    }
    const [after] = (await ecs.send(new ecsMod.DescribeServicesCommand({ cluster: opts.cluster, services: [opts.service] }))).services ?? [];
    return {
      result,
      probe: {
        service: opts.service,
        taskDefinitionArn: arn,
        desiredCount: 1,
        restored: { taskDefinition: after?.taskDefinition, desiredCount: after?.desiredCount },
      },
    };
  } finally {
    ecs.destroy();
  }
}
