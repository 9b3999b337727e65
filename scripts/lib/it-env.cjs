// Read access to the shared integration environment that scripts/lib/jest-global-setup.mjs prepares
// (moto_server + the applied foundation). CommonJS so .ts and .mjs tests can both use it.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { itDir, recordSkip } = require('./skips.cjs');

/** Path of the environment description (STAGING_ROLLOUT_IT_FOUNDATION, else .work/it/foundation.json). */
function foundationFile() {
  return path.resolve(process.env.STAGING_ROLLOUT_IT_FOUNDATION || path.join(itDir(), 'foundation.json'));
}

/**
 * The environment description written by the global setup.
 * status: 'applied' (moto running, foundation applied), 'moto-only' (STAGING_ROLLOUT_IT_APPLY=0),
 * 'unavailable' (a prerequisite is missing: `problems` says which), 'failed' (synth/init/plan/apply failed:
 * `error` holds the message).
 * @returns {any}
 */
function loadFoundation() {
  const file = foundationFile();
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(
      `${file} does not exist: the integration global setup did not run (use npm run test:integration, which runs scripts/lib/jest-global-setup.mjs)`,
    );
  }
  return JSON.parse(text);
}

/**
 * For suites that need the applied foundation: returns the environment when it is ready; otherwise records a
 * skip with the reason (missing prerequisite) and returns null. A FAILED setup throws, so it fails the suite.
 * @param {string} suite  name used in the skip record
 * @param {{ needApply?: boolean }} [opts]  needApply: false when moto alone is enough
 */
function requireFoundation(suite, opts = {}) {
  const env = loadFoundation();
  if (env.status === 'failed') throw new Error(`integration environment setup failed: ${env.error}`);
  if (env.status === 'unavailable') {
    recordSkip({ suite, reason: env.reason });
    return null;
  }
  if (env.status === 'moto-only' && opts.needApply !== false) {
    recordSkip({ suite, reason: 'foundation apply disabled (STAGING_ROLLOUT_IT_APPLY=0)' });
    return null;
  }
  return env;
}

module.exports = { foundationFile, loadFoundation, requireFoundation };
