// Typed AWS call for every step and smoke check: `send(ctx, client, command)` resolves to the command's own output
// type. It does not retry (the client's SDK retry strategy does, runner/aws/clients.mjs); it passes the abort
// signal to the SDK, turns an abort into InterruptedError, and logs each throttled attempt the SDK will retry.
import { isThrottlingError } from '@smithy/core/retry';
import { InterruptedError } from '../lib/errors.mjs';

/**
 * @typedef {object} CallContext
 * @property {AbortSignal} [signal] aborts the call, its retries and their backoff
 * @property {{ warn: (msg: string) => void }} [log] where throttled attempts are reported
 */

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
    throw e;
  }
}
