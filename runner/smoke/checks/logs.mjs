import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { describeServices, sinceFor } from '../context.mjs';
import { send } from '../../aws/send.mjs';

/**
 * First log event in `logGroupName` since `since` (optionally matching a filter pattern), or null.
 * FilterLogEvents may return empty pages while it searches: follow a bounded number of pages.
 * @param {import('../context.mjs').SmokeContext} sctx @param {{ logGroupName: string, since: Date | null, filterPattern?: string }} q @param {AbortSignal} signal
 */
export async function firstEventSince(sctx, q, signal) {
  /** @type {string | undefined} */
  let nextToken;
  for (let page = 0; page < 10; page++) {
    const res = await send({ signal }, sctx.aws.logs, new FilterLogEventsCommand({
      logGroupName: q.logGroupName,
      startTime: q.since ? q.since.getTime() : undefined,
      filterPattern: q.filterPattern,
      limit: 1,
      nextToken,
    }));
    const ev = res.events?.[0];
    if (ev) return { stream: ev.logStreamName ?? '?', at: new Date(Number(ev.timestamp ?? 0)).toISOString(), message: String(ev.message ?? '') };
    nextToken = res.nextToken;
    if (!nextToken) break;
  }
  return null;
}

/** Make sure each service's PRIMARY deployment creation is known (sinceFor compares it with the release start). */
export async function ensureSince(/** @type {import('../context.mjs').SmokeContext} */ sctx, /** @type {import('../context.mjs').SmokeService[]} */ services, /** @type {AbortSignal} */ signal) {
  const unknown = services.filter((s) => !sctx.deployedAt.has(s.name) && s.ecsServiceName);
  if (unknown.length) await describeServices(sctx, unknown, signal);
}

/** Every started service (rolled out by the plan, desired > 0) has log events since the release began. */
export function logsCheck(/** @type {import('../../../lib/config/index.cjs').SmokeSettings} */ settings) {
  const selected = (/** @type {import('../context.mjs').SmokeContext} */ sctx) => sctx.services.filter((s) => s.rolledOut && s.desiredCount > 0);
  return /** @type {import('../suite.mjs').CheckDefinition} */ ({
    name: 'logs',
    needs: ['container-logs'],
    timing: settings.checks.logs,
    skipReason: (sctx) => (selected(sctx).length ? null : 'no started service'),
    async run(sctx, signal) {
      const services = selected(sctx);
      await ensureSince(sctx, services, signal);
      /** @type {string[]} */ const problems = [];
      /** @type {string[]} */ const seen = [];
      for (const s of services) {
        if (!s.logGroupName) { problems.push(`${s.name}: no log group in the stack's service_catalog output`); continue; }
        const since = sinceFor(sctx, s.name);
        const ev = await firstEventSince(sctx, { logGroupName: s.logGroupName, since }, signal);
        if (ev) seen.push(`${s.name}: ${ev.stream} @ ${ev.at}`);
        else problems.push(`${s.name}: no log events in ${s.logGroupName}${since ? ` since ${since.toISOString()}` : ''}`);
      }
      const evidence = seen.join('; ') || null;
      if (problems.length) return { status: 'failed', reason: problems.join('; '), evidence, retryable: true };
      return { status: 'passed', evidence };
    },
  });
}
