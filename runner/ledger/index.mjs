// The release ledger: one entry per rollout or rollback, kept in SSM Parameter Store (standard tier, String) as
// `/<namePrefix>/releases/<id>`, where the id sorts by start time. Written at the start of a run (in-progress) and
// again at its end (the outcome) with PutParameter Overwrite, so SSM keeps both as versions of one parameter.
// Read with GetParametersByPath (10 a page). Entries hold no secret values: ARNs, digests, names, times,
// outcomes and the CI run URL only. Why SSM and its limits: docs/operations.md, "The release ledger".
import { GetParameterCommand, GetParametersByPathCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { send, errorLine as errorText } from '../aws/send.mjs';
import names from '../../lib/config/names.cjs';

/** The standard tier's limit on a parameter value. */
export const MAX_ENTRY_BYTES = 4096;
/** GetParametersByPath returns at most this many parameters a page. */
export const PAGE_SIZE = 10;

/**
 * @typedef {'in-progress'|'passed'|'failed'|'interrupted'} Outcome
 * @typedef {{ taskArn: string|null, status: string, exitCode: number|null }} MigrationRecord
 * @typedef {{ ciRunUrl: string|null, actor: string|null, host: string|null }} Origin
 */

/**
 * @typedef {object} LedgerEntry
 * @property {1} schemaVersion
 * @property {string} id
 * @property {'rollout'|'rollback'} kind
 * @property {string} release                    the release this run put in place (for a rollback: the target's release)
 * @property {string} environment
 * @property {Outcome} outcome
 * @property {string|null} failedStep
 * @property {string} startedAt                  ISO
 * @property {string|null} finishedAt            ISO; null while in progress
 * @property {Record<string, string>} images     image key -> digest ("sha256:...")
 * @property {Record<string, string>} taskDefinitions  catalog service name -> task definition ARN (with revision)
 * @property {MigrationRecord | null} migration
 * @property {string|null} rollbackOf            kind 'rollback': the id of the entry that was current when it started
 * @property {string|null} target                kind 'rollback': the id of the entry rolled back to
 * @property {Origin} origin
 * @property {boolean} [complete] false when the run left tier steps out (--only, --from, --skip): it did not put
 *   the whole release in place, so lastSuccessful() passes over it; absent counts as true
 */

/**
 * What every ledger call needs: the SSM client (runner/aws/clients.mjs) and the config's namePrefix.
 * @typedef {object} LedgerContext
 * @property {{ ssm: import('@aws-sdk/client-ssm').SSMClient }} aws
 * @property {string} namePrefix
 * @property {AbortSignal} [signal]
 * @property {{ warn: (msg: string) => void }} [log]
 */

/** A ledger entry could not be written or read (the message says which and why). */
export class LedgerError extends Error {
  /** @param {string} message @param {{ cause?: unknown }} [options] */
  constructor(message, options) {
    super(message, options);
    this.name = 'LedgerError';
  }
}

/** `/<namePrefix>/releases` (lib/config/names.cjs: the ci-access stack grants the rollout role this path) */
export const { ledgerPath } = names;

/** @param {LedgerContext} ctx @param {string} id */
const parameterName = (ctx, id) => `${ledgerPath(ctx.namePrefix)}/${id}`;

/**
 * The id of an entry: `<startedAt as YYYYMMDDTHHMMSSmmmZ>-<kind>-<release>`; ids sort by start time.
 * @param {'rollout'|'rollback'} kind @param {string} release @param {string} startedAtIso
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
 * The newest entries first (by id, i.e. by start time), at most `limit`. Every page is read (SSM returns a path's
 * parameters in no useful order), so the cost is one call per 10 entries in the ledger. A value that is not an
 * entry is left out with a warning.
 * @param {LedgerContext} ctx @param {{ limit?: number }} [opts]
 * @returns {Promise<LedgerEntry[]>}
 */
export async function readEntries(ctx, { limit = Infinity } = {}) {
  /** @type {LedgerEntry[]} */
  const entries = [];
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
      const entry = parseEntry(p.Value);
      if (entry) entries.push(entry);
      else ctx.log?.warn(`ledger: ${p.Name} is not a ledger entry; left out`);
    }
    token = page.NextToken || undefined;
  } while (token);
  entries.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  return entries.slice(0, limit);
}

/**
 * One entry by id; null when there is none.
 * @param {LedgerContext} ctx @param {string} id
 * @returns {Promise<LedgerEntry|null>}
 */
export async function readEntry(ctx, id) {
  const name = parameterName(ctx, id);
  try {
    const res = await send(ctx, ctx.aws.ssm, new GetParameterCommand({ Name: name }));
    const entry = parseEntry(res.Parameter?.Value);
    if (!entry) throw new LedgerError(`${name} is not a ledger entry`);
    return entry;
  } catch (e) {
    if (e instanceof LedgerError) throw e;
    if (/** @type {Error} */ (e).name === 'ParameterNotFound') return null;
    throw new LedgerError(`could not read ledger entry ${name}: ${errorText(e)}`, { cause: e });
  }
}

/**
 * The newest entry that passed and put a whole release in place (kind rollout or rollback), older than the entry
 * `before` (an id) when given; null when there is none.
 * @param {LedgerEntry[]} entries any order
 * @param {{ before?: string }} [opts]
 * @returns {LedgerEntry|null}
 */
export function lastSuccessful(entries, { before } = {}) {
  const ok = entries.filter((e) => e.outcome === 'passed' && e.complete !== false && (before === undefined || e.id < before));
  ok.sort((a, b) => (a.id < b.id ? 1 : -1));
  return ok[0] ?? null;
}

/** @param {string|undefined} value @returns {LedgerEntry|null} */
function parseEntry(value) {
  if (!value) return null;
  try {
    const e = JSON.parse(value);
    const ok = e && typeof e === 'object' && e.schemaVersion === 1 && typeof e.id === 'string' && typeof e.release === 'string'
      && typeof e.outcome === 'string' && e.taskDefinitions && typeof e.taskDefinitions === 'object';
    return ok ? /** @type {LedgerEntry} */ (e) : null;
  } catch {
    return null;
  }
}
