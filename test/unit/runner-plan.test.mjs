// Planning, flags and input validation of the rollout runner: pure, no AWS. Expectations follow the config under
// test and its outputs (test/support/staging-config.cjs); the scenarios name the services they change.
import { buildPlan, buildRollbackPlan, selectSteps, formatPlan, MIGRATION_KEY, SCHEMA_UNCHANGED } from '../../runner/lib/plan.mjs';
import { parseArgs, validateRelease } from '../../runner/verbs/rollout.mjs';
import { unwrapOutputs, normalizeOutputs } from '../../runner/lib/outputs.mjs';
import { InputError } from '../../runner/lib/errors.mjs';
import { detectCapabilities, EMULATOR_GAPS } from '../../runner/lib/emulator.mjs';
import { OUTPUTS } from '../support/fake-aws.mjs';
import { stagingConfig } from '../support/staging-config.cjs';
import { inCatalogOrder, secretUsers as usersOf } from '../support/rollout.mjs';

const { config: CONFIG, services: SERVICES } = stagingConfig();
const TIER_STEPS = CONFIG.tiers.map((t) => `tier:${t}`);
/** enabled services of a tier, by the config (names) */
const inTier = (tier, keep = (s) => true) => SERVICES.filter((s) => s.enabled && s.tier === tier && keep(s)).map((s) => s.name);
const clone = (o) => structuredClone(o);
const outputs = (mutate = () => {}) => {
  const o = clone(OUTPUTS);
  mutate(o);
  return normalizeOutputs(o, 'fixture');
};
const plan = (o = outputs(), config = CONFIG) => buildPlan({ outputs: o, config, release: 'r1' });
const step = (p, id) => p.steps.find((s) => s.id === id);

