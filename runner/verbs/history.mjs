// `history`: the last N entries of the release ledger (runner/ledger), newest first: id and start time, kind (a run: its service and exit code),
// release, outcome, failed step, duration, origin. Exit 0 when the ledger could be read (also when it is empty),
// 1 when it could not, 2 on bad input.
import { defineCommand, positiveInt } from '../lib/cli-options.mjs';
import { stackInputFlags, jsonFlag, helpFlag } from '../lib/args.mjs';
import { EXIT } from '../lib/errors.mjs';
import { fmtMs } from '../lib/runtime.mjs';
import { readLedger, ledgerPath } from '../ledger/index.mjs';
import { runVerb, table } from './setup.mjs';
import { usage } from './index.mjs';

/** @typedef {{ outputs: string|null, stackDir: string, config: string|null, json: boolean, last: number, help: boolean }} HistoryOptions */

export const DEFAULT_LAST = 10;

const COMMAND = defineCommand(/** @type {import('../lib/cli-options.mjs').CommandSpec<HistoryOptions>} */ ({
  head: `${usage('history')}

The last rollouts, rollbacks and changing one-off runs (run --changes) recorded in the release ledger (SSM
Parameter Store /<namePrefix>/releases), newest first.`,
  column: 23,
  sections: [
    { title: 'Inputs', flags: stackInputFlags() },
    { title: 'Output', flags: [
      { flag: '--last', short: 'n', value: 'N', key: 'last', default: DEFAULT_LAST, parse: positiveInt, help: [`show the last N entries (default ${DEFAULT_LAST})`] },
      ...jsonFlag(), ...helpFlag()] },
  ],
  tail: `Exit codes
  0    the ledger was read (an empty ledger included)
  1    the ledger could not be read
  1    the ledger holds an entry that cannot be read (named)
  2    bad input (flags, config, outputs)`,
}));

export const HELP = COMMAND.help;

/**
 * @param {string[]} argv @param {import('../main.mjs').MainDeps} deps
 * @returns {Promise<import('./index.mjs').VerbResult>}
 */
export async function run(argv, deps) {
  return runVerb(COMMAND, argv, deps, async (options, ctx) => {
    const { entries, unreadable } = await readLedger({ aws: ctx.aws, namePrefix: ctx.config.namePrefix, signal: ctx.signal, log: ctx.log }, { limit: options.last });
    const report = { schemaVersion: 1, ledger: ledgerPath(ctx.config.namePrefix), entries, unreadable };
    if (options.json) ctx.write(JSON.stringify(report, null, 2));
    else {
      ctx.write(formatHistory(entries, report.ledger));
      for (const u of unreadable) ctx.write(`! unreadable ledger entry ${u.name}: ${u.reason} (restore or delete it)`);
    }
    // an entry that cannot be read is not history anyone can trust: exit 1
    return { exitCode: unreadable.length ? EXIT.FAILED : EXIT.OK, report };
  });
}

/**
 * @param {import('../ledger/index.mjs').LedgerEntry[]} entries newest first
 * @param {string} ledger the parameter path, for the empty case
 */
export function formatHistory(entries, ledger) {
  if (!entries.length) return `no entries in the release ledger ${ledger}`;
  const rows = [['id (start time, kind, release)', 'kind', 'release', 'outcome', 'failed step', 'duration', 'origin']];
  for (const e of entries) {
    const ms = e.finishedAt ? Date.parse(e.finishedAt) - Date.parse(e.startedAt) : null;
    rows.push([
      e.id, e.kind === 'rollback' && e.target ? `rollback to ${e.target}` : e.kind === 'run' && e.run ? `run ${e.run.service} (exit ${e.run.exitCode ?? '-'})` : e.kind, e.release, e.outcome, e.failedStep ?? '-',
      ms === null || Number.isNaN(ms) ? '-' : fmtMs(ms), e.origin?.ciRunUrl ?? ([e.origin?.actor, e.origin?.host].filter(Boolean).join('@') || '-'),
    ]);
  }
  return table(rows);
}
