#!/usr/bin/env zx
// Entry point: `npx zx runner/rollout.mjs [flags]` (or `node runner/rollout.mjs`). See --help and docs/runner.md.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main } from './main.mjs';
import { verbNamed } from './verbs/index.mjs';

const self = realpathSync(fileURLToPath(import.meta.url));
const at = process.argv.findIndex((a, i) => i > 0 && (() => {
  try {
    return realpathSync(a) === self;
  } catch {
    return false;
  }
})());
const argv = process.argv.slice(at >= 0 ? at + 1 : 2);

// a verb that changes nothing says so on Ctrl-C instead of promising to finish changes
const readOnly = Boolean(argv[0] && !argv[0].startsWith('-') && verbNamed(argv[0])?.readOnly);

const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts += 1;
  if (interrupts === 1) {
    process.stderr.write(readOnly
      ? '\ninterrupt: stopping (this command changes nothing; Ctrl-C again to quit at once)\n'
      : '\ninterrupt: changes already sent to AWS finish, then the run stops and reports what was left\n' +
        'half-done (Ctrl-C again to quit at once, without a report)\n');
    controller.abort();
  } else {
    process.exit(130);
  }
});

try {
  const { exitCode } = await main(argv, { signal: controller.signal });
  process.exitCode = exitCode;
} catch (e) {
  process.stderr.write(`internal error: ${/** @type {Error} */ (e).stack ?? e}\n`);
  process.exitCode = 1;
}