describe('plan: steps and order', () => {
  test('steps run preflight -> images -> task-definitions -> migration -> tiers in config order -> smoke, each after the previous', () => {
    const p = plan();
    expect(p.steps.map((s) => s.id)).toEqual(['preflight', 'images', 'task-definitions', 'migration', ...TIER_STEPS, 'smoke']);
    p.steps.slice(1).forEach((s, i) => expect(s.dependsOn).toEqual([p.steps[i].id]));
  });

  test('tier order follows config tiers, not catalog order', () => {
    const config = { ...CONFIG, tiers: ['workers', 'app'] };
    // the catalog has no cross-tier dependency, so the reversed order is valid
    expect(plan(outputs(), config).steps.map((s) => s.id)).toEqual(['preflight', 'images', 'task-definitions', 'migration', 'tier:workers', 'tier:app', 'smoke']);
  });

  test('task-definitions covers every enabled service family plus the migration family, from the outputs', () => {
    const fams = step(plan(), 'task-definitions').families;
    const enabled = Object.values(OUTPUTS.service_catalog).filter((s) => s.enabled);
    expect(fams.map((f) => f.family).sort()).toEqual([...enabled.map((s) => s.task_family), OUTPUTS.migration_task_family].sort());
    const mig = fams.find((f) => f.service === MIGRATION_KEY);
    expect(mig).toEqual({ service: MIGRATION_KEY, family: OUTPUTS.migration_task_family, container: OUTPUTS.migration_container_name, image: CONFIG.migration.image });
    for (const f of fams.filter((x) => x.service !== MIGRATION_KEY)) expect(f.image).toBe(OUTPUTS.service_catalog[f.service].image);
  });

  test('app tier: one wave with all web services in parallel, no gates', () => {
    const waves = step(plan(), 'tier:app').waves;
    expect(waves).toHaveLength(1);
    expect(waves[0].services).toEqual(inCatalogOrder(inTier('app')));
    expect(waves[0].services.length).toBeGreaterThan(1);
    expect(waves[0].gates).toEqual([]);
  });

  test('workers tier: anisette starts with the other workers; tracker-fetcher-2 waits for anisette and the EFS mount targets', () => {
    const waves = step(plan(), 'tier:workers').waves;
    expect(waves).toHaveLength(2);
    expect(waves[0].services).toEqual(inCatalogOrder(inTier('workers', (s) => s.dependsOn.length === 0)));
    expect(waves[0].services).toContain('anisette');
    expect(waves[0].gates).toEqual([]);
    expect(waves[1].services).toEqual(inCatalogOrder(inTier('workers', (s) => s.dependsOn.length > 0)));
    expect(waves[1].services).toContain('tracker-fetcher-2');
    expect(waves[1].gates).toEqual([
      { kind: 'stable', services: ['anisette'] },
      { kind: 'efs', fileSystemId: OUTPUTS.efs_file_system_id, services: ['tracker-fetcher-2'] },
    ]);
  });

  test('a service that needs /data without dependencies gets the EFS gate on its own wave', () => {
    const p = plan(outputs((o) => { o.service_catalog['unified-geofence'].needs_data = true; }));
    const w0 = step(p, 'tier:workers').waves[0];
    expect(w0.gates).toEqual([{ kind: 'efs', fileSystemId: OUTPUTS.efs_file_system_id, services: ['unified-geofence'] }]);
  });

  test('a chain of three same-tier dependencies makes three waves', () => {
    const p = plan(outputs((o) => { o.service_catalog['notification-service'].depends_on = ['tracker-fetcher-2']; }));
    expect(step(p, 'tier:workers').waves.map((w) => w.services)).toEqual([
      inCatalogOrder(inTier('workers', (s) => s.dependsOn.length === 0 && s.name !== 'notification-service')), ['tracker-fetcher-2'], ['notification-service'],
    ]);
  });

  test('the preflight lists each secret the containers of the plan need, with its ARN and users', () => {
    const secrets = step(plan(), 'preflight').secrets;
    const arns = OUTPUTS.secret_arns;
    const users = (key) => secrets.find((n) => n.key === key).usedBy.map((u) => `${u.step} ${u.name}`);
    const containerKeys = [...new Set([...SERVICES.filter((s) => s.enabled).flatMap((s) => s.secrets), ...CONFIG.migration.secrets])];
    // every key some container lists, then the smoke login's; each with its ARN from the outputs
    expect(secrets.map((n) => n.key).slice(0, -1).sort()).toEqual(containerKeys.sort());
    for (const n of secrets) expect(n.arn).toBe(arns[n.key]);
    for (const key of containerKeys) expect(secrets.find((n) => n.key === key).usedBy.map((u) => u.name)).toEqual(usersOf(key));
    expect(users('app')).toEqual(expect.arrayContaining(['tier:app api', 'tier:app admin']));
    expect(users('app')).not.toContain('tier:app frontend'); // frontend lists no secret
    expect(users('database')).toContain('migration migration');
    expect(users('smoke_user')).toEqual(['smoke the smoke login check']);
    expect(formatPlan(plan())).toContain(`1. preflight\n     secret ${secrets[0].key}: has a current value (needed by ${usersOf(secrets[0].key).join(', ')})`);
  });

  test('a secret a container lists without an ARN in the outputs is bad input', () => {
    expect(() => plan(outputs((o) => { delete o.secret_arns.app; }))).toThrow(`output secret_arns has no "app" (needed by ${usersOf('app').join(', ')})`);
  });

  test('formatPlan lists every step, wave, gate and family', () => {
    const text = formatPlan(plan());
    for (const id of ['images', 'task-definitions', 'migration', 'tier:app', 'tier:workers', 'smoke']) expect(text).toContain(id);
    expect(text).toContain(`wave 2: tracker-fetcher-2; gates: after anisette stable; EFS ${OUTPUTS.efs_file_system_id} mount targets available`);
    expect(text).toContain(`${OUTPUTS.migration_task_family} (migration): container ${OUTPUTS.migration_container_name} <- image ${CONFIG.migration.image}:r1`);
  });
});

