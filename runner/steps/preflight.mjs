// Step `preflight`: before any change, every secret a container of this rollout lists (services' and the
// migration's `secrets`, and the smoke user when the login check will run) has a current value. Metadata only:
// DescribeSecret, one per secret, all in parallel; a value is never read. The `database` secret is written by the
// database host at boot, so it is waited for (bounded, --secrets-timeout); a secret an operator sets (`app`,
// `smoke_user`) or Terraform writes (`cache`) fails the step at once, naming the secret and how to set it.
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { send } from '../aws/send.mjs';
import { poll } from '../aws/poll.mjs';
import { duration } from '../report/format.mjs';
import { loginMaySend } from '../smoke/checks/login.mjs';

/** How long a run waits for the database host to publish its credentials when --secrets-timeout is not given. */
export const DEFAULT_SECRETS_TIMEOUT_MS = 600_000;
/** The wait polls DescribeSecret at the poll interval, but never more often than this. */
export const MIN_SECRETS_POLL_MS = 5_000;

/**
 * Who gives stack secret `key` its value under this config (docs/foundation.md, "How secret values are set"): the
 * database host writes `database`, and `cache` with cache.auth "password" (it owns the cache password); Terraform
 * writes `cache` with "iam" (connection metadata only); an operator sets the others.
 * @param {string} key @param {{ cache: { auth: string } }} config a normalized config
 * @returns {'host'|'terraform'|'operator'}
 */
export function setBy(key, config) {
  if (key === 'database') return 'host';
  if (key === 'cache') return config.cache.auth === 'password' ? 'host' : 'terraform';
  return 'operator';
}

/**
 * The secret's name from its ARN (`arn:...:secret:staging/app-AbCdEf` -> `staging/app`): what messages show and
 * commands take (the runner prints no secret ARN).
 * @param {string} arn
 */
export function secretName(arn) {
  const m = /:secret:(.+)-[A-Za-z0-9]{6}$/.exec(arn);
  return m ? m[1] : arn;
}

/** What an operator puts in a secret they set (shown in the message; never a real value). */
const SHAPE = /** @type {Record<string, string>} */ ({
  app: '{"KEY": "value", ...}: the application secrets as one JSON object',
  smoke_user: '{"username": "...", "password": "..."}: the staging smoke-test user',
});

/**
 * @typedef {object} SecretState
 * @property {import('../lib/plan.mjs').SecretNeed} need
 * @property {boolean} current an AWSCURRENT version exists
 * @property {string|null} problem the secret cannot get a value by waiting (missing, scheduled for deletion)
 * @property {string|null} lastChanged ISO time of its last change, when known
 */

/** @param {import('../lib/types.mjs').StepContext} ctx @returns {Promise<import('../lib/types.mjs').StepResult>} */
export async function run(ctx) {
  const needs = neededSecrets(ctx);
  if (!needs.length) return { status: 'skipped', reason: 'no selected step starts a container that lists a secret' };
  const states = await describeAll(ctx, needs);
  const fatal = states.filter((s) => s.problem || (!s.current && setBy(s.need.key, ctx.config) !== 'host'));
  const waiting = states.filter((s) => !s.current && !s.problem && setBy(s.need.key, ctx.config) === 'host');
  const timeoutMs = ctx.options.secretsTimeoutMs ?? DEFAULT_SECRETS_TIMEOUT_MS;
  if (fatal.length) {
    const also = waiting.map((s) => `(secret ${s.need.key} has no current value yet either: the database host has not published its credentials)`);
    return { status: 'failed', reason: [...fatal.map((s) => missingMessage(ctx, s)), ...also].join('\n'), details: { secrets: summary(states) } };
  }
  if (waiting.length && ctx.options.dryRun) {
    return {
      status: 'passed',
      reason: `dry run: ${waiting.map((s) => s.need.key).join(', ')} has no current value yet; a real run waits up to ${duration(timeoutMs)} for the database host to publish its credentials; ${currentNote(states)}`,
      details: { secrets: summary(states) },
    };
  }
  if (waiting.length) {
    ctx.log.info(`[preflight] waiting for the database host to publish its credentials (secret ${waiting.map((s) => s.need.key).join(', ')}, up to ${duration(timeoutMs)})`);
    const t0 = ctx.clock.now();
    const done = await poll({
      clock: ctx.clock, signal: ctx.signal, intervalMs: Math.max(ctx.options.pollIntervalMs, MIN_SECRETS_POLL_MS), timeoutMs,
      onTimeout: () => null,
    }, async () => {
      const again = await describeAll(ctx, waiting.map((s) => s.need));
      if (again.every((s) => s.current) || again.some((s) => s.problem)) return again;
      ctx.log.progress(`[preflight] still waiting for the database host to publish its credentials (${duration(ctx.clock.now() - t0)} of ${duration(timeoutMs)})`);
      return undefined;
    });
    if (!done) {
      const still = waiting.map((s) => s.need);
      return {
        status: 'failed',
        reason: still.map((n) => `secret ${n.key} (${secretName(n.arn)}) still has no current value after ${duration(timeoutMs)}: the database host publishes its credentials at its first boot (stacks/database.ts). Check that the instance is running and its bootstrap finished (EC2 console output, or 'journalctl -u staging-rollout-credentials' and /var/log/cloud-init-output.log through Session Manager), then rerun; --secrets-timeout SEC waits longer.`).join('\n'),
        details: { secrets: summary(states) },
      };
    }
    for (const s of done) Object.assign(/** @type {SecretState} */ (states.find((x) => x.need.key === s.need.key)), s);
    const gone = done.filter((s) => s.problem); // deleted while waiting: waiting longer cannot help
    if (gone.length) return { status: 'failed', reason: gone.map((s) => missingMessage(ctx, s)).join('\n'), details: { secrets: summary(states) } };
    ctx.log.info(`[preflight] the database host published its credentials after ${duration(ctx.clock.now() - t0)}`);
  }
  ctx.log.info(`[preflight] ${currentNote(states)}`);
  return { status: 'passed', details: { secrets: summary(states) } };
}

