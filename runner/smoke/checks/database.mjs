import { httpRequest, joinUrl, excerpt } from '../http.mjs';
import { permanent, runOneOffTask, taskVerdict } from '../tasks.mjs';

/** A revision line of `alembic current`: "<rev> (head)" at head, "<rev>" otherwise. */
const REVISION = /^\s*([0-9a-f]{4,})\b(.*)$/i;

/**
 * Inspect `alembic current` output: at head, not at head, or unknown (no revision line).
 * @param {string[] | null} lines
 * @returns {{ state: 'head' | 'behind' | 'unknown', line?: string }}
 */
export function alembicState(lines) {
  if (!lines) return { state: 'unknown' };
  const revs = lines.map((l) => l.trim()).filter((l) => REVISION.test(l));
  if (!revs.length) return { state: 'unknown' };
  const head = revs.find((l) => /\(head\)/.test(l));
  return head ? { state: 'head', line: head } : { state: 'behind', line: revs[revs.length - 1] };
}

/** Database reachable and migrated: an API endpoint that queries it, or a one-off task (`alembic current`). */
export function databaseCheck(/** @type {import('../../../lib/config/index.cjs').SmokeSettings} */ settings) {
  const isTask = settings.databaseCheck === 'task';
  const timing = isTask
    ? { ...settings.checks.database, timeoutSeconds: Math.max(settings.checks.database.timeoutSeconds, settings.taskTimeoutSeconds + 60) }
    : settings.checks.database;
  return /** @type {import('../suite.mjs').CheckDefinition} */ ({
    name: 'database',
    needs: isTask ? ['container-exit-code'] : ['alb-http'],
    timing,
    async run(sctx, signal) {
      if (!isTask) {
        const base = sctx.outputs.albUrl;
        const url = joinUrl(base, /** @type {string} */ (settings.databaseCheckPath));
        const res = await httpRequest(url, { signal });
        const seen = `GET ${url} -> HTTP ${res.status} in ${res.ms} ms`;
        if (!res.ok) return { status: 'failed', reason: `database endpoint answered HTTP ${res.status}`, evidence: `${seen}, body "${excerpt(res.body)}"`, retryable: true };
        return { status: 'passed', evidence: seen };
      }
      const service = sctx.services.find((s) => s.name === settings.databaseCheckService);
      if (!service) throw permanent(`smoke.databaseCheckService ${JSON.stringify(settings.databaseCheckService)} is not a service in the catalog`);
      const command = /** @type {string[]} */ (settings.databaseCheckCommand);
      const r = await runOneOffTask(sctx, { service, command, purpose: 'database' }, signal);
      const v = taskVerdict(r);
      const cmd = command.join(' ');
      if (!v.ok) return { status: 'failed', reason: `\`${cmd}\`: ${v.why}`, evidence: r.logLines?.length ? `last log line: ${excerpt(r.logLines[r.logLines.length - 1])}` : null, retryable: false };
      const alembic = alembicState(r.logLines);
      if (alembic.state === 'behind') return { status: 'failed', reason: `\`${cmd}\`: database is not at the head revision`, evidence: `${v.why}; log: ${excerpt(alembic.line ?? '')}`, retryable: false };
      const logNote = alembic.state === 'head' ? `log: ${excerpt(alembic.line ?? '')}` : r.logLines === null ? 'task log not readable, exit code only' : 'no revision line in the task log, exit code only';
      return { status: 'passed', evidence: `\`${cmd}\` ${v.why}; ${logNote}` };
    },
  });
}