describe('plan: disabled services and gates', () => {
  const disable = (name, reason = 'disabled in config') => (o) => {
    Object.assign(o.service_catalog[name], { enabled: false, disabled_reason: reason, ecs_service_name: null, task_family: null, container_name: null, target_group_arn: null, log_group_name: null });
  };

  test('anisette disabled: tracker-fetcher-2 is disabled too, both skipped with reasons, no family for either', () => {
    const p = plan(outputs((o) => { disable('anisette')(o); disable('tracker-fetcher-2', 'dependency anisette is disabled')(o); }));
    const w = step(p, 'tier:workers');
    expect(w.skippedServices).toEqual([
      { name: 'anisette', reason: 'disabled: disabled in config' },
      { name: 'tracker-fetcher-2', reason: 'disabled: dependency anisette is disabled' },
    ]);
    expect(w.waves.flatMap((x) => x.services)).toEqual(inCatalogOrder(inTier('workers', (s) => !['anisette', 'tracker-fetcher-2'].includes(s.name))));
    expect(step(p, 'task-definitions').families.map((f) => f.service)).not.toEqual(expect.arrayContaining(['anisette']));
  });

  test('a disabled dependency disables its dependents even when the outputs still say enabled', () => {
    const p = plan(outputs(disable('anisette')));
    expect(step(p, 'tier:workers').skippedServices.find((s) => s.name === 'tracker-fetcher-2').reason).toBe('disabled: dependency anisette is disabled');
  });

  test('fetcher disabled: anisette (support) is not needed and does not start', () => {
    const p = plan(outputs(disable('tracker-fetcher-2')));
    const w = step(p, 'tier:workers');
    expect(w.skippedServices).toEqual(expect.arrayContaining([
      { name: 'anisette', reason: 'not needed: support service and no enabled service depends on anisette' },
    ]));
    expect(w.waves).toHaveLength(1);
    expect(w.waves[0].services).not.toContain('anisette');
    expect(step(p, 'task-definitions').families.map((f) => f.service)).not.toContain('anisette');
  });

  test('a tier with every service disabled has no waves', () => {
    const p = plan(outputs((o) => inTier('app').forEach((n) => disable(n)(o))));
    expect(step(p, 'tier:app').waves).toEqual([]);
    expect(step(p, 'tier:app').skippedServices.map((s) => s.name)).toEqual(inCatalogOrder(inTier('app')));
  });
});

describe('plan: bad catalogs are input errors', () => {
  test('a dependency cycle names the cycle', () => {
    const o = outputs((x) => { x.service_catalog.anisette.depends_on = ['tracker-fetcher-2']; });
    expect(() => plan(o)).toThrow(InputError);
    expect(() => plan(o)).toThrow(/dependency cycle: (anisette -> tracker-fetcher-2 -> anisette|tracker-fetcher-2 -> anisette -> tracker-fetcher-2)/);
  });

  test('an unknown dependency names the service', () => {
    expect(() => plan(outputs((x) => { x.service_catalog.api.depends_on = ['ghost']; }))).toThrow(/api depends on ghost, which is not in the catalog/);
  });

  test('an unknown tier names the tier and the config tiers', () => {
    expect(() => plan(outputs((x) => { x.service_catalog.api.tier = 'edge'; }))).toThrow(`service_catalog.api.tier: unknown tier "edge" (config tiers: ${CONFIG.tiers.join(', ')})`);
  });

  test('a dependency on a later tier is rejected', () => {
    expect(() => plan(outputs((x) => { x.service_catalog.api.depends_on = ['anisette']; }))).toThrow(/api \(tier app\) depends on anisette in the later tier workers/);
  });

  test('a migration image without a repository is rejected', () => {
    expect(() => plan(outputs(), { ...CONFIG, migration: { ...CONFIG.migration, image: 'nope' } })).toThrow(/migration\.image "nope" has no entry in output repository_urls/);
  });
});

describe('step selection', () => {
  const ids = (p) => p.steps.filter((s) => s.selected).map((s) => s.id);
  test('--only selects exactly the named steps', () => {
    const p = selectSteps(plan(), { only: ['migration', 'tier:app'] });
    expect(ids(p)).toEqual(['preflight', 'migration', 'tier:app']);
    expect(p.steps.find((s) => s.id === 'images').skipReason).toBe('not selected (--only migration, tier:app)');
  });
  test('--from skips the steps before it', () => {
    const p = selectSteps(plan(), { from: 'tier:app' });
    expect(ids(p)).toEqual(['preflight', 'tier:app', 'tier:workers', 'smoke']);
    expect(p.steps[1].skipReason).toBe('before --from tier:app');
  });
  test('--skip is repeatable and combines with --from', () => {
    expect(ids(selectSteps(plan(), { from: 'migration', skip: ['smoke', 'tier:app'] }))).toEqual(['preflight', 'migration', 'tier:workers']);
  });
  test('the preflight is a guard: --only and --from keep it, --skip (with a reason) drops it, --only preflight alone is valid', () => {
    expect(ids(selectSteps(plan(), { only: ['images'] }))).toEqual(['preflight', 'images']);
    const p = selectSteps(plan(), { skip: ['preflight'], skipReasons: { preflight: 'secrets checked by the pipeline' } });
    expect(step(p, 'preflight')).toMatchObject({ selected: false, skipReason: 'secrets checked by the pipeline' });
    expect(ids(selectSteps(plan(), { only: ['preflight'] }))).toEqual(['preflight']);
    expect(() => selectSteps(plan(), { only: ['smoke'], skip: ['smoke'] })).toThrow(/leaves nothing to run/);
  });
  test.each([['only', { only: ['tier:api'] }], ['from', { from: 'deploy' }], ['skip', { skip: ['image'] }]])('unknown step in --%s is an input error listing the steps', (flag, sel) => {
    expect(() => selectSteps(plan(), sel)).toThrow(new RegExp(`--${flag} \\S+: unknown step \\(steps: preflight, images, task-definitions, migration, tier:app, tier:workers, smoke\\)`));
  });
  test('a selection that leaves nothing is an input error', () => {
    expect(() => selectSteps(plan(), { only: ['smoke'], skip: ['smoke'] })).toThrow(/leaves nothing to run/);
  });
});

