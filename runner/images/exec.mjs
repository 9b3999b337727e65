// One shape for running commands, whatever the caller injects.
//
// Inside runner/images every command is an argv array (no shell string, no interpolation) run by a
// CommandRunner: (argv, { input, cwd, signal }) => Promise<{ exitCode, stdout, stderr }>. It never throws on a
// non-zero exit; callers decide. Secrets (the registry password) travel in `input` (stdin), never in argv.

/**
 * @typedef {{ input?: string, cwd?: string, signal?: AbortSignal }} RunOptions
 * @typedef {{ exitCode: number|null, stdout: string, stderr: string }} RunResult
 * @typedef {(argv: string[], opts?: RunOptions) => Promise<RunResult>} CommandRunner
 */

/**
 * Adapt an injected exec to a CommandRunner. Accepted:
 * - undefined/null: zx `$` (imported lazily);
 * - zx `$` itself (a function with `.sync`): called as `$({ input, cwd, signal, nothrow, quiet })\`${argv}\``;
 * - an object with `run(argv, opts)` (CommandRunner shape);
 * - the runner's Exec (runner/lib/types.mjs): a function `(cmd, args, opts)`. Such an exec must declare
 *   `exec.stdin = true` when it writes `opts.input` to the command's stdin; without it, a command that needs
 *   stdin (docker login --password-stdin) runs through `stdinRunner` (default: zx) instead, so the password
 *   never meets an exec that would drop it (docker would then read the terminal or fail without a reason).
 * @param {any} [exec]
 * @param {{ stdinRunner?: CommandRunner }} [opts]
 * @returns {CommandRunner}
 */
export function toCommandRunner(exec, opts = {}) {
  if (exec == null) return zxRunner;
  if (typeof exec === 'function' && typeof exec.sync === 'function') return (argv, opts) => zxRun(exec, argv, opts);
  if (typeof exec === 'object' && typeof exec.run === 'function') return (argv, opts) => exec.run(argv, opts ?? {});
  if (typeof exec === 'function') {
    const stdinRunner = opts.stdinRunner ?? zxRunner;
    return async (argv, o = {}) => {
      if (o.input !== undefined && exec.stdin !== true) return stdinRunner(argv, o);
      const r = await exec(argv[0], argv.slice(1), o);
      return { exitCode: r.exitCode ?? null, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    };
  }
  throw new TypeError('exec must be zx $, a function (cmd, args, opts) or an object with run(argv, opts)');
}

/** @type {CommandRunner} */
async function zxRunner(argv, opts) {
  const { $ } = await import('zx');
  return zxRun($, argv, opts);
}

/**
 * @param {any} $ zx shell
 * @param {string[]} argv
 * @param {RunOptions} [opts]
 * @returns {Promise<RunResult>}
 */
async function zxRun($, argv, opts = {}) {
  if (!Array.isArray(argv) || argv.length === 0) throw new TypeError('argv must be a non-empty array');
  /** @type {Record<string, unknown>} */
  const o = { nothrow: true, quiet: true, verbose: false };
  if (opts.input !== undefined) o.input = opts.input;
  if (opts.cwd) o.cwd = opts.cwd;
  if (opts.signal) o.signal = opts.signal;
  const out = await $(o)`${argv}`;
  return { exitCode: out.exitCode, stdout: out.stdout, stderr: out.stderr };
}
