// Error classes that map to the runner's exit codes (docs/contract.md section 5).

/**
 * Bad input or configuration: exit 2, and nothing was changed in AWS (or built). The one input error of the
 * runner, its steps and its CLIs; a lower-level error it replaces travels as `cause`.
 */
export class InputError extends Error {
  /** @param {string} message @param {{ cause?: unknown }} [options] */
  constructor(message, options) {
    super(message, options);
    this.name = 'InputError';
    this.exitCode = 2;
  }
}

/** A step failed for a reason worth reporting precisely (exit 1). */
export class StepFailure extends Error {
  /**
   * @param {string} message
   * @param {{ service?: string, operation?: string, details?: Record<string, unknown> }} [extra]
   *   operation: the AWS operation that failed (e.g. `DescribeServices`), for the report's `failure`
   */
  constructor(message, extra = {}) {
    super(message);
    this.name = 'StepFailure';
    /** @type {string|undefined} */
    this.service = extra.service;
    /** @type {string|undefined} */
    this.operation = extra.operation;
    /** @type {Record<string, unknown>|undefined} */
    this.details = extra.details;
  }
}

/** The run was interrupted (Ctrl-C): exit 130. */
export class InterruptedError extends Error {
  /** @param {string} [message] */
  constructor(message = 'interrupted') {
    super(message);
    this.name = 'InterruptedError';
  }
}

/**
 * The AWS operation an error came from: `operation` as set by runner/aws/send.mjs on every failed call (or by a
 * StepFailure), or undefined.
 * @param {unknown} e
 * @returns {string | undefined}
 */
export function operationOf(e) {
  const op = e && typeof e === 'object' && 'operation' in e ? e.operation : undefined;
  return typeof op === 'string' && op ? op : undefined;
}

/**
 * 0 success; 1 a step failed; 2 bad input (nothing changed); 3 the environment is locked by another command
 * (nothing changed: runner/ledger/lock.mjs); 130 interrupted.
 */
export const EXIT = Object.freeze({ OK: 0, FAILED: 1, BAD_INPUT: 2, LOCKED: 3, INTERRUPTED: 130 });
