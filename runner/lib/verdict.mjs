// The one-line verdict of a run (`PASSED on the emulator (31 checks not proven)`): what the summary line, the
// report's renderings (runner/report) and the timeline lead with.

/** Checks of every step that were skipped: run, but proving nothing. @param {import('./execute.mjs').Report} report */
export function unprovenChecks(report) {
  return (report.steps ?? []).reduce((n, s) => n + (s.checks ?? []).filter((c) => c.status === 'skipped').length, 0);
}

/**
 * The one-line verdict every rendering leads with: the status, where it ran when not on AWS, and how many checks
 * proved nothing, e.g. `PASSED on the emulator (31 checks not proven)`, `FAILED`, `PASSED (1 check not proven)`.
 * @param {import('./execute.mjs').Report} report
 */
export function verdict(report) {
  return `${String(report.status ?? 'unknown').toUpperCase()}${verdictQualifier(report)}`;
}

/** What follows the status in the verdict: ` on the emulator (2 checks not proven)`, or ''. @param {import('./execute.mjs').Report} report */
export function verdictQualifier(report) {
  const n = unprovenChecks(report);
  return `${report.emulator ? ' on the emulator' : report.dataplane ? ' on the local data plane' : ''}${n ? ` (${n} check${n === 1 ? '' : 's'} not proven)` : ''}`;
}
