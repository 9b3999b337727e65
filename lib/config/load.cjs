'use strict';
// Reading config files: THE one reader (stack, runner, image CLI). `"extends": "other.json"` overlays (objects
// merge key by key, arrays and scalars replace, null removes a key; cycles are errors), the origin of every
// JSON path (which file set it), and where a value sits in its file (line and column, via jsonc-parser).

const fs = require('fs');
const nodePath = require('path');
const jsonc = require('jsonc-parser');
const { ConfigError, joinPath, segmentsOf } = require('./errors.cjs');
const { show } = require('./fields.cjs');

/** @param {unknown} v @returns {v is Record<string, unknown>} */
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * 1-based line and column of `offset` in `text`.
 * @param {string} text @param {number} offset
 */
function lineColumn(text, offset) {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

/**
 * Where the value at `segments` (or its nearest existing parent) sits in the JSON `text`.
 * @param {string} text @param {PropertyKey[]} segments
 * @returns {{ line: number, column: number } | null}
 */
function positionOf(text, segments) {
  const root = jsonc.parseTree(text);
  if (!root) return null;
  for (let n = segments.length; n >= 0; n--) {
    const node = jsonc.findNodeAtLocation(root, /** @type {(string|number)[]} */ (segments.slice(0, n)));
    if (node) return lineColumn(text, node.offset);
  }
  return null;
}

/** Offset of the first syntax error jsonc-parser finds in strict JSON, or null. @param {string} text */
function syntaxErrorOffset(text) {
  /** @type {jsonc.ParseError[]} */
  const errors = [];
  jsonc.parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  return errors.length ? errors[0].offset : null;
}

/** How a file is named in messages: relative to cwd when inside it, else absolute. @param {string} abs @param {string} cwd */
function shownPath(abs, cwd) {
  const rel = nodePath.relative(cwd, abs);
  return rel && !rel.startsWith('..') && !nodePath.isAbsolute(rel) ? rel : abs;
}

/** @param {string} abs @param {string} shown @returns {{ raw: Record<string, unknown>, text: string }} */
function readJsonObject(abs, shown) {
  let text;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    const code = /** @type {NodeJS.ErrnoException} */ (e).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : code || String(e);
    throw new ConfigError(`${shown}: cannot read config file (${why})`, { source: shown });
  }
  let raw;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const message = /** @type {Error} */ (e).message;
    const m = /position (\d+)/.exec(message);
    const pos = m ? Number(m[1]) : syntaxErrorOffset(text);
    const at = pos === null ? null : lineColumn(text, pos);
    throw new ConfigError(`${shown}: not valid JSON: ${message.replace(/\s*\n\s*/g, ' ')}${at ? ` (line ${at.line}, column ${at.column})` : ''}`, { source: shown, ...at });
  }
  if (!isObject(raw)) throw new ConfigError(`${shown}: must be a JSON object, got ${show(raw)}`, { source: shown });
  return { raw, text };
}

/**
 * Deep merge for overlays: objects merge key by key, arrays and scalars replace, `null` removes the key.
 * @param {Record<string, unknown>} base @param {Record<string, unknown>} over
 * @returns {Record<string, unknown>}
 */
function mergeOverlay(base, over) {
  /** @type {Record<string, unknown>} */
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const prev = out[k];
    if (v === null) delete out[k];
    else if (isObject(v) && isObject(prev)) out[k] = mergeOverlay(prev, v);
    else out[k] = isObject(v) ? mergeOverlay({}, v) : v;
  }
  return out;
}

/**
 * Record which file set each JSON path (deeper files overwrite).
 * @param {Map<string, string>} origins @param {unknown} value @param {string} base @param {string} file
 */
function markOrigins(origins, value, base, file) {
  /** @param {string} p @param {boolean} self */
  const drop = (p, self) => {
    for (const key of [...origins.keys()]) if ((self && key === p) || key.startsWith(`${p}.`) || key.startsWith(`${p}[`)) origins.delete(key);
  };
  if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      const p = joinPath(base, k);
      if (v === null) {
        drop(p, true);
        continue;
      }
      origins.set(p, file);
      markOrigins(origins, v, p, file);
    }
  } else if (Array.isArray(value)) {
    drop(base, false);
    value.forEach((v, i) => {
      origins.set(joinPath(base, i), file);
      markOrigins(origins, v, joinPath(base, i), file);
    });
  }
}

