// ECS `startedBy` values (RunTask, ListTasks filter): only letters, digits, "-", "_" and "/" are allowed, at most
// 36 characters (ListTasks/StartTask reject longer values). One sanitizer for every one-off task the runner starts
// (migration, smoke probes) so a release like `v1.2.3` or a long commit never breaks a RunTask call.
import { createHash } from 'node:crypto';

export const STARTED_BY_MAX = 36;

/**
 * `<prefix><release>` made valid for ECS startedBy: disallowed characters become `_`; a value longer than
 * `STARTED_BY_MAX` keeps its start and ends with `-` + 8 hex characters of a SHA-256 of the full unsanitised
 * value, so two long releases sharing a prefix still get different values. Deterministic (rerun detection
 * relies on it).
 * @param {string} prefix e.g. `rollout/` or `smoke-database-`
 * @param {string} release
 * @returns {string}
 */
export function startedByFor(prefix, release) {
  if (typeof prefix !== 'string' || typeof release !== 'string') throw new TypeError('startedByFor(prefix, release): strings expected');
  const raw = `${prefix}${release}`;
  const clean = raw.replace(/[^A-Za-z0-9_/-]/g, '_');
  if (clean.length <= STARTED_BY_MAX) return clean;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 8);
  return `${clean.slice(0, STARTED_BY_MAX - 9)}-${hash}`;
}
