// The emulator-gap graph: the resources moto cannot create are listed ONCE, with reasons, in
// lib/emulator-gaps.json (`gaps`); this module reads that list, builds the dependency graph of a plan, and
// computes what to leave out of the apply: every gap and, transitively, everything that references one.
import fs from 'node:fs';
import { DEFAULT_GAPS_FILE } from '../paths.mjs';

/** @typedef {import('./plan-json.mjs').PlanJson} PlanJson */

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
 * @param {PlanJson} planJson
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
    /** @type {Set<string>} */
    const refs = new Set();
    collectReferences(r.expressions, refs);
    collectReferences(r.count_expression, refs);
    collectReferences(r.for_each_expression, refs);
    for (const d of r.depends_on ?? []) refs.add(d);
    /** @type {Set<string>} */
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
    /** @type {Set<string>} */
    const refs = new Set();
    collectReferences(o.expression, refs);
    collectReferences(o.depends_on, refs);
    /** @type {Set<string>} */
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

