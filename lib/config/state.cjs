'use strict';
// Where an environment's Terraform state lives (docs/environments.md), and THE rule that no two environments
// share one: the defaults come from schema.cjs (completeBackend); this file names a backend's state location and
// refuses, at synth, a config whose state location another environment's config file resolves to as well.

const fs = require('fs');
const nodePath = require('path');
const { ConfigError } = require('./errors.cjs');

/** The project root: the directory of cdktf.json; a relative local state path is relative to it. */
const PROJECT_ROOT = nodePath.resolve(__dirname, '..', '..');

/**
 * Absolute path of a local backend's state file.
 * @param {{ path: string }} backend @param {string} [root]
 */
function localStatePath(backend, root = PROJECT_ROOT) {
  return nodePath.resolve(root, backend.path);
}

/**
 * One string per state location: equal strings = the same state.
 * @param {import('./schema.cjs').Backend} backend @param {string} [root]
 */
function stateLocation(backend, root = PROJECT_ROOT) {
  switch (backend.type) {
    case 's3': return `s3://${backend.bucket}/${backend.key}`;
    case 'cloud': return `cloud: ${backend.hostname}/${backend.organization}/workspaces/${backend.workspace}`;
    default: return `local: ${localStatePath(backend, root)}`;
  }
}

/**
 * The config files of `dir` (every *.json but the editor schema), by name.
 * @param {string} dir
 */
function configFilesIn(dir) {
  try {
    return fs.readdirSync(dir).filter((n) => n.endsWith('.json') && n !== 'config.schema.json').sort().map((n) => nodePath.join(dir, n));
  } catch {
    return [];
  }
}

/**
 * Refuse a config whose state location another environment's config shares. The other configs are the *.json
 * files beside `file` and in the project's `config/` (each resolved through its `extends`); a file that does not
 * load is not an environment and is left out (its own synth reports it). Configs of the same environment (like
 * local.json, which extends staging.json) may share state: they are one environment.
 * @param {string} file the selected config file
 * @param {{ environment: string, backend: import('./schema.cjs').Backend }} config its validated config
 * @param {(file: string) => { environment: string, backend: import('./schema.cjs').Backend }} load reads another file
 * @param {{ cwd?: string, root?: string }} [opts] root: the project root (its `config/` is scanned; default PROJECT_ROOT)
 */
function checkStateConflicts(file, config, load, opts = {}) {
  const cwd = opts.cwd ?? process.cwd();
  const abs = nodePath.resolve(cwd, file);
  const mine = stateLocation(config.backend, opts.root);
  /** @type {{ file: string, environment: string }[]} */
  const clashes = [];
  // the configs beside this one and the project's own config/ (a config kept elsewhere is still checked against them)
  const dirs = [...new Set([nodePath.dirname(abs), nodePath.join(opts.root ?? PROJECT_ROOT, 'config')])];
  for (const other of dirs.flatMap(configFilesIn)) {
    if (other === abs) continue;
    let theirs;
    try {
      theirs = load(other);
    } catch {
      continue;
    }
    if (theirs.environment !== config.environment && stateLocation(theirs.backend, opts.root) === mine) clashes.push({ file: other, environment: theirs.environment });
  }
  if (!clashes.length) return;
  const shown = (/** @type {string} */ p) => nodePath.relative(cwd, p) || p;
  const others = clashes.map((c) => `environment ${JSON.stringify(c.environment)} of ${shown(c.file)}`).join(', ');
  const key = config.backend.type === 's3' ? 'backend.key' : config.backend.type === 'cloud' ? 'backend.workspace' : 'backend.path';
  throw new ConfigError(
    `${shown(abs)}: backend: environment ${JSON.stringify(config.environment)} would share its Terraform state (${mine}) with ${others}; ` +
      `a deploy of one would destroy the other. Remove the explicit ${key} (each environment then gets its own, docs/environments.md) ` +
      'or give each environment its own.',
    { source: shown(abs), path: 'backend' },
  );
}

module.exports = { PROJECT_ROOT, localStatePath, stateLocation, checkStateConflicts, configFilesIn };