describe('outputs', () => {
  const tf = Object.fromEntries(Object.entries(OUTPUTS).map(([k, v]) => [k, { value: v, type: 'dynamic', sensitive: false }]));
  test('terraform-output form and plain form normalise to the same outputs', () => {
    const a = normalizeOutputs(unwrapOutputs(tf, 'a'), 'a');
    const b = normalizeOutputs(unwrapOutputs(clone(OUTPUTS), 'b'), 'b');
    expect(a).toEqual(b);
    expect(a.clusterName).toBe(OUTPUTS.cluster_name);
    expect(a.catalog.find((s) => s.name === 'tracker-fetcher-2')).toMatchObject({ needsData: true, dependsOn: ['anisette'], ecsServiceName: OUTPUTS.service_catalog['tracker-fetcher-2'].ecs_service_name });
  });
  test('mixed forms are rejected', () => {
    expect(() => unwrapOutputs({ ...tf, cluster_name: 'x' }, 'f.json')).toThrow(/f\.json: mixes terraform-output form .* and plain form \(e\.g\. "cluster_name"\)/);
  });
  test.each(['cluster_name', 'private_subnet_ids', 'tasks_security_group_id', 'efs_file_system_id', 'migration_task_family', 'service_catalog', 'repository_urls'])('missing %s is named', (key) => {
    const o = clone(OUTPUTS);
    delete o[key];
    expect(() => normalizeOutputs(o, 'f.json')).toThrow(new RegExp(`f\\.json: output ${key}: missing`));
  });
  test('wrong types are named with the JSON path', () => {
    expect(() => normalizeOutputs({ ...clone(OUTPUTS), private_subnet_ids: 'subnet-1' }, 'f')).toThrow('f: output private_subnet_ids: must be a non-empty list of strings, got "subnet-1"');
    const o = clone(OUTPUTS);
    o.service_catalog.api.desired_count = '1';
    expect(() => normalizeOutputs(o, 'f')).toThrow('f: output service_catalog.api.desired_count: must be an integer >= 0, got "1"');
    const p = clone(OUTPUTS);
    p.service_catalog.api.ecs_service_name = null;
    expect(() => normalizeOutputs(p, 'f')).toThrow('f: output service_catalog.api.ecs_service_name: missing for an enabled service');
  });
  test('a service image without a repository is rejected', () => {
    const o = clone(OUTPUTS);
    o.service_catalog.api.image = 'web';
    expect(() => normalizeOutputs(o, 'f')).toThrow(/service_catalog\.api\.image: "web" has no entry in repository_urls/);
  });
  test('empty and non-object outputs are rejected', () => {
    expect(() => unwrapOutputs({}, 'f')).toThrow(/outputs are empty/);
    expect(() => unwrapOutputs([], 'f')).toThrow(/must be a JSON object, got an array/);
  });
});

