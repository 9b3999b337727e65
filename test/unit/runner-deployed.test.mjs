// The runner compares the config it was given with what is deployed before any AWS call
// (runner/lib/deployed.mjs, docs/environments.md): another environment's outputs exit 2; a catalog not deployed
// yet exits 2 with the difference and "run `cdktf deploy foundation` first"; a desired count that differs is
// reported (also in --dry-run) and the config's count is used. Against the scripted AWS world.
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { main } from '../../runner/main.mjs';
import { compareDeployed, catalogDifferences } from '../../runner/lib/deployed.mjs';
import { normalizeOutputs } from '../../runner/lib/outputs.mjs';
import { InputError } from '../../runner/lib/errors.mjs';
import configLib from '../../lib/config/index.cjs';
import { fakeWorld, fakeClock, ROOT, OUTPUTS, OUTPUTS_FILE } from '../support/fake-aws.mjs';
import { CONFIG_ENV, CONFIG_FILE, stagingRaw } from '../support/staging-config.cjs';
import { rollout, ops } from '../support/rollout.mjs';

jest.setTimeout(20_000);

const STAGING = CONFIG_FILE;
const MUTATING = ['UpdateService', 'RegisterTaskDefinition', 'RunTask', 'StopTask', 'CreateService', 'DeleteService', 'PutParameter'];
const tmp = mkdtempSync(path.join(tmpdir(), 'runner-deployed-'));
/** a config file extending staging.json with `overlay` */
const configFile = (name, overlay) => {
  const p = path.join(tmp, name);
  writeFileSync(p, JSON.stringify({ extends: STAGING, ...overlay }));
  return p;
};
const deployedOutputs = () => normalizeOutputs(structuredClone(OUTPUTS), 'outputs.json');
const cfg = (edit = () => {}) => {
  const raw = stagingRaw();
  edit(raw);
  return configLib.normalizeConfig(raw, { source: 'c.json' }).config;
};

async function runMain(argv, fake = fakeWorld()) {
  const out = [];
  const err = [];
  const createAws = jest.fn(() => fake.clients);
  const res = await main(argv, {
    cwd: ROOT, env: { ...CONFIG_ENV }, clock: fakeClock(), createAws, write: (l) => out.push(l), writeErr: (l) => err.push(l),
    exec: async () => { throw new Error('no shell in unit tests'); },
    steps: fake.steps({ images: null, smoke: null }), writeArtifacts: async () => ({}),
  });
  return { ...res, out: out.join('\n'), err: err.join('\n'), createAws, world: fake.world };
}

