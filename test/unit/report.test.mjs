// Markdown summary, SVG timeline and artifact writing from rollout reports (docs/contract.md section 7).
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { renderSummary, cell } from '../../runner/report/summary.mjs';
import { renderTimeline, xml } from '../../runner/report/timeline.mjs';
import { writeArtifacts, timelinePathFor } from '../../runner/report/index.mjs';
import { verdict } from '../../runner/lib/verdict.mjs';
import { formatSummary } from '../../runner/lib/execute.mjs';
import { emulatorNote, TERRAFORM_GAPS } from '../../runner/lib/emulator.mjs';

const T0 = Date.parse('2026-11-25T10:00:00Z');
const at = (s) => new Date(T0 + s * 1000).toISOString();
const span = (a, b) => ({ startedAt: at(a), finishedAt: at(b), durationMs: (b - a) * 1000 });

function failedReport() {
  return {
    schemaVersion: 1, release: '3f2a9c1', environment: 'staging', status: 'failed', exitCode: 1,
    failure: { step: 'tier:app', service: 'admin', message: 'circuit breaker rolled back: Task failed ELB health checks | <b>x</b>' },
    ...span(0, 300), awsCalls: 57,
    images: {
      api: { uri: '000000000000.dkr.ecr.us-east-1.amazonaws.com/staging/api:3f2a9c1', tag: '3f2a9c1', digest: 'sha256:aaaa1111', status: 'pushed' },
      frontend: { uri: '000000000000.dkr.ecr.us-east-1.amazonaws.com/staging/frontend:3f2a9c1', tag: '3f2a9c1', digest: 'sha256:bbbb2222', status: 'skipped-exists' },
    },
    steps: [
      { id: 'images', title: 'Images', status: 'passed', reason: null, ...span(0, 60) },
      { id: 'task-definitions', title: 'Task definitions', status: 'passed', reason: null, ...span(60, 70) },
      { id: 'migration', title: 'Migration', status: 'passed', reason: null, ...span(70, 130) },
      { id: 'tier:app', title: 'App tier', status: 'failed', reason: 'admin failed', ...span(130, 300), services: [
        { name: 'api', status: 'passed', reason: null, ...span(130, 250), taskDefinitionArn: 'arn:aws:ecs:us-east-1:0:task-definition/staging-api:12', running: 1, desired: 1, rolloutState: 'COMPLETED' },
        { name: 'frontend', status: 'unchanged', reason: 'already at revision 4 and stable', ...span(130, 131), running: 1, desired: 1, rolloutState: 'COMPLETED' },
        { name: 'admin', status: 'failed', reason: 'circuit breaker rolled back', ...span(130, 300), running: 0, desired: 1, rolloutState: 'FAILED' },
      ] },
      { id: 'tier:workers', title: 'Worker and support tier', status: 'not-run', reason: 'tier:app failed', startedAt: null, finishedAt: null, durationMs: null, services: [
        { name: 'anisette', status: 'skipped', reason: 'not run' },
      ] },
      { id: 'smoke', title: 'Smoke tests', status: 'not-run', reason: 'tier:app failed', startedAt: null, finishedAt: null, durationMs: null },
    ],
  };
}

function passedReport() {
  const r = failedReport();
  r.status = 'passed'; r.exitCode = 0; r.failure = null;
  r.steps[3].status = 'passed'; r.steps[3].reason = null; r.steps[3].services[2] = { ...r.steps[3].services[2], status: 'passed', reason: null, running: 1, rolloutState: 'COMPLETED' };
  r.steps[4] = { id: 'tier:workers', title: 'Worker and support tier', status: 'passed', reason: null, ...span(300, 400), services: [
    { name: 'anisette', status: 'passed', reason: null, ...span(300, 340), running: 1, desired: 1 },
    { name: 'tracker-fetcher-2', status: 'passed', reason: null, ...span(340, 400), running: 1, desired: 1 },
  ] };
  r.steps[5] = { id: 'smoke', title: 'Smoke tests', status: 'passed', reason: '1 check(s) skipped: target-groups', ...span(400, 410), checks: [
    { name: 'api-health', status: 'passed', reason: null, evidence: 'GET http://alb/health -> HTTP 200', durationMs: 40 },
    { name: 'target-groups', status: 'skipped', reason: 'not checkable here: emulator: no task registers', evidence: null, durationMs: 0 },
  ] };
  r.finishedAt = at(410); r.durationMs = 410000;
  return r;
}

