import { httpRequest, joinUrl, excerpt } from '../http.mjs';

/** API health through the ALB: status 2xx and (when configured) the expected body text. */
export function apiHealthCheck(/** @type {import('../../../lib/config/index.cjs').SmokeSettings} */ settings) {
  return /** @type {import('../suite.mjs').CheckDefinition} */ ({
    name: 'api-health',
    needs: ['alb-http'],
    timing: settings.checks['api-health'],
    async run(sctx, signal) {
      const base = sctx.outputs.albUrl;
      const url = joinUrl(base, settings.healthPath);
      const res = await httpRequest(url, { signal });
      const seen = `GET ${url} -> HTTP ${res.status} in ${res.ms} ms`;
      if (!res.ok) return { status: 'failed', reason: `unhealthy: HTTP ${res.status}`, evidence: `${seen}, body "${excerpt(res.body)}"`, retryable: true };
      const want = settings.expectHealthBody;
      if (want !== null && !res.body.includes(want)) {
        return { status: 'failed', reason: `body does not contain ${JSON.stringify(want)}`, evidence: `${seen}, body "${excerpt(res.body)}"`, retryable: true };
      }
      return { status: 'passed', evidence: want !== null ? `${seen}, body contains ${JSON.stringify(want)}` : seen };
    },
  });
}
