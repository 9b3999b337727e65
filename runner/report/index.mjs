// Release artifacts from a rollout report: the Markdown summary and the SVG timeline beside the report.
import { mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { renderSummary } from './summary.mjs';
import { renderTimeline } from './timeline.mjs';

export { renderSummary } from './summary.mjs';
export { renderTimeline } from './timeline.mjs';

/** The timeline's path for a report path: `x/report.json` -> `x/report.timeline.svg`. */
export function timelinePathFor(/** @type {string} */ reportPath) {
  return /\.json$/i.test(reportPath) ? reportPath.replace(/\.json$/i, '.timeline.svg') : `${reportPath}.timeline.svg`;
}

/**
 * Write the summary and the timeline for `report`.
 * - `summaryPath`: the Markdown summary is written there (replacing the file), unless it is the
 *   `$GITHUB_STEP_SUMMARY` file itself.
 * - `$GITHUB_STEP_SUMMARY` (from `env`): the summary is appended there (GitHub's step summary file).
 * - `reportPath`: the SVG is written beside it (`report.json` -> `report.timeline.svg`); `timelinePath` overrides.
 * The JSON report itself is the caller's to write.
 * @param {unknown} report
 * @param {{ reportPath?: string | null, summaryPath?: string | null, timelinePath?: string | null, env?: Record<string, string | undefined> }} [opts]
 * @returns {{ summaryPath: string | null, stepSummaryPath: string | null, timelinePath: string | null }}
 */
export function writeArtifacts(report, opts = {}) {
  const env = opts.env ?? process.env;
  const written = { summaryPath: /** @type {string | null} */ (null), stepSummaryPath: /** @type {string | null} */ (null), timelinePath: /** @type {string | null} */ (null) };
  const stepSummary = env.GITHUB_STEP_SUMMARY || null;
  const wantSummary = Boolean(opts.summaryPath || stepSummary);
  const timelinePath = opts.timelinePath ?? (opts.reportPath ? timelinePathFor(opts.reportPath) : null);
  // render first: a malformed report fails before anything is written
  const md = wantSummary ? renderSummary(report) : null;
  const svg = timelinePath ? renderTimeline(report) : null;
  const summaryIsStepSummary = Boolean(opts.summaryPath && stepSummary && resolve(stepSummary) === resolve(opts.summaryPath));
  if (md !== null && opts.summaryPath && !summaryIsStepSummary) {
    mkdirSync(dirname(resolve(opts.summaryPath)), { recursive: true });
    writeFileSync(opts.summaryPath, md);
    written.summaryPath = opts.summaryPath;
  }
  if (md !== null && stepSummary) { // GitHub's step summary file: always appended, never replaced
    appendFileSync(stepSummary, `${md}\n`);
    written.stepSummaryPath = stepSummary;
  }
  if (svg !== null && timelinePath) {
    mkdirSync(dirname(resolve(timelinePath)), { recursive: true });
    writeFileSync(timelinePath, svg);
    written.timelinePath = timelinePath;
  }
  return written;
}
