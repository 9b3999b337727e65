// Markdown summary of a rollout report (docs/contract.md section 7), suitable for $GITHUB_STEP_SUMMARY.
// Every value from the report is escaped: no HTML or table syntax from a message reaches the page.
import { assertReport, duration, durationOf, isFailure } from './format.mjs';
import { verdict } from '../lib/verdict.mjs';

const LABEL = /** @type {Record<string, string>} */ ({
  passed: '✅ passed',
  failed: '❌ **FAILED**',
  interrupted: '⛔ **INTERRUPTED**',
  skipped: '⏭️ skipped',
  'not-run': '⚪ not run',
  unchanged: '➖ unchanged',
  pushed: '✅ pushed',
  'skipped-exists': '➖ exists (not rebuilt)',
});

/** Status cell. Unknown statuses are shown escaped as they are. */
export function statusLabel(/** @type {unknown} */ s) {
  return LABEL[String(s)] ?? (s === undefined || s === null ? '–' : cell(s));
}

/** Escape one table cell: HTML, pipes, newlines, Markdown emphasis/link syntax. */
export function cell(/** @type {unknown} */ v) {
  if (v === undefined || v === null || v === '') return '–';
  return String(v)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/\\/g, '\\\\').replace(/([|*_`[\]#~])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

/** Inline code for identifiers; falls back to an escaped cell when the value holds a backtick. */
export function code(/** @type {unknown} */ v) {
  if (v === undefined || v === null || v === '') return '–';
  const s = String(v).replace(/\r?\n/g, ' ');
  return s.includes('`') || /[<>|&]/.test(s) ? cell(s) : `\`${s}\``;
}

/** @param {string[]} head @param {string[][]} rows */
function table(head, rows) {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/**
 * @param {unknown} input the report object
 * @returns {string} Markdown
 */
export function renderSummary(input) {
  const report = assertReport(input);
  const steps = report.steps ?? [];
  const status = String(report.status ?? 'unknown');
  const icon = status === 'passed' ? '✅' : isFailure(status) ? '❌' : 'ℹ️';
  /** @type {string[]} */
  const out = [];
  out.push(`## ${icon} Staging rollout ${cell(verdict(report))}: release ${code(report.release)} (${cell(report.environment ?? 'unknown environment')})`);
  out.push('');
  out.push(table(['', ''], [
    ['Status', `${statusLabel(status)}${typeof report.exitCode === 'number' ? ` (exit code ${report.exitCode})` : ''}`],
    ['Release', code(report.release)],
    ['Environment', report.emulator ? `${cell(report.environment)} on the local emulator, not AWS (${cell(report.emulator.source)})`
      : report.dataplane ? `${cell(report.environment)} on the local data plane, not AWS (${cell(report.dataplane.source)})` : cell(report.environment)],
    ['Started', cell(report.startedAt)],
    ['Finished', cell(report.finishedAt)],
    ['Duration', duration(durationOf(report))],
    ['AWS API calls', cell(report.awsCalls)],
  ]));
  if (report.ledger && !report.ledger.written) {
    out.push('', `> ⚠️ **Not recorded in the release ledger** (${cell(report.ledger.reason)}): \`status\` and \`rollback\` do not know this run.`);
  }
  if (report.failure) {
    const f = report.failure;
    out.push('');
    out.push(`> ❌ **Failure** in step ${code(f.step)}${f.service ? `, service ${code(f.service)}` : ''}${f.operation ? `, AWS ${code(f.operation)}` : ''}: ${cell(f.message)}`);
    if (f.halfDone?.length) {
      out.push('', '### Left half-done', '');
      out.push(table(['Step', 'Service', 'Operation', 'State', 'What'], f.halfDone.map((h) => [
        code(h.step), h.service ? code(h.service) : '', h.operation ? code(h.operation) : '', h.state, cell(h.what),
      ])));
    }
  }

  out.push('', '### Steps', '');
  out.push(steps.length
    ? table(['#', 'Step', 'Status', 'Duration', 'Notes'], steps.map((s, i) => [
      String(i + 1), `${code(s.id)}${s.title ? ` ${cell(s.title)}` : ''}`, statusLabel(s.status), duration(durationOf(s)), cell(s.reason),
    ]))
    : '_No steps were run._');

  const services = steps.flatMap((s) => (s.services ?? []).map((v) => ({ step: s.id, ...v })));
  if (services.length) {
    out.push('', '### Services', '');
    out.push(table(['Step', 'Service', 'Status', 'Running / desired', 'Rollout', 'Task definition', 'Duration', 'Notes'], services.map((v) => [
      code(v.step), code(v.name), statusLabel(v.status),
      // not applicable (task definitions) or not observed (the emulator's running count): nothing, never "?"
      v.running == null && v.desired == null ? '–' : `${v.running ?? '–'} / ${v.desired ?? '–'}`,
      cell(v.rolloutState), code(v.taskDefinitionArn ? String(v.taskDefinitionArn).split('/').pop() : null), duration(durationOf(v)), cell(v.reason),
    ])));
  }

  const images = Object.entries(report.images ?? {});
  if (images.length) {
    out.push('', '### Images', '');
    out.push(table(['Image', 'Status', 'Tag', 'Digest', 'URI'], images.map(([key, im]) => {
      const i = im;
      return [code(key), statusLabel(i.status), code(i.tag), code(i.digest), code(i.uri)];
    })));
  }

  const checks = steps.flatMap((s) => (s.checks ?? []).map((c) => ({ step: s.id, ...c })));
  if (checks.length) {
    // every step's checks (image pushes, rollouts, the /data gate, the smoke suite), each under its step; the
    // smoke step's own are counted apart, so "smoke passed" never counts what another step proved
    out.push('', '### Checks', '');
    out.push(table(['Step', 'Check', 'Status', 'Duration', 'Evidence / reason'], checks.map((c) => [
      code(c.step), code(c.name), statusLabel(c.status), duration(durationOf(c)),
      [c.reason ? cell(c.reason) : null, c.evidence ? cell(c.evidence) : null].filter(Boolean).join('<br>') || '–',
    ])));
    const count = (/** @type {typeof checks} */ list) => ['passed', 'failed', 'skipped'].map((st) => list.filter((c) => c.status === st).length);
    const [passed, failed, skipped] = count(checks);
    const smoke = checks.filter((c) => c.step === 'smoke');
    const [sp, sf, ss] = count(smoke);
    out.push('', `Checks **${passed}** passed · **${failed}** failed · **${skipped}** skipped${smoke.length && smoke.length !== checks.length ? `; of them the smoke step's: **${sp}** passed · **${sf}** failed · **${ss}** skipped` : ''}. A skipped check proved nothing; its reason says why it could not be checked.`);
  }
  const notApplicable = steps.flatMap((s) => s.notApplicable ?? []);
  if (notApplicable.length) {
    out.push('', `Not applicable (a policy, not a check): ${notApplicable.map((n) => `${code(n.name)} (${cell(n.reason)})`).join('; ')}.`);
  }
  const dp = report.dataplane;
  if (dp) {
    out.push('', '### Not provable locally', '');
    out.push(table(['What', 'Why'], [
      ...dp.notProvable.map((g) => [code(g.name), cell(g.reason)]),
      ...dp.terraformGaps.map((g) => [code(g.type ?? g.address), cell(`not created on the emulator: ${g.reason}`)]),
    ]));
    // a skipped check (e.g. fetcher-anisette with anisette disabled in the config) did not run: never claimed
    const skipped = checks.filter((c) => c.status === 'skipped').length;
    const ran = skipped ? `Every check above but the ${skipped} skipped (each with its reason) ran` : 'Every check above ran';
    out.push('', `${ran} for real on the local data plane; these are not checks, neither passed nor skipped, and only a real AWS account proves them (\`lib/emulator-gaps.json\`, \`dataplane\`).`);
  }
  const gaps = report.emulator?.terraformGaps ?? [];
  if (gaps.length) {
    out.push('', '### Not created on the emulator', '');
    out.push(table(['Resource', 'Why'], gaps.map((g) => [code(g.type ?? g.address), cell(g.reason)])));
    out.push('', 'The emulator cannot create these Terraform resources: the harness leaves them, and every resource that depends on one, out of the apply (`lib/emulator-gaps.json`). Nothing in this run proves them.');
  }
  out.push('');
  return out.join('\n');
}