/**
 * The plan's secret needs, limited to the users this run starts: services of selected tier steps, the
 * migration when selected, the smoke user when the smoke step is selected and its login check will send
 * credentials (real AWS, https or plain http allowed). With preflight the only selected step (`--only
 * preflight`), every need of the plan.
 * @param {import('../lib/types.mjs').StepContext} ctx
 * @returns {import('../lib/plan.mjs').SecretNeed[]}
 */
export function neededSecrets(ctx) {
  const selected = new Set(ctx.plan.steps.filter((s) => s.selected && s.kind !== 'preflight').map((s) => s.id));
  const all = selected.size === 0;
  const login = !ctx.capabilities.lacks('alb-http') && loginMaySend(ctx.outputs.albUrl, ctx.smoke);
  return (ctx.step.secrets ?? [])
    .map((n) => ({ ...n, usedBy: n.usedBy.filter((u) => (all || selected.has(u.step)) && (u.step !== 'smoke' || login)) }))
    .filter((n) => n.usedBy.length > 0);
}

/**
 * DescribeSecret for every need, in parallel (metadata only).
 * @param {import('../lib/types.mjs').StepContext} ctx @param {import('../lib/plan.mjs').SecretNeed[]} needs
 * @returns {Promise<SecretState[]>}
 */
async function describeAll(ctx, needs) {
  return Promise.all(needs.map(async (need) => {
    try {
      const d = await send(ctx, ctx.aws.secrets, new DescribeSecretCommand({ SecretId: need.arn }));
      const current = Object.values(d.VersionIdsToStages ?? {}).some((stages) => (stages ?? []).includes('AWSCURRENT'));
      const problem = d.DeletedDate ? `is scheduled for deletion (${new Date(d.DeletedDate).toISOString()}): restore it with \`aws secretsmanager restore-secret --secret-id ${secretName(need.arn)}\`` : null;
      return { need, current: current && !problem, problem, lastChanged: d.LastChangedDate ? new Date(d.LastChangedDate).toISOString() : null };
    } catch (e) {
      if (/** @type {Error} */ (e).name !== 'ResourceNotFoundException') throw e;
      return { need, current: false, problem: 'does not exist (was the foundation stack applied to this account and region?)', lastChanged: null };
    }
  }));
}

/**
 * Why a secret stops the rollout, and the exact way to fix it.
 * @param {import('../lib/types.mjs').StepContext} ctx @param {SecretState} s
 */
function missingMessage(ctx, s) {
  const { key } = s.need;
  const name = secretName(s.need.arn);
  const users = s.need.usedBy.map((u) => u.name).join(', ');
  if (s.problem) return `secret ${key} (${name}) ${s.problem}; needed by ${users}`;
  if (setBy(key, ctx.config) === 'terraform') {
    return `secret ${key} (${name}) has no current value: Terraform writes it with the foundation stack (stacks/cache.ts); apply the foundation stack, then rerun. Needed by ${users}.${ctx.capabilities.emulator ? ' On the emulator the harness seeds it (npm run local, the integration setup).' : ''}`;
  }
  const file = `${key.replace(/_/g, '-')}.json`;
  return [
    `secret ${key} (${name}) has no current value: an operator sets it, Terraform never does; needed by ${users}. Set it, then rerun:`,
    `  (umask 077 && \${EDITOR:-vi} ${file})   # ${SHAPE[key] ?? 'the value as JSON'}`,
    `  aws secretsmanager put-secret-value --region ${ctx.outputs.region} --secret-id ${name} --secret-string file://${file} && rm ${file}`,
    '  (the value travels in a file only you can read, never on the command line, where shell history and the process list keep it)',
  ].join('\n');
}

/** `3 secrets have a current value: database, cache, app` @param {SecretState[]} states */
function currentNote(states) {
  const ok = states.filter((s) => s.current).map((s) => s.need.key);
  return ok.length ? `${ok.length} secret${ok.length === 1 ? ' has' : 's have'} a current value: ${ok.join(', ')}` : 'no secret has a current value';
}

/** Per secret: current or not, and who needs it (the step's details; never a value). @param {SecretState[]} states */
function summary(states) {
  return states.map((s) => ({ key: s.need.key, name: secretName(s.need.arn), current: s.current, lastChanged: s.lastChanged, problem: s.problem, usedBy: s.need.usedBy.map((u) => u.name) }));
}
