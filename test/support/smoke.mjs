// Shared setup of the smoke suite's unit tests: the runner's parsed outputs and catalog for a config (through the
// runner's own readers), smoke settings through the one normaliser (lib/config), the runner's Capabilities, and
// scripted AWS clients (aws-sdk-client-mock) for the AWS-side checks.
import { mockClient } from 'aws-sdk-client-mock';
import { ECSClient, DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import configLib from '../../lib/config/index.cjs';
import { stagingRaw, outputsPlain } from './staging-config.cjs';
import { normalizeOutputs } from '../../runner/lib/outputs.mjs';
import { detectCapabilities } from '../../runner/lib/emulator.mjs';
import { createSmokeContext } from '../../runner/smoke/index.mjs';

export const RAW = stagingRaw();
const FOUNDATION = outputsPlain();
export const RELEASE_START = new Date('2026-11-25T10:00:00Z');
export const creds = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
export const quick = { timeoutSeconds: 2, attempts: 3, retryDelaySeconds: 0.01 };

/**
 * Plain-form stack outputs (as `terraform output -json` values) the foundation would write for config `raw`:
 * the contract fixture, with this test's cluster, subnets, security group, ALB and smoke secret, and a
 * `service_catalog` built from the config's services.
 */
export function plainOutputsFor(raw = RAW, overrides = {}) {
  const { services } = configLib.normalizeConfig(raw, { source: 'test' });
  const service_catalog = {};
  for (const s of services) {
    const id = (v) => (s.enabled ? v : null);
    service_catalog[s.name] = {
      name: s.name, enabled: s.enabled, disabled_reason: s.disabledReason, tier: s.tier, kind: s.kind, image: s.image,
      depends_on: s.dependsOn, needs_data: s.needsData, desired_count: s.desiredCount,
      ecs_service_name: id(`staging-${s.name}`), task_family: id(`staging-${s.name}`), container_name: id(s.name),
      port: s.port, target_group_arn: s.kind === 'web' ? id(`arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/stg-${s.name}/abc`) : null,
      log_group_name: id(`/ecs/staging/${s.name}`), discovery_name: s.discoveryName,
    };
  }
  const images = [...new Set(services.map((s) => s.image))];
  return {
    ...FOUNDATION,
    cluster_name: 'staging', alb_url: 'http://alb.invalid', private_subnet_ids: ['subnet-a', 'subnet-b'],
    tasks_security_group_id: 'sg-tasks', secret_arns: { smoke_user: 'arn:secret' },
    repository_urls: { ...FOUNDATION.repository_urls, ...Object.fromEntries(images.map((i) => [i, `000000000000.dkr.ecr.us-east-1.amazonaws.com/staging-${i}`])) },
    repository_mutable_tags: { ...FOUNDATION.repository_mutable_tags, ...Object.fromEntries(images.map((i) => [i, false])) },
    service_catalog,
    ...overrides,
  };
}

/** The runner's parsed Outputs (runner/lib/outputs.mjs) for config `raw`; `outputs.catalog` is the catalog. */
export function outputsFor(raw = RAW, overrides = {}) {
  return normalizeOutputs(plainOutputsFor(raw, overrides), 'test');
}

/** Smoke settings as the runner holds them (ctx.smoke): the config's `smoke` through lib/config's normaliser. */
export function smokeSettings(rawSmoke) {
  return configLib.normalizeSmoke(rawSmoke, { source: 'test' });
}

/**
 * The runner's Capabilities (runner/lib/emulator.mjs) lacking exactly the gaps named, with the reasons given:
 * e.g. `capabilitiesLacking({ 'alb-http': 'no ALB in this test' })`.
 * @param {Record<string, string>} gaps
 */
export function capabilitiesLacking(gaps) {
  return { emulator: false, source: 'test', lacks: (gap) => gap in gaps, reason: (gap) => gaps[gap] };
}

/**
 * A smoke StepContext over scripted ECS, CloudWatch Logs, ELBv2 and Secrets Manager clients, for staging.json
 * (or `raw`). `sctx` builds a fresh smoke context from `ctx` each time it is read (tests change `ctx` first).
 */
export function setup({ raw = RAW, smoke = {}, emulator = false, since = RELEASE_START, state = { halfDone: [] } } = {}) {
  const ecs = new ECSClient(creds); const logs = new CloudWatchLogsClient(creds);
  const elbv2 = new ElasticLoadBalancingV2Client(creds); const secrets = new SecretsManagerClient(creds);
  const mocks = { ecs: mockClient(ecs), logs: mockClient(logs), elbv2: mockClient(elbv2), secrets: mockClient(secrets) };
  const outputs = outputsFor(raw);
  const ctx = {
    outputs, catalog: outputs.catalog, capabilities: detectCapabilities({ emulator }), release: 'abc1234',
    smoke: smokeSettings({
      ...raw.smoke, taskTimeoutSeconds: 0.3, taskPollSeconds: 0.01,
      checks: { workers: quick, logs: quick, 'fetcher-anisette': quick, 'target-groups': quick, database: quick },
      ...smoke,
    }),
    aws: { ecs, logs, elbv2, secrets }, state, releaseStartedAt: since ?? undefined, log: { info: () => {} },
  };
  // every service deployed at the release start unless a test says otherwise (the logs checks compare it)
  describeAll(mocks.ecs);
  return { ctx, get sctx() { return createSmokeContext(ctx); }, mocks, outputs };
}

/** The enabled services of the workers tier of the config under test (the `workers` check's services). */
export const WORKERS = configLib.normalizeConfig(RAW, { source: 'test' }).services.filter((s) => s.enabled && s.tier === 'workers').map((s) => s.name);

/** An ECS service as DescribeServices returns it for catalog service `name`. */
export function ecsService(name, { running = 1, desired = 1, createdAt = RELEASE_START } = {}) {
  return { serviceName: `staging-${name}`, serviceArn: `arn:aws:ecs:us-east-1:0:service/staging/staging-${name}`, status: 'ACTIVE',
    runningCount: running, desiredCount: desired, deployments: [{ status: 'PRIMARY', createdAt }] };
}

/** DescribeServices answers every asked service; `overrides[name]` sets its counts or deployment time. */
export function describeAll(mock, overrides = {}) {
  mock.on(DescribeServicesCommand).callsFake((input) => ({
    services: input.services.map((n) => ecsService(n.replace(/^staging-/, ''), overrides[n.replace(/^staging-/, '')])),
    failures: [],
  }));
}