describe('flags', () => {
  test('defaults', () => {
    const o = parseArgs([]);
    expect(o).toMatchObject({ outputs: null, release: null, only: [], from: null, skip: [], dryRun: false, emulator: null, pollIntervalMs: 2000 });
  });
  test('values, repeatable flags and --flag=value', () => {
    const o = parseArgs(['--only', 'migration', '--only=tier:app', '--skip', 'smoke', '--poll-interval', '0', '--service-timeout=1.5', '--dry-run', '--emulator', '--max-failed-tasks', '2']);
    expect(o).toMatchObject({ only: ['migration', 'tier:app'], skip: ['smoke'], pollIntervalMs: 0, serviceTimeoutMs: 1500, dryRun: true, emulator: true, maxFailedTasks: 2 });
  });
  test('--skip STEP=REASON: the id is before the first "=", the reason after it (step ids contain ":" but never "=")', () => {
    const o = parseArgs(['--skip', 'images=Docker is unavailable: no daemon (a=b)', '--skip=tier:app=maintenance  window', '--skip', 'smoke']);
    expect(o.skip).toEqual(['images', 'tier:app', 'smoke']);
    expect(o.skipReasons).toEqual({ images: 'Docker is unavailable: no daemon (a=b)', 'tier:app': 'maintenance window' });
    const p = selectSteps(plan(), { skip: o.skip, skipReasons: o.skipReasons });
    const reason = (id) => p.steps.find((x) => x.id === id).skipReason;
    expect(reason('images')).toBe('Docker is unavailable: no daemon (a=b)');
    expect(reason('tier:app')).toBe('maintenance window');
    expect(reason('smoke')).toBe('skipped with --skip');
    expect(() => selectSteps(plan(), { skip: ['imagez'], skipReasons: { imagez: 'x' } })).toThrow(/--skip imagez: unknown step/);
  });
  test.each([
    [['--skip', 'images='], '--skip images=: the reason after "=" is empty (use --skip images for the default reason)'],
    [['--skip', 'images=   '], '--skip images=   : the reason after "=" is empty'],
    [['--skip', '=why'], '--skip =why: the step id before "=" is missing'],
  ])('%j -> %s', (argv, msg) => {
    expect(() => parseArgs(argv)).toThrow(InputError);
    expect(() => parseArgs(argv)).toThrow(msg);
  });
  test('image step flags; release stays null unless --release is given; --summary works without --report', () => {
    expect(parseArgs([])).toMatchObject({ release: null, imageRegistry: null, convenienceTag: null, imageConcurrency: null });
    expect(parseArgs(['--image-registry', 'localhost:5000', '--convenience-tag', 'qa-latest', '--image-concurrency=3'])).toMatchObject({ release: null, imageRegistry: 'localhost:5000', convenienceTag: 'qa-latest', imageConcurrency: 3 });
    expect(parseArgs(['--no-convenience-tag']).convenienceTag).toBe(false);
    expect(parseArgs(['--summary', 's.md'])).toMatchObject({ summary: 's.md', report: null });
  });
  test.each([
    [['--bogus'], 'unknown flag --bogus (see --help)'],
    [['stray'], 'unexpected argument "stray" (see --help)'],
    [['--outputs'], '--outputs needs a value'],
    [['--outputs', '--dry-run'], '--outputs needs a value'],
    [['--poll-interval', 'soon'], '--poll-interval: must be a number of seconds >= 0, got "soon"'],
    [['--max-failed-tasks', '0'], '--max-failed-tasks: must be an integer >= 1, got "0"'],
    [['--from', 'migration', '--only', 'smoke'], '--from and --only cannot be combined'],
    [['--dry-run=yes'], '--dry-run takes no value, got "--dry-run=yes"'],
    [['--convenience-tag', 'x', '--no-convenience-tag'], '--convenience-tag and --no-convenience-tag cannot be combined'],
    [['--no-convenience-tag', '--convenience-tag', 'x'], '--convenience-tag and --no-convenience-tag cannot be combined'],
    [['--convenience-tag', '-x'], '--convenience-tag: "-x" is not a valid image tag'],
    [['--image-registry', 'host:port/x'], '--image-registry: "host:port/x" is not a registry address'],
    [['--image-concurrency', '0'], '--image-concurrency: must be an integer >= 1, got "0"'],
  ])('%j -> %s', (argv, msg) => {
    expect(() => parseArgs(argv)).toThrow(InputError);
    expect(() => parseArgs(argv)).toThrow(msg);
  });
  test('release must be a valid image tag', () => {
    expect(validateRelease('3f2a9c1d0e4b')).toBe('3f2a9c1d0e4b');
    expect(validateRelease('v1.2.3_rc-1')).toBe('v1.2.3_rc-1');
    expect(() => validateRelease('-bad')).toThrow(/not a valid image tag/);
    expect(() => validateRelease('a/b')).toThrow(/not a valid image tag/);
  });
});

