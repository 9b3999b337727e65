// The one place AWS SDK v3 clients are created. Region, credentials and AWS_ENDPOINT_URL follow the SDK's
// standard resolution (env, shared config, SSO, web identity); tests inject their own clients instead.
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
 * Create every client the runner uses, once.
 * @param {{ region?: string, maxAttempts?: number }} [opts]
 * @returns {AwsClients}
 */
export function createAwsClients(opts = {}) {
  // adaptive retry mode backs off on throttling errors across all calls of one client
  const config = { region: opts.region, maxAttempts: opts.maxAttempts ?? 8, retryMode: 'adaptive' };
  return {
    ecs: new ECSClient(config),
    ecr: new ECRClient(config),
    logs: new CloudWatchLogsClient(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
    efs: new EFSClient(config),
    secrets: new SecretsManagerClient(config),
  };
}
