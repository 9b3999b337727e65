// Runs the workflow's own shell steps (taken from the parsed YAML) the way GitHub Actions does
// (`bash --noprofile --norc -eo pipefail`), with a stand-in `terraform` on PATH where a step calls it.
// No AWS, no Terraform, no network: only bash and node.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { CONFIG_FILE } from '../support/staging-config.cjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WF = parse(readFileSync(join(ROOT, '.github/workflows/staging-rollout.yml'), 'utf8'));
const STAGING = CONFIG_FILE; // the config under test (test/support/staging-config.cjs)

/** Run one `run:` script as Actions' default bash shell does. */
function runScript(script, { cwd, env = {} }) {
  const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

let tmp;
beforeEach(() => { tmp = mkdtempSync(join(tmpdir(), 'workflow-steps-')); });
afterEach(() => { rmSync(tmp, { recursive: true, force: true }); });

describe('synth job: the shared-state check reads the config through the shared loader', () => {
  const step = WF.jobs.synth.steps.find((s) => /terraform state/i.test(s.name ?? ''));
  const check = (file) => runScript(step.run, { cwd: ROOT, env: { STAGING_ROLLOUT_CONFIG: file } });
  const write = (name, obj) => { const p = join(tmp, name); writeFileSync(p, JSON.stringify(obj)); return p; };
  const s3 = () => write('s3.json', { extends: STAGING, backend: { type: 's3', bucket: 'acme-staging-state' } });

  test('the step exists, runs before the synth and in the repository root', () => {
    expect(step).toBeDefined();
    const names = WF.jobs.synth.steps.map((s) => s.run ?? '');
    expect(names.indexOf(step.run)).toBeLessThan(names.findIndex((r) => /cdktf synth/.test(r)));
    expect(step['working-directory']).toBeUndefined();
  });

  test('a backend inherited through "extends" counts: a child of an s3 config passes', () => {
    s3();
    const child = write('child.json', { extends: 's3.json', tags: { team: 'web' } });
    const r = check(child);
    expect(r.out).toContain('backend: s3');
    expect(r.out).not.toContain('::error');
    expect(r.code).toBe(0);
  });

  test('a child that removes the inherited backend falls back to "local" and is refused with exit 2', () => {
    s3();
    const child = write('child.json', { extends: 's3.json', backend: null });
    const r = check(child);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`::error file=${child}::backend.type is "local"`);
    expect(r.out).toMatch(/Set backend to "s3" or "cloud"/);
  });

  test('an invalid config (here an s3 key under a cloud backend) fails with the loader\'s precise message, no stack trace', () => {
    s3();
    const child = write('child.json', { extends: 's3.json', backend: { type: 'cloud' } });
    const r = check(child);
    expect(r.code).toBe(2);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^::error file=.*child\.json::.*backend\.bucket: unknown key/);
    expect(lines[0]).toContain('set in');
    expect(r.out).not.toMatch(/\n\s+at /);
  });

  test('a missing config file is a clear error with exit 2', () => {
    const missing = join(tmp, 'nope.json');
    const r = check(missing);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`::error file=${missing}::`);
    expect(r.out).toContain('cannot read config file');
  });
});

// ---- A small stand-in for one Actions run: jobs run their `run:` steps in order in a fresh workspace, and
// upload-artifact / download-artifact copy files through a shared store, as the real actions do (the artifact
// root is the common parent of the uploaded files; hidden files are left out unless include-hidden-files).
// Other actions (checkout, setup-node, setup-terraform, AWS credentials) need nothing here.

const FAKE_TERRAFORM = `#!/usr/bin/env bash
echo "terraform $*" >> "$FAKE_TF_LOG"
case "$1" in
  init) [ -f .terraform.lock.hcl ] || echo "provider aws version $FAKE_TF_PROVIDER" > .terraform.lock.hcl ;;
  plan) for a in "$@"; do case "$a" in -out=*) printf 'binary plan with %s' "$FAKE_TF_SENSITIVE" > "\${a#-out=}" ;; esac; done ;;
  show) f="\${!#}"; [ -f "$f" ] || { echo "terraform show: no plan file $f" >&2; exit 1; }; cat "$FAKE_TF_SHOW" ;;
  apply) f="\${!#}"; [ -f "$f" ] || { echo "terraform apply: no plan file $f" >&2; exit 1; } ;;
  *) echo "unexpected terraform $1" >&2; exit 1 ;;
esac
`;

function filesUnder(p) {
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p, { recursive: true }).map((f) => join(p, f)).filter((f) => statSync(f).isFile());
}

function commonDir(paths) {
  let dir = paths.length === 1 && statSync(paths[0]).isDirectory() ? paths[0] : dirname(paths[0]);
  for (const p of paths) while (!(p === dir || p.startsWith(dir + sep))) dir = dirname(dir);
  return dir;
}