describe('emulator capability switch', () => {
  test('off by default, on with --emulator or a loopback AWS_ENDPOINT_URL, forced off with --no-emulator', () => {
    expect(detectCapabilities({ env: {} }).emulator).toBe(false);
    expect(detectCapabilities({ env: { AWS_ENDPOINT_URL: 'https://ecs.us-east-1.amazonaws.com' } }).emulator).toBe(false);
    expect(detectCapabilities({ emulator: true, env: {} }).emulator).toBe(true);
    for (const url of ['http://127.0.0.1:5000', 'http://localhost:4566', 'http://[::1]:5000']) {
      expect(detectCapabilities({ env: { AWS_ENDPOINT_URL: url } })).toMatchObject({ emulator: true, source: expect.stringContaining(url) });
    }
    expect(detectCapabilities({ emulator: false, env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' } }).emulator).toBe(false);
  });
  test('every gap has a reason; lacks() is false outside emulator mode', () => {
    const on = detectCapabilities({ emulator: true });
    const off = detectCapabilities({ emulator: false });
    for (const gap of Object.keys(EMULATOR_GAPS)) {
      expect(on.lacks(gap)).toBe(true);
      expect(off.lacks(gap)).toBe(false);
      expect(on.reason(gap)).toMatch(/^emulator: .{20,}/);
    }
  });
});

describe('rollback plan (buildRollbackPlan)', () => {
  const names = Object.keys(OUTPUTS.service_catalog);
  const entry = (id, release, digest, tds = Object.fromEntries(names.map((n) => [n, `arn:aws:ecs:us-east-1:1:task-definition/staging-${n}:${release}`]))) => (
    { id, release, images: { api: digest }, taskDefinitions: tds });
  const current = entry('2', 'r2', 'sha256:2');
  const target = entry('1', 'r1', 'sha256:1');
  const rb = (t = target, c = current, o = outputs()) => buildRollbackPlan({ outputs: o, config: CONFIG, current: c, target: t });

  test('targets check, migration skipped (schema unchanged), then the tiers in reverse order', () => {
    const p = rb();
    expect(p.steps.map((s) => [s.id, s.dependsOn])).toEqual([
      ['rollback-targets', []], ['migration', ['rollback-targets']], ['tier:workers', ['rollback-targets']], ['tier:app', ['tier:workers']],
    ]);
    expect(step(p, 'migration')).toMatchObject({ selected: false, skipReason: SCHEMA_UNCHANGED });
    expect(p.release).toBe('r1');
    expect(p.rollback).toMatchObject({ from: { id: '2', release: 'r2' }, to: { id: '1', release: 'r1' } });
    expect(Object.keys(p.rollback.taskDefinitions).sort()).toEqual([...names].sort());
  });

  test('reverse waves: dependents first, then what they depend on, gated on the dependents being stable', () => {
    const waves = step(rb(), 'tier:workers').waves;
    expect(waves).toHaveLength(2);
    // reversed: the services nothing depends on first (the fetcher and the independent workers), anisette last
    expect(waves[0].services).toEqual(inCatalogOrder(inTier('workers', (s) => s.name !== 'anisette')));
    expect(waves[0].gates).toEqual([{ kind: 'efs', fileSystemId: OUTPUTS.efs_file_system_id, services: ['tracker-fetcher-2'] }]);
    expect(waves[1]).toEqual({ index: 1, services: ['anisette'], gates: [{ kind: 'stable', services: ['tracker-fetcher-2'] }] });
    // the rollout's waves are unchanged
    expect(step(plan(), 'tier:workers').waves[1].services).toEqual(['tracker-fetcher-2']);
  });

  test('the plan text names both releases, the migration warning, each target and the skipped migration', () => {
    const text = formatPlan(rb());
    expect(text).toContain('Rollback plan: staging (cluster');
    expect(text).toContain('from release r2 (2) back to r1 (1)');
    expect(text).toContain('warning: the migration head differs: current release r2 has sha256:2, target release r1 has sha256:1');
    expect(text).toContain('api <- staging-api:r1 (ACTIVE, images still in ECR)');
    expect(text).toContain(`[skipped: ${SCHEMA_UNCHANGED}]`);
    expect(formatPlan(rb(target, entry('2', 'r2', 'sha256:1')))).not.toContain('warning');
  });

  test('refused when the catalog added or removed services since the target release', () => {
    const { api, ...rest } = target.taskDefinitions;
    expect(() => rb(entry('1', 'r1', 'sha256:1', { ...rest, gone: api }))).toThrow(InputError);
    expect(() => rb(entry('1', 'r1', 'sha256:1', { ...rest, gone: api }))).toThrow('enabled now, not in that release: api; in that release, not enabled now: gone');
  });
});
