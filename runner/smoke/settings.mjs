// The `smoke` section of config/<env>.json, validated and with every default applied.

export class SmokeConfigError extends Error {
  /** @param {string} message */
  constructor(message) { super(message); this.name = 'SmokeConfigError'; }
}

/** Default timing of each check: per-attempt timeout, bounded attempts, pause between attempts. */
export const CHECK_DEFAULTS = Object.freeze({
  'api-health':       { timeoutSeconds: 10, attempts: 3, retryDelaySeconds: 3 },
  'login':            { timeoutSeconds: 10, attempts: 2, retryDelaySeconds: 3 },
  'database':         { timeoutSeconds: 15, attempts: 2, retryDelaySeconds: 5 },
  'workers':          { timeoutSeconds: 30, attempts: 3, retryDelaySeconds: 10 },
  'fetcher-anisette': { timeoutSeconds: 30, attempts: 6, retryDelaySeconds: 10 },
  'logs':             { timeoutSeconds: 30, attempts: 4, retryDelaySeconds: 10 },
  'target-groups':    { timeoutSeconds: 30, attempts: 6, retryDelaySeconds: 5 },
});

/**
 * @typedef {{ timeoutSeconds: number, attempts: number, retryDelaySeconds: number }} CheckTiming
 * @typedef {object} SmokeSettings
 * @property {string} healthPath
 * @property {string | null} expectHealthBody   substring the health body must contain (null: any body)
 * @property {string} loginPath
 * @property {boolean} allowPlainHttpLogin  POST the smoke user's credentials to an http:// alb_url (default false)
 * @property {'http' | 'task'} databaseCheck
 * @property {string | null} databaseCheckPath  API path that touches the database (databaseCheck "http")
 * @property {string[] | null} databaseCheckCommand  one-off task command (databaseCheck "task")
 * @property {string} databaseCheckService      catalog service whose task definition runs the one-off task
 * @property {'log' | 'probe' | 'off'} fetcherAnisetteCheck
 * @property {string | null} fetcherAnisetteLogPattern
 * @property {string[]} fetcherAnisetteProbeCommand
 * @property {string} fetcherService
 * @property {string} anisetteService
 * @property {number} taskTimeoutSeconds        bound for a one-off task to reach STOPPED
 * @property {number} taskPollSeconds
 * @property {Record<string, CheckTiming>} checks
 */

const DEFAULT_PROBE = ['python', '-c',
  'import os, urllib.request; urllib.request.urlopen(os.environ["ANISETTE_URL"], timeout=10); print("anisette reachable")'];

/**
 * @param {unknown} raw  the config's `smoke` object
 * @param {{ source?: string }} [opts]
 * @returns {SmokeSettings}
 */
