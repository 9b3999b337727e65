'use strict';
// THE contract of the foundation stack's outputs (docs/contract.md section 2), declared once: the stack writes
// the input side (snake_case, stacks/foundation-stack.ts), the runner reads the output side (camelCase,
// runner/lib/outputs.mjs). Messages name the output key: "must be a non-empty string, got 3", "missing ...".

const { z } = require('zod');
const { KINDS } = require('./fields.cjs');

/** How an output value is shown in messages. @param {unknown} v */
function show(v) {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(v);
}

const MISSING = 'missing (required by docs/contract.md section 2)';
/** Message "<what>, got <value>"; a missing top-level output says so. @param {string} what @param {boolean} [top] */
const got = (what, top = false) => ({
  error: (/** @type {{ input?: unknown }} */ iss) => (top && iss.input === undefined ? MISSING : `${what}, got ${show(iss.input)}`),
});
/** @param {boolean} [top] */
const nonEmpty = (top) => z.string(got('must be a non-empty string', top)).min(1, got('must be a non-empty string', top));
/** @param {string} what */
const idOrNull = (what = 'must be a non-empty string or null') => z.string(got(what)).min(1, got(what)).nullable().optional();
/** @template {import("zod").ZodType} V @param {V} value @param {string} type */
const map = (value, type) => z.record(z.string(), value, got(`must be a map of ${type}`, true));

/** One entry of `service_catalog`: a catalog service and, when enabled, the AWS names the stack gave it. */
const ServiceCatalogEntrySchema = z.object({
  name: nonEmpty(),
  enabled: z.boolean(got('must be true or false')),
  disabled_reason: z.string(got('must be a string or null')).nullable().optional(),
  tier: nonEmpty(),
  kind: z.enum(KINDS, got(`must be ${KINDS.slice(0, -1).map((k) => `"${k}"`).join(', ')} or "${KINDS[KINDS.length - 1]}"`)),
  image: nonEmpty(),
  depends_on: z.array(z.string().min(1), got('must be a list of service names')).nullable().optional(),
  needs_data: z.boolean(got('must be true or false')).nullable().optional(),
  desired_count: z.number(got('must be an integer >= 0')).int(got('must be an integer >= 0')).min(0, got('must be an integer >= 0')),
  ecs_service_name: idOrNull(),
  task_family: idOrNull(),
  container_name: idOrNull(),
  port: z.number(got('must be an integer or null')).int(got('must be an integer or null')).nullable().optional(),
  target_group_arn: idOrNull(),
  log_group_name: idOrNull(),
  discovery_name: idOrNull(),
}, got('must be an object')).superRefine((e, ctx) => {
  if (!e.enabled) return;
  for (const k of /** @type {const} */ (['ecs_service_name', 'task_family', 'container_name'])) {
    if (e[k] == null) ctx.addIssue({ code: 'custom', path: [k], input: e[k], message: 'missing for an enabled service' });
  }
}).transform((e) => ({
  name: e.name,
  enabled: e.enabled,
  /** @type {string|null} */
  disabledReason: e.enabled ? null : (e.disabled_reason ?? 'disabled'),
  tier: e.tier,
  kind: e.kind,
  image: e.image,
  dependsOn: e.depends_on ?? [],
  needsData: e.needs_data ?? false,
  desiredCount: e.desired_count,
  ecsServiceName: e.ecs_service_name ?? null,
  taskFamily: e.task_family ?? null,
  containerName: e.container_name ?? null,
  port: e.port ?? null,
  targetGroupArn: e.target_group_arn ?? null,
  logGroupName: e.log_group_name ?? null,
  discoveryName: e.discovery_name ?? null,
}));

const ServiceCatalogSchema = z.record(z.string(), ServiceCatalogEntrySchema, got('must be a non-empty map of services', true))
  .superRefine((m, ctx) => {
    if (Object.keys(m).length === 0) ctx.addIssue({ code: 'custom', path: [], input: m, message: `must be a non-empty map of services, got ${show(m)}` });
    for (const [key, e] of Object.entries(m)) {
      if (e.name !== key) ctx.addIssue({ code: 'custom', path: [key, 'name'], input: e.name, message: `"${e.name}" does not match its key "${key}"` });
    }
  })
  .transform((m) => Object.values(m));

/** The outputs the runner reads (plain form, as `terraform output -json` values); other outputs are ignored. */
const OutputsSchema = z.object({
  environment: nonEmpty(true),
  region: nonEmpty(true),
  cluster_name: nonEmpty(true),
  cluster_arn: nonEmpty(true),
  private_subnet_ids: z.array(z.string().min(1), got('must be a non-empty list of strings', true)).min(1, got('must be a non-empty list of strings', true)),
  tasks_security_group_id: nonEmpty(true),
  repository_urls: map(nonEmpty(), 'string'),
  repository_mutable_tags: map(z.boolean(got('must be a boolean')), 'boolean'),
  alb_dns_name: nonEmpty(true),
  alb_url: nonEmpty(true),
  efs_file_system_id: nonEmpty(true),
  efs_access_point_id: nonEmpty(true),
  namespace_name: nonEmpty(true),
  secret_arns: map(nonEmpty(), 'string'),
  migration_task_family: nonEmpty(true),
  migration_container_name: nonEmpty(true),
  migration_log_group_name: nonEmpty(true),
  service_catalog: ServiceCatalogSchema,
}).superRefine((o, ctx) => {
  for (const s of Array.isArray(o.service_catalog) ? o.service_catalog : []) {
    if (s.enabled && !(s.image in o.repository_urls)) {
      ctx.addIssue({ code: 'custom', path: ['service_catalog', s.name, 'image'], input: s.image, message: `"${s.image}" has no entry in repository_urls (${Object.keys(o.repository_urls).join(', ')})` });
    }
  }
}).transform((o) => ({
  environment: o.environment,
  region: o.region,
  clusterName: o.cluster_name,
  clusterArn: o.cluster_arn,
  privateSubnetIds: o.private_subnet_ids,
  tasksSecurityGroupId: o.tasks_security_group_id,
  repositoryUrls: o.repository_urls,
  repositoryMutableTags: o.repository_mutable_tags,
  albDnsName: o.alb_dns_name,
  albUrl: o.alb_url,
  efsFileSystemId: o.efs_file_system_id,
  efsAccessPointId: o.efs_access_point_id,
  namespaceName: o.namespace_name,
  secretArns: o.secret_arns,
  migrationTaskFamily: o.migration_task_family,
  migrationContainerName: o.migration_container_name,
  migrationLogGroupName: o.migration_log_group_name,
  catalog: o.service_catalog,
}));

/**
 * @typedef {import("zod").input<typeof ServiceCatalogEntrySchema>} ServiceCatalogOutput one entry as the stack writes it
 * @typedef {import("zod").output<typeof ServiceCatalogEntrySchema>} CatalogEntry one entry as the runner reads it
 * @typedef {import("zod").output<typeof OutputsSchema>} ContractOutputs the outputs as the runner reads them
 */

module.exports = { OutputsSchema, ServiceCatalogEntrySchema, showOutputValue: show };
