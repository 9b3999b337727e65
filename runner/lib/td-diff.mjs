// What a new task-definition revision changes against the one a service runs, field by field, in words safe to
// print: environment variables and secrets by name only (a value never appears; a secret's valueFrom is named
// only as changed), images, commands, ports, CPU and memory, health checks, roles and volumes. Pure: used by the
// `diff` verb and the rollout's dry run.

/**
 * @typedef {import('@aws-sdk/client-ecs').TaskDefinition} TaskDefinition
 * @typedef {import('@aws-sdk/client-ecs').ContainerDefinition} ContainerDefinition
 * @typedef {{ field: string, from: string, to: string }} Change one changed field; `from`/`to` are printable
 */

const NONE = '(none)';

/** @param {unknown} v */
const show = (v) => (v === undefined || v === null || (Array.isArray(v) && !v.length) ? NONE : Array.isArray(v) ? JSON.stringify(v) : String(v));

/** A role's name from its ARN (the account and path add nothing to a diff). @param {string|undefined} arn */
const roleName = (arn) => (arn ? arn.split('/').pop() ?? arn : undefined);

/** @param {ContainerDefinition['portMappings']} ports */
const portsOf = (ports) => (ports ?? []).map((p) => `${p.containerPort}/${p.protocol ?? 'tcp'}`).sort();

/** @param {ContainerDefinition['healthCheck']} h */
const healthOf = (h) => (h ? `${JSON.stringify(h.command ?? [])} every ${h.interval ?? 30}s, timeout ${h.timeout ?? 5}s, ${h.retries ?? 3} retries, start ${h.startPeriod ?? 0}s` : undefined);

/**
 * Names added, removed and changed between two name -> value maps, as `+A, -B, ~C` (sorted), or null when equal.
 * @param {Map<string, string>} from @param {Map<string, string>} to
 */
function nameChanges(from, to) {
  const out = [];
  for (const [k, v] of to) if (!from.has(k)) out.push(`+${k}`); else if (from.get(k) !== v) out.push(`~${k}`);
  for (const k of from.keys()) if (!to.has(k)) out.push(`-${k}`);
  return out.length ? out.sort((a, b) => a.slice(1).localeCompare(b.slice(1))).join(', ') : null;
}

/** JSON with object keys sorted and empty values left out, to compare fields that are not shown. @param {unknown} v @returns {string} */
function stable(v) {
  /** @type {(x: unknown) => unknown} */
  const norm = (x) => {
    if (Array.isArray(x)) return x.length ? x.map(norm) : undefined;
    if (x && typeof x === 'object') {
      /** @type {Record<string, unknown>} */
      const o = {};
      for (const k of Object.keys(x).sort()) {
        const n = norm(/** @type {Record<string, unknown>} */ (x)[k]);
        if (n !== undefined) o[k] = n;
      }
      return Object.keys(o).length ? o : undefined;
    }
    return x === null ? undefined : x;
  };
  return JSON.stringify(norm(v)) ?? '';
}

/**
 * The fields of two objects outside `shown` that differ, each as changed (their values are not printed: any of
 * them may hold what should not be shown, e.g. docker labels or log options).
 * @param {string} prefix @param {Record<string, unknown>} a @param {Record<string, unknown>} b @param {ReadonlySet<string>} shown
 * @returns {Change[]}
 */
function otherChanges(prefix, a, b, shown) {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !shown.has(k)).sort();
  return keys.filter((k) => stable(a[k]) !== stable(b[k])).map((k) => ({ field: `${prefix}${k}`, from: a[k] === undefined ? NONE : 'set', to: b[k] === undefined ? 'removed' : 'changed' }));
}

/** Container fields shown with their values (or names) by containerChanges. */
const CONTAINER_SHOWN = new Set(['name', 'image', 'command', 'entryPoint', 'environment', 'secrets', 'portMappings', 'cpu', 'memory', 'memoryReservation', 'healthCheck', 'essential']);
/** Task fields shown by taskDefinitionChanges; the rest of what a revision registers is compared as `otherChanges`. */
const TASK_SHOWN = new Set(['cpu', 'memory', 'taskRoleArn', 'executionRoleArn', 'volumes', 'containerDefinitions']);
/** What DescribeTaskDefinition answers beside the registrable fields: never part of a diff. */
const TASK_READ_ONLY = new Set(['taskDefinitionArn', 'revision', 'status', 'requiresAttributes', 'compatibilities', 'registeredAt', 'registeredBy', 'deregisteredAt', 'deleteRequestedAt']);

