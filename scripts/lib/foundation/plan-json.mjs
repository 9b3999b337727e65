// Types only: the parts of Terraform's JSON output (`terraform show -json <plan>` and `terraform show -json` of
// the state) that the harness reads. One home for the shape; gaps.mjs, apply.mjs and drift.mjs import it.

/**
 * @typedef {object} PlanJson
 * @property {ResourceChange[]} [resource_changes]
 * @property {{ root_module?: ConfigModule }} [configuration]
 */

/**
 * @typedef {object} ResourceChange
 * @property {string} address
 * @property {string} type
 * @property {string} mode  'managed' | 'data'
 * @property {Change} change
 */

/**
 * @typedef {object} Change
 * @property {string[]} actions              e.g. ['no-op'], ['update'], ['delete', 'create']
 * @property {Record<string, unknown> | null} [before]
 * @property {Record<string, unknown> | null} [after]
 * @property {Record<string, unknown>} [after_unknown]
 * @property {unknown[][]} [replace_paths]
 */

/**
 * @typedef {object} ConfigModule
 * @property {ConfigResource[]} [resources]
 * @property {Record<string, { expression?: unknown, depends_on?: string[] }>} [outputs]
 * @property {Record<string, unknown>} [module_calls]
 */

/**
 * @typedef {object} ConfigResource
 * @property {string} address
 * @property {string} type
 * @property {string} mode
 * @property {unknown} [expressions]
 * @property {unknown} [count_expression]
 * @property {unknown} [for_each_expression]
 * @property {string[]} [depends_on]
 */

/**
 * @typedef {object} StateModule
 * @property {{ address: string }[]} [resources]
 * @property {StateModule[]} [child_modules]
 */

/**
 * @typedef {object} StateJson
 * @property {{ root_module?: StateModule }} [values]
 */

export {};