/** Rows of the Markdown table that follows `heading`. */
function tableAfter(md, heading) {
  const lines = md.split('\n');
  const i = lines.indexOf(heading);
  expect(i).toBeGreaterThanOrEqual(0);
  const rows = [];
  for (let j = i + 2; j < lines.length && lines[j].startsWith('|'); j++) rows.push(lines[j]);
  expect(rows[1]).toMatch(/^\| --- (\| --- )*\|$/);
  return [rows[0], ...rows.slice(2)]; // header, then data rows
}
/** Cells of a table row, splitting on unescaped pipes. */
const cells = (row) => row.replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim());

describe('renderSummary', () => {
  test('a failed rollout: every step and service present, failures clearly marked, later steps not run', () => {
    const md = renderSummary(failedReport());
    expect(md.split('\n')[0]).toMatch(/^## ❌ Staging rollout FAILED: release `3f2a9c1` \(staging\)$/);
    expect(md).toMatch(/> ❌ \*\*Failure\*\* in step `tier:app`, service `admin`: circuit breaker rolled back: Task failed ELB health checks \\\| &lt;b&gt;x&lt;\/b&gt;/);
    const steps = tableAfter(md, '### Steps').slice(1).map(cells);
    expect(steps.map((c) => c[1].split(' ')[0])).toEqual(['`images`', '`task-definitions`', '`migration`', '`tier:app`', '`tier:workers`', '`smoke`']);
    expect(Object.fromEntries(steps.map((c) => [c[1].split(' ')[0], c[2]]))).toMatchObject({ '`tier:app`': '❌ **FAILED**', '`tier:workers`': '⚪ not run', '`smoke`': '⚪ not run', '`images`': '✅ passed' });
    const services = tableAfter(md, '### Services').slice(1).map(cells);
    expect(services.map((c) => c[1])).toEqual(['`api`', '`frontend`', '`admin`', '`anisette`']);
    const admin = services.find((c) => c[1] === '`admin`');
    expect(admin[2]).toBe('❌ **FAILED**');
    expect(admin[3]).toBe('0 / 1');
    expect(admin[4]).toBe('FAILED');
    expect(services.find((c) => c[1] === '`api`')[5]).toBe('`staging-api:12`');
  });

  test('a failure with its AWS operation and what was left half-done: both in the summary, the console too', () => {
    const r = failedReport();
    r.failure = {
      step: 'tier:app', operation: 'DescribeServices', message: 'DescribeServices failed while waiting for the wave to become stable',
      halfDone: [{ step: 'tier:app', service: 'api', operation: 'UpdateService', state: 'changed', what: 'api switched to the release and left deploying' }],
    };
    const md = renderSummary(r);
    expect(md).toMatch(/> ❌ \*\*Failure\*\* in step `tier:app`, AWS `DescribeServices`: DescribeServices failed/);
    expect(tableAfter(md, '### Left half-done').slice(1).map(cells)).toEqual([
      ['`tier:app`', '`api`', '`UpdateService`', 'changed', 'api switched to the release and left deploying'],
    ]);
    const text = formatSummary({ ...r, steps: r.steps.map((s) => ({ services: [], checks: [], ...s })) });
    expect(text).toContain('failure in tier:app, DescribeServices:');
    expect(text).toContain('left half-done:\n  tier:app: api switched to the release and left deploying');
  });

  test('a run the release ledger did not record says so in the summary', () => {
    const r = failedReport();
    r.ledger = { id: '20260101T000000000Z-rollout-3f2a9c1', written: false, reason: 'AccessDeniedException: ssm:PutParameter' };
    expect(renderSummary(r)).toContain('> ⚠️ **Not recorded in the release ledger** (AccessDeniedException: ssm:PutParameter): `status` and `rollback` do not know this run.');
    expect(renderSummary(failedReport())).not.toContain('release ledger');
  });

  test('images with their digests and statuses; timings and AWS calls in the header', () => {
    const md = renderSummary(failedReport());
    const images = tableAfter(md, '### Images').slice(1).map(cells);
    expect(images).toEqual([
      ['`api`', '✅ pushed', '`3f2a9c1`', '`sha256:aaaa1111`', '`000000000000.dkr.ecr.us-east-1.amazonaws.com/staging/api:3f2a9c1`'],
      ['`frontend`', '➖ exists (not rebuilt)', '`3f2a9c1`', '`sha256:bbbb2222`', '`000000000000.dkr.ecr.us-east-1.amazonaws.com/staging/frontend:3f2a9c1`'],
    ]);
    expect(md).toContain('| Duration | 5m 00s |');
    expect(md).toContain('| AWS API calls | 57 |');
    expect(md).toContain('| Status | ❌ **FAILED** (exit code 1) |');
  });

  test('smoke checks with evidence and reasons; skipped is never shown as passed', () => {
    const md = renderSummary(passedReport());
    expect(md.split('\n')[0]).toMatch(/^## ✅ Staging rollout PASSED/);
    const checks = tableAfter(md, '### Checks').slice(1).map(cells);
    expect(checks).toEqual([
      ['`smoke`', '`api-health`', '✅ passed', '40 ms', 'GET http://alb/health -&gt; HTTP 200'],
      ['`smoke`', '`target-groups`', '⏭️ skipped', '0 ms', 'not checkable here: emulator: no task registers'],
    ]);
    expect(md).toContain('Checks **1** passed · **0** failed · **1** skipped.');
    expect(md).not.toMatch(/> ❌/);
  });

  test('every table row has as many cells as its header, whatever the messages contain', () => {
    const r = failedReport();
    r.steps[3].reason = 'a | b\nc `d` *e* <script>alert(1)</script> [x](http://y) \\|';
    r.steps[3].services[2].reason = '||||';
    const md = renderSummary(r);
    for (const heading of ['### Steps', '### Services', '### Images']) {
      const [head, ...rows] = tableAfter(md, heading);
      for (const row of rows) expect(cells(row)).toHaveLength(cells(head).length);
    }
    expect(md).not.toContain('<script>');
    expect(md).toContain('\\[x\\](http://y)'); // link syntax escaped, not rendered
  });

  test('bad input is rejected with a precise message', () => {
    expect(() => renderSummary(null)).toThrow('rollout report: must be an object, got null');
    expect(() => renderSummary({ steps: {} })).toThrow('rollout report: steps must be an array, got object');
    expect(() => renderSummary({ steps: [{ status: 'passed' }] })).toThrow('rollout report: steps[0].id must be a non-empty string, got undefined');
  });

  test('cell() escapes table and HTML syntax', () => {
    expect(cell('a|b<c>&')).toBe('a\\|b&lt;c&gt;&amp;');
    expect(cell(null)).toBe('–');
  });
});

/** Every step with its services and checks lists, as execute() writes them (the console summary needs them). */
const full = (r) => ({ ...r, steps: r.steps.map((s) => ({ services: [], checks: [], ...s })) });

/** A passed emulator run: its report carries `emulator`, the tiers' running counts were not observed. */
function emulatorReport() {
  const r = passedReport();
  r.emulator = emulatorNote({ source: '--emulator' });
  r.steps[1].services = [
    { name: 'api', status: 'passed', reason: null, startedAt: null, finishedAt: null, durationMs: null, taskDefinitionArn: 'arn:aws:ecs:us-east-1:0:task-definition/staging-api:13', running: null, desired: null, rolloutState: null },
  ];
  r.steps[3].services[0] = { ...r.steps[3].services[0], running: null, rolloutState: null };
  r.steps[3].checks = [{ name: 'api:running', status: 'skipped', reason: 'emulator: containers never run', evidence: '', durationMs: 0 }];
  return full(r);
}

describe('honest titles and rows (emulator runs, values not observed)', () => {
  test('the verdict: status, where it ran, how many checks proved nothing', () => {
    expect(verdict(failedReport())).toBe('FAILED');
    expect(verdict(passedReport())).toBe('PASSED (1 check not proven)');
    expect(verdict(emulatorReport())).toBe('PASSED on the emulator (2 checks not proven)');
  });

  test('summary.md, the console summary and the timeline of an emulator run say so in their title', () => {
    const r = emulatorReport();
    const md = renderSummary(r);
    expect(md.split('\n')[0]).toBe('## ✅ Staging rollout PASSED on the emulator (2 checks not proven): release `3f2a9c1` (staging)');
    expect(md).toContain('| Environment | staging on the local emulator, not AWS (--emulator) |');
    const title = new XMLParser().parse(renderTimeline(r)).svg.title;
    expect(title).toBe('Rollout 3f2a9c1 (staging): PASSED on the emulator (2 checks not proven), 6m 50s');
    expect(formatSummary({ ...r, awsCalls: 3 })).toMatch(/^PASSED \(exit 0\) on the emulator \(2 checks not proven\) in 410\.0 s, 3 AWS API calls$/m);
    // a real-AWS report says nothing about an emulator
    expect(renderSummary(passedReport())).not.toMatch(/emulator \(|on the local emulator|Not created on the emulator/);
    expect(formatSummary(full(passedReport()))).not.toContain('not created on the emulator');
  });

  test('the summary lists the Terraform resources the emulator could not create, from lib/emulator-gaps.json', () => {
    expect(TERRAFORM_GAPS.map((g) => g.type)).toEqual(expect.arrayContaining(['aws_elasticache_user_group', 'aws_elasticache_replication_group']));
    const md = renderSummary(emulatorReport());
    const rows = tableAfter(md, '### Not created on the emulator').slice(1).map(cells);
    expect(rows).toEqual(TERRAFORM_GAPS.map((g) => [`\`${g.type}\``, cell(g.reason)]));
    expect(md).toContain('every resource that depends on one, out of the apply');
    const text = formatSummary({ ...emulatorReport(), awsCalls: 3 });
    expect(text).toContain('not created on the emulator (lib/emulator-gaps.json; nor anything that depends on them):');
    for (const g of TERRAFORM_GAPS) expect(text).toContain(`  ${g.type}: ${g.reason}`);
  });

  test('running / desired shows the values, or nothing where there are none (task definitions) or none observed', () => {
    const services = tableAfter(renderSummary(emulatorReport()), '### Services').slice(1).map(cells);
    const row = (step, name) => services.find((c) => c[0] === `\`${step}\`` && c[1] === `\`${name}\``);
    expect(row('task-definitions', 'api')[3]).toBe('–'); // a task definition has no running or desired count
    expect(row('task-definitions', 'api')[5]).toBe('`staging-api:13`');
    expect(row('tier:app', 'api')[3]).toBe('– / 1'); // the emulator's running count proves nothing: not shown
    expect(row('tier:app', 'frontend')[3]).toBe('1 / 1');
    expect(services.every((c) => !c[3].includes('?'))).toBe(true);
  });
});

describe('renderTimeline', () => {
  const parse = (svg) => new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['g', 'rect', 'text', 'line'].includes(name) }).parse(svg);

  test('valid XML with a row for every step and service; failed rows marked', () => {
    const report = failedReport();
    const svg = renderTimeline(report);
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = parse(svg);
    const groups = doc.svg.g;
    const stepRows = groups.filter((g) => g['@data-kind'] === 'step');
    expect(stepRows.map((g) => g['@data-step'])).toEqual(report.steps.map((s) => s.id));
    const svcRows = groups.filter((g) => g['@data-kind'] === 'service');
    expect(svcRows.map((g) => `${g['@data-step']}/${g['@data-service']}`)).toEqual(['tier:app/api', 'tier:app/frontend', 'tier:app/admin', 'tier:workers/anisette']);
    for (const g of groups) {
      const texts = g.text.map((t) => (typeof t === 'string' ? t : t['#text'] ?? '')).join(' ');
      if (g['@data-status'] === 'failed') {
        expect(texts).toContain('✗');
        expect(g.rect.some((r) => r['@fill'] === '#cf222e')).toBe(true);
      } else {
        expect(texts).not.toContain('✗');
      }
    }
    expect(doc.svg.title['#text'] ?? doc.svg.title).toMatch(/Rollout 3f2a9c1 \(staging\): FAILED, 5m 00s/);
  });

  test('bars are placed against time: position from the start, width proportional to duration', () => {
    const svg = renderTimeline(failedReport());
    const groups = parse(svg).svg.g;
    const bar = (id) => groups.find((g) => g['@data-step'] === id && g['@data-kind'] === 'step').rect.find((r) => r.title);
    const images = bar('images'); const migration = bar('migration'); const tier = bar('tier:app');
    const w = (r) => Number(r['@width']); const x = (r) => Number(r['@x']);
    expect(w(migration) / w(images)).toBeCloseTo(1, 1); // 60 s each
    expect(w(tier) / w(images)).toBeCloseTo(170 / 60, 1);
    expect(x(images)).toBeLessThan(x(migration));
    expect(x(migration)).toBeLessThan(x(tier));
    expect((x(migration) - x(images)) / w(images)).toBeCloseTo(70 / 60, 1);
    // steps that never ran have no bar, only a label saying so
    const notRun = groups.find((g) => g['@data-step'] === 'smoke');
    expect((notRun.rect ?? []).filter((r) => r.title)).toHaveLength(0);
    expect(notRun.text.map((t) => t['#text'] ?? t).join(' ')).toMatch(/not-run: tier:app failed/);
  });

  test('hostile text (markup, quotes, ampersands, control characters) stays valid, escaped XML', () => {
    const r = failedReport();
    r.release = '"><script>&\'';
    r.steps[3].services[2].name = 'adm<in> & "co" \u0001\u0007';
    r.failure.message = ']]> <!-- & \uD800 lone surrogate';
    const svg = renderTimeline(r);
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).not.toContain('<script>');
    const groups = parse(svg).svg.g;
    // the parser decodes entities and trims: the original name comes back, less the control characters
    expect(groups.filter((g) => g['@data-kind'] === 'service').map((g) => g['@data-service'])).toContain('adm<in> & "co"');
    expect(svg).toContain('data-service="adm&lt;in&gt; &amp; &quot;co&quot; "');
  });

  test('a report with no steps still renders a valid document', () => {
    const svg = renderTimeline({ release: 'x', status: 'failed', steps: [] });
    expect(XMLValidator.validate(svg)).toBe(true);
  });

  test('xml() escapes the five XML specials', () => {
    expect(xml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });
});

describe('writeArtifacts', () => {
  test('summary to --summary, appended to $GITHUB_STEP_SUMMARY, SVG beside the report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    const stepSummary = join(dir, 'step-summary.md');
    writeFileSync(stepSummary, 'earlier step output\n');
    const reportPath = join(dir, 'out', 'rollout.json');
    const report = failedReport();
    const res = writeArtifacts(report, { reportPath, summaryPath: join(dir, 'out', 'summary.md'), env: { GITHUB_STEP_SUMMARY: stepSummary } });
    expect(res).toEqual({ summaryPath: join(dir, 'out', 'summary.md'), stepSummaryPath: stepSummary, timelinePath: join(dir, 'out', 'rollout.timeline.svg') });
    expect(readFileSync(res.summaryPath, 'utf8')).toBe(renderSummary(report));
    const appended = readFileSync(stepSummary, 'utf8');
    expect(appended.startsWith('earlier step output\n')).toBe(true);
    expect(appended).toContain(renderSummary(report));
    expect(XMLValidator.validate(readFileSync(res.timelinePath, 'utf8'))).toBe(true);
    // a second run replaces --summary but appends to the step summary again
    writeArtifacts(report, { reportPath, summaryPath: res.summaryPath, env: { GITHUB_STEP_SUMMARY: stepSummary } });
    expect(readFileSync(res.summaryPath, 'utf8')).toBe(renderSummary(report));
    expect(readFileSync(stepSummary, 'utf8').split('## ❌ Staging rollout').length - 1).toBe(2);
  });

  test('nothing requested, nothing written; no step summary variable, no append', () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    expect(writeArtifacts(failedReport(), { env: {} })).toEqual({ summaryPath: null, stepSummaryPath: null, timelinePath: null });
    expect(readdirSync(dir)).toEqual([]);
  });

  test('a malformed report fails before any file is written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    expect(() => writeArtifacts({ steps: 'x' }, { reportPath: join(dir, 'r.json'), summaryPath: join(dir, 's.md'), env: {} })).toThrow(/steps must be an array/);
    expect(existsSync(join(dir, 's.md'))).toBe(false);
    expect(existsSync(join(dir, 'r.timeline.svg'))).toBe(false);
  });

  test('timelinePathFor', () => {
    expect(timelinePathFor('reports/rollout.json')).toBe('reports/rollout.timeline.svg');
    expect(timelinePathFor('reports/rollout')).toBe('reports/rollout.timeline.svg');
  });
});

describe('writeArtifacts with --summary pointing at $GITHUB_STEP_SUMMARY (the runner\'s default)', () => {
  test('appends once, never replaces what earlier steps wrote', () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    const stepSummary = join(dir, 'step-summary.md');
    writeFileSync(stepSummary, 'earlier step output\n');
    const res = writeArtifacts(failedReport(), { summaryPath: stepSummary, env: { GITHUB_STEP_SUMMARY: stepSummary } });
    expect(res).toEqual({ summaryPath: null, stepSummaryPath: stepSummary, timelinePath: null });
    const text = readFileSync(stepSummary, 'utf8');
    expect(text.startsWith('earlier step output\n')).toBe(true);
    expect(text.split('## ❌ Staging rollout').length - 1).toBe(1);
  });
});
