// Environments that cannot hurt each other (docs/environments.md): a state location per environment for each
// backend type, a shared explicit one refused at synth, the state-owner guard, and overlays without leaks
// (derived tags, namespace, names, service addresses).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { Testing } from 'cdktf';
import { buildApp } from '../../main';
import { parseConfig, assertOwnState, forgetOtherBackend, LEGACY_LOCAL_STATE } from '../../stacks/config';
import { REPO, STAGING, stagingWith } from '../support/stack';

const QA_OVERLAY = { extends: 'staging.json', environment: 'qa', namePrefix: 'qa', network: { cidr: '10.50.0.0/16' } };

/** config dir in a temp dir: staging.json (as in the repo) plus `files` */
function configDir(files: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envs-'));
  fs.writeFileSync(path.join(dir, 'staging.json'), JSON.stringify(STAGING));
  for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), JSON.stringify(body));
  return dir;
}

/** synthesized JSON, with the app's outdir inside the repository as `cdktf synth` has it */
function synthJson(raw: unknown, source: string): any {
  const outdir = path.join(REPO, '.work', 'unit-environments', 'cdktf.out');
  fs.mkdirSync(outdir, { recursive: true });
  const { stack } = buildApp(parseConfig(raw, source), { outdir });
  return JSON.parse(Testing.synth(stack));
}

function loadVia(dir: string, file: string) {
  // the one reader, as main.ts uses it
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { loadConfigFile } = require('../../lib/config/index.cjs');
  return loadConfigFile(path.join(dir, file));
}

