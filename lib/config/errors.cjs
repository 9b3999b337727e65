'use strict';
// Errors of the config: ConfigError (a message naming the file and the JSON path of the bad value, and, when the
// file's text is known, the line and column), and the translation of a zod issue into that path and message.

class ConfigError extends Error {
  /**
   * @param {string} message full message (already prefixed with source and path when known)
   * @param {{ source?: string, path?: string, line?: number, column?: number }} [where]
   */
  constructor(message, where = {}) {
    super(message);
    this.name = 'ConfigError';
    /** @type {string|undefined} */
    this.source = where.source;
    /** @type {string|undefined} */
    this.path = where.path;
    /** @type {number|undefined} 1-based line of the bad value in the file that set it */
    this.line = where.line;
    /** @type {number|undefined} 1-based column of the bad value */
    this.column = where.column;
  }
}

/**
 * JSON path segment appended to `base`: `a.b`, `a[0]` or `a["odd key"]`.
 * @param {string} base @param {PropertyKey} key
 */
function joinPath(base, key) {
  if (typeof key === 'number') return `${base}[${key}]`;
  const k = String(key);
  const seg = /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(k) ? k : JSON.stringify(k);
  if (!base) return seg;
  return /^[A-Za-z_$]/.test(seg) ? `${base}.${seg}` : `${base}[${seg}]`;
}

/**
 * The segments of a JSON path written by joinPath (`services.api.dependsOn[0]` -> services, api, dependsOn, 0).
 * @param {string} path @returns {(string|number)[]}
 */
function segmentsOf(path) {
  /** @type {(string|number)[]} */
  const out = [];
  for (const m of path.matchAll(/\.?([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g)) {
    out.push(m[1] !== undefined ? m[1] : m[2] !== undefined ? Number(m[2]) : JSON.parse(m[3]));
  }
  return out;
}

/**
 * @typedef {{ code?: string, path: PropertyKey[], message: string, keys?: string[], issues?: Issue[] }} Issue
 */

/**
 * The JSON path (segments and text) and message of a zod issue: an unknown key points at that key, a bad
 * record key at the key, a bad union member at its discriminator.
 * @param {Issue} issue
 * @returns {{ segments: PropertyKey[], path: string, message: string }}
 */
function describeIssue(issue) {
  const segments = [...issue.path];
  let message = issue.message;
  if (issue.code === 'unrecognized_keys' && issue.keys?.length) segments.push(issue.keys[0]);
  if (issue.code === 'invalid_key' && issue.issues?.length) message = issue.issues[0].message;
  return { segments, path: segments.reduce((/** @type {string} */ p, k) => joinPath(p, k), ''), message };
}

/**
 * The issue to report: the first one, unless an object around it has an unknown key (a misspelt key explains
 * the missing or wrong values next to it, so it is named first, as the keys of an object are checked first).
 * @param {Issue[]} issues
 */
function firstIssue(issues) {
  const first = issues[0];
  const within = (/** @type {Issue} */ outer) => outer.path.every((k, i) => first.path[i] === k);
  return issues.find((i) => i.code === 'unrecognized_keys' && within(i)) ?? first;
}

/**
 * The first issue of a failed zod parse as a ConfigError "<source>: <path>: <message>".
 * @param {{ issues: Issue[] }} error @param {string} source
 */
function configErrorOf(error, source) {
  const { path, message } = describeIssue(firstIssue(error.issues));
  return new ConfigError(`${source}: ${path ? `${path}: ` : ''}${message}`, { source, path });
}

module.exports = { ConfigError, joinPath, segmentsOf, describeIssue, firstIssue, configErrorOf };
