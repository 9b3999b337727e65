import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { httpRequest, joinUrl } from '../http.mjs';
import { permanent } from '../tasks.mjs';
import { send } from '../../aws/send.mjs';

/**
 * Read the smoke user's credentials ({username, password}) from Secrets Manager and register both with the
 * redactor before they can reach any output. Errors never quote the secret's content.
 * @param {import('../context.mjs').SmokeContext} sctx @param {AbortSignal} [signal]
 */
export async function readSmokeUser(sctx, signal) {
  const arn = sctx.outputs.secretArns.smoke_user;
  if (!arn) throw permanent('stack output secret_arns.smoke_user is missing');
  const res = await send({ signal }, sctx.aws.secrets, new GetSecretValueCommand({ SecretId: arn }));
  const raw = res.SecretString;
  if (typeof raw !== 'string' || raw.length === 0) throw permanent(`secret ${arn} has no string value (expected JSON {"username","password"})`);
  let parsed;
  try { parsed = JSON.parse(raw); } catch { parsed = undefined; }
  if (parsed && typeof parsed === 'object') { sctx.redact.add(parsed.username); sctx.redact.add(parsed.password); }
  sctx.redact.add(raw);
  if (!parsed || typeof parsed !== 'object' || typeof parsed.username !== 'string' || typeof parsed.password !== 'string' || !parsed.username || !parsed.password) {
    throw permanent(`secret ${arn} is not JSON {"username": string, "password": string} (value not shown)`);
  }
  return { username: /** @type {string} */ (parsed.username), password: /** @type {string} */ (parsed.password) };
}

/**
 * The smoke user's credentials, read once per suite (a failed read is retried on the next call).
 * @param {import('../context.mjs').SmokeContext} sctx
 * @param {AbortSignal} [signal]
 */
export function getSmokeUser(sctx, signal) {
  if (!sctx.smokeUser) {
    sctx.smokeUser = readSmokeUser(sctx, signal);
    sctx.smokeUser.catch(() => { sctx.smokeUser = undefined; });
  }
  return sctx.smokeUser;
}

export const PLAIN_HTTP_REFUSAL = 'refusing to send the smoke user\'s credentials over plain HTTP: set loadBalancer.certificateArn, or smoke.allowPlainHttpLogin: true to accept the risk on staging';

/** @param {string} url */
function isPlainHttp(url) {
  try { return new URL(url).protocol === 'http:'; } catch { return /^http:/i.test(url); }
}

/**
 * Whether the login check may send the smoke user's credentials to alb_url (https, or plain http accepted by
 * smoke.allowPlainHttpLogin). The smoke step reads the secret up front only when this holds.
 * @param {string} albUrl the stack output alb_url
 * @param {Pick<import('../../../lib/config/index.cjs').SmokeSettings, 'allowPlainHttpLogin'>} settings
 */
export function loginMaySend(albUrl, settings) {
  return !isPlainHttp(albUrl) || settings.allowPlainHttpLogin;
}

/**
 * A known staging user logs in through the ALB. Over plain `http://` only with smoke.allowPlainHttpLogin. The response body (it may carry a token) is never kept. */
export function loginCheck(/** @type {import('../../../lib/config/index.cjs').SmokeSettings} */ settings) {
  return /** @type {import('../suite.mjs').CheckDefinition} */ ({
    name: 'login',
    needs: ['alb-http'],
    timing: settings.checks.login,
    async run(sctx, signal) {
      const base = sctx.outputs.albUrl;
      // fail closed: never send the smoke user's credentials in clear text unless the config accepts the risk
      if (!loginMaySend(base, settings)) {
        return { status: 'failed', reason: PLAIN_HTTP_REFUSAL, evidence: `alb_url is ${base}; no request was sent`, retryable: false };
      }
      const creds = await getSmokeUser(sctx, signal);
      const url = joinUrl(base, settings.loginPath);
      const res = await httpRequest(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(creds),
        signal,
        maxBody: 4096,
      });
      const seen = `POST ${url} as the smoke user (credentials from Secrets Manager) -> HTTP ${res.status} in ${res.ms} ms`;
      if (res.ok) return { status: 'passed', evidence: seen };
      if (res.status === 401 || res.status === 403) return { status: 'failed', reason: `login refused: HTTP ${res.status}`, evidence: seen, retryable: false };
      return { status: 'failed', reason: `login did not succeed: HTTP ${res.status}`, evidence: seen, retryable: res.status >= 500 || res.status === 429 };
    },
  });
}
