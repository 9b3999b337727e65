'use strict';
// THE declaration of an environment config (docs/contract.md section 1), in zod 4: types, defaults, per-field
// rules and messages. Validation (index.cjs), the stack's TypeScript types, the runner's JSDoc types and the
// editor schema config/config.schema.json (scripts/config-schema.mjs) all come from ConfigSchema.
// What a service may declare is in service.cjs; the smoke section in smoke.cjs; rules across sections in graph.cjs.

const f = require('./fields.cjs');
const { ServicesSchema } = require('./service.cjs');
const { SmokeSchema } = require('./smoke.cjs');

const { z } = f;

/** The project's own name: the Project tag and the prefix of derived state keys and workspaces. */
const PROJECT = 'staging-rollout';

const LocalBackend = f.strict({
  type: z.literal('local').optional(),
  path: f.str({ pattern: /^[^\0]+\.tfstate$/, hint: 'a file path ending in .tfstate' }).optional()
    .describe('State file, relative to the project root (default "state/<environment>/foundation.tfstate"; docs/environments.md).'),
});
const S3Backend = f.strict({
  type: z.literal('s3'),
  bucket: f.str({ pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, hint: 'an S3 bucket name' }),
  key: f.str({ pattern: /^[^/].*[^/]$/, hint: 'an object key not starting or ending with "/"' }).optional()
    .describe('State object key (default "staging-rollout/<environment>/foundation.tfstate").'),
  region: f.str({ pattern: f.REGION, hint: 'an AWS region' }).optional().describe('Bucket region (default: `region`).'),
  dynamodbTable: f.str({ pattern: /^[A-Za-z0-9_.-]{3,255}$/, hint: 'a DynamoDB table name' }).nullable().default(null),
  useLockfile: f.bool().optional().describe('S3 native locking (default true unless a dynamodbTable is given).'),
  kmsKeyId: f.str().nullable().default(null),
}).superRefine((b, ctx) => {
  if (!(b.useLockfile ?? !b.dynamodbTable) && !b.dynamodbTable) {
    ctx.addIssue({ code: 'custom', path: [], input: b, message: 'S3 state needs locking: set useLockfile: true or a dynamodbTable' });
  }
});
const CloudBackend = f.strict({
  type: z.literal('cloud'),
  organization: f.str({ pattern: /^[A-Za-z0-9_-]+$/, hint: 'a Terraform Cloud organization name' }),
  workspace: f.str({ pattern: /^[A-Za-z0-9_-]{1,90}$/, hint: 'a workspace name (letters, digits, "-" and "_")' }).optional()
    .describe('Workspace (default "staging-rollout-<environment>").'),
  hostname: f.str({ pattern: f.DOMAIN, hint: 'a host name' }).default('app.terraform.io'),
});
const BackendSchema = z.discriminatedUnion('type', [LocalBackend, S3Backend, CloudBackend], {
  error: (iss) => (iss.code === 'invalid_union'
    ? `must be one of "local", "s3", "cloud", got ${f.show(/** @type {{ type?: unknown }} */ (iss.input)?.type)}`
    : `must be an object, got ${f.show(iss.input)}`),
}).describe('Where Terraform keeps the foundation state ("local" by default).');

const NetworkSchema = f.strict({
  cidr: f.cidr().describe('VPC CIDR block, /16 to /22.'),
  azCount: f.int(2, 6).default(2).describe('Availability zones (one public and one private subnet each).'),
  natGateways: f.oneOf(/** @type {const} */ (['single', 'perAz'])).default('single').describe('One NAT gateway, or one per AZ.'),
  flowLogRetentionDays: f.retention().default(14).describe('VPC flow log retention in days.'),
}).superRefine((n, ctx) => {
  const prefixLen = Number(n.cidr.split('/')[1]);
  if (prefixLen < 16 || prefixLen > 22) {
    ctx.addIssue({ code: 'custom', path: ['cidr'], input: n.cidr, message: `prefix length must be /16 to /22 (the stack carves ${n.azCount * 2} subnets out of it), got /${prefixLen}` });
  }
}).describe('The VPC: public subnets for the ALB and NAT, private subnets for tasks, database and cache.');

const HealthCheckSchema = f.strict({
  intervalSeconds: f.int(5, 300).default(5),
  timeoutSeconds: f.int(2, 120).default(3).describe('Must be less than intervalSeconds.'),
  healthyThreshold: f.int(2, 10).default(2),
  unhealthyThreshold: f.int(2, 10).default(2),
  matcher: f.str({ pattern: /^[1-5]\d\d(-[1-5]\d\d)?(,[1-5]\d\d(-[1-5]\d\d)?)*$/, hint: 'HTTP codes like "200" or "200-399"' }).default('200-399'),
}).superRefine((h, ctx) => {
  if (h.timeoutSeconds >= h.intervalSeconds) {
    ctx.addIssue({ code: 'custom', path: ['timeoutSeconds'], input: h.timeoutSeconds, message: `must be less than intervalSeconds (${h.intervalSeconds}), got ${h.timeoutSeconds}` });
  }
}).describe('Target group health check of every web service.');

