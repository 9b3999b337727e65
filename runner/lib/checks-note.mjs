// The note a passed step carries when some of its checks were skipped (emulator gaps): the step stays `passed`
// (docs/contract.md section 7) but says, in the step table, what it did not prove. Used by the runner's report
// (runner/lib/execute.mjs) and the smoke suite.

const NOTE_NAMES = 4;

/**
 * Short note for a passed step whose checks were partly skipped, e.g.
 * `3 checks skipped (not proven): migration-exit-code, migration-logs, api:rollout`; null when none was skipped.
 * @param {{ name: string, status: string }[]} checks @returns {string | null}
 */
export function skippedChecksNote(checks) {
  const names = checks.filter((c) => c.status === 'skipped').map((c) => c.name);
  if (!names.length) return null;
  const shown = names.slice(0, NOTE_NAMES).join(', ');
  const more = names.length > NOTE_NAMES ? ` +${names.length - NOTE_NAMES} more` : '';
  return `${names.length} check${names.length === 1 ? '' : 's'} skipped (not proven): ${shown}${more}`;
}
