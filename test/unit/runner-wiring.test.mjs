// How the runner wires its step modules: report artifacts without --report, the context every step
// gets (config, configPath, releaseStartedAt), the capability switch the smoke suite reads, extra check fields,
// smoke settings checked at startup, stdin through the runner's exec, the images step in a dry run, and task
// definitions pinned to what the images step produced (or would produce).
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { main } from '../../runner/main.mjs';
import { writeArtifacts as realWriteArtifacts } from '../../runner/report/index.mjs';
import { zxExec } from '../../runner/lib/runtime.mjs';
import { detectCapabilities, EMULATOR_GAPS } from '../../runner/lib/emulator.mjs';
import { missingCapability } from '../../runner/smoke/capabilities.mjs';
import { toCommandRunner } from '../../runner/images/exec.mjs';
import { fakeWorld, fakeClock, ROOT, OUTPUTS, OUTPUTS_FILE } from '../support/fake-aws.mjs';
import { FAMILIES } from '../support/rollout.mjs';
import { stagingRaw, CONFIG_FILE, CONFIG_ENV } from '../support/staging-config.cjs';

const tmp = mkdtempSync(path.join(tmpdir(), 'runner-wiring-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const STAGING = stagingRaw();
const IMAGE_KEYS = Object.keys(STAGING.images);
/** ECR repository name of an image key: the path of its repository URL */
const repositoryName = (k) => OUTPUTS.repository_urls[k].slice(OUTPUTS.repository_urls[k].indexOf('/') + 1);
const DIGEST = (c) => `sha256:${c.repeat(64)}`;

async function rollout(args, { fake = fakeWorld(), env = {}, exec, modules = {}, writeArtifacts = async () => ({}) } = {}) {
  const out = [];
  const err = [];
  const createAws = jest.fn(() => fake.clients);
  const res = await main(['--outputs', OUTPUTS_FILE, '--poll-interval', '1', ...args], {
    cwd: ROOT, env: { ...CONFIG_ENV, ...env }, clock: fakeClock(), createAws,
    write: (l) => out.push(l), writeErr: (l) => err.push(l),
    exec: exec ?? (async () => { throw new Error('no shell in unit tests'); }),
    steps: fake.steps({ images: null, smoke: null, ...modules }),
    writeArtifacts,
  });
  return { ...res, out: out.join('\n'), err: err.join('\n'), createAws, fake };
}
const ops = (fake, op) => fake.world.calls.filter((c) => c.op === op);
const stepOf = (report, id) => report.steps.find((s) => s.id === id);

describe('report artifacts (wiring item 1)', () => {
  test('--summary without --report writes the Markdown summary and no timeline', async () => {
    const summary = path.join(tmp, 'only-summary', 'summary.md');
    const res = await rollout(['--release', 'r1', '--no-emulator', '--summary', summary], { writeArtifacts: realWriteArtifacts });
    expect(res.exitCode).toBe(0);
    const md = readFileSync(summary, 'utf8');
    expect(md).toContain('r1');
    expect(md).toMatch(/task-definitions/);
    expect(existsSync(path.join(tmp, 'only-summary', 'summary.timeline.svg'))).toBe(false);
  });

  test('$GITHUB_STEP_SUMMARY alone gets the summary appended; with neither, writeArtifacts is not even called', async () => {
    const gh = path.join(tmp, 'gh-step-summary.md');
    writeFileSync(gh, '# earlier step\n');
    const res = await rollout(['--release', 'r1', '--no-emulator'], { env: { GITHUB_STEP_SUMMARY: gh }, writeArtifacts: realWriteArtifacts });
    expect(res.exitCode).toBe(0);
    const text = readFileSync(gh, 'utf8');
    expect(text.startsWith('# earlier step\n')).toBe(true);
    expect(text.length).toBeGreaterThan('# earlier step\n'.length + 50);

    const write = jest.fn(realWriteArtifacts);
    const none = await rollout(['--release', 'r1', '--no-emulator'], { writeArtifacts: write });
    expect(none.exitCode).toBe(0);
    expect(write).not.toHaveBeenCalled();
  });
});

describe('step context (items 2, 3 and the one config loader)', () => {
  test('steps get the loaded config, its absolute path, the environment and the release start', async () => {
    let seen;
    const images = { run: async (ctx) => { seen = ctx; return { status: 'skipped', reason: 'test' }; } };
    const res = await rollout(['--release', 'r1', '--no-emulator', '--only', 'images'], { modules: { images }, env: { MARKER: 'x' } });
    expect(res.exitCode).toBe(0);
    expect(seen.configPath).toBe(CONFIG_FILE); // the runner's default, config/staging.json, unless $STAGING_ROLLOUT_CONFIG names the config under test
    expect(seen.config.migration.command).toEqual(STAGING.migration.command);
    expect(seen.env).toEqual({ ...CONFIG_ENV, MARKER: 'x' });
    expect(new Date(seen.releaseStartedAt).toISOString()).toBe(seen.releaseStartedAt);
    expect(Date.parse(seen.releaseStartedAt)).toBe(Date.parse(res.report.startedAt));
    expect(seen.options.release).toBe('r1');
  });

  test('a config that extends staging is used as merged, and its image contexts resolve against the file that declared them', async () => {
    const dir = path.join(tmp, 'overlay');
    mkdirSync(dir, { recursive: true });
    const overlay = path.join(dir, 'qa.json');
    writeFileSync(overlay, JSON.stringify({ extends: path.relative(dir, CONFIG_FILE), migration: { timeoutSeconds: 60 }, images: { admin: { context: './admin-src' } } }));
    let seen;
    const images = { run: async (ctx) => { seen = ctx; return { status: 'skipped', reason: 'test' }; } };
    const res = await rollout(['--release', 'r1', '--no-emulator', '--only', 'images', '--config', overlay], { modules: { images } });
    expect(res.exitCode).toBe(0);
    expect(seen.config.migration).toMatchObject({ timeoutSeconds: 60, command: STAGING.migration.command });
    expect(seen.configPath).toBe(overlay);
    const base = path.dirname(overlay);
    expect(path.resolve(base, seen.config.images.admin.context)).toBe(path.join(dir, 'admin-src'));
    expect(path.resolve(base, seen.config.images.api.context)).toBe(path.resolve(path.dirname(CONFIG_FILE), STAGING.images.api.context));
  });

  test('invalid smoke settings exit 2 before any AWS client exists (item 6)', async () => {
    const p = path.join(tmp, 'bad-smoke.json');
    writeFileSync(p, JSON.stringify({ ...STAGING, smoke: { ...STAGING.smoke, healthPath: 'health' } }));
    const res = await rollout(['--release', 'r1', '--config', p]);
    expect(res.exitCode).toBe(2);
    // one line of JSON: the column is that of the bad value
    const column = readFileSync(p, 'utf8').indexOf('"health"') + 1;
    expect(res.err).toBe(`error: --config ${p}: smoke.healthPath: must be a path starting with "/", got "health" (line 1, column ${column})`);
    expect(res.createAws).not.toHaveBeenCalled();
  });
});

describe('capabilities and checks (items 3 and 5)', () => {
  test('emulator mode lacks alb-http with a reason; the smoke suite takes the reason from the runner switch', () => {
    const on = detectCapabilities({ emulator: true });
    expect(on.lacks('alb-http')).toBe(true);
    expect(on.reason('alb-http')).toBe(EMULATOR_GAPS['alb-http']);
    expect(missingCapability(on, ['alb-http'])).toBe(`not checkable here: ${EMULATOR_GAPS['alb-http']}`);
    const off = detectCapabilities({ emulator: false });
    expect(off.lacks('alb-http')).toBe(false);
    expect(missingCapability(off, ['alb-http'])).toBeNull();
  });

  test('attempts and timeoutMs of a check are kept in the report; invalid values are dropped', async () => {
    const smoke = { run: async () => ({ status: 'passed', checks: [
      { name: 'api-health', status: 'passed', reason: null, evidence: 'HTTP 200', durationMs: 5, attempts: 2, timeoutMs: 10000 },
      { name: 'login', status: 'passed', reason: null, evidence: 'ok', durationMs: 1, attempts: -1, timeoutMs: 'soon' },
      { name: 'logs', status: 'passed', reason: null, evidence: 'ok', durationMs: 1 },
    ] }) };
    const res = await rollout(['--release', 'r1', '--no-emulator', '--only', 'smoke'], { modules: { smoke } });
    expect(res.exitCode).toBe(0);
    const [a, b, c] = stepOf(res.report, 'smoke').checks;
    expect(a).toEqual({ name: 'api-health', status: 'passed', reason: null, evidence: 'HTTP 200', durationMs: 5, attempts: 2, timeoutMs: 10000 });
    expect(Object.keys(b)).toEqual(['name', 'status', 'reason', 'evidence', 'durationMs']);
    expect(Object.keys(c)).toEqual(['name', 'status', 'reason', 'evidence', 'durationMs']);
  });
});

describe('exec and dry run (items 7 and 8)', () => {
  test("the runner's exec passes input to the command's stdin, and says so, so docker login goes through it", async () => {
    const calls = [];
    const $ = (o) => (strings, ...values) => { calls.push({ o, argv: values.flat() }); return Promise.resolve({ stdout: 'ok', stderr: '', exitCode: 0 }); };
    const exec = zxExec({ $ });
    expect(exec.stdin).toBe(true);
    const stdinRunner = jest.fn();
    const run = toCommandRunner(exec, { stdinRunner });
    const r = await run(['docker', 'login', '--username', 'AWS', '--password-stdin', 'host'], { input: 'pw' });
    expect(r).toEqual({ exitCode: 0, stdout: 'ok', stderr: '' });
    expect(stdinRunner).not.toHaveBeenCalled();
    expect(calls).toHaveLength(1);
    expect(calls[0].o).toMatchObject({ input: 'pw', nothrow: true, quiet: true });
    expect(calls[0].argv).toEqual(['docker', 'login', '--username', 'AWS', '--password-stdin', 'host']);
    expect(calls[0].argv).not.toContain('pw');
    await exec('true', []);
    expect('input' in calls[1].o).toBe(false);
  });

  test('--dry-run calls the images step (read-only) with dryRun set; smoke is still not run', async () => {
    const run = jest.fn(async (ctx) => ({ status: 'skipped', reason: `dry run: would build (dryRun=${ctx.options.dryRun})` }));
    const smoke = { run: jest.fn() };
    const res = await rollout(['--release', 'r1', '--no-emulator', '--dry-run'], { modules: { images: { run }, smoke } });
    expect(res.exitCode).toBe(0);
    expect(run).toHaveBeenCalledTimes(1);
    expect(stepOf(res.report, 'images')).toMatchObject({ status: 'skipped', reason: 'dry run: would build (dryRun=true)' });
    expect(smoke.run).not.toHaveBeenCalled();
    expect(stepOf(res.report, 'smoke')).toMatchObject({ status: 'skipped', reason: 'dry run: smoke tests not run' });
  });
});

describe('task definitions pin what the images step produced (item 9)', () => {
  const imageOf = (reg) => reg.input.containerDefinitions[0].image;
  const familyImage = (fake) => Object.fromEntries(ops(fake, 'RegisterTaskDefinition').map((r) => [r.input.family, imageOf(r)]));
  const keyOfFamily = (family) => (family === OUTPUTS.migration_task_family ? 'api' : Object.values(OUTPUTS.service_catalog).find((s) => s.task_family === family).image);

  test('images pushed to an override registry: repository@digest where they were pushed, not repository_urls', async () => {
    const images = { run: async (ctx) => {
      ctx.state.images = Object.fromEntries(IMAGE_KEYS.map((k, i) => [k, {
        uri: `localhost:5000/staging-${k}:r1`, tag: 'r1', digest: DIGEST('abcd'[i]), status: 'pushed', repository: `localhost:5000/staging-${k}`,
      }]));
      return { status: 'passed' };
    } };
    const res = await rollout(['--release', 'r1', '--no-emulator', '--image-registry', 'localhost:5000'], { modules: { images } });
    expect(res.exitCode).toBe(0);
    const byFamily = familyImage(res.fake);
    expect(Object.keys(byFamily)).toHaveLength(FAMILIES);
    for (const [family, image] of Object.entries(byFamily)) {
      const k = keyOfFamily(family);
      expect(image).toBe(`localhost:5000/staging-${k}@${DIGEST('abcd'[IMAGE_KEYS.indexOf(k)])}`);
    }
    expect(ops(res.fake, 'DescribeImages')).toHaveLength(0);
  });

  test('images step not run, no --release: each image is looked up under its build context git commit and pinned by digest', async () => {
    const dir = path.join(tmp, 'contexts');
    const commits = {};
    const images = {};
    IMAGE_KEYS.forEach((k, i) => {
      mkdirSync(path.join(dir, k), { recursive: true });
      writeFileSync(path.join(dir, k, 'Dockerfile'), 'FROM scratch\n');
      commits[path.join(dir, k)] = `${'0123'[i]}`.repeat(12);
      images[k] = { context: `./contexts/${k}` };
    });
    const cfg = path.join(tmp, 'ctx-config.json');
    writeFileSync(cfg, JSON.stringify({ extends: path.relative(tmp, CONFIG_FILE), images }));
    const execCalls = [];
    const exec = async (cmd, args) => {
      execCalls.push([cmd, ...args]);
      if (cmd !== 'git') throw new Error(`unexpected ${cmd}`);
      if (args[0] === 'rev-parse') return { stdout: 'feedfacefeed\n', stderr: '', exitCode: 0 }; // the runner's own release
      if (args[0] === '-C' && args[2] === 'rev-parse') return { stdout: `${commits[args[1]]}\n`, stderr: '', exitCode: 0 };
      if (args[0] === '-C' && args[2] === 'status') return { stdout: '', stderr: '', exitCode: 0 };
      throw new Error(`unexpected git ${args.join(' ')}`);
    };
    const fake = fakeWorld();
    const res = await rollout(['--no-emulator', '--skip', 'images', '--config', cfg], { fake, exec });
    expect(res.exitCode).toBe(0);
    expect(res.report.release).toBe('feedfacefeed');
    const described = ops(fake, 'DescribeImages').map((c) => [c.input.repositoryName, c.input.imageIds[0].imageTag]);
    expect(described.sort()).toEqual(IMAGE_KEYS.map((k, i) => [repositoryName(k), '0123'[i].repeat(12)]).sort());
    for (const [family, image] of Object.entries(familyImage(fake))) {
      const k = keyOfFamily(family);
      expect(image).toBe(`${OUTPUTS.repository_urls[k]}@${fake.world.images[k]}`);
    }
  });

  test('images step not run and its tags cannot be worked out (no build context here): the release tag, with a warning', async () => {
    const fake = fakeWorld();
    const res = await rollout(['--release', 'r9', '--no-emulator', '--from', 'task-definitions'], { fake });
    expect(res.exitCode).toBe(0);
    expect(res.out).toMatch(/WARN \[task-definitions\] the images step's tags cannot be worked out \(image configuration is not usable.*build context .* does not exist/);
    expect(ops(fake, 'DescribeImages').map((c) => c.input.imageIds[0].imageTag)).toEqual(['r9', 'r9', 'r9', 'r9']);
  });
});