const LoadBalancerSchema = f.strict({
  certificateArn: f.str({ pattern: /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/, hint: 'an ACM certificate ARN or null' })
    .nullable().default(null).describe('ACM certificate: HTTPS listener when set, plain HTTP when null.'),
  routing: f.oneOf(/** @type {const} */ (['path', 'host'])).default('path').describe('Route web services by path pattern or by host header.'),
  allowedIngressCidrs: f.stringArray({ nonEmpty: true, item: f.cidr() }).default(() => ['0.0.0.0/0']).describe('CIDR blocks allowed to reach the ALB.'),
  healthCheck: f.section(HealthCheckSchema),
  deregistrationDelaySeconds: f.int(0, 3600).default(5),
  sslPolicy: f.str({ pattern: /^ELBSecurityPolicy-[A-Za-z0-9-]+$/, hint: 'an ELB security policy name' }).default('ELBSecurityPolicy-TLS13-1-2-2021-06'),
  allowPublicHttp: f.bool().default(false)
    .describe('Accept a plain-HTTP listener open to the whole internet (no certificateArn, allowedIngressCidrs containing 0.0.0.0/0): refused unless true.'),
}).superRefine((lb, ctx) => {
  // a listener without TLS that anyone can reach carries the apps' sessions and the smoke login in clear text
  if (lb.certificateArn === null && lb.allowedIngressCidrs.includes('0.0.0.0/0') && !lb.allowPublicHttp) {
    ctx.addIssue({
      code: 'custom', path: ['certificateArn'], input: lb.certificateArn,
      message: 'is null while allowedIngressCidrs contains 0.0.0.0/0: the ALB would serve plain HTTP to the whole internet; set certificateArn (an ACM certificate ARN, HTTPS), or narrow allowedIngressCidrs, or accept it with loadBalancer.allowPublicHttp: true',
    });
  }
}).describe('The public ALB in front of the web services.');

const SQL_NAME = { pattern: /^[a-z_][a-z0-9_]{0,62}$/, hint: 'a lowercase SQL identifier' };
const DatabaseSchema = f.strict({
  instanceType: f.str({ pattern: /^[a-z][a-z0-9-]*\.[a-z0-9]+$/, hint: 'an EC2 instance type like "t3.small"' }).default('t3.small'),
  dataVolumeGiB: f.int(1, 16384).default(20),
  postgresVersion: f.str({ pattern: /^\d{2}$/, hint: 'a PostgreSQL major version like "15"' }).default('15'),
  databaseName: f.str(SQL_NAME).default('app'),
  username: f.str(SQL_NAME).refine((u) => u !== 'postgres', 'must not be the superuser "postgres"').default('app'),
  protectDataVolume: f.bool().default(true)
    .describe('lifecycle.prevent_destroy on the EBS data volume; false only for throwaway environments (emulator tests).'),
}).describe('PostgreSQL on an EC2 instance with an EBS data volume.');

const CacheSchema = f.strict({
  nodeType: f.str({ pattern: /^cache\.[a-z0-9]+\.[a-z0-9]+$/, hint: 'an ElastiCache node type like "cache.t4g.micro"' }).default('cache.t4g.micro'),
  engineVersion: f.str({ pattern: /^[78]\.\d+$/, hint: 'a Valkey version like "8.0"' }).default('8.0'),
  replicas: f.int(0, 5).default(0),
  auth: f.oneOf(/** @type {const} */ (['password', 'iam'])).default('password')
    .describe('"password": the app user has a password (generated on the database host, in the cache secret and REDIS_URL; what redis-py, Celery and RQ expect); "iam": short-lived IAM tokens signed by the app (no password anywhere).'),
}).describe('Valkey (ElastiCache) for the app.');

const StorageSchema = f.strict({
  dataPath: f.str({ pattern: /^\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, hint: 'an absolute path like "/data" (not "/")' }).default('/data'),
  posixUid: f.int(1, 4294967295).default(1000),
  posixGid: f.int(1, 4294967295).default(1000),
}).describe('The shared EFS file system mounted as volume "data".');

const ClusterSchema = f.strict({
  containerInsights: f.bool().default(true),
  fargateSpotForWorkers: f.bool().default(false),
  enableExecuteCommand: f.bool().default(true),
  namespace: f.str({ pattern: f.DOMAIN, hint: 'a lowercase DNS name like "staging.internal"' }).optional()
    .describe('Cloud Map private DNS namespace (default "<environment>.internal").'),
}).describe('The ECS cluster and its Cloud Map namespace.');

