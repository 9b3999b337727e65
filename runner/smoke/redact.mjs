// Secret values learnt at run time (the smoke user's credentials) are replaced by a marker in every string the
// smoke suite emits: check evidence, reasons, log lines.

export const REDACTED = '[REDACTED]';

/**
 * @typedef {object} Redactor
 * @property {(value: unknown) => void} add        register a secret value (and its encoded forms)
 * @property {(text: string) => string} text        redact one string
 * @property {<T>(value: T) => T} deep              redact every string inside a JSON-like value (copy)
 * @property {() => number} size
 */

/** @returns {Redactor} */
export function createRedactor() {
  /** @type {Set<string>} */
  const secrets = new Set();
  /** @type {string[]} longest first, so a secret containing another is replaced whole */
  let ordered = [];
  const add = (/** @type {unknown} */ value) => {
    if (typeof value !== 'string' || value.length === 0) return;
    for (const form of [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]) {
      if (form.length > 0) secrets.add(form);
    }
    ordered = [...secrets].sort((a, b) => b.length - a.length);
  };
  const text = (/** @type {string} */ s) => {
    if (typeof s !== 'string' || ordered.length === 0) return s;
    let out = s;
    for (const secret of ordered) out = out.split(secret).join(REDACTED);
    return out;
  };
  /** The same value with every string redacted (the shape is kept). @template T @param {T} value @returns {T} */
  const deep = (value) => {
    /** @type {unknown} */
    let out = value;
    if (typeof value === 'string') out = text(value);
    else if (Array.isArray(value)) out = value.map((v) => deep(v));
    else if (value && typeof value === 'object' && !(value instanceof Date)) {
      /** @type {Record<string, unknown>} */
      const copy = {};
      for (const [k, v] of Object.entries(value)) copy[k] = deep(v);
      out = copy;
    }
    return /** @type {T} */ (out);
  };
  return { add, text, deep, size: () => secrets.size };
}