function expand(value, runnerTemp) {
  const out = String(value).replace(/\$\{\{\s*runner\.temp\s*\}\}/g, runnerTemp);
  if (out.includes('${{')) throw new Error(`the simulation cannot expand ${value}`);
  return out;
}

/** Run job `id` of the workflow in a new workspace; artifacts go through `store` (a directory). */
function runJob(id, { store, env }) {
  const ws = mkdtempSync(join(tmp, `${id}-`));
  const runnerTemp = join(ws, '_temp');
  mkdirSync(runnerTemp);
  const summary = join(runnerTemp, 'step-summary.md');
  let out = '';
  for (const step of WF.jobs[id].steps) {
    const uses = step.uses?.split('@')[0];
    if (uses === 'actions/upload-artifact') {
      const paths = expand(step.with.path, runnerTemp).split('\n').map((p) => p.trim()).filter(Boolean).map((p) => resolve(ws, p));
      const present = paths.filter((p) => existsSync(p));
      if (present.length < paths.length && step.with['if-no-files-found'] === 'error') return { code: 1, out: `${out}upload ${step.with.name}: missing files\n`, ws, summary };
      const root = commonDir(present);
      for (const f of present.flatMap(filesUnder)) {
        const rel = relative(root, f);
        if (!step.with['include-hidden-files'] && rel.split(sep).some((part) => part.startsWith('.'))) continue;
        mkdirSync(dirname(join(store, step.with.name, rel)), { recursive: true });
        cpSync(f, join(store, step.with.name, rel));
      }
    } else if (uses === 'actions/download-artifact') {
      const from = join(store, step.with.name);
      if (!existsSync(from)) return { code: 1, out: `${out}download ${step.with.name}: artifact not found\n`, ws, summary };
      cpSync(from, resolve(ws, expand(step.with.path ?? '.', runnerTemp)), { recursive: true });
    } else if (step.run) {
      const wd = step['working-directory'] ?? WF.jobs[id].defaults?.run?.['working-directory'] ?? '.';
      const r = runScript(step.run, {
        cwd: resolve(ws, wd),
        env: { ...env, RUNNER_TEMP: runnerTemp, GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: ws },
      });
      out += r.out;
      if (r.code !== 0) return { code: r.code, out, ws, summary, failedStep: step.name };
    }
  }
  return { code: 0, out, ws, summary };
}

/** A run of the workflow from after synth: the synthesized stack in the `cdktf-out` artifact, a fake terraform on PATH. */
function setupRun() {
  const bin = join(tmp, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'terraform'), FAKE_TERRAFORM);
  chmodSync(join(bin, 'terraform'), 0o755);
  const store = join(tmp, 'artifacts');
  mkdirSync(join(store, 'cdktf-out', 'stacks', 'foundation'), { recursive: true });
  writeFileSync(join(store, 'cdktf-out', 'stacks', 'foundation', 'cdk.tf.json'), '{"resource":{}}');
  const log = join(tmp, 'terraform.log');
  writeFileSync(log, '');
  const showText = (name, text) => { const p = join(tmp, name); writeFileSync(p, text); return p; };
  const env = (over = {}) => ({
    PATH: `${bin}:${process.env.PATH}`, FAKE_TF_LOG: log, FAKE_TF_PROVIDER: '5.100.0', FAKE_TF_SENSITIVE: 'db-password-123', ...over,
  });
  const calls = () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
  return { store, env, calls, showText, clearLog: () => writeFileSync(log, '') };
}

const PLAN_A = 'Terraform will perform the following actions:\n  # aws_ecs_cluster.cluster will be created\nPlan: 1 to add, 0 to change, 0 to destroy.\n';

describe('plan job: plans with the read-only role', () => {
  test('the plan does not take the state lock (-lock=false) and still writes a saved plan to show', () => {
    const run = setupRun();
    const r = runJob('plan', { store: run.store, env: run.env({ FAKE_TF_SHOW: run.showText('a.txt', PLAN_A) }) });
    expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: expect.any(String) });
    const plans = run.calls().filter((c) => c.startsWith('terraform plan'));
    expect(plans).toHaveLength(1);
    expect(plans[0].split(' ')).toEqual(expect.arrayContaining(['-lock=false', '-input=false']));
    expect(plans[0]).not.toMatch(/-lock-timeout/); // meaningless without the lock
    expect(plans[0]).toMatch(/-out=\S+/);
    expect(readFileSync(r.summary, 'utf8')).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');
  });

  test('the plan comment says why the lock is skipped', () => {
    const step = WF.jobs.plan.steps.find((s) => /terraform plan/.test(s.run ?? ''));
    expect(step.run).toMatch(/#[^\n]*-lock=false[^\n]*read-only/);
  });
});

