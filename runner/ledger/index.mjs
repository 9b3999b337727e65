// The release ledger: one entry per rollout or rollback (and per one-off `run` declared as changing, kind 'run',
// which never puts a release in place: isRelease), kept in SSM Parameter Store (standard tier, String) as
// `/<namePrefix>/releases/<id>`, where the id sorts by start time. Written at the start of a run (in-progress) and
// again at its end (the outcome) with PutParameter Overwrite, so SSM keeps both as versions of one parameter.
// Read with GetParametersByPath (10 a page). Entries hold no secret values: ARNs, digests, names, times,
// outcomes and the CI run URL only. Why SSM and its limits: docs/operations.md, "The release ledger".
import { DeleteParametersCommand, GetParametersByPathCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { send, errorLine as errorText } from '../aws/send.mjs';
import { z } from 'zod';
import names from '../../lib/config/names.cjs';

/** The standard tier's limit on a parameter value. */
export const MAX_ENTRY_BYTES = 4096;
/** GetParametersByPath returns at most this many parameters a page. */
export const PAGE_SIZE = 10;

// One schema for an entry, declared once (zod, like the config): the type below is derived from it, every read is
// checked against it, and an entry that fails it is named as unreadable, never guessed at.
const iso = z.iso.datetime();
const OriginSchema = z.object({ ciRunUrl: z.string().nullable(), actor: z.string().nullable(), host: z.string().nullable() }).strict();
export const LedgerEntrySchema = z.object({
  schemaVersion: z.literal(1),
  id: z.string().regex(/^\d{8}T\d{9}Z-(rollout|rollback|run)-\S+$/, 'not a ledger id (<YYYYMMDDTHHMMSSmmmZ>-<kind>-<release>)'),
  /** run: a one-off command (runner/verbs/run.mjs --changes); it changes no service and is never a release */
  kind: z.enum(['rollout', 'rollback', 'run']),
  /** the release this run put in place (for a rollback: the target's release; for a run: the release of the task
   *  definition it ran, "unknown" when the ledger does not name it) */
  release: z.string().min(1),
  environment: z.string().min(1),
  /** refused: the run stopped on bad input before it changed anything (never a target, never taken up again) */
  outcome: z.enum(['in-progress', 'passed', 'failed', 'interrupted', 'refused']),
  failedStep: z.string().nullable(),
  startedAt: iso,
  finishedAt: iso.nullable(),
  /** image key -> digest */
  images: z.record(z.string(), z.string().regex(/^sha256:[0-9a-f]{64}$/, 'not an image digest (sha256:<64 hex>)')),
  /** catalog service name -> task definition ARN (with revision) */
  taskDefinitions: z.record(z.string(), z.string().regex(/^arn:[^:]+:ecs:[^:]*:[^:]*:task-definition\/[^:]+:\d+$/, 'not a task definition ARN with a revision')),
  migration: z.object({ taskArn: z.string().nullable(), status: z.string(), exitCode: z.number().int().nullable() }).strict().nullable(),
  /** kind rollback: the id of the entry that was current when it started */
  rollbackOf: z.string().nullable(),
  /** kind rollback: the id of the entry rolled back to */
  target: z.string().nullable(),
  origin: OriginSchema,
  /** false when the run left tier steps out (--only, --from, --skip) or ran none: it did not put the whole release
   *  in place, so it is never a rollback target; absent counts as true (entries written before the field) */
  complete: z.boolean().optional(),
  /** the step ids the run ran (a check-only run: e.g. ["smoke"]) */
  covered: z.array(z.string()).optional(),
  /** kind run: the one-off task: the catalog service whose task definition it ran, that revision, the command
   *  (as given, secret-looking values redacted), the task and its container's exit code */
  run: z.object({
    service: z.string().min(1),
    taskDefinition: z.string().regex(/^arn:[^:]+:ecs:[^:]*:[^:]*:task-definition\/[^:]+:\d+$/, 'not a task definition ARN with a revision'),
    command: z.array(z.string()),
    taskArn: z.string().nullable(),
    exitCode: z.number().int().nullable(),
  }).strict().optional(),
  /** the stale lock this run took over with --break-lock (runner/ledger/lock.mjs) */
  lockTakeover: z.object({
    at: iso,
    holder: z.object({ command: z.string(), release: z.string().nullable(), origin: OriginSchema, since: iso, renewedAt: iso }).strict().nullable(),
  }).strict().optional(),
}).strict();

/**
 * @typedef {z.output<typeof LedgerEntrySchema>} LedgerEntry
 * @typedef {LedgerEntry['outcome']} Outcome
 * @typedef {NonNullable<LedgerEntry['migration']>} MigrationRecord
 * @typedef {LedgerEntry['origin']} Origin
 * @typedef {NonNullable<LedgerEntry['lockTakeover']>} LockTakeover
 * @typedef {{ name: string, reason: string }} Unreadable a parameter under the ledger path that is not a valid entry
 */

/**
 * What every ledger call needs: the SSM client (runner/aws/clients.mjs) and the config's namePrefix.
 * @typedef {object} LedgerContext
 * @property {{ ssm: import('@aws-sdk/client-ssm').SSMClient }} aws
 * @property {string} namePrefix
 * @property {AbortSignal} [signal]
 * @property {{ warn: (msg: string) => void, info?: (msg: string) => void }} [log]
 */

/** A ledger entry could not be written or read (the message says which and why). */
export class LedgerError extends Error {
  /** @param {string} message @param {{ cause?: unknown }} [options] */
  constructor(message, options) {
    super(message, options);
    this.name = 'LedgerError';
  }
}

/**
 * Did this entry's command put (or try to put) a release in place: a rollout or a rollback. A 'run' entry never
 * does: `status` and `rollback` look past it (no last successful release, no current entry, no target).
 * @param {LedgerEntry} e
 */
export const isRelease = (e) => e.kind === 'rollout' || e.kind === 'rollback';

/** `/<namePrefix>/releases` (lib/config/names.cjs: the ci-access stack grants the rollout role this path) */
export const { ledgerPath } = names;

/** @param {LedgerContext} ctx @param {string} id */
const parameterName = (ctx, id) => `${ledgerPath(ctx.namePrefix)}/${id}`;

/**
 * The id of an entry: `<startedAt as YYYYMMDDTHHMMSSmmmZ>-<kind>-<release>`; ids sort by start time.
 * @param {LedgerEntry['kind']} kind @param {string} release @param {string} startedAtIso
 */
export function entryId(kind, release, startedAtIso) {
  const t = new Date(startedAtIso);
  if (Number.isNaN(t.getTime())) throw new RangeError(`entryId: "${startedAtIso}" is not an ISO time`);
  const stamp = t.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${stamp}-${kind}-${release}`;
}

/**
 * The value stored for an entry: compact JSON within MAX_ENTRY_BYTES. Nothing is ever dropped or truncated:
 * an entry over the limit is an error naming its size and its largest parts.
 * @param {LedgerEntry} entry
 */
export function serializeEntry(entry) {
  const text = JSON.stringify(entry);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= MAX_ENTRY_BYTES) return text;
  const parts = Object.entries(entry).map(([k, v]) => [k, Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8')])
    .sort((a, b) => Number(b[1]) - Number(a[1])).slice(0, 3).map(([k, n]) => `${k} ${n} B`);
  throw new LedgerError(`ledger entry ${entry.id} is ${bytes} bytes, over the ${MAX_ENTRY_BYTES}-byte limit of a standard SSM parameter (largest: ${parts.join(', ')}); nothing was written`);
}

/**
 * Write (create or overwrite) an entry.
 * @param {LedgerContext} ctx @param {LedgerEntry} entry
 */
export async function writeEntry(ctx, entry) {
  const value = serializeEntry(entry);
  const name = parameterName(ctx, entry.id);
  try {
    await send(ctx, ctx.aws.ssm, new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
  } catch (e) {
    throw new LedgerError(`could not write ledger entry ${name}: ${errorText(e)}`, { cause: e });
  }
}

/**
 * The ledger as stored: valid entries newest first (by id, i.e. by start time), at most `limit`, and every
 * parameter under the path that is not a valid entry (`unreadable`, named with what is wrong). Every page is read
 * (SSM returns a path's parameters in no useful order), so the cost is one call per 10 entries in the ledger.
 * @param {LedgerContext} ctx @param {{ limit?: number }} [opts]
 * @returns {Promise<{ entries: LedgerEntry[], unreadable: Unreadable[] }>}
 */
export async function readLedger(ctx, { limit = Infinity } = {}) {
  /** @type {LedgerEntry[]} */
  const entries = [];
  /** @type {Unreadable[]} */
  const unreadable = [];
  /** @type {string|undefined} */
  let token;
  do {
    let page;
    try {
      page = await send(ctx, ctx.aws.ssm, new GetParametersByPathCommand({ Path: ledgerPath(ctx.namePrefix), Recursive: false, MaxResults: PAGE_SIZE, NextToken: token }));
    } catch (e) {
      throw new LedgerError(`could not read the ledger ${ledgerPath(ctx.namePrefix)}: ${errorText(e)}`, { cause: e });
    }
    for (const p of page.Parameters ?? []) {
      const name = p.Name ?? '?';
      const parsed = parseEntry(p.Value, name);
      if ('entry' in parsed) entries.push(parsed.entry);
      else unreadable.push({ name, reason: parsed.reason });
    }
    token = page.NextToken || undefined;
  } while (token);
  entries.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  unreadable.sort((a, b) => (a.name < b.name ? 1 : -1));
  return { entries: entries.slice(0, limit), unreadable };
}

/**
 * The newest entry that passed and put a whole release in place (kind rollout or rollback, never a run), older than the entry
 * `before` (an id) when given; null when there is none.
 * @param {LedgerEntry[]} entries any order
 * @param {{ before?: string }} [opts]
 * @returns {LedgerEntry|null}
 */
export function lastSuccessful(entries, { before } = {}) {
  const ok = entries.filter((e) => isRelease(e) && e.outcome === 'passed' && e.complete !== false && (before === undefined || e.id < before));
  ok.sort((a, b) => (a.id < b.id ? 1 : -1));
  return ok[0] ?? null;
}

/**
 * A stored value checked against the schema, and its id against the parameter's name.
 * @param {string|undefined} value @param {string} name the parameter's name
 * @returns {{ entry: LedgerEntry } | { reason: string }}
 */
function parseEntry(value, name) {
  if (!value) return { reason: 'empty value' };
  let data;
  try {
    data = JSON.parse(value);
  } catch (e) {
    return { reason: `not JSON (${/** @type {Error} */ (e).message})` };
  }
  const parsed = LedgerEntrySchema.safeParse(data);
  if (!parsed.success) {
    const first = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(entry)'}: ${i.message}`);
    return { reason: first.join('; ') };
  }
  const leaf = name.slice(name.lastIndexOf('/') + 1);
  if (parsed.data.id !== leaf) return { reason: `its id "${parsed.data.id}" does not match the parameter's name (${leaf})` };
  return { entry: parsed.data };
}

/** Retention: how many entries the ledger keeps when the config says nothing (config ledger.keep). */
export const DEFAULT_KEEP = 100;

/**
 * Delete the oldest entries beyond `keep` (DeleteParameters, 10 a call), so the ledger stays far inside the
 * parameter store's quotas. Never deletes an in-progress entry or one of the `keep` newest.
 * @param {LedgerContext} ctx @param {LedgerEntry[]} entries newest first @param {number} keep
 * @returns {Promise<string[]>} the ids deleted
 */
export async function pruneEntries(ctx, entries, keep) {
  const old = entries.slice(keep).filter((e) => e.outcome !== 'in-progress').map((e) => e.id);
  for (let i = 0; i < old.length; i += PAGE_SIZE) {
    const batch = old.slice(i, i + PAGE_SIZE);
    try {
      await send(ctx, ctx.aws.ssm, new DeleteParametersCommand({ Names: batch.map((id) => parameterName(ctx, id)) }));
    } catch (e) {
      throw new LedgerError(`could not prune the ledger ${ledgerPath(ctx.namePrefix)}: ${errorText(e)}`, { cause: e });
    }
  }
  return old;
}
