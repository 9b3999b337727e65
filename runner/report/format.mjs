// Small formatting helpers shared by the Markdown summary and the SVG timeline.

/** @param {unknown} v @returns {number | null} epoch ms, or null when absent or not a valid time */
export function ms(v) {
  if (v === null || v === undefined || v === '') return null;
  const t = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(String(v));
  return Number.isFinite(t) ? t : null;
}

/** Human duration: "850 ms", "12.3 s", "2m 05s", "1h 02m". */
export function duration(/** @type {unknown} */ v) {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return '–';
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(1)} s`;
  const s = Math.round(v / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Duration of a record: its durationMs, else finishedAt - startedAt. */
export function durationOf(/** @type {{ durationMs?: number|null, startedAt?: string|null, finishedAt?: string|null }} */ r) {
  if (typeof r?.durationMs === 'number') return r.durationMs;
  const a = ms(r?.startedAt); const b = ms(r?.finishedAt);
  return a !== null && b !== null && b >= a ? b - a : null;
}

/**
 * Validate the report's top-level shape (docs/contract.md section 7) with a precise message.
 * @param {unknown} report @returns {import('../lib/execute.mjs').Report}
 */
export function assertReport(report) {
  if (!report || typeof report !== 'object' || Array.isArray(report)) throw new TypeError(`rollout report: must be an object, got ${report === null ? 'null' : Array.isArray(report) ? 'an array' : typeof report}`);
  const r = /** @type {{ steps?: unknown, images?: unknown }} */ (report);
  if (r.steps !== undefined && !Array.isArray(r.steps)) throw new TypeError(`rollout report: steps must be an array, got ${typeof r.steps}`);
  /** @type {unknown[]} */ (r.steps ?? []).forEach((x, i) => {
    if (!x || typeof x !== 'object') throw new TypeError(`rollout report: steps[${i}] must be an object`);
    const s = /** @type {{ id?: unknown, services?: unknown, checks?: unknown }} */ (x);
    if (typeof s.id !== 'string' || !s.id) throw new TypeError(`rollout report: steps[${i}].id must be a non-empty string, got ${JSON.stringify(s.id)}`);
    if (s.services !== undefined && !Array.isArray(s.services)) throw new TypeError(`rollout report: steps[${i}].services must be an array`);
    if (s.checks !== undefined && !Array.isArray(s.checks)) throw new TypeError(`rollout report: steps[${i}].checks must be an array`);
  });
  if (r.images !== undefined && (typeof r.images !== 'object' || r.images === null || Array.isArray(r.images))) throw new TypeError('rollout report: images must be an object keyed by image');
  return /** @type {import('../lib/execute.mjs').Report} */ (report);
}

/** True for statuses that mean something went wrong. */
export const isFailure = (/** @type {unknown} */ s) => s === 'failed' || s === 'interrupted';
