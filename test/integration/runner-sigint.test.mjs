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

/** SSM (the environment lock, the ledger) answers; everything else never answers. `seen`: the unanswered calls */
function hangingAws(seen, { ssm = true } = {}) {
  return createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? req.url);
    if (ssm && target.startsWith('AmazonSSM.')) {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(target.endsWith('.PutParameter') ? '{"Version":1,"Tier":"Standard"}' : target.endsWith('.GetParametersByPath') ? '{"Parameters":[]}' : '{}');
      return;
    }
    seen.push(target); // never answered
  });
}

test('SIGINT during a step: exit 130, report interrupted, later steps not run', async () => {
  const seen = [];
  const server = hangingAws(seen);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const dir = mkdtempSync(path.join(tmpdir(), 'runner-sigint-'));
  const reportPath = path.join(dir, 'report.json');
  try {
    const child = spawn(process.execPath, ['runner/rollout.mjs', '--outputs', 'test/fixtures/outputs/foundation.json', '--release', 'sig1', '--skip', 'preflight', '--skip', 'images', '--report', reportPath], {
      cwd: ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', NODE_NO_WARNINGS: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const code = await new Promise((resolve) => {
      const timer = setInterval(() => {
        if (seen.length > 0) {
          clearInterval(timer);
          child.kill('SIGINT');
        }
      }, 50);
      child.on('close', (c) => { clearInterval(timer); resolve(c); });
    });
    expect({ code, err: err.includes('interrupt: changes already sent to AWS finish') }).toEqual({ code: 130, err: true });
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    expect(report).toMatchObject({ status: 'interrupted', exitCode: 130, failure: { step: 'task-definitions', message: expect.stringMatching(/^interrupted \(Ctrl-C\) during task-definitions; nothing was left half-done$/) } });
    expect(report.steps.filter((s) => s.status === 'not-run').map((s) => s.id)).toEqual(['migration', 'tier:app', 'tier:workers', 'smoke']);
    expect(out).toMatch(/INTERRUPTED \(exit 130\)/);
  } finally {
    server.closeAllConnections?.();
    server.close();
  }
}, 30_000);

test('SIGINT while the environment lock is being taken: exit 130, nothing changed, the report says interrupted', async () => {
  const seen = [];
  const server = hangingAws(seen, { ssm: false });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const dir = mkdtempSync(path.join(tmpdir(), 'runner-sigint-lock-'));
  const reportPath = path.join(dir, 'report.json');
  try {
    const child = spawn(process.execPath, ['runner/rollout.mjs', '--outputs', 'test/fixtures/outputs/foundation.json', '--release', 'sig2', '--skip', 'preflight', '--skip', 'images', '--report', reportPath], {
      cwd: ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', NODE_NO_WARNINGS: '1' },
    });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const code = await new Promise((resolve) => {
      const timer = setInterval(() => {
        if (seen.length > 0) {
          clearInterval(timer);
          child.kill('SIGINT');
        }
      }, 50);
      child.on('close', (c) => { clearInterval(timer); resolve(c); });
    });
    expect(seen[0]).toBe('AmazonSSM.PutParameter'); // the lock is the first call
    expect({ code, err: err.includes('interrupted (Ctrl-C) while taking the environment lock; nothing was changed') }).toEqual({ code: 130, err: true });
    expect(JSON.parse(readFileSync(reportPath, 'utf8'))).toMatchObject({ status: 'interrupted', exitCode: 130, steps: [], failure: { step: 'lock' } });
  } finally {
    server.closeAllConnections?.();
    server.close();
  }
}, 30_000);
