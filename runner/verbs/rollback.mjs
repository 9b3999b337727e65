// `rollback`: a stub in this build (the real verb replaces this file). Exits 2, changes nothing.
import { EXIT } from '../lib/errors.mjs';

/**
 * @param {string[]} _argv @param {import('../lib/main.mjs').MainDeps} deps
 * @returns {Promise<import('./index.mjs').VerbResult>}
 */
export async function run(_argv, deps) {
  (deps.writeErr ?? ((/** @type {string} */ l) => process.stderr.write(`${l}\n`)))('rollback: not available in this build');
  return { exitCode: EXIT.BAD_INPUT, report: null };
}
