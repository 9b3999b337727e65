// One shape for running commands: argv arrays through the runner's Exec.
//
// Inside runner/images every command is an argv array (no shell string, no interpolation) run by a
// CommandRunner: (argv, { input, cwd, signal }) => Promise<{ exitCode, stdout, stderr }>. It never throws on a
// non-zero exit; callers decide. Secrets (the registry password) travel in `input` (stdin), never in argv.

import { zxExec } from '../lib/runtime.mjs';

/**
 * @typedef {{ input?: string, cwd?: string, signal?: AbortSignal }} RunOptions
 * @typedef {{ exitCode: number|null, stdout: string, stderr: string }} RunResult
 * @typedef {(argv: string[], opts?: RunOptions) => Promise<RunResult>} CommandRunner
 */

/**
 * The CommandRunner over the runner's one Exec shape (runner/lib/types.mjs; default: zx through
 * runner/lib/runtime.mjs zxExec). An exec must declare `exec.stdin = true` when it writes `opts.input` to the
 * command's stdin; without it, a command that needs stdin (docker login --password-stdin) runs through
 * `stdinRunner` (default: zxExec) instead, so the password never meets an exec that would drop it (docker would
 * then read the terminal or fail without a reason).
 * @param {import('../lib/types.mjs').Exec} [exec]
 * @param {{ stdinRunner?: CommandRunner }} [opts]
 * @returns {CommandRunner}
 */
export function toCommandRunner(exec, opts = {}) {
  const viaExec = (/** @type {import('../lib/types.mjs').Exec} */ ex) => /** @type {CommandRunner} */ (async (argv, o = {}) => {
    if (!Array.isArray(argv) || argv.length === 0) throw new TypeError('argv must be a non-empty array');
    const r = await ex(argv[0], argv.slice(1), o);
    return { exitCode: r.exitCode ?? null, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  });
  if (exec == null) return viaExec(zxExec());
  if (typeof exec !== 'function') throw new TypeError('exec must be the runner\'s Exec: a function (cmd, args, opts)');
  const direct = viaExec(exec);
  const stdinRunner = opts.stdinRunner ?? viaExec(zxExec());
  return (argv, o = {}) => (o.input !== undefined && exec.stdin !== true ? stdinRunner(argv, o) : direct(argv, o));
}
