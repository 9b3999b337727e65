// The harness itself: gap list validation, dependency-based skips, mirror detection, the CLI config,
// prerequisite reporting, the emulator env and the moto lifecycle.
import { jest } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadGaps, referenceToAddress, dependencyGraph, computeSkips, configAddress } from '../../scripts/lib/foundation/gaps.mjs';
import { summarizeChanges, unexplainedChanges, loadDrift } from '../../scripts/lib/foundation/drift.mjs';
import { DEFAULT_GAPS_FILE } from '../../scripts/lib/paths.mjs';
import {
  writeCliConfig,
  checkPrereqs,
  findMirror,
  emulatorEnv,
  withEmulatorEnv,
  terraform,
  TerraformError,
  terraformPlatform,
  AWS_PROVIDER_VERSION,
} from '../../scripts/lib/terraform.mjs';
import { startMoto, setEcsTaskProgression, PrerequisiteError } from '../../scripts/lib/moto.mjs';
import skips from '../../scripts/lib/skips.cjs';

const { recordSkip } = skips;

jest.setTimeout(60000);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'harness-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** @param {string} name @param {unknown} content */
function writeJson(name, content) {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, JSON.stringify(content));
  return f;
}

/** A fake provider mirror with the given layout. @param {'unpacked' | 'packed'} layout */
function fakeMirror(layout) {
  const dir = fs.mkdtempSync(path.join(tmp, `mirror-${layout}-`));
  const base = path.join(dir, 'registry.terraform.io', 'hashicorp', 'aws');
  if (layout === 'unpacked') {
    const d = path.join(base, AWS_PROVIDER_VERSION, terraformPlatform());
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, `terraform-provider-aws_v${AWS_PROVIDER_VERSION}_x5`), '');
  } else {
    fs.mkdirSync(base, { recursive: true });
    fs.writeFileSync(path.join(base, `terraform-provider-aws_${AWS_PROVIDER_VERSION}_${terraformPlatform()}.zip`), '');
  }
  return dir;
}

describe('emulator gap list', () => {
  test('the committed list is valid and every entry has a reason', () => {
    const gaps = loadGaps(DEFAULT_GAPS_FILE);
    for (const g of gaps) expect(g.reason.length).toBeGreaterThanOrEqual(10);
  });

  test.each([
    [{ nope: [] }, /expected an object with a "gaps" array/],
    [{ gaps: [{ reason: 'moto cannot do this thing' }] }, /gaps\[0\]: needs exactly one of "type" or "address"/],
    [{ gaps: [{ type: 'aws_x', address: 'aws_x.y', reason: 'moto cannot do this thing' }] }, /exactly one of/],
    [{ gaps: [{ type: 'AWS X', reason: 'moto cannot do this thing' }] }, /gaps\[0\]\.type: must be a resource type/],
    [{ gaps: [{ address: 'nodot', reason: 'moto cannot do this thing' }] }, /gaps\[0\]\.address: must be a resource address/],
    [{ gaps: [{ type: 'aws_x', reason: 'short' }] }, /gaps\[0\]\.reason: must say why/],
  ])('rejects %j with a precise error', (content, message) => {
    const f = writeJson('gaps.json', content);
    expect(() => loadGaps(f)).toThrow(message);
    expect(() => loadGaps(f)).toThrow(f);
  });

  test('an unreadable file names the file', () => {
    expect(() => loadGaps(path.join(tmp, 'missing.json'))).toThrow(/missing\.json: cannot read emulator gap list/);
  });
});