const ImageSchema = z.looseObject({
  context: f.str().describe('Build context, relative to the config file that declares it.'),
  dockerfile: f.str().default('Dockerfile').describe('Dockerfile, relative to the context.'),
  platform: z.string().optional().describe('docker build --platform (default linux/amd64).'),
  buildArgs: z.record(z.string(), z.string()).optional().describe('docker build --build-arg values.'),
}, f.got('must be an object')).describe('How to build one image; other fields are passed to the image step.');
const ImagesSchema = z.record(
  z.string().regex(f.NAME, `image key must be ${f.NAME_HINT} (at most 40 characters)`).max(40, `image key must be ${f.NAME_HINT} (at most 40 characters)`),
  ImageSchema,
  f.got('must be an object'),
).refine((m) => Object.keys(m).length > 0, 'must name at least one image')
  .describe('Image key -> how to build it (one ECR repository per key).');

const MigrationSchema = f.strict({
  image: f.str().default('api').describe('Key of `images` the migration runs.'),
  command: f.stringArray({ nonEmpty: true, unique: false }).describe('Migration command, as an argv array.'),
  cpu: f.fargateCpu().default(256),
  memory: f.int().default(512),
  timeoutSeconds: f.int(30, 86400).default(900),
  containerName: f.str({ pattern: f.NAME, hint: f.NAME_HINT }).default('migration'),
  secrets: f.secretList().default(() => [/** @type {const} */ ('database')]).describe('Secrets injected into the migration container.'),
}).superRefine(f.fargatePair).describe('The one-off database migration task run before the services.');

// GitHub: owner and repository name as GitHub allows them (owner: letters, digits, single hyphens; repo: letters,
// digits, ".", "-", "_"); the environment: a GitHub deployment environment name
const GITHUB_REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/[A-Za-z0-9._-]{1,100}$/;
const GITHUB_ENVIRONMENT = /^[A-Za-z0-9._-]{1,255}$/;
/** @param {string} host */
const OIDC_PROVIDER_ARN = (host) => new RegExp(`^arn:aws[a-z-]*:iam::\\d{12}:oidc-provider/${host.replace(/\./g, '\\.')}$`);
/** @param {string} host */
const oidcProvider = (host) => f.str({ pattern: new RegExp(`${OIDC_PROVIDER_ARN(host).source}|^create$`), hint: `"create" or an IAM OIDC provider ARN like "arn:aws:iam::123456789012:oidc-provider/${host}"` })
  .default('create');
const TerraformCloudAccessSchema = f.strict({
  organization: f.str({ pattern: /^[A-Za-z0-9_-]+$/, hint: 'a Terraform Cloud organization name' }),
  workspace: f.str({ pattern: /^[A-Za-z0-9_-]{1,90}$/, hint: 'a workspace name (letters, digits, "-" and "_")' }),
  oidcProvider: oidcProvider('app.terraform.io')
    .describe('The account\'s app.terraform.io OIDC provider: "create" (default) or the ARN of an existing one.'),
}).describe('Terraform Cloud run role (dynamic provider credentials) for that workspace; absent = no such role.');
const CiSchema = f.strict({
  repository: f.str({ pattern: GITHUB_REPOSITORY, hint: 'a GitHub repository as "owner/repo"' }).describe('GitHub repository whose workflow assumes the roles.'),
  environment: f.str({ pattern: GITHUB_ENVIRONMENT, hint: 'a GitHub environment name (letters, digits, ".", "-", "_")' }).optional()
    .describe('GitHub environment with the required reviewers the deploy role trusts (default: `environment`).'),
  oidcProvider: oidcProvider('token.actions.githubusercontent.com')
    .describe('The account\'s GitHub OIDC provider: "create" (default) or the ARN of an existing one.'),
  terraformCloud: TerraformCloudAccessSchema.optional(),
}).describe('CI access (stack `ci-access`): OIDC roles for the GitHub workflow and Terraform Cloud; absent = no ci-access stack.');

const TagsSchema = f.stringMap().default(() => ({})).superRefine((tags, ctx) => {
  for (const [k, v] of Object.entries(tags)) {
    if (k.length > 128 || k.toLowerCase().startsWith('aws:')) ctx.addIssue({ code: 'custom', path: [k], input: v, message: 'tag keys must be at most 128 characters and must not start with "aws:"' });
    else if (v.length > 256) ctx.addIssue({ code: 'custom', path: [k], input: v, message: 'tag values must be at most 256 characters' });
  }
}).describe('Extra tags on every resource; Project, Environment (= environment) and ManagedBy are derived.');