/** @param {{ name?: string, value?: string, valueFrom?: string }[] | undefined} list @param {'value'|'valueFrom'} key */
const mapOf = (list, key) => new Map((list ?? []).map((e) => [String(e.name), String(e[key] ?? '')]));

/**
 * @param {string} prefix @param {ContainerDefinition} a @param {ContainerDefinition} b @returns {Change[]}
 */
function containerChanges(prefix, a, b) {
  /** @type {Change[]} */
  const out = [];
  /** @param {string} field @param {unknown} from @param {unknown} to */
  const cmp = (field, from, to) => {
    const [f, t] = [show(from), show(to)];
    if (f !== t) out.push({ field: `${prefix}${field}`, from: f, to: t });
  };
  cmp('image', a.image, b.image);
  cmp('command', a.command, b.command);
  cmp('entryPoint', a.entryPoint, b.entryPoint);
  const env = nameChanges(mapOf(a.environment, 'value'), mapOf(b.environment, 'value'));
  if (env) out.push({ field: `${prefix}environment`, from: `${(a.environment ?? []).length} variable(s)`, to: env });
  const sec = nameChanges(mapOf(a.secrets, 'valueFrom'), mapOf(b.secrets, 'valueFrom'));
  if (sec) out.push({ field: `${prefix}secrets`, from: `${(a.secrets ?? []).length} secret(s)`, to: sec });
  cmp('ports', portsOf(a.portMappings), portsOf(b.portMappings));
  cmp('cpu', a.cpu, b.cpu);
  cmp('memory', a.memory, b.memory);
  cmp('memoryReservation', a.memoryReservation, b.memoryReservation);
  cmp('healthCheck', healthOf(a.healthCheck), healthOf(b.healthCheck));
  cmp('essential', a.essential ?? true, b.essential ?? true);
  out.push(...otherChanges(prefix, /** @type {Record<string, unknown>} */ (a), /** @type {Record<string, unknown>} */ (b), CONTAINER_SHOWN));
  return out;
}

/**
 * What `desired` changes against `running`: task-level fields, then each container (by name; the release
 * container first, without a prefix), then containers added or removed. Empty when nothing that matters differs.
 * @param {TaskDefinition | Partial<TaskDefinition>} running
 * @param {TaskDefinition | Partial<TaskDefinition>} desired
 * @param {string} container the container the release image goes into
 * @returns {Change[]}
 */
export function taskDefinitionChanges(running, desired, container) {
  /** @type {Change[]} */
  const out = [];
  /** @param {string} field @param {unknown} from @param {unknown} to */
  const cmp = (field, from, to) => {
    const [f, t] = [show(from), show(to)];
    if (f !== t) out.push({ field, from: f, to: t });
  };
  cmp('task cpu', running.cpu, desired.cpu);
  cmp('task memory', running.memory, desired.memory);
  cmp('task role', roleName(running.taskRoleArn), roleName(desired.taskRoleArn));
  cmp('execution role', roleName(running.executionRoleArn), roleName(desired.executionRoleArn));
  cmp('volumes', (running.volumes ?? []).map((v) => v.name).sort(), (desired.volumes ?? []).map((v) => v.name).sort());
  const task = (/** @type {object} */ t) => Object.fromEntries(Object.entries(t).filter(([k]) => !TASK_READ_ONLY.has(k)));
  out.push(...otherChanges('', task(running), task(desired), TASK_SHOWN));
  const have = new Map((running.containerDefinitions ?? []).map((c) => [String(c.name), c]));
  const want = new Map((desired.containerDefinitions ?? []).map((c) => [String(c.name), c]));
  const names = [...new Set([...want.keys(), ...have.keys()])].sort((a, b) => (a === container ? -1 : b === container ? 1 : a.localeCompare(b)));
  for (const n of names) {
    const a = have.get(n);
    const b = want.get(n);
    const prefix = n === container ? '' : `${n}: `;
    if (a && b) out.push(...containerChanges(prefix, a, b));
    else out.push({ field: `container ${n}`, from: a ? 'present' : NONE, to: b ? 'added' : 'removed' });
  }
  return out;
}

/**
 * The changes as aligned lines, indented by `indent`.
 * @param {Change[]} changes @param {string} [indent]
 */
export function formatChanges(changes, indent = '  ') {
  const w = Math.max(0, ...changes.map((c) => c.field.length));
  return changes.map((c) => `${indent}${c.field.padEnd(w)}  ${c.from} -> ${c.to}`);
}
