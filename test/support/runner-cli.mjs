// The runner through its real entry, as a user runs it: `npx zx runner/rollout.mjs ...args` in a child process
// from the project root, for the integration suites (runner, day-two, least-privilege).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Run the runner with `args`; `env` is added to this process's environment.
 * @param {string[]} args @param {NodeJS.ProcessEnv} [env]
 * @returns {Promise<{ code: number, out: string, err: string, ms: number }>}
 */
export function runRunner(args, env = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/zx/build/cli.js'), 'runner/rollout.mjs', ...args], {
      cwd: ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1', ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => resolve({ code: code ?? -1, out, err, ms: Date.now() - t0 }));
  });
}
