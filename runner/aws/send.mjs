// Typed AWS call for every step and smoke check: `send(ctx, client, command)` resolves to the command's own output
// type. It does not retry (the client's SDK retry strategy does, runner/aws/clients.mjs); it passes the abort
// signal to the SDK, turns an abort into InterruptedError, logs each throttled attempt the SDK will retry, and
// names the failed operation on the error it rethrows (`e.operation`, e.g. `DescribeServices`).
// `mutate(ctx, client, command, note)` is the same for a call that changes something (UpdateService, RunTask,
// StopTask): Ctrl-C does not cancel it once sent (it finishes, bounded by the SDK's retries and CHANGE_GRACE_MS
// after the Ctrl-C: the HTTP handler has no reply timeout of its own), and `note` records
// the change in the half-done list BEFORE it is sent: `may-have-changed`, then `changed` on the reply, dropped
// when AWS positively rejected it (a 4xx answer); a 5xx or network error after the retries leaves it listed.
import { isThrottlingError } from '@smithy/core/retry';
import { InterruptedError } from '../lib/errors.mjs';

/**
 * @typedef {object} CallContext
 * @property {AbortSignal} [signal] aborts the call, its retries and their backoff
 * @property {{ warn: (msg: string) => void }} [log] where throttled attempts are reported
 * @property {number} [changeGraceMs] how long a change already sent may still take once `signal` aborted
 *   (default CHANGE_GRACE_MS); then it is given up (left listed as may-have-changed) and InterruptedError thrown
 */

/** Once Ctrl-C came, a change in flight gets this long for its reply (the SDK's retries of a 5xx fit in it). */
export const CHANGE_GRACE_MS = 30_000;

/**
 * An SDK command whose output type is `O`.
 * @template {object} I
 * @template {import('@smithy/types').MetadataBearer} O
 * @typedef {import('@smithy/types').Command<object, I, import('@smithy/types').MetadataBearer, O, unknown>} AnyCommand
 */

/**
 * A client able to send `command` (every @aws-sdk v3 client, or a test stub).
 * @template {object} I
 * @template {import('@smithy/types').MetadataBearer} O
 * @typedef {{ send: (command: AnyCommand<I, O>, options?: { abortSignal?: AbortSignal }) => Promise<O> }} Sender
 */

/** `attempt=2; max=8` (the SDK's amz-sdk-request header) -> [2, 8] @param {unknown} header */
function attemptOf(header) {
  const m = /attempt=(\d+); max=(\d+)/.exec(String(header ?? ''));
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/**
 * Report throttled attempts of one command (a middleware on the command's own stack, inside the SDK's retry).
 * @template {object} I
 * @template {import('@smithy/types').MetadataBearer} O
 * @param {AnyCommand<I, O>} command
 * @param {{ warn: (msg: string) => void }} log
 */
function reportThrottling(command, log) {
  command.middlewareStack?.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (e) {
        const err = /** @type {Error & { $metadata?: { httpStatusCode?: number } }} */ (e);
        const request = /** @type {{ headers?: Record<string, string> }} */ (args.request ?? {});
        const at = attemptOf(request.headers?.['amz-sdk-request']);
        if (err && isThrottlingError(/** @type {import('@smithy/types').SdkError} */ (err)) && at && at[0] < at[1]) {
          log.warn(`${String(context.commandName ?? 'AWS call')} throttled (${err.name}); the SDK retries (attempt ${at[0]}/${at[1]})`);
        }
        throw e;
      }
    },
    // finalizeRequest, normal: inside the retry middleware (high), outside the deserializer: sees service errors
    { step: 'finalizeRequest', name: 'stagingRolloutThrottleReport', priority: 'normal', override: true },
  );
}

/**
 * Send one command; resolves to its output, rejects with the SDK's error after its retries, or with
 * InterruptedError once `ctx.signal` has aborted.
 * @template {object} I
 * @template {import('@smithy/types').MetadataBearer} O
 * @param {CallContext} ctx
 * @param {Sender<I, O>} client
 * @param {AnyCommand<I, O>} command
 * @returns {Promise<O>}
 */
export async function send(ctx, client, command) {
  if (ctx.signal?.aborted) throw new InterruptedError();
  if (ctx.log) reportThrottling(command, ctx.log);
  try {
    return await client.send(command, ctx.signal ? { abortSignal: ctx.signal } : undefined);
  } catch (e) {
    if (ctx.signal?.aborted) throw new InterruptedError();
    throw named(e, command);
  }
}

/** `DescribeServicesCommand` -> `DescribeServices`. @param {object} command */
export const operationName = (command) => command.constructor.name.replace(/Command$/, '');

/**
 * The error with `operation` set to the command's operation (kept when already set).
 * @param {unknown} e @param {object} command @returns {unknown}
 */
function named(e, command) {
  if (e && typeof e === 'object' && !('operation' in e)) {
    try { Object.assign(e, { operation: operationName(command) }); } catch { /* a frozen error */ }
  }
  return e;
}

