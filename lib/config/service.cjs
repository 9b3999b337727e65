'use strict';
// What a service of the catalog may declare (config `services.<name>`): THE one file to read when adding a
// worker, a web app or a support service. Each field says what it means (the same text editors show from
// config/config.schema.json). Rules that need other parts of the config (tiers, images, dependencies, routing
// mode) are in graph.cjs.

const f = require('./fields.cjs');
const { injectedNames } = require('./contract.cjs');

const { z } = f;

const RouteSchema = f.strict({
  default: f.bool().default(false)
    .describe('This service gets the listener\'s default action (exactly one web service may be the default route).'),
  pathPatterns: f.stringArray({ item: f.str({ pattern: f.PATH_PATTERN, hint: 'a URL path pattern starting with "/"' }) })
    .max(5, { error: (iss) => `at most 5 path patterns per listener rule, got ${/** @type {unknown[]} */ (iss.input).length}` })
    .default(() => [])
    .describe('Listener rule path patterns like "/api/*" (at most 5); needed when loadBalancer.routing is "path".'),
  hostHeader: f.str({ pattern: f.HOST_HEADER, hint: 'a lowercase host name like "api.example.com"' }).nullable().default(null)
    .describe('Listener rule host header; needed when loadBalancer.routing is "host".'),
  priority: f.int(1, 50000).nullable().default(null)
    .describe('Listener rule priority 1-50000, unique across web services; needed unless this is the default route.'),
}).describe('How the ALB routes requests to a web service.');

const MountSchema = f.strict({
  volume: f.oneOf(f.VOLUMES).describe('Volume to mount: "data" is the shared EFS file system (storage.dataPath).'),
  containerPath: f.str({ pattern: f.ABS_PATH, hint: 'an absolute path' }).describe('Absolute path inside the container.'),
  readOnly: f.bool().default(false).describe('Mount read-only.'),
});

// ECS's limits for a container health check (the task definition's healthCheck; docs/app-contract.md)
const ContainerHealthCheckSchema = f.strict({
  command: f.stringArray({ nonEmpty: true, unique: false })
    .describe('Command run inside the container, as an argv array (no shell; the task definition gets ["CMD", ...]); exit code 0 means healthy.'),
  intervalSeconds: f.int(5, 300).default(30).describe('Seconds between checks (5-300).'),
  timeoutSeconds: f.int(2, 60).default(5).describe('Seconds a check may take before it counts as failed (2-60, less than intervalSeconds).'),
  retries: f.int(1, 10).default(3).describe('Failed checks in a row that make the container UNHEALTHY (1-10).'),
  startPeriodSeconds: f.int(0, 300).default(0).describe('Seconds after the start in which failed checks do not count (0-300).'),
}).superRefine((h, ctx) => {
  if (h.timeoutSeconds >= h.intervalSeconds) {
    ctx.addIssue({ code: 'custom', path: ['timeoutSeconds'], input: h.timeoutSeconds, message: `must be less than intervalSeconds (${h.intervalSeconds}), got ${h.timeoutSeconds}` });
  }
}).describe('Container health check (ECS): a task whose container turns UNHEALTHY is replaced by the service scheduler and counted failed; a deployment counts only HEALTHY tasks.');