export function normalizeSmokeConfig(raw, opts = {}) {
  const where = (/** @type {string} */ key) => `${opts.source ? `${opts.source}: ` : ''}smoke${key ? `.${key}` : ''}`;
  const fail = (/** @type {string} */ key, /** @type {string} */ what, /** @type {unknown} */ got) => {
    throw new SmokeConfigError(`${where(key)}: ${what}, got ${JSON.stringify(got)}`);
  };
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) fail('', 'must be an object', raw);
  const s = /** @type {Record<string, any>} */ (raw);

  const path = (/** @type {string} */ key, /** @type {string | null} */ dflt) => {
    const v = s[key] ?? dflt;
    if (v === null) return null;
    if (typeof v !== 'string' || !v.startsWith('/')) fail(key, 'must be a path starting with "/"', v);
    return v;
  };
  const str = (/** @type {string} */ key, /** @type {string | null} */ dflt) => {
    const v = s[key] === undefined ? dflt : s[key];
    if (v === null) return null;
    if (typeof v !== 'string' || v.length === 0) fail(key, 'must be a non-empty string', v);
    return v;
  };
  const cmd = (/** @type {string} */ key, /** @type {string[] | null} */ dflt) => {
    const v = s[key] ?? dflt;
    if (v === null) return null;
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || x.length === 0)) {
      fail(key, 'must be a non-empty array of non-empty strings', v);
    }
    return /** @type {string[]} */ (v);
  };
  const oneOf = (/** @type {string} */ key, /** @type {string[]} */ allowed, /** @type {string} */ dflt) => {
    const v = s[key] ?? dflt;
    if (!allowed.includes(v)) fail(key, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, v);
    return v;
  };
  const bool = (/** @type {string} */ key, /** @type {boolean} */ dflt) => {
    const v = s[key] ?? dflt;
    if (typeof v !== 'boolean') fail(key, 'must be true or false', v);
    return v;
  };
  const posNum = (/** @type {string} */ key, /** @type {number} */ dflt) => {
    const v = s[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(key, 'must be a positive number', v);
    return v;
  };

  const databaseCheck = /** @type {'http' | 'task'} */ (oneOf('databaseCheck', ['http', 'task'], 'task'));
  const fetcherAnisetteCheck = /** @type {'log' | 'probe' | 'off'} */ (oneOf('fetcherAnisetteCheck', ['log', 'probe', 'off'], 'log'));
  /** @type {SmokeSettings} */
  const out = {
    healthPath: /** @type {string} */ (path('healthPath', '/health')),
    expectHealthBody: str('expectHealthBody', null),
    loginPath: /** @type {string} */ (path('loginPath', '/api/auth/login')),
    allowPlainHttpLogin: bool('allowPlainHttpLogin', false),
    databaseCheck,
    databaseCheckPath: path('databaseCheckPath', null),
    databaseCheckCommand: cmd('databaseCheckCommand', databaseCheck === 'task' ? ['alembic', 'current'] : null),
    databaseCheckService: /** @type {string} */ (str('databaseCheckService', 'api')),
    fetcherAnisetteCheck,
    fetcherAnisetteLogPattern: str('fetcherAnisetteLogPattern', null),
    fetcherAnisetteProbeCommand: /** @type {string[]} */ (cmd('fetcherAnisetteProbeCommand', DEFAULT_PROBE)),
    fetcherService: /** @type {string} */ (str('fetcherService', 'tracker-fetcher-2')),
    anisetteService: /** @type {string} */ (str('anisetteService', 'anisette')),
    taskTimeoutSeconds: posNum('taskTimeoutSeconds', 600),
    taskPollSeconds: posNum('taskPollSeconds', 5),
    checks: {},
  };
  if (databaseCheck === 'http' && !out.databaseCheckPath) {
    fail('databaseCheckPath', 'is required when smoke.databaseCheck is "http" (an API path that queries the database)', s.databaseCheckPath);
  }
  if (fetcherAnisetteCheck === 'log' && !out.fetcherAnisetteLogPattern) {
    fail('fetcherAnisetteLogPattern', 'is required when smoke.fetcherAnisetteCheck is "log"', s.fetcherAnisetteLogPattern);
  }

  const overrides = s.checks ?? {};
  if (typeof overrides !== 'object' || Array.isArray(overrides)) fail('checks', 'must be an object keyed by check name', overrides);
  for (const name of Object.keys(overrides)) {
    if (!(name in CHECK_DEFAULTS)) fail(`checks.${name}`, `is not a check (known: ${Object.keys(CHECK_DEFAULTS).join(', ')})`, name);
  }
  for (const [name, dflt] of Object.entries(CHECK_DEFAULTS)) {
    const o = overrides[name] ?? {};
    /** @type {CheckTiming} */
    const t = { ...dflt };
    for (const key of /** @type {(keyof CheckTiming)[]} */ (Object.keys(o))) {
      const v = o[key];
      if (!(key in dflt)) fail(`checks.${name}.${key}`, 'is not a timing setting (timeoutSeconds, attempts, retryDelaySeconds)', key);
      if (key === 'attempts' ? !(Number.isInteger(v) && v >= 1 && v <= 20) : !(typeof v === 'number' && v >= 0 && Number.isFinite(v))) {
        fail(`checks.${name}.${key}`, key === 'attempts' ? 'must be an integer 1-20' : 'must be a number >= 0', v);
      }
      t[key] = v;
    }
    if (t.timeoutSeconds <= 0) fail(`checks.${name}.timeoutSeconds`, 'must be > 0', t.timeoutSeconds);
    out.checks[name] = t;
  }
  return out;
}
