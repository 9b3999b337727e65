// How the image step fails after its input was accepted (exit 1): registry authentication, the registry API, a
// command. Bad input is the runner's InputError (runner/lib/errors.mjs, exit 2). Each message is precise and
// user-facing; none ever contains a credential.

/** Registry authentication failed (ECR token, docker login, or a 401/403 from the registry API). */
export class ImageAuthError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'ImageAuthError';
  }
}

/** A registry v2 API call failed for another reason than authentication. */
export class RegistryError extends Error {
  /** @param {string} message @param {number} [status] */
  constructor(message, status) {
    super(message);
    this.name = 'RegistryError';
    this.status = status;
  }
}

/** A shell command (docker, git) exited non-zero. `stderr` is the tool's own error output. */
export class CommandError extends Error {
  /**
   * @param {string} what   short description, e.g. "docker build of api"
   * @param {string[]} argv the command as run (never contains a secret: secrets go on stdin)
   * @param {number|null} exitCode
   * @param {string} stderr
   * @param {string} stdout
   */
  constructor(what, argv, exitCode, stderr, stdout) {
    const shown = tail((stderr || '').trim() || (stdout || '').trim(), 40);
    super(`${what} failed (exit ${exitCode}): ${argv.join(' ')}${shown ? `\n${shown}` : ''}`);
    this.name = 'CommandError';
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
    this.stdout = stdout;
  }
}

/**
 * Last `n` lines of a text.
 * @param {string} text @param {number} n
 */
export function tail(text, n) {
  const lines = text.split('\n');
  return lines.length <= n ? text : [`... (${lines.length - n} earlier lines)`, ...lines.slice(-n)].join('\n');
}
