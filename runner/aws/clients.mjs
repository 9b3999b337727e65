// The one place AWS SDK v3 clients are created, and the runner's one retry layer: the SDK's own retry strategy
// (standard token bucket, bounded attempts, capped exponential backoff with jitter; aborts with the call's
// AbortSignal). Nothing above the SDK retries a call again. Region, credentials and AWS_ENDPOINT_URL follow the
// SDK's standard resolution (env, shared config, SSO, web identity); tests inject their own clients, or pass
// `credentials` and a `transport` middleware that answers instead of the network (the SDK still retries).
// Every client counts the HTTP requests it sends (one per attempt, retries included) into a shared counter.
// Opt-in: STAGING_ROLLOUT_AWS_CALL_LOG=<file> (or `recordTo`) appends one JSON line per call (service, operation,
// the input fields that name resources, never a value): test/integration/least-privilege.test.mjs checks them
// against the ci-access rollout role.
import { appendFileSync } from 'node:fs';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ECRClient } from '@aws-sdk/client-ecr';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EFSClient } from '@aws-sdk/client-efs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
// a dependency of every @aws-sdk client (the SDK's retry implementation), not a package of its own
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { RETRY_DEFAULTS, backoffCapMs } from '../lib/retry.mjs';

/** @typedef {import('../lib/call-counter.mjs').CallCounter} CallCounter */
/** @typedef {import('../lib/retry.mjs').RetrySettings} RetrySettings */

/**
 * @typedef {object} AwsClients
 * @property {ECSClient} ecs
 * @property {ECRClient} ecr
 * @property {CloudWatchLogsClient} logs
 * @property {ElasticLoadBalancingV2Client} elbv2
 * @property {EFSClient} efs
 * @property {SecretsManagerClient} secrets
 * @property {SSMClient} ssm the release ledger (SSM Parameter Store, runner/ledger)
 */



/**
 * Delay before retry `attempt` (1 = the first retry): capped exponential backoff, "equal jitter".
 * @param {number} attempt @param {RetrySettings} [settings]
 */
export function retryDelayMs(attempt, settings = {}) {
  const cap = backoffCapMs(attempt, settings);
  return Math.round(cap / 2 + (settings.random ?? Math.random)() * (cap / 2));
}

/**
 * The SDK client options that make up the runner's retry layer (one strategy per client: its token bucket is
 * per client, as in the SDK's standard mode).
 * @param {RetrySettings} [settings]
 * @returns {{ maxAttempts: number, retryStrategy: ConfiguredRetryStrategy }}
 */
