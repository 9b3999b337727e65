// The runner's command line: bad input exits 2 with a precise message and no AWS client is even created;
// --help; defaults for outputs (terraform output) and release (git); the report on bad input; report artifacts.
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { main } from '../../runner/main.mjs';
import { fakeWorld, fakeClock, ROOT, OUTPUTS, OUTPUTS_FILE } from '../support/fake-aws.mjs';
import { CONFIG_ENV, stagingRaw } from '../support/staging-config.cjs';
import { WEB, WORKERS } from '../support/rollout.mjs';

const tmp = mkdtempSync(path.join(tmpdir(), 'runner-cli-'));
const file = (name, content) => {
  const p = path.join(tmp, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
};

async function run(argv, { exec, env = {}, fake = fakeWorld(), writeArtifacts = async () => ({}) } = {}) {
  const out = [];
  const err = [];
  const createAws = jest.fn(() => fake.clients);
  const res = await main(argv, {
    cwd: ROOT, env: { ...CONFIG_ENV, ...env }, clock: fakeClock(), createAws, write: (l) => out.push(l), writeErr: (l) => err.push(l),
    exec: exec ?? (async () => { throw new Error('exec not expected'); }),
    steps: fake.steps({ images: null, smoke: null }), writeArtifacts,
  });
  return { ...res, out: out.join('\n'), err: err.join('\n'), createAws, calls: fake.world.calls };
}

const catalogWith = (mutate) => {
  const o = structuredClone(OUTPUTS);
  mutate(o);
  return file(`outputs-${Math.random().toString(36).slice(2)}.json`, o);
};

describe('bad input: exit 2, a precise message, no AWS call', () => {
  test.each([
    ['unknown flag', ['--outputs', OUTPUTS_FILE, '--release', 'r', '--fast'], 'error: unknown flag --fast (see --help)'],
    ['unknown step', ['--outputs', OUTPUTS_FILE, '--release', 'r', '--only', 'tier:api'], 'error: --only tier:api: unknown step (steps: preflight, images, task-definitions, migration, tier:app, tier:workers, smoke)'],
    ['missing outputs file', ['--outputs', 'nope/outputs.json', '--release', 'r'], 'error: --outputs nope/outputs.json: cannot read (no such file)'],
    ['bad release', ['--outputs', OUTPUTS_FILE, '--release', '../x'], 'error: --release: "../x" is not a valid image tag'],
    ['missing config', ['--outputs', OUTPUTS_FILE, '--release', 'r', '--config', 'config/none.json'], 'error: --config config/none.json: cannot read config file (no such file)'],
  ])('%s', async (_name, argv, msg) => {
    const res = await run(argv);
    expect(res.exitCode).toBe(2);
    expect(res.err).toContain(msg);
    expect(res.createAws).not.toHaveBeenCalled();
    expect(res.calls).toHaveLength(0);
  });

  test('malformed outputs JSON', async () => {
    const p = file('broken.json', '{"cluster_name": ');
    const res = await run(['--outputs', p, '--release', 'r']);
    expect(res.exitCode).toBe(2);
    expect(res.err).toMatch(new RegExp(`^error: --outputs ${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON \\(`));
    expect(res.createAws).not.toHaveBeenCalled();
  });

  test('a missing build context (the real images step): exit 2 naming it and the fix, before any AWS call or ledger entry', async () => {
    // config/staging.json's build contexts are not in this checkout; the images step's checkInputs runs first
    const fake = fakeWorld();
    const createAws = jest.fn(() => fake.clients);
    const err = [];
    const reportPath = path.join(tmp, 'bad-context', 'report.json');
    const res = await main(['--outputs', OUTPUTS_FILE, '--release', 'r1', '--no-emulator', '--report', reportPath], {
      cwd: ROOT, env: { ...CONFIG_ENV }, clock: fakeClock(), createAws, write: () => {}, writeErr: (l) => err.push(l),
      exec: async () => { throw new Error('exec not expected'); }, steps: fake.steps({ smoke: null }), writeArtifacts: async () => ({}),
    });
    expect(res.exitCode).toBe(2);
    expect(err.join('\n')).toMatch(/^error: image configuration is not usable \(nothing was built\):\n {2}- \S*config\/staging\.json: images\.api\.context: build context \S+ does not exist or is not a directory/);
    expect(createAws).not.toHaveBeenCalled();
    expect(fake.world.calls).toHaveLength(0);
    expect(fake.world.parameters.size).toBe(0);
    expect(JSON.parse(readFileSync(reportPath, 'utf8'))).toMatchObject({ exitCode: 2, awsCalls: 0 });
  });

  test('a missing output key', async () => {
    const p = catalogWith((o) => { delete o.tasks_security_group_id; });
    const res = await run(['--outputs', p, '--release', 'r']);
    expect(res.exitCode).toBe(2);
    expect(res.err).toBe(`error: ${p}: output tasks_security_group_id: missing (required by docs/contract.md section 2)`);
    expect(res.createAws).not.toHaveBeenCalled();
  });

  test('a catalog cycle in the outputs differs from the config (which cannot have one): refused as not deployed', async () => {
    const p = catalogWith((o) => { o.service_catalog.anisette.depends_on = ['tracker-fetcher-2']; });
    const res = await run(['--outputs', p, '--release', 'r']);
    expect(res.exitCode).toBe(2);
    expect(res.err).toContain('anisette: dependsOn [none] in the config, [tracker-fetcher-2] deployed');
    expect(res.createAws).not.toHaveBeenCalled();
  });

  test('an invalid config names the file and JSON path', async () => {
    const raw = stagingRaw();
    raw.migration.timeoutSeconds = 'soon';
    const p = file('bad-config.json', raw);
    const res = await run(['--outputs', OUTPUTS_FILE, '--release', 'r', '--config', p]);
    expect(res.exitCode).toBe(2);
    expect(res.err).toMatch(/^error: .*bad-config\.json: migration\.timeoutSeconds: /);
    expect(res.createAws).not.toHaveBeenCalled();
  });

  test('with --report, the report records the input error with exit code 2', async () => {
    const reportPath = path.join(tmp, 'bad', 'report.json');
    const res = await run(['--outputs', OUTPUTS_FILE, '--release', 'r1', '--skip', 'deploy', '--report', reportPath]);
    expect(res.exitCode).toBe(2);
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    expect(report).toMatchObject({ schemaVersion: 1, release: 'r1', environment: 'staging', status: 'failed', exitCode: 2, failure: { step: 'input', message: expect.stringMatching(/^--skip deploy: unknown step/) }, steps: [], awsCalls: 0 });
  });
});

describe('defaults and help', () => {
  test('--version: the runner\'s version (package.json) and its Node.js, exit 0, nothing read or called', async () => {
    const res = await run(['--version']);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect({ code: res.exitCode, out: res.out }).toEqual({ code: 0, out: `staging-rollout ${pkg.version} (node ${process.version})` });
    expect(res.createAws).not.toHaveBeenCalled();
  });

  test('--help documents every flag and exit code, and exits 0 without reading anything', async () => {
    const res = await run(['--help']);
    expect(res.exitCode).toBe(0);
    for (const flag of ['--outputs', '--stack-dir', '--config', '--release', '--only', '--from', '--skip', '--dry-run', '--emulator', '--no-emulator', '--poll-interval', '--service-timeout', '--migration-timeout', '--max-failed-tasks', '--report', '--summary', '--help']) {
      expect(res.out).toContain(flag);
    }
    for (const code of ['0 ', '1 ', '2 ', '130']) expect(res.out).toMatch(new RegExp(`^ {2}${code.trim()}\\s+\\S`, 'm'));
  });

  test('without --outputs/--release: terraform output -json in the stack dir and git rev-parse', async () => {
    const stackDir = path.join(tmp, 'stack');
    mkdirSync(stackDir, { recursive: true });
    const tf = readFileSync(path.resolve(ROOT, OUTPUTS_FILE), 'utf8');
    const exec = jest.fn(async (cmd, args) => {
      if (cmd === 'terraform') return { stdout: tf, stderr: '', exitCode: 0 };
      if (cmd === 'git') return { stdout: '0123456789ab\n', stderr: '', exitCode: 0 };
      throw new Error(`unexpected ${cmd}`);
    });
    const res = await run(['--stack-dir', stackDir, '--dry-run', '--no-emulator'], { exec });
    expect(res.exitCode).toBe(0);
    expect(exec).toHaveBeenCalledWith('terraform', [`-chdir=${stackDir}`, 'output', '-no-color', '-json'], expect.anything());
    expect(exec).toHaveBeenCalledWith('git', ['rev-parse', '--short=12', 'HEAD'], expect.anything());
    expect(res.plan.release).toBe('0123456789ab');
  });

  test('terraform output failing is bad input naming the command and the way out', async () => {
    const stackDir = path.join(tmp, 'stack2');
    mkdirSync(stackDir, { recursive: true });
    // terraform's own shape of the message: a box of lines, colour codes even with -no-color from some wrappers
    const stderr = ['\u001b[31m╷\u001b[0m', '\u001b[31m│\u001b[0m \u001b[1m\u001b[31mError: \u001b[0m\u001b[0m\u001b[1mBackend initialization required, please run "terraform init"\u001b[0m',
      '│ ', '│ Reason: Initial configuration of the requested backend "s3"', '│ ', '│ The "backend" is the interface that Terraform uses to store state,', '╵', ''].join('\n');
    const exec = async () => ({ stdout: '', stderr, exitCode: 1 });
    const res = await run(['--stack-dir', stackDir, '--release', 'r'], { exec });
    expect(res.exitCode).toBe(2);
    expect(res.err).toMatch(/terraform -chdir=.*stack2 output -json failed \(exit 1\): Error: Backend initialization required, please run "terraform init" Reason: Initial configuration of the requested backend "s3" The "backend" is .*; pass --outputs FILE instead/);
    expect(res.err).not.toMatch(/\u001b|│|╷/);
  });

  test('a missing stack dir says how to get outputs', async () => {
    const res = await run(['--stack-dir', 'cdktf.out/none', '--release', 'r']);
    expect(res.exitCode).toBe(2);
    expect(res.err).toBe('error: no --outputs FILE given and cdktf.out/none does not exist: synthesize and deploy the foundation stack (cdktf deploy foundation) or pass --outputs FILE');
  });

  test('git failing without --release is bad input', async () => {
    const exec = async () => ({ stdout: '', stderr: 'fatal: not a git repository', exitCode: 128 });
    const res = await run(['--outputs', OUTPUTS_FILE], { exec });
    expect(res.exitCode).toBe(2);
    expect(res.err).toBe('error: no --release given and `git rev-parse --short=12 HEAD` failed (fatal: not a git repository); pass --release TAG');
  });
});

describe('report and artifacts', () => {
  test('--report writes the contract JSON and hands it to runner/report writeArtifacts with the summary path', async () => {
    const reportPath = path.join(tmp, 'out', 'report.json');
    const writeArtifacts = jest.fn(async () => {});
    const res = await run(['--outputs', OUTPUTS_FILE, '--release', 'r1', '--no-emulator', '--report', reportPath], {
      env: { GITHUB_STEP_SUMMARY: '/tmp/gh-summary.md' },
      writeArtifacts,
    });
    expect(res.exitCode).toBe(0);
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    expect(Object.keys(report)).toEqual(['schemaVersion', 'release', 'environment', 'status', 'exitCode', 'failure', 'startedAt', 'finishedAt', 'durationMs', 'awsCalls', 'images', 'steps']);
    for (const s of report.steps) {
      expect(Object.keys(s)).toEqual(['id', 'title', 'status', 'reason', 'startedAt', 'finishedAt', 'durationMs', 'services', 'checks']);
      if (s.status === 'skipped') expect(s.reason).toEqual(expect.any(String));
      for (const v of s.services) expect(Object.keys(v)).toEqual(['name', 'status', 'reason', 'startedAt', 'finishedAt', 'durationMs', 'taskDefinitionArn', 'running', 'desired', 'rolloutState']);
      for (const c of s.checks) {
        expect(Object.keys(c)).toEqual(['name', 'status', 'reason', 'evidence', 'durationMs']);
        if (c.status === 'skipped') expect(c.reason).toEqual(expect.any(String));
      }
    }
    expect(writeArtifacts).toHaveBeenCalledWith(report, { reportPath, summaryPath: '/tmp/gh-summary.md', env: { ...CONFIG_ENV, GITHUB_STEP_SUMMARY: '/tmp/gh-summary.md' } });
  });

  test('no secret value reaches the output or the report', async () => {
    const reportPath = path.join(tmp, 'out3', 'report.json');
    const res = await run(['--outputs', OUTPUTS_FILE, '--release', 'r1', '--no-emulator', '--report', reportPath]);
    const text = res.out + readFileSync(reportPath, 'utf8');
    // the runner only ever handles secret ARNs; it must not even print those
    for (const arn of Object.values(OUTPUTS.secret_arns)) expect(text).not.toContain(arn);
  });
});

describe('--dry-run output', () => {
  test('the images-tag warning is printed once, and each tier says once, correctly, what would change', async () => {
    // config/staging.json's build contexts are not in this checkout: the task definitions cannot work out the tags
    const res = await run(['--outputs', OUTPUTS_FILE, '--release', 'r1', '--no-emulator', '--dry-run']);
    expect(res.exitCode).toBe(0);
    expect(res.out.split("the images step's tags cannot be worked out")).toHaveLength(2);
    expect(res.out.split('Rollout plan:')).toHaveLength(2); // once, at the end, with what the dry run found out
    const plan = res.out.slice(res.out.lastIndexOf('Rollout plan:'));
    expect(plan).not.toMatch(/nothing changed/);
    expect(plan.split(`-> skipped: dry run: ${WEB.length} service(s) would be updated (${WEB.join(', ')})`)).toHaveLength(2);
    const workers = new RegExp(`-> skipped: dry run: ${WORKERS.length} service\\(s\\) would be updated \\(([^)]*)\\)`).exec(plan);
    expect(workers?.[1].split(', ').sort()).toEqual([...WORKERS].sort()); // in wave order
  });

  test('a tier already at the release says nothing would change', async () => {
    const fake = fakeWorld();
    const first = await run(['--outputs', OUTPUTS_FILE, '--release', 'r1', '--no-emulator'], { fake });
    expect(first.exitCode).toBe(0);
    const res = await run(['--outputs', OUTPUTS_FILE, '--release', 'r1', '--no-emulator', '--dry-run'], { fake });
    expect(res.report.steps.find((s) => s.id === 'tier:app')).toMatchObject({ status: 'skipped', reason: 'dry run: no service would change (every one is already at the release)' });
  });
});
