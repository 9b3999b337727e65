// The data plane's figures for `npm run bench`: the rollout's wall time on the local data plane (from the images
// step's end to the smoke step's end) beside its floor, the sum along the critical path of what the tasks
// themselves take: the migration container (created to stopped), then per tier the longest dependency chain of
// the services' tasks from created to healthy (running for the engine's stable time and, behind the ALB, past its
// healthy threshold), then the slowest one-off task of the smoke step. The ratio is the runner's overhead.
// Pure: it reads the runner's report and the engine's task records (`dataplane-tasks.json` of `npm run local`).

/**
 * @typedef {{ arn: string, family: string, service: string | null, oneOff: boolean, createdAt: number,
 *   startedAt: number | null, healthyAt: number | null, stoppedAt: number | null, exitCode: number | null }} TaskRecord
 * @typedef {{ name: string, tier: string, ecs_service_name: string, depends_on?: string[] | null, enabled: boolean }} CatalogEntry
 */

/**
 * @param {{ report: any, tasks: TaskRecord[], catalog: CatalogEntry[], migrationFamily: string }} o
 * @returns {{ wallMs: number, floorMs: number, ratio: number, parts: { what: string, ms: number }[] }}
 */
export function dataplaneFloor({ report, tasks, catalog, migrationFamily }) {
  const step = (/** @type {string} */ id) => report.steps.find((/** @type {any} */ s) => s.id === id);
  const images = step('images');
  const smoke = step('smoke');
  if (!images?.finishedAt || !smoke?.finishedAt) throw new Error('bench: the report has no finished images and smoke steps');
  const t0 = Date.parse(images.finishedAt);
  const wallMs = Date.parse(smoke.finishedAt) - t0;
  const inRun = tasks.filter((t) => t.createdAt >= t0 - 1000);
  /** @type {{ what: string, ms: number }[]} */
  const parts = [];
  const migration = inRun.find((t) => t.oneOff && t.family === migrationFamily && t.stoppedAt !== null);
  if (migration) parts.push({ what: 'migration container', ms: /** @type {number} */ (migration.stoppedAt) - migration.createdAt });
  const enabled = catalog.filter((e) => e.enabled);
  /** @type {Map<string, number>} created -> healthy of a service's first task in this run */
  const took = new Map();
  for (const e of enabled) {
    const first = inRun.filter((t) => t.service === e.ecs_service_name && t.healthyAt !== null).sort((a, b) => a.createdAt - b.createdAt)[0];
    if (first) took.set(e.name, /** @type {number} */ (first.healthyAt) - first.createdAt);
  }
  for (const tier of [...new Set(enabled.map((e) => e.tier))]) {
    const inTier = enabled.filter((e) => e.tier === tier);
    /** @type {Map<string, { ms: number, chain: string[] }>} */
    const memo = new Map();
    /** @param {CatalogEntry} e @returns {{ ms: number, chain: string[] }} */
    const longest = (e) => {
      const known = memo.get(e.name);
      if (known) return known;
      const deps = (e.depends_on ?? []).map((d) => inTier.find((x) => x.name === d)).filter((x) => x !== undefined).map((x) => longest(/** @type {CatalogEntry} */ (x)));
      const before = deps.sort((a, b) => b.ms - a.ms)[0] ?? { ms: 0, chain: [] };
      const r = { ms: before.ms + (took.get(e.name) ?? 0), chain: [...before.chain, e.name] };
      memo.set(e.name, r);
      return r;
    };
    const worst = inTier.map(longest).sort((a, b) => b.ms - a.ms)[0];
    if (worst) parts.push({ what: `tier ${tier}: ${worst.chain.join(' -> ')} created to healthy`, ms: worst.ms });
  }
  const smokeTasks = inRun.filter((t) => t.oneOff && t.family !== migrationFamily && t.stoppedAt !== null && t.createdAt >= Date.parse(smoke.startedAt));
  const slowest = smokeTasks.map((t) => /** @type {number} */ (t.stoppedAt) - t.createdAt).sort((a, b) => b - a)[0];
  if (slowest !== undefined) parts.push({ what: 'smoke: slowest one-off task', ms: slowest });
  const floorMs = parts.reduce((n, p) => n + p.ms, 0);
  return { wallMs, floorMs, ratio: floorMs ? wallMs / floorMs : NaN, parts };
}