describe('dependency-based skips', () => {
  test('references normalise to configuration addresses', () => {
    expect(referenceToAddress('aws_vpc.main.id')).toBe('aws_vpc.main');
    expect(referenceToAddress('aws_subnet.private[0].id')).toBe('aws_subnet.private');
    expect(referenceToAddress('data.aws_iam_policy_document.p.json')).toBe('data.aws_iam_policy_document.p');
    expect(referenceToAddress('var.region')).toBeNull();
    expect(referenceToAddress('local.tags')).toBeNull();
    expect(referenceToAddress('each.value')).toBeNull();
    expect(configAddress('aws_subnet.private[1]')).toBe('aws_subnet.private');
    expect(configAddress('aws_x.y["a"]')).toBe('aws_x.y');
  });

  const plan = {
    configuration: {
      root_module: {
        resources: [
          { address: 'aws_vpc.v', mode: 'managed', type: 'aws_vpc', expressions: {} },
          { address: 'aws_subnet.s', mode: 'managed', type: 'aws_subnet', expressions: { vpc_id: { references: ['aws_vpc.v.id', 'aws_vpc.v'] } } },
          { address: 'aws_elasticache_replication_group.rg', mode: 'managed', type: 'aws_elasticache_replication_group',
            expressions: { subnet_group_name: { references: ['aws_subnet.s.id', 'aws_subnet.s'] } } },
          { address: 'data.aws_iam_policy_document.p', mode: 'data', type: 'aws_iam_policy_document',
            expressions: { statement: [{ resources: { references: ['aws_elasticache_replication_group.rg.arn'] } }] } },
          { address: 'aws_iam_policy.pol', mode: 'managed', type: 'aws_iam_policy', expressions: { policy: { references: ['data.aws_iam_policy_document.p.json'] } } },
          { address: 'aws_ecs_cluster.c', mode: 'managed', type: 'aws_ecs_cluster', expressions: {}, depends_on: ['aws_iam_policy.pol'] },
          { address: 'aws_ecs_service.keep', mode: 'managed', type: 'aws_ecs_service', expressions: { x: { references: ['aws_subnet.s.id'] } } },
        ],
        outputs: {
          cache: { expression: { references: ['aws_elasticache_replication_group.rg.primary_endpoint_address'] } },
          vpc: { expression: { references: ['aws_vpc.v.id'] } },
        },
      },
    },
  };

  test('a gap skips its resources and, transitively, everything referencing them (through data sources and depends_on)', () => {
    const graph = dependencyGraph(plan);
    const skips = computeSkips(graph, [{ type: 'aws_elasticache_replication_group', reason: 'moto cannot apply replication groups' }]);
    expect([...skips.keys()].sort()).toEqual([
      'aws_ecs_cluster.c',
      'aws_elasticache_replication_group.rg',
      'aws_iam_policy.pol',
      'data.aws_iam_policy_document.p',
    ]);
    expect(skips.get('aws_elasticache_replication_group.rg')).toBe('emulator gap: moto cannot apply replication groups');
    expect(skips.get('aws_ecs_cluster.c')).toBe(
      'depends on aws_iam_policy.pol (via aws_elasticache_replication_group.rg), which the emulator cannot create',
    );
    expect(graph.outputs.get('cache')).toEqual(new Set(['aws_elasticache_replication_group.rg']));
  });

  test('an address gap skips only that resource and its dependents', () => {
    const skips = computeSkips(dependencyGraph(plan), [{ address: 'aws_subnet.s', reason: 'moto cannot create this subnet' }]);
    expect(skips.has('aws_vpc.v')).toBe(false);
    expect(skips.has('aws_ecs_service.keep')).toBe(true);
    expect(skips.size).toBe(6);
  });

  test('no gaps, no skips', () => {
    expect(computeSkips(dependencyGraph(plan), []).size).toBe(0);
  });

  test('module calls are refused with a clear message', () => {
    expect(() => dependencyGraph({ configuration: { root_module: { module_calls: { net: {} } } } })).toThrow(/uses modules \(net\)/);
  });
});

describe('re-plan classification', () => {
  const rc = (address, type, actions, before, after, extra = {}) => ({
    address, type, mode: 'managed', change: { actions, before, after, after_unknown: extra.unknown ?? {}, replace_paths: extra.replace ?? [] },
  });
  const plan = {
    resource_changes: [
      rc('aws_vpc.v', 'aws_vpc', ['no-op'], { cidr_block: 'x' }, { cidr_block: 'x' }),
      rc('aws_rg.cache', 'aws_rg', ['create'], null, { name: 'c' }),
      rc('aws_sg_rule.r', 'aws_sg_rule', ['update'], { description: null, port: 80 }, { description: 'web', port: 80 }),
      rc('aws_svc.s', 'aws_svc', ['delete', 'create'], { name: 'svc', cps: [], desired_count: 1 }, { name: 'svc', cps: [{ w: 1 }], desired_count: 0 },
        { replace: [['cps']], unknown: { id: true } }),
      rc('aws_att.a', 'aws_att', ['delete', 'create'], { instance_id: 'i-1' }, { instance_id: null }, { replace: [['instance_id']], unknown: { instance_id: true } }),
      rc('aws_lt.t', 'aws_lt', ['update'], { tags: { a: '1' }, user_data: 'x' }, { tags: { a: '1' }, user_data: 'y' }),
    ],
  };

  test('changes carry the attributes that cause them; unknown-only replace paths are cascades', () => {
    const changes = summarizeChanges(plan);
    expect(changes.map((c) => c.address)).toEqual(['aws_rg.cache', 'aws_sg_rule.r', 'aws_svc.s', 'aws_att.a', 'aws_lt.t']);
    const svc = changes.find((c) => c.address === 'aws_svc.s');
    expect(svc).toMatchObject({ name: 'svc', changed: ['cps', 'desired_count'], replacePaths: ['cps'] });
    expect(changes.find((c) => c.address === 'aws_att.a')?.replacePaths).toEqual([]);
  });

  test('only skipped creates and listed drift are explained; anything else is reported', () => {
    const changes = summarizeChanges(plan);
    const drift = [
      { type: 'aws_sg_rule', attributes: ['description'], reason: 'moto drops rule descriptions' },
      { type: 'aws_svc', attributes: ['cps'], reason: 'moto drops the capacity provider strategy' },
    ];
    expect(unexplainedChanges(changes, { skipped: ['aws_rg.cache'], drift })).toEqual([
      { address: 'aws_lt.t', actions: ['update'], unexplained: ['user_data'] },
    ]);
    expect(unexplainedChanges(changes, { skipped: [], drift: [] }).map((u) => u.address)).toEqual([
      'aws_rg.cache', 'aws_sg_rule.r', 'aws_svc.s', 'aws_lt.t',
    ]);
  });

  test('the committed drift list is valid; bad entries are named', () => {
    for (const d of loadDrift(DEFAULT_GAPS_FILE)) expect(d.attributes.length).toBeGreaterThan(0);
    const f = writeJson('drift.json', { gaps: [], drift: [{ type: 'aws_x', attributes: [], reason: 'moto drops things' }] });
    expect(() => loadDrift(f)).toThrow(/drift\[0\]\.attributes: must be a non-empty list/);
  });
});