describe('state location per environment', () => {
  const backendOf = (edit: (r: any) => void) => parseConfig(stagingWith(edit)).config.backend;
  test('local: state/<environment>/foundation.tfstate under the project root, written relative to the stack directory (outside cdktf.out)', () => {
    expect(backendOf(() => undefined)).toEqual({ type: 'local', path: 'state/staging/foundation.tfstate' });
    expect(backendOf((r) => { r.environment = 'qa'; })).toEqual({ type: 'local', path: 'state/qa/foundation.tfstate' });
    const json = synthJson({ ...stagingWith(), environment: 'qa' }, 'qa.json');
    const rel = json.terraform.backend.local.path;
    const stackDir = path.join(REPO, '.work', 'unit-environments', 'cdktf.out', 'stacks', 'foundation');
    expect(path.isAbsolute(rel)).toBe(false);
    expect(path.resolve(stackDir, rel)).toBe(path.join(REPO, 'state', 'qa', 'foundation.tfstate'));
  });
  test('local: an explicit path is kept (relative to the project root)', () => {
    expect(backendOf((r) => { r.backend = { type: 'local', path: 'elsewhere/x.tfstate' }; })).toEqual({ type: 'local', path: 'elsewhere/x.tfstate' });
  });
  test('s3: key staging-rollout/<environment>/foundation.tfstate unless given', () => {
    expect(backendOf((r) => { r.environment = 'qa'; r.backend = { type: 's3', bucket: 'acme-tf' }; })).toMatchObject({ key: 'staging-rollout/qa/foundation.tfstate' });
    expect(backendOf((r) => { r.backend = { type: 's3', bucket: 'acme-tf', key: 'mine/x.tfstate' }; })).toMatchObject({ key: 'mine/x.tfstate' });
  });
  test('cloud: workspace staging-rollout-<environment> unless given', () => {
    expect(backendOf((r) => { r.environment = 'qa'; r.backend = { type: 'cloud', organization: 'acme' }; })).toMatchObject({ workspace: 'staging-rollout-qa' });
    expect(backendOf((r) => { r.backend = { type: 'cloud', organization: 'acme', workspace: 'w1' }; })).toMatchObject({ workspace: 'w1' });
  });

  test.each([
    ['local', { type: 'local', path: 'shared.tfstate' }, 'backend.path'],
    ['s3', { type: 's3', bucket: 'acme-tf', key: 'shared/foundation.tfstate' }, 'backend.key'],
    ['cloud', { type: 'cloud', organization: 'acme', workspace: 'shared' }, 'backend.workspace'],
  ])('%s: two environments naming one state location are refused at synth, exit 2, naming both files', (_, backend, key) => {
    const dir = configDir({
      'a.json': { extends: 'staging.json', environment: 'qa', backend },
      'b.json': { extends: 'staging.json', environment: 'perf', backend },
    });
    const r = spawnSync(process.execPath, ['-r', path.join(REPO, 'scripts', 'lib', 'ts-register.cjs'), path.join(REPO, 'main.ts')], {
      cwd: dir, encoding: 'utf8', env: { ...process.env, STAGING_ROLLOUT_CONFIG: 'a.json', CDKTF_OUTDIR: path.join(dir, 'out') },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('a.json: backend: environment "qa" would share its Terraform state');
    expect(r.stderr).toContain('environment "perf" of b.json');
    expect(r.stderr).toContain(`Remove the explicit ${key}`);
    expect(r.stderr).not.toContain('staging.json'); // staging keeps its own default location
    expect(fs.existsSync(path.join(dir, 'out', 'stacks', 'foundation', 'cdk.tf.json'))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("an explicit location that is another environment's default is refused too, naming every file of it", () => {
    const dir = configDir({ 'local.json': { extends: 'staging.json' }, 'qa.json': { ...QA_OVERLAY, backend: { type: 'local', path: 'state/staging/foundation.tfstate' } } });
    const qa = loadVia(dir, 'qa.json');
    expect(() => assertOwnState(path.join(dir, 'qa.json'), qa, path.join(dir, 'out'), dir))
      .toThrow(/qa\.json: backend: environment "qa" would share its Terraform state \(local: .*state\/staging\/foundation\.tfstate\) with environment "staging" of local\.json, environment "staging" of staging\.json/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("a config kept outside config/ is checked against the project's own configs too", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'project-'));
    fs.mkdirSync(path.join(root, 'config'));
    fs.writeFileSync(path.join(root, 'config', 'staging.json'), JSON.stringify(STAGING));
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'elsewhere-'));
    const file = path.join(elsewhere, 'qa.json');
    fs.writeFileSync(file, JSON.stringify({ ...QA_OVERLAY, extends: path.join(root, 'config', 'staging.json'), backend: { type: 'local', path: 'state/staging/foundation.tfstate' } }));
    const qa = loadVia(elsewhere, 'qa.json');
    expect(() => assertOwnState(file, qa, path.join(elsewhere, 'out'), elsewhere, root))
      .toThrow(/qa\.json: backend: environment "qa" would share its Terraform state \(local: .*state\/staging\/foundation\.tfstate\) with environment "staging" of .*config\/staging\.json/);
    // with its own state it passes
    const own = loadVia(elsewhere, 'qa.json');
    own.config.backend = { type: 'local', path: 'state/qa/foundation.tfstate' };
    expect(() => assertOwnState(file, own, path.join(elsewhere, 'out'), elsewhere, root)).not.toThrow();
    for (const d of [root, elsewhere]) fs.rmSync(d, { recursive: true, force: true });
  });

  test('configs of one environment may share state (local.json extends staging.json); another environment with the defaults does not clash', () => {
    const dir = configDir({ 'local.json': { extends: 'staging.json' }, 'qa.json': QA_OVERLAY, 'broken.json': { extends: 'nope.json' } });
    for (const f of ['staging.json', 'local.json', 'qa.json']) {
      const env = loadVia(dir, f);
      expect(() => assertOwnState(path.join(dir, f), env, path.join(dir, 'out'), dir)).not.toThrow();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('state left at the old shared place inside cdktf.out is named with the command that moves it', () => {
    const dir = configDir({});
    const out = path.join(dir, 'cdktf.out');
    fs.mkdirSync(path.dirname(path.join(out, LEGACY_LOCAL_STATE)), { recursive: true });
    fs.writeFileSync(path.join(out, LEGACY_LOCAL_STATE), JSON.stringify({ outputs: { environment: { value: 'staging' } } }));
    const env = loadVia(dir, 'staging.json');
    // the project root is the temp dir here: the new file does not exist yet
    expect(() => assertOwnState('staging.json', env, out, dir, dir))
      .toThrow(/still at cdktf\.out\/stacks\/foundation\/terraform\.foundation\.tfstate.*mkdir -p state\/staging && mv cdktf\.out\/stacks\/foundation\/terraform\.foundation\.tfstate state\/staging\/foundation\.tfstate/);
    // once moved (the new file exists), nothing to say
    fs.mkdirSync(path.join(dir, 'state', 'staging'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'state', 'staging', 'foundation.tfstate'), '{}');
    expect(() => assertOwnState('staging.json', env, out, dir, dir)).not.toThrow();
    fs.rmSync(path.join(dir, 'state'), { recursive: true, force: true });
    // another environment's old state is not this one's to move
    const qa = parseConfig({ ...stagingWith(), environment: 'qa' }, 'qa.json');
    expect(() => assertOwnState('qa.json', { ...qa, source: 'qa.json' }, out, dir, dir)).not.toThrow();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('switching environments in one cdktf.out', () => {
  // .terraform/terraform.tfstate as Terraform writes it after `init`: the backend settings only
  const initializedFor = (stackDir: string, backend: object) => {
    fs.mkdirSync(path.join(stackDir, '.terraform'), { recursive: true });
    fs.writeFileSync(path.join(stackDir, '.terraform', 'terraform.tfstate'), JSON.stringify({ version: 3, backend: { ...backend, hash: 1 } }));
  };
  const stackWith = (terraform: object) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envs-stack-'));
    fs.writeFileSync(path.join(dir, 'cdk.tf.json'), JSON.stringify({ terraform }));
    return dir;
  };
  test('initialized for staging\'s local state, synthesized for qa: the backend setting is dropped, so init does not offer to migrate staging\'s state', () => {
    const dir = stackWith({ backend: { local: { path: '../../../state/qa/foundation.tfstate' } } });
    initializedFor(dir, { type: 'local', config: { path: '../../../state/staging/foundation.tfstate', workspace_dir: null } });
    expect(forgetOtherBackend(dir)).toMatch(/last initialized for another state \(local\)/);
    expect(fs.existsSync(path.join(dir, '.terraform', 'terraform.tfstate'))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  test('the same environment again: nothing dropped', () => {
    const dir = stackWith({ backend: { s3: { bucket: 'b', key: 'staging-rollout/qa/foundation.tfstate', encrypt: true } } });
    initializedFor(dir, { type: 's3', config: { bucket: 'b', key: 'staging-rollout/qa/foundation.tfstate', encrypt: true, region: null, acl: null } });
    expect(forgetOtherBackend(dir)).toBeNull();
    expect(fs.existsSync(path.join(dir, '.terraform', 'terraform.tfstate'))).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  test('another Terraform Cloud workspace: dropped; never initialized: nothing to do', () => {
    const dir = stackWith({ cloud: { organization: 'acme', hostname: 'app.terraform.io', workspaces: { name: 'staging-rollout-qa' } } });
    expect(forgetOtherBackend(dir)).toBeNull();
    initializedFor(dir, { type: 'cloud', config: { organization: 'acme', hostname: 'app.terraform.io', workspaces: { name: 'staging-rollout-staging', tags: null } } });
    expect(forgetOtherBackend(dir)).not.toBeNull();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('the guard against the wrong state', () => {
  test('terraform_data.state_owner records the environment, is replaced by another one and may not be destroyed', () => {
    const json = synthJson(stagingWith(), 'config/staging.json');
    const owner = json.resource.terraform_data.state_owner;
    expect(owner.input).toEqual({ environment: 'staging' });
    expect(owner.triggers_replace).toEqual({ environment: 'staging' });
    expect(owner.lifecycle.prevent_destroy).toBe(true);
    expect(json.output.environment.value).toBe('staging');
    expect(json.provider.aws[0].default_tags[0].tags).toMatchObject({ Environment: 'staging', Project: 'staging-rollout' });
  });
});

describe('overlays without leaks', () => {
  test('a qa overlay of staging: "staging" appears nowhere in its synthesized JSON but in "staging-rollout"', () => {
    const dir = configDir({ 'qa.json': QA_OVERLAY });
    const { loadConfigFile } = require('../../lib/config/index.cjs');
    const loaded = loadConfigFile(path.join(dir, 'qa.json'));
    const json = synthJson(loaded.raw, 'qa.json');
    const text = JSON.stringify(json);
    const leaks = [...text.matchAll(/.{0,60}staging(?!-rollout).{0,60}/gi)].map((m) => m[0]);
    expect(leaks).toEqual([]);
    // and the derived values are there
    expect(json.provider.aws[0].default_tags[0].tags).toEqual({ Project: 'staging-rollout', Environment: 'qa', ManagedBy: 'cdktf' });
    expect(Object.values<any>(json.resource.aws_service_discovery_private_dns_namespace)[0].name).toBe('qa.internal');
    const fetcher = Object.values<any>(json.resource.aws_ecs_task_definition).find((t) => t.family === 'qa-tracker-fetcher-2');
    expect(JSON.stringify(fetcher.container_definitions)).toContain('http://anisette.qa.internal:6969');
    expect(json.output.environment.value).toBe('qa');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the property fails on a leak: staging\'s old explicit namespace in the overlay shows up', () => {
    const json = synthJson({ ...stagingWith(), environment: 'qa', namePrefix: 'qa', cluster: { namespace: 'staging.internal' } }, 'qa.json');
    expect(JSON.stringify(json)).toMatch(/staging\.internal/);
  });

  test('an explicit Environment tag that is not the environment is refused; extra tags are kept', () => {
    expect(() => parseConfig({ ...stagingWith(), environment: 'qa', tags: { Environment: 'staging' } }, 'qa.json'))
      .toThrow('qa.json: tags.Environment: is derived from environment ("qa"); remove it or set it to "qa", got "staging"');
    expect(parseConfig({ ...stagingWith(), tags: { Team: 'geo' } }).config.tags).toEqual({ Project: 'staging-rollout', Team: 'geo', Environment: 'staging', ManagedBy: 'cdktf' });
  });

  test('service addresses: {{svc.url|address|host|port}} resolve in the namespace; a changed namespace moves them', () => {
    const env = (edit: (r: any) => void) => parseConfig(stagingWith(edit)).config.services['tracker-fetcher-2'].environment;
    expect(env(() => undefined)).toEqual({ ANISETTE_URL: 'http://anisette.staging.internal:6969' });
    expect(env((r) => {
      r.cluster.namespace = 'qa.internal';
      r.services['tracker-fetcher-2'].environment = { A: '{{anisette.address}}', H: '{{ anisette.host }}', P: '{{anisette.port}}', U: 'x={{anisette.url}}/v1' };
    })).toEqual({ A: 'anisette.qa.internal:6969', H: 'anisette.qa.internal', P: '6969', U: 'x=http://anisette.qa.internal:6969/v1' });
  });

  test.each([
    ['unknown service', (r: any) => { r.services['tracker-fetcher-2'].environment = { X: '{{anisete.url}}' }; }, 'services.tracker-fetcher-2.environment.X: {{anisete.url}} names unknown service "anisete"'],
    ['unknown form', (r: any) => { r.services['tracker-fetcher-2'].environment = { X: '{{anisette.ip}}' }; }, 'services.tracker-fetcher-2.environment.X: unknown placeholder "{{anisette.ip}}": write {{<service>.url}}'],
    ['a worker has no address', (r: any) => { r.services['tracker-fetcher-2'].environment = { X: '{{unified-geofence.url}}' }; }, 'service "unified-geofence" is a worker service with no Cloud Map name and port'],
    ['a disabled service', (r: any) => { r.services.anisette.enabled = false; r.services['unified-geofence'].environment = { X: '{{anisette.url}}' }; }, 'services.unified-geofence.environment.X: {{anisette.url}} names service "anisette", which is disabled'],
  ])('bad reference: %s', (_, edit, message) => {
    expect(() => parseConfig(stagingWith(edit), 'config/staging.json')).toThrow(message);
  });

  test('a service disabled with its dependency keeps its placeholder unresolved and is not deployed', () => {
    const c = parseConfig(stagingWith((r) => { r.services.anisette.enabled = false; }));
    const fetcher = c.services.find((s) => s.name === 'tracker-fetcher-2')!;
    expect(fetcher.enabled).toBe(false);
  });

  test.each([
    ['namespace', (r: any) => { r.cluster.namespace = 'QA_internal'; }, 'cluster.namespace'],
    ['namePrefix', (r: any) => { r.namePrefix = 'qa_'; }, 'namePrefix'],
  ])('a %s that does not match its pattern gets a precise message', (_, edit, key) => {
    expect(() => parseConfig(stagingWith(edit), 'qa.json')).toThrow(new RegExp(`^qa\\.json: ${key.replace('.', '\\.')}: must be `));
  });
});
