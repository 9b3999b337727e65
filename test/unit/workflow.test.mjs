// Lint of the CI workflow: job order, the approval gate, least-privilege permissions, OIDC-only AWS access,
// artifacts. Parses the YAML; every assertion is about the file as committed.
import { readFileSync, writeFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { timelinePathFor } from '../../runner/report/index.mjs';

const FILE = new URL('../../.github/workflows/staging-rollout.yml', import.meta.url);
const TEXT = readFileSync(FILE, 'utf8');
const WF = parse(TEXT);
const JOBS = WF.jobs;
const CHECKS = readFileSync(new URL('../../.github/workflows/checks.yml', import.meta.url), 'utf8');
const WORKFLOWS = [['staging-rollout.yml', TEXT], ['checks.yml', CHECKS]];

const needsOf = (id) => [].concat(JOBS[id].needs ?? []);
/** Every job `id` depends on, directly or not. */
function ancestors(id, seen = new Set()) {
  for (const n of needsOf(id)) if (!seen.has(n)) { seen.add(n); ancestors(n, seen); }
  return seen;
}
const steps = (id) => JOBS[id].steps ?? [];
const runText = (id) => steps(id).map((s) => s.run ?? '').join('\n');
const jobsRunning = (re) => Object.keys(JOBS).filter((id) => re.test(runText(id)));
const usesAction = (id, name) => steps(id).some((s) => typeof s.uses === 'string' && s.uses.split('@')[0] === name);

describe('job order', () => {
  test('tests -> synth -> plan -> deploy (approval) -> rollout, as a chain of needs', () => {
    expect(jobsRunning(/npm test|npm run test:unit/)).toEqual(['test']);
    const [synth] = jobsRunning(/cdktf synth/);
    const [plan] = jobsRunning(/terraform plan/);
    const [deploy] = jobsRunning(/terraform apply/);
    const [rollout] = jobsRunning(/runner\/rollout\.mjs/);
    expect(jobsRunning(/terraform apply/)).toEqual([deploy]);
    // `cdktf deploy` would plan again and apply that unreviewed plan
    expect(jobsRunning(/cdktf deploy|auto-approve/)).toEqual([]);
    expect(needsOf(synth)).toEqual(['test']);
    expect(needsOf(plan)).toEqual([synth]);
    expect(needsOf(deploy)).toEqual([plan]);
    expect(needsOf(rollout)).toEqual([deploy]);
    expect([...ancestors(rollout)].sort()).toEqual(['deploy', 'plan', 'synth', 'test'].sort());
  });

  test('every needs names an existing job and there is no cycle', () => {
    for (const id of Object.keys(JOBS)) {
      for (const n of needsOf(id)) expect(Object.keys(JOBS)).toContain(n);
      expect(ancestors(id).has(id)).toBe(false);
    }
  });

  test('the plan is of the synthesized foundation stack', () => {
    const plan = jobsRunning(/terraform plan/)[0];
    const step = steps(plan).find((s) => /terraform plan/.test(s.run ?? ''));
    expect(step['working-directory']).toBe('cdktf.out/stacks/foundation');
    expect(steps(plan).some((s) => s.uses?.startsWith('actions/download-artifact@') && s.with?.name === 'cdktf-out')).toBe(true);
    expect(steps(jobsRunning(/cdktf synth/)[0]).some((s) => s.uses?.startsWith('actions/upload-artifact@') && s.with?.name === 'cdktf-out')).toBe(true);
  });
});

describe('approval gate', () => {
  test('the job that applies foundation runs in the `staging` environment (required reviewers)', () => {
    const deploy = jobsRunning(/terraform apply/)[0];
    const env = JOBS[deploy].environment;
    expect(typeof env === 'string' ? env : env?.name).toBe('staging');
  });

  test('nothing changes AWS before the gate: jobs before deploy only plan', () => {
    const deploy = jobsRunning(/terraform apply/)[0];
    for (const id of ancestors(deploy)) expect(runText(id)).not.toMatch(/terraform apply|cdktf deploy|rollout\.mjs|update-service/);
  });
});

describe('permissions', () => {
  test('workflow default is contents: read only', () => {
    expect(WF.permissions).toEqual({ contents: 'read' });
  });

  test('no write-all / read-all anywhere, and every job states its permissions', () => {
    expect(TEXT).not.toMatch(/write-all|read-all/);
    for (const [id, job] of Object.entries(JOBS)) {
      expect(typeof job.permissions).toBe('object');
      expect(`${id}: ${JSON.stringify(job.permissions)}`).not.toMatch(/write-all/);
    }
  });

  test('id-token: write exactly in the jobs that assume an AWS role; no other write permission', () => {
    for (const [id, job] of Object.entries(JOBS)) {
      const assumes = usesAction(id, 'aws-actions/configure-aws-credentials');
      const writes = Object.entries(job.permissions).filter(([, v]) => v === 'write').map(([k]) => k);
      expect(`${id}: ${writes.join(',')}`).toBe(`${id}: ${assumes ? 'id-token' : ''}`);
      expect(job.permissions.contents).toBe('read');
    }
    expect(Object.keys(JOBS).filter((id) => usesAction(id, 'aws-actions/configure-aws-credentials')).sort()).toEqual(['deploy', 'plan', 'rollout']);
  });
});

describe('AWS credentials', () => {
  test('only OIDC role assumption: every configure-aws-credentials step has role-to-assume and no keys', () => {
    const cfg = Object.keys(JOBS).flatMap((id) => steps(id).filter((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@')));
    expect(cfg.length).toBe(3);
    for (const s of cfg) {
      expect(s.with['role-to-assume']).toMatch(/^\$\{\{ vars\.[A-Z_]+_ROLE_ARN \}\}$/);
      expect(Object.keys(s.with)).not.toEqual(expect.arrayContaining(['aws-access-key-id']));
      expect(Object.keys(s.with).filter((k) => /access-key|secret-access|session-token/.test(k))).toEqual([]);
    }
  });

  test('no stored AWS keys anywhere in the file', () => {
    expect(TEXT).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|aws-access-key-id|aws-secret-access-key/i);
    expect(TEXT).not.toMatch(/secrets\.AWS/i);
    expect(TEXT).not.toMatch(/AKIA[0-9A-Z]{16}/);
  });
});

describe('the Terraform Cloud token follows the stack\'s host', () => {
  const tokenStep = (id) => steps(id).findIndex((s) => /TF_TOKEN_/.test(s.run ?? ''));
  const firstTerraform = (id) => steps(id).findIndex((s) => /\bterraform\b.*\b(init|plan|apply|output)\b/.test(s.run ?? ''));

  test('plan, deploy and rollout set it (one step, the same in each) before their first terraform command; no job hard-codes a host', () => {
    for (const id of ['plan', 'deploy', 'rollout']) {
      expect({ id, before: tokenStep(id) >= 0 && tokenStep(id) < firstTerraform(id) }).toEqual({ id, before: true });
      expect(steps(id)[tokenStep(id)]).toEqual(steps('plan')[tokenStep('plan')]);
      expect(JOBS[id].env ?? {}).toEqual({});
    }
    expect(TEXT).not.toMatch(/TF_TOKEN_app_terraform_io:/);
  });

  /** run the step's script as Actions would, in a directory holding a synthesized stack */
  function runTokenStep(cloud, token) {
    const dir = mkdtempSync(path.join(tmpdir(), 'tf-token-'));
    mkdirSync(path.join(dir, 'cdktf.out/stacks/foundation'), { recursive: true });
    writeFileSync(path.join(dir, 'cdktf.out/stacks/foundation/cdk.tf.json'), JSON.stringify({ terraform: cloud ? { cloud } : { backend: { local: {} } } }));
    const envFile = path.join(dir, 'github_env');
    writeFileSync(envFile, '');
    const res = spawnSync('bash', ['-eo', 'pipefail', '-c', steps('plan')[tokenStep('plan')].run], { cwd: dir, env: { ...process.env, GITHUB_ENV: envFile, TF_API_TOKEN: token }, encoding: 'utf8' });
    expect(res.status).toBe(0);
    return readFileSync(envFile, 'utf8');
  }

  test('the variable name is the host\'s (dots _, hyphens __), the default host without one; nothing without a token', () => {
    expect(runTokenStep({ hostname: 'tfe.my-corp.example', organization: 'acme' }, 't0ken')).toBe('TF_TOKEN_tfe_my__corp_example=t0ken\n');
    expect(runTokenStep({ organization: 'acme' }, 't0ken')).toBe('TF_TOKEN_app_terraform_io=t0ken\n');
    expect(runTokenStep({ organization: 'acme' }, '')).toBe('');
  });
});

describe('hygiene', () => {
  test('one change of the environment at a time, for the whole run, never cancelled mid-deploy', () => {
    expect(WF.concurrency.group).toBe('environment-staging');
    expect(WF.concurrency['cancel-in-progress']).toBe(false);
    // a job-level group would let another run's apply come between this run's apply and rollout
    for (const id of Object.keys(JOBS)) expect(JOBS[id].concurrency).toBeUndefined();
  });

  test('every job that assumes a role changing the environment runs in that environment (the roles trust only it)', () => {
    const changing = Object.keys(JOBS).filter((id) => steps(id).some((s) => /configure-aws-credentials/.test(s.uses ?? '')
      && /STAGING_(DEPLOY|ROLLOUT)_ROLE_ARN/.test(s.with?.['role-to-assume'] ?? '')));
    expect(changing.sort()).toEqual(['deploy', 'rollout']);
    for (const id of changing) expect(JOBS[id].environment?.name ?? JOBS[id].environment).toBe('staging');
  });

  test('every action of every workflow is pinned to a commit SHA, its version beside it (a tag can be moved)', () => {
    const uses = WORKFLOWS.flatMap(([name, text]) => text.split('\n').filter((l) => /^\s*-?\s*uses:/.test(l)).map((l) => [name, l.trim()]));
    expect(uses.length).toBeGreaterThan(10);
    for (const [name, line] of uses) expect({ name, line }).toEqual({ name, line: expect.stringMatching(/^(- )?uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/) });
  });

  test('pull requests are checked (type checks and unit tests) with no AWS access; the Node version is the deploy workflow\'s', () => {
    const checks = parse(CHECKS);
    expect(Object.keys(checks.on)).toEqual(['pull_request']);
    expect(checks.permissions).toEqual({ contents: 'read' });
    expect(checks.concurrency['cancel-in-progress']).toBe(true);
    expect(checks.env.NODE_VERSION).toBe(WF.env.NODE_VERSION);
    const job = checks.jobs.test;
    expect(job.steps.map((s) => s.run).filter(Boolean)).toEqual(['npm ci', 'npm test', 'npx cdktf synth']);
    expect(job.steps.find((s) => s.run === 'npm test').env.TEST_PHASES).toBe('typecheck unit add-a-worker');
    expect(CHECKS).not.toMatch(/id-token|secrets\.|role-to-assume|configure-aws-credentials/);
    // the deploy workflow never runs for a pull request
    expect(Object.keys(WF.on).sort()).toEqual(['push', 'workflow_dispatch']);
  });

  test('Dependabot proposes updates of the actions and of npm, never of the archived CDKTF or the mirror-bound provider', () => {
    const dep = parse(readFileSync(new URL('../../.github/dependabot.yml', import.meta.url), 'utf8'));
    expect(dep.updates.map((u) => u['package-ecosystem']).sort()).toEqual(['github-actions', 'npm']);
    const npm = dep.updates.find((u) => u['package-ecosystem'] === 'npm');
    expect(npm.ignore.map((i) => i['dependency-name']).sort()).toEqual(['@cdktf/provider-aws', 'cdktf', 'cdktf-cli']);
  });

  test('no workflow input or event text is interpolated into a shell script', () => {
    for (const id of Object.keys(JOBS)) expect(runText(id)).not.toMatch(/\$\{\{\s*(inputs|github\.event)\./);
  });
});

describe('artifacts', () => {
  test('the rollout uploads the report, the timeline beside it and the summary, even when it fails', () => {
    const rollout = jobsRunning(/runner\/rollout\.mjs/)[0];
    const run = runText(rollout);
    const report = run.match(/--report\s+(\S+)/)[1];
    const summary = run.match(/--summary\s+(\S+)/)[1];
    const upload = steps(rollout).find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(upload.if).toBe('always()');
    const paths = upload.with.path.trim().split('\n').map((p) => p.trim());
    const wd = JOBS[rollout].defaults?.run?.['working-directory'];
    const inWd = (p) => (wd ? `${wd}/${p}` : p);
    expect(paths).toEqual(expect.arrayContaining([inWd(report), inWd(timelinePathFor(report)), inWd(summary)]));
  });
});

describe('secrets exposure', () => {
  test('no secret reaches the workflow-wide env or the jobs that run before the approval without AWS access', () => {
    expect(JSON.stringify(WF.env ?? {})).not.toMatch(/secrets\./);
    for (const id of ['test', 'synth']) expect(JSON.stringify(JOBS[id])).not.toMatch(/secrets\./);
  });
});