describe('terraform CLI config and prerequisites', () => {
  test('the CLI config installs providers from the mirror only', () => {
    const mirror = fakeMirror('unpacked');
    const file = writeCliConfig(path.join(tmp, 'cli'), { mirror });
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain(`path = ${JSON.stringify(mirror)}`);
    expect(text).toMatch(/provider_installation\s*{\s*filesystem_mirror\s*{/);
    expect(text).not.toMatch(/direct|network_mirror/);
  });

  test('STAGING_ROLLOUT_TF_MIRROR selects the mirror (unpacked and packed layouts)', () => {
    for (const layout of /** @type {const} */ (['unpacked', 'packed'])) {
      const dir = fakeMirror(layout);
      const found = findMirror({ STAGING_ROLLOUT_TF_MIRROR: dir });
      expect(found.dir).toBe(dir);
    }
  });

  test('a bad mirror and a PATH without terraform or moto_server are each named with how to install', () => {
    const problems = checkPrereqs({ env: { PATH: path.join(tmp, 'empty-bin'), STAGING_ROLLOUT_TF_MIRROR: path.join(tmp, 'no-mirror') } });
    expect(problems.map((p) => p.name)).toEqual(['terraform', 'aws provider mirror', 'moto_server']);
    for (const p of problems) expect(p.howToInstall.length).toBeGreaterThan(20);
    expect(problems[1].problem).toContain(`STAGING_ROLLOUT_TF_MIRROR=${path.join(tmp, 'no-mirror')} does not contain`);
    expect(() => writeCliConfig(path.join(tmp, 'cli2'), { env: { STAGING_ROLLOUT_TF_MIRROR: path.join(tmp, 'no-mirror') } })).toThrow(
      /Terraform AWS provider: .*does not contain[\s\S]*how to install/,
    );
  });

  test('terraform failures carry stderr', async () => {
    if (checkPrereqs({ moto: false }).some((p) => p.name === 'terraform')) {
      recordSkip({ suite: 'harness', test: 'terraform failures carry stderr', reason: 'terraform not on PATH' });
      return;
    }
    const err = await terraform(['plan', '-no-such-flag'], { cwd: tmp }).catch((e) => e);
    expect(err).toBeInstanceOf(TerraformError);
    expect(err.message).toMatch(/terraform plan -no-such-flag failed \(exit 1\)/);
  });
});

describe('emulator env and moto lifecycle', () => {
  test('the env points Terraform, the SDK and the CLI at the endpoint and drops profile-based credentials', () => {
    const e = emulatorEnv('http://127.0.0.1:1234', { region: 'eu-west-1' });
    expect(e).toMatchObject({ AWS_ENDPOINT_URL: 'http://127.0.0.1:1234', AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-west-1' });
    const full = withEmulatorEnv('http://127.0.0.1:1234', { base: { PATH: '/bin', AWS_PROFILE: 'prod', AWS_SESSION_TOKEN: 'x' } });
    expect(full.PATH).toBe('/bin');
    expect(full.AWS_PROFILE).toBeUndefined();
    expect(full.AWS_SESSION_TOKEN).toBeUndefined();
    expect(full.AWS_SHARED_CREDENTIALS_FILE).toBe('/dev/null');
  });

  test('a missing moto_server is a PrerequisiteError naming how to install it', async () => {
    const err = await startMoto({ env: { PATH: path.join(tmp, 'empty-bin') } }).catch((e) => e);
    expect(err).toBeInstanceOf(PrerequisiteError);
    expect(err.message).toMatch(/moto_server not found on PATH[\s\S]*pip install/);
  });

  test('startMoto answers on a free loopback port, takes the ECS task transition, and stop() ends it', async () => {
    if (checkPrereqs().some((p) => p.name === 'moto_server')) {
      recordSkip({ suite: 'harness', test: 'moto lifecycle', reason: 'moto_server not on PATH' });
      return;
    }
    const moto = await startMoto();
    try {
      expect(moto.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(moto.endpoint).not.toBe(process.env.STAGING_ROLLOUT_IT_ENDPOINT);
      await setEcsTaskProgression(moto.endpoint);
      const res = await fetch(`${moto.endpoint}/moto-api/state-manager/get-transition?model_name=ecs::task`);
      expect(await res.json()).toEqual({ progression: 'immediate' });
    } finally {
      await moto.stop();
    }
    await expect(fetch(`${moto.endpoint}/moto-api/data.json`)).rejects.toThrow();
    await moto.stop(); // idempotent
  });
});
