// Synthesize the `foundation` stack: run the CDKTF app (main.ts) directly with node and a transpile-only
// TypeScript hook (no cdktf CLI, no ts-node) and return the stack directory holding cdk.tf.json.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../paths.mjs';
import { run } from '../proc.mjs';

export const STACK_NAME = 'foundation';

/**
 * Run the CDKTF app and return the synthesized stack directory.
 * @param {{ outdir: string, configPath?: string, env?: NodeJS.ProcessEnv, stack?: string, app?: string }} opts
 *   app: entry file (default main.ts in the repo root)
 * @returns {Promise<{ stackDir: string, durationMs: number }>}
 */
export async function synthFoundation(opts) {
  const outdir = path.resolve(opts.outdir);
  const stack = opts.stack ?? STACK_NAME;
  const app = opts.app ?? path.join(REPO_ROOT, 'main.ts');
  if (!fs.existsSync(app)) throw new Error(`CDKTF app entry ${app} does not exist`);
  fs.rmSync(outdir, { recursive: true, force: true });
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...process.env, ...(opts.env ?? {}), CDKTF_OUTDIR: outdir };
  if (opts.configPath) env.STAGING_ROLLOUT_CONFIG = path.resolve(opts.configPath);
  const started = Date.now();
  const { code, stdout, stderr } = await run(
    process.execPath,
    ['-r', path.join(REPO_ROOT, 'scripts', 'lib', 'ts-register.cjs'), app],
    { cwd: path.dirname(app), env },
  );
  const durationMs = Date.now() - started;
  if (code !== 0) throw new Error(`synth of ${path.relative(REPO_ROOT, app)} failed (exit ${code}):\n${stderr || stdout}`);
  const stackDir = path.join(outdir, 'stacks', stack);
  if (!fs.existsSync(path.join(stackDir, 'cdk.tf.json'))) {
    throw new Error(`synth produced no ${path.join(stackDir, 'cdk.tf.json')} (stacks: ${listDir(path.join(outdir, 'stacks'))})`);
  }
  return { stackDir, durationMs };
}

/** @param {string} dir */
function listDir(dir) {
  try {
    return fs.readdirSync(dir).join(', ') || 'none';
  } catch {
    return 'none';
  }
}

