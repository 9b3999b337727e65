'use strict';
// The vocabulary of the config schema: shared constants and patterns (each written once here), and zod field
// builders whose messages read "must be <what>, got <value>". Every schema in lib/config is built from these,
// so the wording of a validation message is decided in one place.

const { z } = require('zod');

/** Default environment config file, relative to the project root. */
const DEFAULT_CONFIG_PATH = 'config/staging.json';
/** Docker's tag grammar: release tags and the convenience tag. */
const IMAGE_TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const IMAGE_TAG_GRAMMAR = 'letters, digits, _ . -; at most 128; not starting with . or -';
const IMAGE_TAG_HINT = `an image tag (${IMAGE_TAG_GRAMMAR})`;
/** A registry address: `host[:port]`, optionally with an `http://` or `https://` scheme. */
const REGISTRY_ADDRESS_PATTERN = /^(https?:\/\/)?[A-Za-z0-9.-]+(:\d{1,5})?$/;

/** Keys of the stack's secrets (docs/contract.md section 2, `secret_arns`). */
const SECRET_KEYS = /** @type {const} */ (['database', 'cache', 'app', 'smoke_user']);
/**
 * THE rule for a plain `environment` name that looks like a secret (refused in service.cjs): the whole name, or
 * its last `_`-separated word, is PASSWORD, SECRET, TOKEN or KEY, any case (`DB_PASSWORD`, `api_key`, `TOKEN`).
 * Only the last word counts, so an identifier that merely names a secret passes: `AWS_ACCESS_KEY_ID`,
 * `KEY_PREFIX`, `TOKEN_URL`, `SECRET_NAME`; so does a word that only ends in one (`PUBLIC_PASSKEY`'s last word
 * is PASSKEY). docs/app-contract.md says the same.
 */
const SECRET_LOOKING_ENV = /(^|_)(PASSWORD|SECRET|TOKEN|KEY)$/i;
const KINDS = /** @type {const} */ (['web', 'worker', 'support']);
const VOLUMES = /** @type {const} */ (['data']);
/** Names the stack uses for its own log groups and roles (`/ecs/<prefix>/migration`, `/ecs/<prefix>/exec`). */
const RESERVED_NAMES = Object.freeze(['migration', 'exec']);
/** Values CloudWatch Logs accepts for retention_in_days. */
const LOG_RETENTION_DAYS = /** @type {const} */ ([
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
]);
/** Fargate CPU units -> allowed memory (MiB). */
const FARGATE_MEMORY = /** @type {Readonly<Record<number, number[]>>} */ (Object.freeze({
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
}));
const FARGATE_CPUS = /** @type {const} */ ([256, 512, 1024, 2048, 4096, 8192, 16384]);