/**
 * @typedef {{ cwd: string, rootDir: string, origins: Map<string, string>, texts: Map<string, string> }} ReadContext
 */

/**
 * Read `abs` and, through `extends`, its parents; merged raw config (parents first). Image `context` paths of
 * every file are rebased onto `ctx.rootDir` (the directory of the file that was asked for), so they resolve
 * against the file that declared them.
 * @param {string} abs @param {string} shown @param {ReadContext} ctx @param {string[]} chain
 * @returns {{ raw: Record<string, unknown>, files: string[] }}
 */
function readChain(abs, shown, ctx, chain) {
  if (chain.includes(abs)) {
    throw new ConfigError(`${shown}: "extends" cycle: ${[...chain, abs].map((f) => shownPath(f, ctx.cwd)).join(' -> ')}`, { source: shown, path: 'extends' });
  }
  const { raw, text } = readJsonObject(abs, shown);
  ctx.texts.set(shown, text);
  const own = { ...raw };
  delete own.extends;
  if (isObject(own.images)) {
    /** @type {Record<string, unknown>} */
    const images = {};
    for (const [key, img] of Object.entries(own.images)) {
      if (isObject(img) && typeof img.context === 'string' && img.context !== '' && !nodePath.isAbsolute(img.context)) {
        const rebased = nodePath.relative(ctx.rootDir, nodePath.resolve(nodePath.dirname(abs), img.context)) || '.';
        images[key] = { ...img, context: rebased };
      } else images[key] = img;
    }
    own.images = images;
  }
  let merged = own;
  const files = [abs];
  if (raw.extends !== undefined) {
    if (typeof raw.extends !== 'string' || raw.extends === '') {
      throw new ConfigError(`${shown}: extends: must be the path of another config file (relative to this one), got ${show(raw.extends)}`, { source: shown, path: 'extends' });
    }
    const parentAbs = nodePath.resolve(nodePath.dirname(abs), raw.extends);
    const parent = readChain(parentAbs, shownPath(parentAbs, ctx.cwd), ctx, [...chain, abs]);
    merged = mergeOverlay(parent.raw, own);
    files.unshift(...parent.files);
  }
  markOrigins(ctx.origins, own, '', shown);
  return { raw: merged, files };
}

/**
 * The file that set the value at `path` (or at its nearest parent path), or undefined.
 * @param {Map<string, string>} origins @param {string} path
 */
function originOf(origins, path) {
  let p = path;
  let origin = origins.get(p);
  while (!origin && p) {
    const up = p.replace(/(\.[^.[\]]+|\[[^\]]*\])$/, '');
    p = up === p ? '' : up;
    origin = origins.get(p);
  }
  return origin;
}

/**
 * Read `file` (relative to `cwd`) and its `extends` parents. Returns the merged raw config, the files read and
 * `locate(error)`: the same validation error completed with where the bad value was set (file, line, column).
 * @param {string} file @param {{ cwd?: string }} [opts]
 */
function readConfigFile(file, opts = {}) {
  if (typeof file !== 'string' || file === '') throw new ConfigError(`config file: must be a path, got ${show(file)}`);
  const cwd = opts.cwd || process.cwd();
  const abs = nodePath.resolve(cwd, file);
  /** @type {ReadContext} */
  const ctx = { cwd, rootDir: nodePath.dirname(abs), origins: new Map(), texts: new Map() };
  const { raw, files } = readChain(abs, file, ctx, []);
  /**
   * @param {ConfigError} e a validation error of the merged config (its `path` names the bad value)
   */
  const locate = (e) => {
    if (!e.path) return e;
    const segments = segmentsOf(e.path);
    const origin = (files.length > 1 && originOf(ctx.origins, e.path)) || file;
    const text = ctx.texts.get(origin);
    const at = text === undefined ? null : positionOf(text, segments);
    const where = at ? `line ${at.line}, column ${at.column}` : '';
    const note = origin === file ? (where ? ` (${where})` : '') : ` (set in ${origin}${where ? ` at ${where}` : ''}, extended by ${file})`;
    return new ConfigError(`${e.message}${note}`, { source: e.source, path: e.path, ...at });
  };
  return { raw, files, file: abs, locate };
}

module.exports = { readConfigFile, mergeOverlay, positionOf };
