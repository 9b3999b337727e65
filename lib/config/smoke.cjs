'use strict';
// The `smoke` section of the config: which checks the smoke step runs and how patiently. Messages show the bad
// value as JSON (`got []`), as the smoke settings always have.

const f = require('./fields.cjs');

const { z } = f;

/** Default timing of each check: per-attempt timeout, bounded attempts, pause between attempts. */
const CHECK_DEFAULTS = Object.freeze({
  'api-health':       { timeoutSeconds: 10, attempts: 3, retryDelaySeconds: 3 },
  'login':            { timeoutSeconds: 10, attempts: 2, retryDelaySeconds: 3 },
  'database':         { timeoutSeconds: 15, attempts: 2, retryDelaySeconds: 5 },
  'workers':          { timeoutSeconds: 30, attempts: 3, retryDelaySeconds: 10 },
  'fetcher-anisette': { timeoutSeconds: 30, attempts: 6, retryDelaySeconds: 10 },
  'logs':             { timeoutSeconds: 30, attempts: 4, retryDelaySeconds: 10 },
  'target-groups':    { timeoutSeconds: 30, attempts: 6, retryDelaySeconds: 5 },
});
const CHECK_NAMES = /** @type {(keyof typeof CHECK_DEFAULTS)[]} */ (Object.keys(CHECK_DEFAULTS));

const DEFAULT_PROBE = ['python', '-c',
  'import os, urllib.request; urllib.request.urlopen(os.environ["ANISETTE_URL"], timeout=10); print("anisette reachable")'];

/** @param {unknown} v */
const json = (v) => String(JSON.stringify(v));
/** @param {string} what */
const got = (what) => f.got(what, json);

const path = () => z.string(got('must be a path starting with "/"')).startsWith('/', got('must be a path starting with "/"'));
const text = () => z.string(got('must be a non-empty string')).min(1, got('must be a non-empty string'));
const command = () => z.array(z.string(), got('must be a non-empty array of non-empty strings'))
  .refine((v) => v.length > 0 && v.every((x) => x.length > 0), got('must be a non-empty array of non-empty strings'));
const positive = () => z.number(got('must be a positive number')).positive(got('must be a positive number'));
const seconds = () => z.number(got('must be a number >= 0')).min(0, got('must be a number >= 0'));

const TimingSchema = z.strictObject({
  timeoutSeconds: seconds().refine((v) => v > 0, got('must be > 0')).optional(),
  attempts: z.number(got('must be an integer 1-20')).int(got('must be an integer 1-20')).min(1, got('must be an integer 1-20')).max(20, got('must be an integer 1-20')).optional(),
  retryDelaySeconds: seconds().optional(),
}, { error: (iss) => (iss.code === 'unrecognized_keys'
  ? `is not a timing setting (timeoutSeconds, attempts, retryDelaySeconds), got ${json(iss.keys[0])}`
  : `must be an object, got ${json(iss.input)}`) });

const ChecksSchema = z.partialRecord(
  z.enum(CHECK_NAMES),
  TimingSchema,
  { error: (/** @type {{ code: string, keys?: string[], input?: unknown }} */ iss) => (iss.code === 'unrecognized_keys'
    ? `is not a check (known: ${CHECK_NAMES.join(', ')}), got ${json(iss.keys?.[0])}`
    : `must be an object keyed by check name, got ${json(iss.input)}`) },
).optional().transform((o) => Object.fromEntries(CHECK_NAMES.map((n) => [n, { ...CHECK_DEFAULTS[n], ...(o?.[n] ?? {}) }])));