const NAME = /^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$/;
const NAME_HINT = 'lowercase letters, digits and hyphens, starting with a letter';
const ENV_VAR = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DNS_LABEL = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DOMAIN = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$|^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;
const HOST_HEADER = /^(\*\.)?([a-z0-9*?]([a-z0-9*?-]{0,61}[a-z0-9*?])?\.)+[a-z0-9*?-]{1,63}$/;
const ABS_PATH = /^\/[A-Za-z0-9._\-/]*$/;
const URL_PATH = /^\/[A-Za-z0-9._~\-/?=&%]*$/;
const PATH_PATTERN = /^\/[A-Za-z0-9._~\-/*?%+=&:@]*$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** @param {number} from @param {number} to @param {number} step */
function range(from, to, step) {
  const out = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/** How a bad value is shown in config messages. @param {unknown} v */
function show(v) {
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/**
 * zod error option: "<what>, got <value>".
 * @param {string} what @param {(v: unknown) => string} [fmt]
 */
function got(what, fmt = show) {
  return { error: (/** @type {{ input?: unknown }} */ iss) => `${what}, got ${fmt(iss.input)}` };
}

/**
 * A non-empty string, optionally matching `pattern` ("must be <hint>").
 * @param {{ pattern?: RegExp, hint?: string }} [opts]
 */
function str({ pattern, hint } = {}) {
  const s = z.string(got('must be a non-empty string')).min(1, got('must be a non-empty string'));
  return pattern ? s.regex(pattern, got(`must be ${hint || `a string matching ${pattern}`}`)) : s;
}

/** An integer, within bounds when given. @param {number} [min] @param {number} [max] */
function int(min, max) {
  const bounds = min !== undefined && max !== undefined ? ` ${min}-${max}` : min !== undefined ? ` >= ${min}` : '';
  const m = got(`must be an integer${bounds}`);
  let n = z.number(m).int(m);
  if (min !== undefined) n = n.min(min, m);
  if (max !== undefined) n = n.max(max, m);
  return n;
}

const bool = () => z.boolean(got('must be true or false'));

/**
 * One of `values`.
 * @template {readonly [string, ...string[]]} T @param {T} values
 */
function oneOf(values) {
  return z.enum(values, got(`must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`));
}

/**
 * An array of non-empty strings: no duplicates unless `unique` is false.
 * @template {import("zod").ZodType<string>} [I=import("zod").ZodString]
 * @param {{ nonEmpty?: boolean, unique?: boolean, item?: I }} [opts]
 */
function stringArray({ nonEmpty = false, unique = true, item } = {}) {
  const arr = z.array(item ?? /** @type {I} */ (/** @type {unknown} */ (str())), got('must be an array of strings'));
  return (nonEmpty ? arr.min(1, 'must not be empty') : arr).superRefine((v, ctx) => {
    if (!unique) return;
    const seen = new Set();
    v.forEach((x, i) => {
      if (seen.has(x)) ctx.addIssue({ code: 'custom', path: [i], input: x, message: `duplicate value ${show(x)}` });
      seen.add(x);
    });
  });
}

/** A map of string values; keys match `keyPattern` when given. @param {{ keyPattern?: RegExp, keyHint?: string }} [opts] */
function stringMap({ keyPattern, keyHint } = {}) {
  const key = keyPattern ? z.string().regex(keyPattern, `key must be ${keyHint}`) : z.string();
  return z.record(key, z.string(got('must be a string')), got('must be an object'));
}

/** A list of secret keys (docs/contract.md section 2). */
const secretList = () => stringArray({
  item: z.enum(SECRET_KEYS, { error: (iss) => `unknown secret ${show(iss.input)} (secrets: ${SECRET_KEYS.join(', ')})` }),
});

/** An IPv4 network in CIDR notation (no host bits set). */
function cidr() {
  const m = got('must be an IPv4 CIDR block like "10.0.0.0/16"');
  return str().regex(CIDR, m)
    .refine((s) => { const p = CIDR.exec(s); return !p || (p.slice(1, 5).every((o) => Number(o) <= 255) && Number(p[5]) <= 32); }, m)
    .refine((s) => {
      const p = CIDR.exec(s);
      if (!p || p.slice(1, 5).some((o) => Number(o) > 255) || Number(p[5]) > 32) return true;
      const ip = p.slice(1, 5).reduce((acc, o) => acc * 256 + Number(o), 0);
      const bits = Number(p[5]);
      return ip % (bits === 0 ? 2 ** 32 : 2 ** (32 - bits)) === 0;
    }, { error: (iss) => `has host bits set (not a network address): ${show(iss.input)}` });
}

const retention = () => z.literal(LOG_RETENTION_DAYS, got(`must be a CloudWatch Logs retention (${LOG_RETENTION_DAYS.join(', ')})`));

const fargateCpu = () => z.literal(FARGATE_CPUS, got(`must be a Fargate CPU value (${FARGATE_CPUS.join(', ')})`));

/**
 * The cpu/memory pair of a task: memory must be a Fargate size for the cpu.
 * @param {{ cpu: number, memory: number }} v @param {import("zod").RefinementCtx} ctx
 */
function fargatePair(v, ctx) {
  const allowed = FARGATE_MEMORY[v.cpu];
  if (!allowed || allowed.includes(v.memory)) return;
  const step = allowed.length > 1 ? allowed[1] - allowed[0] : 0;
  ctx.addIssue({
    code: 'custom', path: ['memory'], input: v.memory,
    message: `must be a Fargate memory size for cpu ${v.cpu} (${allowed[0]}-${allowed[allowed.length - 1]} MiB in steps of ${step}${v.cpu === 256 ? ': 512, 1024, 2048' : ''}), got ${show(v.memory)}`,
  });
}

/**
 * An object whose keys are exactly those of `shape` (keys starting with `$` are comments; the loader drops
 * them before validation).
 * @template {import("zod").ZodRawShape} S @param {S} shape
 */
function strict(shape) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown key (allowed: ${allowed})` : `must be an object, got ${show(iss.input)}`),
  });
}

/**
 * An optional section: absent means `{}` with every default of `schema` applied.
 * @template {import("zod").ZodType} T @param {T} schema
 */
const section = (schema) => schema.prefault(/** @type {import('zod').input<T>} */ ({}));

module.exports = {
  z, DEFAULT_CONFIG_PATH, IMAGE_TAG_PATTERN, IMAGE_TAG_GRAMMAR, IMAGE_TAG_HINT, REGISTRY_ADDRESS_PATTERN,
  SECRET_KEYS, SECRET_LOOKING_ENV, KINDS, VOLUMES, RESERVED_NAMES, LOG_RETENTION_DAYS, FARGATE_MEMORY, FARGATE_CPUS,
  NAME, NAME_HINT, ENV_VAR, DNS_LABEL, DOMAIN, REGION, HOST_HEADER, ABS_PATH, URL_PATH, PATH_PATTERN,
  show, got, str, int, bool, oneOf, stringArray, stringMap, secretList, cidr, retention, fargateCpu, fargatePair, strict, section,
};