export function retryConfig(settings = {}) {
  const maxAttempts = settings.maxAttempts ?? RETRY_DEFAULTS.maxAttempts;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`retry maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  return { maxAttempts, retryStrategy: new ConfiguredRetryStrategy(maxAttempts, (attempt) => retryDelayMs(attempt, settings)) };
}

/**
 * A client as far as this module needs it: its middleware stack (absent on stubbed clients).
 * @typedef {{ middlewareStack?: import('@smithy/types').MiddlewareStack<object, import('@smithy/types').MetadataBearer> }} StackOwner
 */

/**
 * Add the counting middleware to every client (idempotent per client).
 * @param {Record<string, StackOwner>} clients
 * @param {CallCounter} counter
 */
export function countCalls(clients, counter) {
  for (const [key, client] of Object.entries(clients)) {
    const stack = client?.middlewareStack;
    if (!stack || typeof stack.add !== 'function') continue;
    try {
      stack.add(
        (next, context) => async (args) => {
          const op = `${key}.${String(context.commandName ?? 'unknown').replace(/Command$/, '')}`;
          counter.total += 1;
          counter.byOperation[op] = (counter.byOperation[op] ?? 0) + 1;
          return next(args);
        },
        // finalizeRequest below the retry middleware (high): one count per HTTP attempt
        { step: 'finalizeRequest', name: 'stagingRolloutCallCounter', priority: 'normal', override: true },
      );
    } catch {
      /* a stubbed client without a real middleware stack */
    }
  }
}

/**
 * A stand-in for the network (tests): gets `{ client, operation, input }` for every attempt and returns the
 * operation's output or throws its error. It sits inside the SDK's retry middleware, so retries still happen.
 * @typedef {(call: { client: string, operation: string, input: Record<string, unknown> }) => Promise<object>} Transport
 */

/**
 * @param {Record<string, StackOwner>} clients @param {Transport} transport
 */
function useTransport(clients, transport) {
  for (const [key, client] of Object.entries(clients)) {
    client.middlewareStack?.add(
      (_next, context) => async (args) => {
        const operation = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        const output = await transport({ client: key, operation, input: /** @type {Record<string, unknown>} */ (args.input) });
        return { response: {}, output: { $metadata: {}, ...output } };
      },
      // finalizeRequest, low: after the retry middleware (high) and signing, before anything is sent
      { step: 'finalizeRequest', name: 'stagingRolloutTransport', priority: 'low', override: true },
    );
  }
}

/** Input fields a call record keeps: names and ARNs of resources and the flags IAM conditions look at. */
const RECORDED_INPUT = ['cluster', 'service', 'services', 'taskDefinition', 'family', 'familyPrefix', 'taskRoleArn', 'executionRoleArn',
  'tasks', 'task', 'startedBy', 'desiredStatus', 'launchType', 'enableExecuteCommand', 'repositoryName', 'registryId',
  'logGroupName', 'logStreamName', 'logGroupIdentifier', 'TargetGroupArn', 'FileSystemId', 'MountTargetId',
  'SecretId', 'Name', 'Path', 'Recursive', 'Overwrite', 'Type'];

/**
 * One call as recorded: the input fields above (tags by key only), and the ARNs an answer names (a new revision,
 * started tasks, the roles of a task definition). Values (secrets, parameters, container definitions) are never kept.
 * @param {string} client @param {string} operation @param {Record<string, any>} input @param {any} output @param {unknown} error
 */
export function callRecord(client, operation, input, output, error) {
  /** @type {Record<string, unknown>} */
  const kept = {};
  for (const k of RECORDED_INPUT) if (input?.[k] !== undefined) kept[k] = input[k];
  if (Array.isArray(input?.tags)) kept.tagKeys = input.tags.map((/** @type {{ key?: string }} */ t) => t.key);
  const arns = [output?.taskDefinition?.taskDefinitionArn, ...(output?.tasks ?? []).map((/** @type {{ taskArn?: string }} */ t) => t.taskArn)].filter(Boolean);
  const td = output?.taskDefinition;
  const roles = td?.taskDefinitionArn ? { outputRoles: { taskDefinitionArn: td.taskDefinitionArn, taskRoleArn: td.taskRoleArn, executionRoleArn: td.executionRoleArn } } : {};
  return { client, operation, input: kept, ...(arns.length ? { outputArns: arns } : {}), ...roles, ...(error ? { error: String(/** @type {any} */ (error)?.name ?? 'Error') } : {}) };
}

/**
 * Append a record of every call (not every attempt) to `file` as JSON lines (idempotent per client).
 * @param {Record<string, StackOwner>} clients @param {string} file
 */
export function recordCalls(clients, file) {
  for (const [key, client] of Object.entries(clients)) {
    client.middlewareStack?.add(
      (next, context) => async (args) => {
        const operation = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        const input = /** @type {Record<string, any>} */ (args.input);
        try {
          const result = await next(args);
          appendFileSync(file, `${JSON.stringify(callRecord(key, operation, input, result.output, null))}\n`);
          return result;
        } catch (e) {
          appendFileSync(file, `${JSON.stringify(callRecord(key, operation, input, null, e))}\n`);
          throw e;
        }
      },
      { step: 'initialize', name: 'stagingRolloutCallRecorder', priority: 'high', override: true },
    );
  }
}

/**
 * Create every client the runner uses, once.
 * @param {{ region?: string, counter?: CallCounter, retry?: RetrySettings,
 *   credentials?: { accessKeyId: string, secretAccessKey: string }, transport?: Transport, recordTo?: string }} [opts]
 *   recordTo: JSON-lines file of every call (default: $STAGING_ROLLOUT_AWS_CALL_LOG; unset = no record)
 * @returns {AwsClients}
 */
export function createAwsClients(opts = {}) {
  const config = () => ({ region: opts.region, ...retryConfig(opts.retry), ...(opts.credentials ? { credentials: opts.credentials } : {}) });
  const clients = {
    ecs: new ECSClient(config()),
    ecr: new ECRClient(config()),
    logs: new CloudWatchLogsClient(config()),
    elbv2: new ElasticLoadBalancingV2Client(config()),
    efs: new EFSClient(config()),
    secrets: new SecretsManagerClient(config()),
    ssm: new SSMClient(config()),
  };
  if (opts.counter) countCalls(clients, opts.counter);
  if (opts.transport) useTransport(clients, opts.transport);
  const recordTo = opts.recordTo ?? process.env.STAGING_ROLLOUT_AWS_CALL_LOG;
  if (recordTo) recordCalls(clients, recordTo);
  return clients;
}