describe('compareDeployed (pure)', () => {
  test('the config the stack was deployed from: no difference, the outputs unchanged', () => {
    const outputs = deployedOutputs();
    const r = compareDeployed({ config: cfg(), outputs, configFile: 'c.json', source: 'o.json' });
    expect(r).toEqual({ outputs, countChanges: [] });
  });

  test('another environment: InputError naming both environments and the cluster', () => {
    const call = () => compareDeployed({ config: cfg((r) => { r.environment = 'qa'; }), outputs: deployedOutputs(), configFile: 'config/qa.json', source: 'terraform output' });
    expect(call).toThrow(InputError);
    expect(call).toThrow(`--config config/qa.json is environment "qa", but the stack outputs (terraform output) are environment "${OUTPUTS.environment}"'s (cluster ${OUTPUTS.cluster_name})`);
  });

  test('another environment is refused even where the catalog is not compared (status, history)', () => {
    expect(() => compareDeployed({ config: cfg((r) => { r.environment = 'qa'; }), outputs: deployedOutputs(), configFile: 'q', source: 's', catalog: false })).toThrow(InputError);
  });

  test.each([
    ['added', (r) => { r.services['new-worker'] = { tier: 'workers', kind: 'worker', image: 'api', command: ['x'], secrets: [] }; }, ['new-worker: in the config, not deployed (added)']],
    ['removed', (r) => { delete r.services['materialized-view-service']; }, ['materialized-view-service: deployed, not in the config (removed)']],
    ['disabled (and spread to its dependent)', (r) => { r.services.anisette.enabled = false; }, [
      'anisette: disabled (disabled in config) in the config, enabled in the deployed stack',
      'tracker-fetcher-2: disabled (dependency anisette is disabled) in the config, enabled in the deployed stack']],
    ['dependencies', (r) => { r.services['unified-geofence'].dependsOn = ['anisette']; }, ['unified-geofence: dependsOn [anisette] in the config, [none] deployed']],
    ['tier', (r) => { r.services['unified-geofence'].tier = 'app'; }, ['unified-geofence: tier "app" in the config, "workers" deployed']],
  ])('catalog difference: %s', async (name, edit, diffs) => {
    const config = cfg(edit);
    // through the runner's entry: exit 2, the difference listed, no AWS client created
    const raw = stagingRaw();
    edit(raw);
    const file = path.join(tmp, `diff-${name.replace(/\W+/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(raw));
    const res = await runMain(['--config', file, '--outputs', OUTPUTS_FILE, '--release', 'r1']);
    expect([res.exitCode, res.createAws.mock.calls.length]).toEqual([2, 0]);
    for (const d of diffs) expect(res.err).toContain(`  - ${d}`);
    expect(res.err).toContain('run `cdktf deploy foundation` first');
    expect(catalogDifferences(config, deployedOutputs())).toEqual(diffs);
    expect(() => compareDeployed({ config, outputs: deployedOutputs(), configFile: 'c.json', source: 'o.json' })).toThrow('run `cdktf deploy foundation` first');
    // status and history read; they do not refuse a catalog difference
    expect(() => compareDeployed({ config, outputs: deployedOutputs(), configFile: 'c.json', source: 'o.json', catalog: false })).not.toThrow();
  });

  test('enabled in the config, disabled in the deployed stack', () => {
    const outputs = deployedOutputs();
    outputs.catalog = outputs.catalog.map((e) => (e.name === 'anisette' ? { ...e, enabled: false, disabledReason: 'disabled in config' } : e));
    expect(catalogDifferences(cfg(), outputs)).toEqual(['anisette: enabled in the config, disabled in the deployed stack']);
  });

  test('a desired count that differs: reported, the config\'s count in the outputs used', () => {
    const r = compareDeployed({ config: cfg((raw) => { raw.services.api.desiredCount = 3; }), outputs: deployedOutputs(), configFile: 'c.json', source: 'o.json' });
    expect(r.countChanges).toEqual([{ name: 'api', deployed: 1, config: 3 }]);
    expect(r.outputs.catalog.find((e) => e.name === 'api').desiredCount).toBe(3);
  });
});

describe('the rollout refuses before any AWS call (exit 2)', () => {
  test('a qa config against staging\'s outputs: exit 2, no AWS client created, no plan "-> staging"', async () => {
    const qa = configFile('qa.json', { environment: 'qa', namePrefix: 'qa', network: { cidr: '10.50.0.0/16' } });
    const res = await runMain(['--config', qa, '--outputs', OUTPUTS_FILE, '--release', 'r1']);
    expect(res.exitCode).toBe(2);
    expect(res.err).toContain(`is environment "qa", but the stack outputs (${OUTPUTS_FILE}) are environment "staging"'s`);
    expect(res.out).not.toContain('-> staging');
    expect(res.createAws).not.toHaveBeenCalled();
    expect(res.world.calls).toHaveLength(0);
  });

  test('a config that disables anisette, run before `cdktf deploy`: exit 2, the fetcher is not touched', async () => {
    const off = configFile('off.json', { services: { anisette: { enabled: false } } });
    const res = await runMain(['--config', off, '--outputs', OUTPUTS_FILE, '--release', 'r1']);
    expect(res.exitCode).toBe(2);
    expect(res.err).toContain('anisette: disabled (disabled in config) in the config, enabled in the deployed stack');
    expect(res.err).toContain('tracker-fetcher-2: disabled (dependency anisette is disabled)');
    expect(res.err).toContain('run `cdktf deploy foundation` first');
    expect(res.createAws).not.toHaveBeenCalled();
  });

  test('a worker added but not deployed: exit 2 naming it, not silently left out', async () => {
    const added = configFile('added.json', { services: { 'new-worker': { tier: 'workers', kind: 'worker', image: 'api', command: ['python', '-m', 'x'], secrets: [] } } });
    const res = await runMain(['--config', added, '--outputs', OUTPUTS_FILE, '--release', 'r1']);
    expect(res.exitCode).toBe(2);
    expect(res.err).toContain('new-worker: in the config, not deployed (added)');
    expect(res.createAws).not.toHaveBeenCalled();
  });

  test('--report on a refusal records the input failure (exit 2)', async () => {
    const qa = configFile('qa2.json', { environment: 'qa' });
    const report = path.join(tmp, 'refused.json');
    const res = await runMain(['--config', qa, '--outputs', OUTPUTS_FILE, '--release', 'r1', '--report', report]);
    expect(res.exitCode).toBe(2);
    expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({ exitCode: 2, failure: { step: 'input' }, awsCalls: 0 });
  });
});

describe('a desired count that differs', () => {
  test('--dry-run says so and changes nothing', async () => {
    const more = configFile('more.json', { services: { api: { desiredCount: 3 } } });
    const fake = fakeWorld();
    const res = await rollout(fake, ['--config', more, '--dry-run']);
    expect(res.exitCode).toBe(0);
    expect(res.out).toContain("desired count of api: 1 in the deployed stack, 3 in the config: the runner uses the config's 3");
    expect(fake.world.calls.filter((c) => MUTATING.includes(c.op))).toEqual([]);
  });

  test('a rollout sets the config\'s count', async () => {
    const more = configFile('more2.json', { services: { api: { desiredCount: 3 } } });
    const fake = fakeWorld();
    const api = OUTPUTS.service_catalog.api;
    // the target group follows the service's desired count, as the ALB would
    fake.world.targetHealth.set(api.target_group_arn, (w) => Array.from({ length: w.services.get(api.ecs_service_name).desiredCount }, (_, i) => (
      { Target: { Id: `10.0.0.${i + 1}`, Port: api.port }, TargetHealth: { State: 'healthy' } })));
    const res = await rollout(fake, ['--config', more]);
    expect([res.exitCode, res.report?.failure ?? null]).toEqual([0, null]);
    const update = ops(fake.world, 'UpdateService').find((c) => c.input.service === api.ecs_service_name);
    expect(update.input.desiredCount).toBe(3);
    expect(res.out).toContain("desired count of api: 1 in the deployed stack, 3 in the config");
  });
});

describe('the other verbs', () => {
  test.each([['rollback'], ['status'], ['history']])('%s with another environment\'s outputs: exit 2, no AWS call', async (verb) => {
    const qa = configFile(`qa-${verb}.json`, { environment: 'qa' });
    const res = await runMain([verb, '--config', qa, '--outputs', OUTPUTS_FILE]);
    expect(res.exitCode).toBe(2);
    expect(res.err).toContain('is environment "qa", but the stack outputs');
    expect(res.createAws).not.toHaveBeenCalled();
  });

  test('rollback with a catalog not deployed yet: exit 2; status still reads', async () => {
    const off = configFile('off-verbs.json', { services: { anisette: { enabled: false } } });
    const rb = await runMain(['rollback', '--config', off, '--outputs', OUTPUTS_FILE]);
    expect(rb.exitCode).toBe(2);
    expect(rb.err).toContain('run `cdktf deploy foundation` first');
    expect(rb.createAws).not.toHaveBeenCalled();
  });
});
