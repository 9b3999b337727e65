import { excerpt } from '../http.mjs';
import { sinceFor } from '../context.mjs';
import { firstEventSince, ensureSince } from './logs.mjs';
import { permanent, runOneOffTask, taskVerdict } from '../tasks.mjs';

/** CloudWatch Logs filter pattern matching the exact phrase. */
export function phrasePattern(/** @type {string} */ phrase) {
  return `"${phrase.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * Proof that the fetcher reaches anisette by its service name: the fetcher's own log line (mode "log") or a
 * one-off probe task from the fetcher's task definition, in its network (mode "probe").
 */
export function fetcherAnisetteCheck(/** @type {import('../../../lib/config/index.cjs').SmokeSettings} */ settings) {
  const mode = settings.fetcherAnisetteCheck;
  return /** @type {import('../suite.mjs').CheckDefinition} */ ({
    name: 'fetcher-anisette',
    needs: mode === 'probe' ? ['container-exit-code'] : mode === 'log' ? ['container-logs'] : [],
    timing: mode === 'probe'
      ? { ...settings.checks['fetcher-anisette'], attempts: 1, timeoutSeconds: Math.max(settings.checks['fetcher-anisette'].timeoutSeconds, settings.taskTimeoutSeconds + 60) }
      : settings.checks['fetcher-anisette'],
    skipReason(sctx) {
      if (mode === 'off') return 'disabled by smoke.fetcherAnisetteCheck = "off"';
      for (const name of [settings.fetcherService, settings.anisetteService]) {
        const s = sctx.services.find((x) => x.name === name);
        if (!s) return `service ${name} is not in the catalog`;
        if (!s.enabled) return `service ${name} is disabled${s.disabledReason ? ` (${s.disabledReason})` : ''}`;
        if (!s.rolledOut) return `service ${name} is not rolled out (${s.notRolledOutReason})`;
      }
      return null;
    },
    async run(sctx, signal) {
      const fetcher = /** @type {import('../context.mjs').SmokeService} */ (sctx.services.find((x) => x.name === settings.fetcherService));
      if (mode === 'probe') {
        const r = await runOneOffTask(sctx, { service: fetcher, command: settings.fetcherAnisetteProbeCommand, purpose: 'anisette-probe' }, signal);
        const v = taskVerdict(r);
        if (!v.ok) return { status: 'failed', reason: `probe from ${fetcher.name}'s task definition: ${v.why}`, evidence: r.logLines?.length ? excerpt(r.logLines[r.logLines.length - 1]) : null, retryable: false };
        return { status: 'passed', evidence: `probe from ${fetcher.name}'s task definition in its subnets and security group: ${v.why}` };
      }
      if (!fetcher.logGroupName) throw permanent(`${fetcher.name} has no log group in the stack's service_catalog output`);
      await ensureSince(sctx, [fetcher], signal);
      const since = sinceFor(sctx, fetcher.name);
      const pattern = /** @type {string} */ (settings.fetcherAnisetteLogPattern);
      const ev = await firstEventSince(sctx, { logGroupName: fetcher.logGroupName, since, filterPattern: phrasePattern(pattern) }, signal);
      if (!ev) return { status: 'failed', reason: `no log line containing ${JSON.stringify(pattern)} in ${fetcher.logGroupName}${since ? ` since ${since.toISOString()}` : ''}`, retryable: true };
      return { status: 'passed', evidence: `${ev.stream} @ ${ev.at}: ${excerpt(ev.message, 160)}` };
    },
  });
}
