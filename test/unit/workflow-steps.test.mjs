// Runs the workflow's own shell steps (taken from the parsed YAML) the way GitHub Actions does
// (`bash --noprofile --norc -eo pipefail`), with a stand-in `terraform` on PATH where a step calls it.
// No AWS, no Terraform, no network: only bash and node.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WF = parse(readFileSync(join(ROOT, '.github/workflows/staging-rollout.yml'), 'utf8'));
const STAGING = resolve(ROOT, 'config/staging.json');

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