const ServiceSchema = f.strict({
  tier: f.str().describe('Tier the service starts in (one of `tiers`); the runner starts tiers in order.'),
  kind: f.oneOf(f.KINDS)
    .describe('"web": behind the ALB (port, healthCheckPath, routing); "worker": no port, not reachable; "support": reachable inside the VPC by its Cloud Map name (port, discoveryName).'),
  image: f.str().describe('Key of `images` whose build the service runs.'),
  enabled: f.bool().default(true)
    .describe('false keeps the service out of the stack and the rollout; services that depend on it are disabled too.'),
  port: f.int(1, 65535).nullable().optional().describe('Container port (web and support services; a worker has none).'),
  healthCheckPath: f.str({ pattern: f.URL_PATH, hint: 'an absolute URL path like "/health"' }).nullable().optional()
    .describe('ALB health check path (web services only), like "/health".'),
  routing: RouteSchema.nullable().optional(),
  healthCheck: ContainerHealthCheckSchema.nullable().optional(),
  command: f.stringArray({ nonEmpty: true, unique: false }).nullable().optional()
    .describe('Container command overriding the image\'s CMD, as an argv array.'),
  dependsOn: f.stringArray().default(() => [])
    .describe('Services that must be running first (same or an earlier tier; no cycles).'),
  mounts: z.array(MountSchema, f.got('must be an array')).default(() => [])
    .superRefine((ms, ctx) => {
      const seen = new Set();
      ms.forEach((m, i) => {
        if (seen.has(m.containerPath)) ctx.addIssue({ code: 'custom', path: [i, 'containerPath'], input: m.containerPath, message: `duplicate mount path ${f.show(m.containerPath)}` });
        seen.add(m.containerPath);
      });
    })
    .describe('Volumes mounted into the container.'),
  environment: f.stringMap({ keyPattern: f.ENV_VAR, keyHint: 'an environment variable name ([A-Za-z_][A-Za-z0-9_]*)' }).default(() => ({}))
    .describe('Plain environment variables (never secrets: a name whose last word is PASSWORD, SECRET, TOKEN or KEY is refused, pass it in the "app" secret); {{<service>.url}}, .address, .host and .port name a support service in this environment (docs/environments.md).'),
  secrets: f.secretList().default(() => [])
    .describe(`Stack secrets injected as environment variables (${f.SECRET_KEYS.join(', ')}).`),
  cpu: f.fargateCpu().default(256).describe('Fargate CPU units.'),
  memory: f.int().default(512).describe('Fargate memory in MiB (must fit the cpu value).'),
  desiredCount: f.int(0, 100).default(1).describe('Number of running tasks.'),
  discoveryName: f.str({ pattern: f.DNS_LABEL, hint: 'a DNS label (lowercase letters, digits, hyphens)' }).nullable().optional()
    .describe('Cloud Map name of a support service (default: the service name).'),
}).superRefine((s, ctx) => {
  /** @param {string} key @param {string} message */
  const fail = (key, message) => ctx.addIssue({ code: 'custom', path: [key], input: /** @type {Record<string, unknown>} */ (s)[key], message });
  const given = (/** @type {unknown} */ v) => v !== undefined && v !== null;
  if (s.kind === 'worker') {
    if (given(s.port)) fail('port', `a worker has no port, got ${f.show(s.port)}`);
  } else if (!given(s.port)) fail('port', `must be an integer 1-65535, got ${f.show(s.port)}`);
  if (s.kind === 'web') {
    if (!given(s.healthCheckPath)) fail('healthCheckPath', `must be a non-empty string, got ${f.show(s.healthCheckPath)}`);
    if (!given(s.routing)) fail('routing', `must be an object, got ${f.show(s.routing)}`);
  } else {
    if (given(s.healthCheckPath)) fail('healthCheckPath', `only web services have an ALB health check (kind is ${s.kind})`);
    if (given(s.routing)) fail('routing', `only web services are routed by the ALB (kind is ${s.kind})`);
  }
  const injected = new Set(injectedNames());
  for (const k of Object.keys(s.environment)) {
    if (injected.has(k)) ctx.addIssue({ code: 'custom', path: ['environment', k], input: s.environment[k], message: `${k} is set by the stack (docs/app-contract.md); remove it from environment` });
    else if (f.SECRET_LOOKING_ENV.test(k)) {
      ctx.addIssue({
        code: 'custom', path: ['environment', k], input: '(value not shown)',
        message: `${k} looks like a secret (its name ends in PASSWORD, SECRET, TOKEN or KEY), and a plain environment value is written into the task definition, the synthesized JSON and the Terraform state; remove it from environment, put the value in the "app" secret (an operator writes it, docs/app-contract.md) and add "app" to this service's secrets, so the task gets it as APP_SECRET`,
      });
    }
  }
  if (s.kind !== 'support' && given(s.discoveryName)) fail('discoveryName', `only support services are registered in Cloud Map (kind is ${s.kind})`);
  f.fargatePair(s, ctx);
}).describe('One service of the catalog.');

/**
 * The catalog: service name -> service, each completed with its name and the fields its kind implies.
 */
const ServicesSchema = z.record(
  z.string().regex(f.NAME, `service name must be ${f.NAME_HINT} (at most 32 characters)`)
    .max(32, `service name must be ${f.NAME_HINT} (at most 32 characters)`),
  ServiceSchema,
  f.got('must be an object'),
).refine((m) => Object.keys(m).length > 0, 'must name at least one service')
  .transform((m) => Object.fromEntries(Object.entries(m).map(([name, s]) => [name, completeService(name, s)])))
  .describe('The service catalog: service name -> what the service runs and how it is reached.');

/**
 * The normalised form of one service: every field present, fields its kind does not use are null.
 * @param {string} name @param {import("zod").output<typeof ServiceSchema>} s
 */
function completeService(name, s) {
  const web = s.kind === 'web';
  return {
    name,
    enabled: s.enabled,
    /** @type {string|null} */
    disabledReason: s.enabled ? null : 'disabled in config',
    tier: s.tier,
    kind: s.kind,
    image: s.image,
    port: s.kind === 'worker' ? null : /** @type {number} */ (s.port),
    healthCheckPath: web ? /** @type {string} */ (s.healthCheckPath) : null,
    routing: web ? /** @type {import("zod").output<typeof RouteSchema>} */ (s.routing) : null,
    command: s.command ?? null,
    /** @type {import("zod").output<typeof ContainerHealthCheckSchema> | null} */
    healthCheck: s.healthCheck ?? null,
    dependsOn: s.dependsOn,
    mounts: s.mounts,
    needsData: s.mounts.some((m) => m.volume === 'data'),
    environment: s.environment,
    secrets: s.secrets,
    cpu: /** @type {number} */ (s.cpu),
    memory: s.memory,
    desiredCount: s.desiredCount,
    discoveryName: s.kind === 'support' ? s.discoveryName ?? name : null,
  };
}

/**
 * @typedef {ReturnType<typeof completeService>} Service a normalised catalog service
 * @typedef {import("zod").output<typeof RouteSchema>} Route
 * @typedef {import("zod").output<typeof ContainerHealthCheckSchema>} ContainerHealthCheck
 * @typedef {import("zod").input<typeof ServiceSchema>} ServiceInput what a config file may write for a service
 */

module.exports = { ServiceSchema, ServicesSchema, RouteSchema, MountSchema, ContainerHealthCheckSchema };