/**
 * AWS answered and refused the call (a 4xx answer, throttling included): the call changed nothing. A 5xx, a
 * timeout or a network error says nothing about whether it was applied.
 * @param {unknown} e
 */
export function rejectedByAws(e) {
  const meta = e && typeof e === 'object' && '$metadata' in e ? /** @type {{ httpStatusCode?: number } | undefined} */ (e.$metadata) : undefined;
  const status = meta?.httpStatusCode;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 408;
}

/**
 * @template O
 * @typedef {object} ChangeNote
 * @property {import('../lib/types.mjs').HalfDone[]} list the run's half-done list (ctx.state.halfDone)
 * @property {{ step: string, service?: string, what: string }} record what may change, worded as a possibility
 *   (`staging-api may have been updated to staging-api:2`); it becomes the HalfDone entry (same object)
 * @property {(output: O) => string | null} [applied] the entry's words once AWS accepted the call; null: the
 *   reply says nothing was changed (e.g. RunTask `failures`): the entry is dropped. Default: the record's words
 */

/**
 * Send a command that changes something. Not sent at all once `ctx.signal` has aborted (InterruptedError);
 * once sent, the abort signal does not cancel it: it finishes and resolves normally, and the caller's next
 * `send()` stops with InterruptedError. With `note`, the change is in `note.list` from before the call on.
 * @template {object} I
 * @template {import('@smithy/types').MetadataBearer} O
 * @param {CallContext} ctx @param {Sender<I, O>} client @param {AnyCommand<I, O>} command
 * @param {ChangeNote<O>} [note]
 * @returns {Promise<{ output: O, record: import('../lib/types.mjs').HalfDone | null }>} record: the entry while it is listed
 */
export async function mutate(ctx, client, command, note) {
  if (ctx.signal?.aborted) throw new InterruptedError();
  if (ctx.log) reportThrottling(command, ctx.log);
  const operation = operationName(command);
  /** @type {import('../lib/types.mjs').HalfDone | null} */
  let record = null;
  if (note) {
    const base = note.record.what;
    record = Object.assign(note.record, { operation, state: /** @type {const} */ ('may-have-changed'), what: `${base} (${operation} sent, no reply yet)` });
    note.list.push(record);
    try {
      const output = await sendChange(ctx, client, command);
      const words = note.applied ? note.applied(output) : base;
      if (words === null) forget(note.list, record);
      else Object.assign(record, { state: 'changed', what: words });
      return { output, record: words === null ? null : record };
    } catch (e) {
      if (e instanceof InterruptedError) record.what = `${base} (${operation} sent, no reply ${fmtGrace(ctx)} after Ctrl-C; given up)`;
      else if (rejectedByAws(e)) forget(note.list, record);
      else record.what = `${base} (${operation} failed with ${errorLine(e)}; AWS may have applied it)`;
      throw e instanceof InterruptedError ? e : named(e, command);
    }
  }
  try {
    return { output: await sendChange(ctx, client, command), record };
  } catch (e) {
    throw e instanceof InterruptedError ? e : named(e, command);
  }
}

/** @param {CallContext} ctx */
const fmtGrace = (ctx) => {
  const ms = ctx.changeGraceMs ?? CHANGE_GRACE_MS;
  return `within ${ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`}`;
};

/**
 * The call, not cancelled by `ctx.signal`; once it aborted, the reply is waited for `changeGraceMs` at most,
 * then the request is aborted and InterruptedError thrown.
 * @template {object} I
 * @template {import('@smithy/types').MetadataBearer} O
 * @param {CallContext} ctx @param {Sender<I, O>} client @param {AnyCommand<I, O>} command
 * @returns {Promise<O>}
 */
async function sendChange(ctx, client, command) {
  const signal = ctx.signal;
  if (!signal) return client.send(command);
  const stop = new AbortController();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {() => void} */
  let onAbort = () => {};
  /** @type {Promise<never>} */
  const givenUp = new Promise((_resolve, reject) => {
    onAbort = () => {
      timer = setTimeout(() => { stop.abort(); reject(new InterruptedError()); }, ctx.changeGraceMs ?? CHANGE_GRACE_MS);
    };
  });
  givenUp.catch(() => {});
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([client.send(command, { abortSignal: stop.signal }), givenUp]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/** Drop an entry from the half-done list (its change finished, or never happened). @param {import('../lib/types.mjs').HalfDone[]} list @param {object | null | undefined} record */
export function forget(list, record) {
  const i = record ? list.indexOf(/** @type {import('../lib/types.mjs').HalfDone} */ (record)) : -1;
  if (i >= 0) list.splice(i, 1);
}

/** `Name: message` of an error. @param {unknown} e */
export function errorLine(e) {
  const err = /** @type {{ name?: string, message?: string } | undefined} */ (e);
  return `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`;
}
