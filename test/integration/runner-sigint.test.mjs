// The real entry point (runner/rollout.mjs) under Ctrl-C: AWS calls hang on a local endpoint that never
// answers; SIGINT aborts the in-flight call, the report says `interrupted`, the exit code is 130, and
// nothing after the interrupted step starts. Needs no emulator (a local TCP server only).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * A rollout of `release` against a fake AWS endpoint, sent SIGINT as soon as a call hangs. With `ssm`, SSM (the
 * environment lock, the ledger) answers and everything else never does; without, nothing answers.
 * @returns {Promise<{ code: number|null, out: string, err: string, report: any, hung: string[] }>}
 */
async function interruptedRollout(release, { ssm }) {
  /** @type {string[]} */
  const hung = [];
  const server = createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? req.url);
    if (ssm && target.startsWith('AmazonSSM.')) {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(target.endsWith('.PutParameter') ? '{"Version":1,"Tier":"Standard"}' : target.endsWith('.GetParametersByPath') ? '{"Parameters":[]}' : '{}');
      return;
    }
    hung.push(target); // never answered
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  const reportPath = path.join(mkdtempSync(path.join(tmpdir(), 'runner-sigint-')), 'report.json');
  try {
    const child = spawn(process.execPath, ['runner/rollout.mjs', '--outputs', 'test/fixtures/outputs/foundation.json', '--release', release, '--skip', 'preflight', '--skip', 'images', '--report', reportPath], {
      cwd: ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', NODE_NO_WARNINGS: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const code = await new Promise((resolve) => {
      const timer = setInterval(() => {
        if (hung.length > 0) {
          clearInterval(timer);
          child.kill('SIGINT');
        }
      }, 50);
      child.on('close', (c) => { clearInterval(timer); resolve(c); });
    });
    return { code, out, err, report: JSON.parse(readFileSync(reportPath, 'utf8')), hung };
  } finally {
    server.closeAllConnections?.();
    server.close();
  }
}

test('SIGINT during a step: exit 130, report interrupted, later steps not run', async () => {
  const { code, out, err, report } = await interruptedRollout('sig1', { ssm: true });
  expect({ code, err: err.includes('interrupt: changes already sent to AWS finish') }).toEqual({ code: 130, err: true });
  expect(report).toMatchObject({ status: 'interrupted', exitCode: 130, failure: { step: 'task-definitions', message: expect.stringMatching(/^interrupted \(Ctrl-C\) during task-definitions; nothing was left half-done$/) } });
  expect(report.steps.filter((s) => s.status === 'not-run').map((s) => s.id)).toEqual(['migration', 'tier:app', 'tier:workers', 'smoke']);
  expect(out).toMatch(/INTERRUPTED \(exit 130\)/);
}, 30_000);

test('SIGINT while the environment lock is being taken: exit 130, nothing changed, the report says interrupted', async () => {
  const { code, err, report, hung } = await interruptedRollout('sig2', { ssm: false });
  expect(hung[0]).toBe('AmazonSSM.PutParameter'); // the lock is the first call
  expect({ code, err: err.includes('interrupted (Ctrl-C) while taking the environment lock; nothing was changed') }).toEqual({ code: 130, err: true });
  expect(report).toMatchObject({ status: 'interrupted', exitCode: 130, steps: [], failure: { step: 'lock' } });
}, 30_000);
