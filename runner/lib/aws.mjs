// The one place AWS SDK v3 clients are created. Region, credentials and AWS_ENDPOINT_URL follow the SDK's
// standard resolution (env, shared config, SSO, web identity); tests inject their own clients instead.
// Every client counts the HTTP requests it sends (one per attempt, retries included) into a shared counter.
import { ECSClient } from '@aws-sdk/client-ecs';
import { ECRClient } from '@aws-sdk/client-ecr';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EFSClient } from '@aws-sdk/client-efs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * @typedef {object} AwsClients
 * @property {ECSClient} ecs
 * @property {ECRClient} ecr
 * @property {CloudWatchLogsClient} logs
 * @property {ElasticLoadBalancingV2Client} elbv2
 * @property {EFSClient} efs
 * @property {SecretsManagerClient} secrets
 */

/**
 * @typedef {object} CallCounter
 * @property {number} total
 * @property {Record<string, number>} byOperation `Client.Operation` -> requests
 */

/** @returns {CallCounter} */
export function createCallCounter() {
  return { total: 0, byOperation: {} };
}

/**
 * Add the counting middleware to every client (idempotent per client).
 * @param {Record<string, any>} clients
 * @param {CallCounter} counter
 */
export function countCalls(clients, counter) {
  for (const [key, client] of Object.entries(clients)) {
    const stack = client?.middlewareStack;
    if (!stack || typeof stack.add !== 'function') continue;
    try {
      stack.add(
        (/** @type {any} */ next, /** @type {any} */ context) => async (/** @type {any} */ args) => {
          const op = `${key}.${String(context.commandName ?? 'unknown').replace(/Command$/, '')}`;
          counter.total += 1;
          counter.byOperation[op] = (counter.byOperation[op] ?? 0) + 1;
          return next(args);
        },
        // deserialize runs inside the retry middleware: one count per HTTP attempt
        { step: 'deserialize', name: 'stagingRolloutCallCounter', priority: 'low', override: true },
      );
    } catch {
      /* a stubbed client without a real middleware stack */
    }
  }
}

/**
 * Create every client the runner uses, once.
 * @param {{ region?: string, maxAttempts?: number, counter?: CallCounter }} [opts]
 * @returns {AwsClients}
 */
export function createAwsClients(opts = {}) {
  // adaptive retry mode backs off on throttling errors across all calls of one client
  const config = { region: opts.region, maxAttempts: opts.maxAttempts ?? 8, retryMode: 'adaptive' };
  const clients = {
    ecs: new ECSClient(config),
    ecr: new ECRClient(config),
    logs: new CloudWatchLogsClient(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
    efs: new EFSClient(config),
    secrets: new SecretsManagerClient(config),
  };
  if (opts.counter) countCalls(clients, opts.counter);
  return clients;
}
