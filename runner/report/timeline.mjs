// SVG Gantt chart of a rollout report: one row per step and per service under it, bars against time from the
// rollout start, failures marked in red with a cross. Output is standalone, valid XML with every text escaped.
import { assertReport, ms, duration, durationOf, isFailure } from './format.mjs';
import { verdict } from '../lib/verdict.mjs';

/** Escape text and attribute values for XML; drop characters XML 1.0 forbids. */
export function xml(/** @type {unknown} */ v) {
  return String(v ?? '')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const COLORS = /** @type {Record<string, string>} */ ({
  passed: '#2da44e', failed: '#cf222e', interrupted: '#cf222e', skipped: '#8c959f', unchanged: '#9ecbff', 'not-run': '#d0d7de',
});
const TICKS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

/** Tick label: "0s", "45s", "2m", "1m30s", "1h". */
function tickLabel(/** @type {number} */ s) {
  if (s < 60) return `${s}s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s / 60}m`;
  return s % 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : `${s / 3600}h`;
}

/** Trim a label to n characters. */
const clip = (/** @type {string} */ s, /** @type {number} */ n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * @param {unknown} input the report object
 * @param {{ width?: number }} [opts]
 * @returns {string} SVG document
 */
export function renderTimeline(input, opts = {}) {
  const report = assertReport(input);
  const steps = report.steps ?? [];
  /** @type {{ kind: 'step' | 'service', step: string, label: string, status: string, start: number | null, end: number | null, reason: string | null, durationMs: number | null }[]} */
  const rows = [];
  for (const s of steps) {
    rows.push({ kind: 'step', step: s.id, label: s.title ? `${s.title} (${s.id})` : s.id, status: String(s.status ?? 'unknown'), start: ms(s.startedAt), end: ms(s.finishedAt), reason: s.reason ?? null, durationMs: durationOf(s) });
    for (const v of s.services ?? []) {
      rows.push({ kind: 'service', step: s.id, label: String(v.name ?? '?'), status: String(v.status ?? 'unknown'), start: ms(v.startedAt), end: ms(v.finishedAt), reason: v.reason ?? null, durationMs: durationOf(v) });
    }
  }
  const times = rows.flatMap((r) => [r.start, r.end]).filter((t) => t !== null);
  const t0 = ms(report.startedAt) ?? (times.length ? Math.min(.../** @type {number[]} */ (times)) : 0);
  const tEnd = Math.max(ms(report.finishedAt) ?? t0, ...(/** @type {number[]} */ (times)), t0 + 1000);
  const spanMs = tEnd - t0;

  const width = opts.width ?? 1000;
  const labelW = 300; const padR = 90; const rowH = 22; const top = 64; const chartW = width - labelW - padR;
  const height = top + rows.length * rowH + 56;
  const x = (/** @type {number} */ t) => labelW + ((t - t0) / spanMs) * chartW;
  const tickS = TICKS_S.find((s) => spanMs / 1000 / s <= 10) ?? Math.ceil(spanMs / 1000 / 10 / 3600) * 3600;

  const status = String(report.status ?? 'unknown');
  const title = `Rollout ${report.release ?? '?'} (${report.environment ?? '?'}): ${verdict(report)}, ${duration(durationOf(report) ?? spanMs)}`;
  /** @type {string[]} */
  const o = [];
  o.push('<?xml version="1.0" encoding="UTF-8"?>');
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="title" font-family="-apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`);
  o.push(`<title id="title">${xml(title)}</title>`);
  o.push('<style>.fail{fill:#cf222e;font-weight:bold}.muted{fill:#57606a}.step{font-weight:bold}.grid{stroke:#d8dee4;stroke-width:1}</style>');
  o.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  o.push(`<text x="12" y="22" font-size="15" class="step${isFailure(status) ? ' fail' : ''}">${xml(title)}</text>`);
  if (report.failure) {
    const f = report.failure;
    o.push(`<text x="12" y="40" class="fail">${xml(clip(`✗ ${f.step ?? '?'}${f.service ? ` / ${f.service}` : ''}: ${f.message ?? ''}`, 150))}</text>`);
  }
  // time axis
  for (let s = 0; s * 1000 <= spanMs; s += tickS) {
    const tx = x(t0 + s * 1000).toFixed(1);
    o.push(`<line class="grid" x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${top + rows.length * rowH}"/>`);
    o.push(`<text x="${tx}" y="${top - 10}" text-anchor="middle" class="muted">${xml(tickLabel(s))}</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const failed = isFailure(r.status);
    const attrs = `data-kind="${r.kind}" data-step="${xml(r.step)}"${r.kind === 'service' ? ` data-service="${xml(r.label)}"` : ''} data-status="${xml(r.status)}"`;
    o.push(`<g ${attrs}>`);
    if (failed) o.push(`<rect x="0" y="${y}" width="${width}" height="${rowH}" fill="#ffebe9"/>`);
    else if (i % 2) o.push(`<rect x="0" y="${y}" width="${width}" height="${rowH}" fill="#f6f8fa"/>`);
    const lx = r.kind === 'step' ? 12 : 32;
    o.push(`<text x="${lx}" y="${y + 15}" class="${r.kind === 'step' ? 'step' : ''}${failed ? ' fail' : ''}">${xml(clip(`${failed ? '✗ ' : ''}${r.label}`, r.kind === 'step' ? 40 : 38))}</text>`);
    const tip = `${r.kind === 'step' ? 'step' : `service in ${r.step}`} ${r.label}: ${r.status}${r.durationMs !== null ? `, ${duration(r.durationMs)}` : ''}${r.reason ? ` (${r.reason})` : ''}`;
    if (r.start !== null) {
      const end = r.end ?? r.start + (r.durationMs ?? 0);
      const bx = x(r.start); const bw = Math.max(2, x(Math.max(end, r.start)) - bx);
      o.push(`<rect x="${bx.toFixed(1)}" y="${y + 4}" width="${bw.toFixed(1)}" height="${rowH - 8}" rx="2" fill="${COLORS[r.status] ?? '#8250df'}"${r.status === 'skipped' ? ' fill-opacity="0.6"' : ''}><title>${xml(tip)}</title></rect>`);
      const note = `${failed ? `✗ ${r.status}` : r.status === 'passed' ? '' : r.status} ${r.durationMs !== null ? duration(r.durationMs) : ''}`.trim();
      if (bx + bw + 4 + note.length * 7 <= width - 4) {
        o.push(`<text x="${(bx + bw + 4).toFixed(1)}" y="${y + 15}" class="${failed ? 'fail' : 'muted'}">${xml(note)}</text>`);
      } else { // no room on the right: inside the bar's end, or before the bar
        const inside = bw >= note.length * 7 + 8;
        o.push(`<text x="${(inside ? bx + bw - 4 : bx - 4).toFixed(1)}" y="${y + 15}" text-anchor="end" ${inside ? 'fill="#ffffff" font-weight="bold"' : `class="${failed ? 'fail' : 'muted'}"`}>${xml(note)}</text>`);
      }
    } else {
      o.push(`<text x="${labelW}" y="${y + 15}" class="${failed ? 'fail' : 'muted'}" font-style="italic">${xml(clip(`${failed ? '✗ ' : ''}${r.status}${r.reason ? `: ${r.reason}` : ''}`, 100))}<title>${xml(tip)}</title></text>`);
    }
    o.push('</g>');
  });
  // legend
  const ly = top + rows.length * rowH + 28;
  let lx = 12;
  for (const s of ['passed', 'failed', 'skipped', 'unchanged', 'not-run']) {
    o.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLORS[s]}"/><text x="${lx + 16}" y="${ly}" class="muted">${xml(s)}</text>`);
    lx += 100;
  }
  o.push(`<text x="${width - 12}" y="${ly}" text-anchor="end" class="muted">${xml(`started ${report.startedAt ?? '?'}, AWS calls ${report.awsCalls ?? '?'}`)}</text>`);
  o.push('</svg>');
  return `${o.join('\n')}\n`;
}