describe('deploy job: applies exactly the approved plan', () => {
  const PLAN_B = PLAN_A.replace('Plan: 1 to add, 0 to change', 'Plan: 1 to add, 1 to change')
    .replace('will be created\n', 'will be created\n  # aws_lb.main will be updated in-place\n');

  /** plan job with `approvedText`, then, after the approval, the deploy job seeing `nowText`. */
  function planThenDeploy(approvedText, nowText, deployEnv = {}) {
    const run = setupRun();
    const plan = runJob('plan', { store: run.store, env: run.env({ FAKE_TF_SHOW: run.showText('approved.txt', approvedText) }) });
    expect({ code: plan.code, out: plan.out }).toEqual({ code: 0, out: expect.any(String) });
    run.clearLog();
    const deploy = runJob('deploy', { store: run.store, env: run.env({ FAKE_TF_SHOW: run.showText('now.txt', nowText), ...deployEnv }) });
    return { run, deploy, calls: run.calls() };
  }

  test('an unchanged plan: the deploy plans under the lock, and applies the very file it saved and compared', () => {
    const { deploy, calls } = planThenDeploy(PLAN_A, PLAN_A);
    expect({ code: deploy.code, out: deploy.out }).toEqual({ code: 0, out: expect.stringContaining('The plan is the approved plan.') });
    const plan = calls.filter((c) => c.startsWith('terraform plan'));
    const show = calls.filter((c) => c.startsWith('terraform show'));
    const apply = calls.filter((c) => c.startsWith('terraform apply'));
    expect([plan.length, show.length, apply.length]).toEqual([1, 1, 1]);
    expect(plan[0]).not.toMatch(/-lock=false/);
    const saved = plan[0].match(/-out=(\S+)/)[1];
    expect(show[0].split(' ')).toEqual(expect.arrayContaining(['-no-color', saved]));
    expect(apply[0].split(' ').at(-1)).toBe(saved);
    expect(apply[0]).not.toMatch(/auto-approve|-target|-replace/);
    expect(calls.indexOf(plan[0])).toBeLessThan(calls.indexOf(show[0]));
    expect(calls.indexOf(show[0])).toBeLessThan(calls.indexOf(apply[0]));
  });

  test('a changed plan: the job fails with the re-run message, shows the difference and applies nothing', () => {
    const { deploy, calls } = planThenDeploy(PLAN_A, PLAN_B);
    expect(deploy.code).not.toBe(0);
    expect(deploy.out).toContain('::error::the plan changed since it was approved: re-run the workflow');
    expect(deploy.out).toContain('+  # aws_lb.main will be updated in-place');
    expect(calls.filter((c) => c.startsWith('terraform apply'))).toEqual([]);
    const summary = readFileSync(deploy.summary, 'utf8');
    expect(summary).toContain('The plan changed since it was approved');
    expect(summary).toContain('-Plan: 1 to add, 0 to change, 0 to destroy.');
    expect(summary).toContain('+Plan: 1 to add, 1 to change, 0 to destroy.');
  });

  test('even a one-character difference counts (no fuzzy comparison)', () => {
    const { deploy, calls } = planThenDeploy(PLAN_A, PLAN_A.replace('cluster.cluster', 'cluster.clusters'));
    expect(deploy.out).toContain('the plan changed since it was approved');
    expect(calls.some((c) => c.startsWith('terraform apply'))).toBe(false);
  });

  test('without the approved plan artifact nothing is planned or applied', () => {
    const run = setupRun();
    const r = runJob('deploy', { store: run.store, env: run.env({ FAKE_TF_SHOW: run.showText('now.txt', PLAN_A) }) });
    expect(r.code).not.toBe(0);
    expect(run.calls().filter((c) => /^terraform (plan|apply)/.test(c))).toEqual([]);
  });

  test('the deploy initialises with the provider lock of the approved plan, not whatever is newest', () => {
    const { deploy } = planThenDeploy(PLAN_A, PLAN_A, { FAKE_TF_PROVIDER: '5.999.0' });
    expect(deploy.code).toBe(0);
    expect(readFileSync(join(deploy.ws, 'cdktf.out/stacks/foundation/.terraform.lock.hcl'), 'utf8')).toContain('5.100.0');
  });

  test('no artifact holds a binary plan file or anything only the binary plan holds', () => {
    const { run } = planThenDeploy(PLAN_A, PLAN_A);
    const files = filesUnder(run.store);
    expect(files.map((f) => relative(run.store, f)).sort()).toEqual([
      'cdktf-out/stacks/foundation/cdk.tf.json',
      'foundation-plan/foundation-plan.txt',
      'foundation-plan/foundation-providers.lock.hcl',
    ]);
    for (const f of files) expect(readFileSync(f, 'utf8')).not.toContain('db-password-123');
    for (const job of Object.values(WF.jobs)) {
      for (const s of job.steps) if (s.uses?.startsWith('actions/upload-artifact@')) expect(String(s.with.path)).not.toMatch(/tfplan|\*/);
    }
  });
});