const ConfigSchema = f.strict({
  environment: f.str({ pattern: /^[a-z][a-z0-9-]{0,19}$/, hint: `${f.NAME_HINT}, at most 20 characters` }).describe('Environment name, like "staging".'),
  namePrefix: f.str({ pattern: /^[a-z][a-z0-9-]{0,14}[a-z0-9]$|^[a-z]$/, hint: `${f.NAME_HINT}, at most 16 characters (ALB and target group names are limited to 32)` })
    .optional().describe('Prefix of resource names (default: environment).'),
  region: f.str({ pattern: f.REGION, hint: 'an AWS region like "us-east-1"' }).describe('AWS region.'),
  tags: TagsSchema,
  backend: f.section(BackendSchema),
  network: f.section(NetworkSchema),
  loadBalancer: f.section(LoadBalancerSchema),
  database: f.section(DatabaseSchema),
  cache: f.section(CacheSchema),
  storage: f.section(StorageSchema),
  logs: f.section(f.strict({ retentionDays: f.retention().default(14) }).describe('Retention of the service and task log groups.')),
  cluster: f.section(ClusterSchema),
  images: ImagesSchema,
  migration: MigrationSchema,
  tiers: f.stringArray({ nonEmpty: true, item: f.str({ pattern: f.NAME, hint: f.NAME_HINT }) }).describe('Rollout tiers in start order.'),
  services: ServicesSchema,
  smoke: f.section(SmokeSchema),
  imageRegistry: f.str({ pattern: f.REGISTRY_ADDRESS_PATTERN, hint: 'a registry address like "host:5000", "http://host:port" or "https://host" or null' })
    .nullable().default(null).describe('Image step: registry address replacing the host of repository_urls (docs/images.md); null = none.'),
  imageConvenienceTag: f.str({ pattern: f.IMAGE_TAG_PATTERN, hint: `${f.IMAGE_TAG_HINT} or null` }).nullable().optional()
    .describe('Image step: convenience tag; absent = the step\'s default, null = none.'),
  ci: CiSchema.optional(),
  ledger: f.section(f.strict({
    keep: f.int(10, 1000).default(100).describe('Entries the release ledger keeps; older ones are pruned at the end of a run (default 100).'),
  }).describe('The release ledger (SSM Parameter Store, docs/operations.md): retention.')),
}).superRefine((c, ctx) => {
  const tagged = c.tags.Environment;
  if (tagged !== undefined && tagged !== c.environment) {
    ctx.addIssue({ code: 'custom', path: ['tags', 'Environment'], input: tagged, message: `is derived from environment (${f.show(c.environment)}); remove it or set it to ${f.show(c.environment)}, got ${f.show(tagged)}` });
  }
}).transform((c) => ({
  environment: c.environment,
  namePrefix: c.namePrefix ?? c.environment,
  region: c.region,
  tags: { Project: PROJECT, ...c.tags, Environment: c.environment, ManagedBy: c.tags.ManagedBy ?? 'cdktf' },
  backend: completeBackend(c.backend, c.region, c.environment),
  network: c.network,
  loadBalancer: c.loadBalancer,
  database: c.database,
  cache: c.cache,
  storage: c.storage,
  logs: c.logs,
  cluster: { ...c.cluster, namespace: c.cluster.namespace ?? `${c.environment}.internal` },
  images: c.images,
  migration: { ...c.migration, cpu: /** @type {number} */ (c.migration.cpu) },
  tiers: c.tiers,
  imageRegistry: c.imageRegistry,
  ...(c.imageConvenienceTag === undefined ? {} : { imageConvenienceTag: c.imageConvenienceTag }),
  services: c.services,
  smoke: c.smoke,
  ...(c.ci === undefined ? {} : { ci: { ...c.ci, environment: c.ci.environment ?? c.environment } }),
  ledger: c.ledger,
}));

/**
 * THE per-environment state location defaults (docs/environments.md): each environment gets its own local file,
 * S3 key or Terraform Cloud workspace unless the config names one (lib/config/state.cjs refuses a shared one).
 * @param {import("zod").output<typeof BackendSchema>} b @param {string} region @param {string} environment
 */
function completeBackend(b, region, environment) {
  if (b.type === 's3') {
    return { ...b, type: b.type, key: b.key ?? `${PROJECT}/${environment}/foundation.tfstate`, region: b.region ?? region, useLockfile: b.useLockfile ?? !b.dynamodbTable };
  }
  if (b.type === 'cloud') return { ...b, type: b.type, workspace: b.workspace ?? `${PROJECT}-${environment}` };
  return { type: /** @type {const} */ ('local'), path: b.path ?? `state/${environment}/foundation.tfstate` };
}

/**
 * @typedef {import("zod").input<typeof ConfigSchema>} ConfigInput what a config file may write (defaults optional)
 * @typedef {import("zod").output<typeof ConfigSchema>} Config a validated config with every default applied
 * @typedef {ReturnType<typeof completeBackend>} Backend
 */

module.exports = { ConfigSchema, BackendSchema, completeBackend, PROJECT };
