// Skip records: anything a test could not check (missing prerequisite, emulator gap, no Docker) is written
// here with its reason, printed at the end of the integration run, and never counted as passed.
// CommonJS so TypeScript tests (require) and ES-module tests (import) share it.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Directory of the shared integration environment (.work/it unless STAGING_ROLLOUT_IT_DIR is set). */
function itDir() {
  return path.resolve(process.env.STAGING_ROLLOUT_IT_DIR || path.join(REPO_ROOT, '.work', 'it'));
}

/** File holding one JSON skip record per line. */
function skipsFile() {
  return path.join(itDir(), 'skipped.jsonl');
}

/**
 * Record a skipped check and print it (console.log, visible in jest output).
 * @param {{ suite: string, test?: string, reason: string }} record
 * @returns {{ suite: string, test: string | null, reason: string, at: string }}
 */
function recordSkip(record) {
  if (!record || typeof record.suite !== 'string' || !record.suite) throw new Error('recordSkip: suite is required');
  if (typeof record.reason !== 'string' || !record.reason.trim()) throw new Error('recordSkip: a reason is required');
  const entry = { suite: record.suite, test: record.test ?? null, reason: record.reason, at: new Date().toISOString() };
  fs.mkdirSync(itDir(), { recursive: true });
  fs.appendFileSync(skipsFile(), JSON.stringify(entry) + '\n');
  // eslint-disable-next-line no-console
  console.log(`SKIPPED ${entry.suite}${entry.test ? ` > ${entry.test}` : ''}: ${entry.reason}`);
  return entry;
}

/**
 * All skip records written so far in this integration run.
 * @returns {{ suite: string, test: string | null, reason: string, at: string }[]}
 */
function readSkips() {
  let text;
  try {
    text = fs.readFileSync(skipsFile(), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

module.exports = { recordSkip, readSkips, skipsFile, itDir, REPO_ROOT };
