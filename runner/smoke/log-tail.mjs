// The last lines of a container's log as a failure message shows them: bounded (LOG_TAIL_LINES lines,
// LOG_TAIL_BYTES bytes in all, a longer line cut) and redacted. Redaction uses the smoke suite's redactor
// (runner/smoke/redact.mjs) with the values of the runner's own secret-looking environment variables (e.g.
// AWS_SECRET_ACCESS_KEY, a registry password), and replaces what looks like a secret whatever its value:
// the password in `scheme://user:password@host`, and the value in `password=...`, `"token": "..."` and the like.
import { createRedactor, REDACTED } from './redact.mjs';

export const LOG_TAIL_LINES = 20;
export const LOG_TAIL_BYTES = 4096;

/** Names of environment variables whose values are secrets. */
const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;
/** `user:password@` in a URL */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi;
/** `password=value`, `"secret": "value"`, `token: value` */
const KEY_VALUE = /(["']?[\w.-]*(?:password|passwd|secret|token|api[_-]?key|private[_-]?key)[\w.-]*["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&"'}]+)/gi;

/**
 * A redactor knowing the values of the secret-looking variables of `env`.
 * @param {Record<string, string | undefined>} env
 * @returns {import('./redact.mjs').Redactor}
 */
export function logRedactor(env) {
  const redact = createRedactor();
  for (const [name, value] of Object.entries(env)) {
    if (SECRET_NAME.test(name) && typeof value === 'string' && value.length >= 4) redact.add(value);
  }
  return redact;
}

/**
 * One log line with known secret values and secret-looking values replaced by the redaction marker.
 * @param {string} line @param {import('./redact.mjs').Redactor} redact
 */
export function redactLine(line, redact) {
  return redact.text(line)
    .replace(URL_PASSWORD, `$1${REDACTED}@`)
    .replace(KEY_VALUE, (_m, key, value) => `${key}${String(value).startsWith('"') ? `"${REDACTED}"` : String(value).startsWith("'") ? `'${REDACTED}'` : REDACTED}`);
}

/**
 * The last lines, redacted first, then bounded: at most `maxLines` lines and `maxBytes` UTF-8 bytes in all (a
 * single longer line is cut and ends with `...`).
 * @param {string[]} lines @param {import('./redact.mjs').Redactor} redact
 * @param {{ maxLines?: number, maxBytes?: number }} [limits]
 * @returns {string[]}
 */
export function logTail(lines, redact, limits = {}) {
  const maxLines = limits.maxLines ?? LOG_TAIL_LINES;
  const maxBytes = limits.maxBytes ?? LOG_TAIL_BYTES;
  /** @type {string[]} */
  const out = [];
  let bytes = 0;
  for (const raw of lines.slice(-maxLines).reverse()) {
    let line = redactLine(raw, redact);
    if (Buffer.byteLength(line) > maxBytes) line = `${Buffer.from(line).subarray(0, maxBytes - 3).toString().replace(/\uFFFD$/, '')}...`;
    const size = Buffer.byteLength(line) + 1;
    if (bytes + size > maxBytes + 1) break;
    bytes += size;
    out.unshift(line);
  }
  return out;
}