const SmokeSchema = f.strict({
  healthPath: path().default('/health').describe('Health path of the default web service, checked through the ALB.'),
  expectHealthBody: text().nullable().default(null).describe('Substring the health body must contain (null: any body).'),
  loginPath: path().default('/api/auth/login').describe('Login path the smoke user posts its credentials to.'),
  allowPlainHttpLogin: z.boolean(got('must be true or false')).default(false)
    .describe('POST the smoke user\'s credentials to an http:// alb_url (default false).'),
  databaseCheck: z.enum(['http', 'task'], got('must be one of "http", "task"')).default('task')
    .describe('"http": GET databaseCheckPath; "task": run databaseCheckCommand as a one-off task.'),
  databaseCheckPath: path().nullable().default(null).describe('API path that queries the database (databaseCheck "http").'),
  databaseCheckCommand: command().nullable().optional().describe('One-off task command (databaseCheck "task"; default ["alembic", "current"]).'),
  databaseCheckService: text().default('api').describe('Catalog service whose task definition runs the one-off task.'),
  fetcherAnisetteCheck: z.enum(['log', 'probe', 'off'], got('must be one of "log", "probe", "off"')).default('log')
    .describe('How the fetcher -> anisette link is checked: a log line, a probe task, or not at all.'),
  fetcherAnisetteLogPattern: text().nullable().default(null).describe('Log line proving the fetcher reached anisette (fetcherAnisetteCheck "log").'),
  fetcherAnisetteProbeCommand: command().default(() => DEFAULT_PROBE.slice()).describe('Probe task command (fetcherAnisetteCheck "probe").'),
  fetcherService: text().default('tracker-fetcher-2').describe('Catalog service of the fetcher.'),
  anisetteService: text().default('anisette').describe('Catalog service of anisette.'),
  taskTimeoutSeconds: positive().default(600).describe('Bound for a one-off task to reach STOPPED.'),
  taskPollSeconds: positive().default(5).describe('Pause between polls of a one-off task.'),
  checks: ChecksSchema.describe('Per-check timing overrides: check name -> { timeoutSeconds, attempts, retryDelaySeconds }.'),
}).superRefine((s, ctx) => {
  if (s.databaseCheck === 'http' && !s.databaseCheckPath) {
    ctx.addIssue({ code: 'custom', path: ['databaseCheckPath'], input: s.databaseCheckPath, message: `is required when smoke.databaseCheck is "http" (an API path that queries the database), got ${json(s.databaseCheckPath ?? undefined)}` });
  }
  if (s.fetcherAnisetteCheck === 'log' && !s.fetcherAnisetteLogPattern) {
    ctx.addIssue({ code: 'custom', path: ['fetcherAnisetteLogPattern'], input: s.fetcherAnisetteLogPattern, message: `is required when smoke.fetcherAnisetteCheck is "log", got ${json(s.fetcherAnisetteLogPattern ?? undefined)}` });
  }
}).transform((s) => ({
  healthPath: s.healthPath,
  expectHealthBody: s.expectHealthBody,
  loginPath: s.loginPath,
  allowPlainHttpLogin: s.allowPlainHttpLogin,
  databaseCheck: s.databaseCheck,
  databaseCheckPath: s.databaseCheckPath,
  databaseCheckCommand: s.databaseCheckCommand ?? (s.databaseCheck === 'task' ? ['alembic', 'current'] : null),
  databaseCheckService: s.databaseCheckService,
  fetcherAnisetteCheck: s.fetcherAnisetteCheck,
  fetcherAnisetteLogPattern: s.fetcherAnisetteLogPattern,
  fetcherAnisetteProbeCommand: s.fetcherAnisetteProbeCommand,
  fetcherService: s.fetcherService,
  anisetteService: s.anisetteService,
  taskTimeoutSeconds: s.taskTimeoutSeconds,
  taskPollSeconds: s.taskPollSeconds,
  /** @type {Record<string, CheckTiming>} */
  checks: s.checks,
})).describe('Smoke checks run after the rollout: paths, which checks, timings.');

/**
 * @typedef {{ timeoutSeconds: number, attempts: number, retryDelaySeconds: number }} CheckTiming
 * @typedef {import("zod").output<typeof SmokeSchema>} SmokeSettings the `smoke` section with every default applied
 */

module.exports = { SmokeSchema, CHECK_DEFAULTS };
