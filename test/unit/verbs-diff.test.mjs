// The diff verb against the scripted AWS world: after a rollout nothing would change (exit 0, read-only calls);
// a new image names that image and nothing else (exit 1); a revision Terraform changed shows variables and secrets
// by name only; a fresh stack shows every service with its desired count; bad input and unreadable state exit 2.
import { fakeWorld, awsError, fakeClock, ROOT, OUTPUTS_FILE, OUTPUTS } from '../support/fake-aws.mjs';
import { rollout, WEB, WORKERS, ecsName } from '../support/rollout.mjs';
import { main } from '../../runner/main.mjs';
import { CONFIG_ENV } from '../support/staging-config.cjs';
import { taskDefinitionChanges } from '../../runner/lib/td-diff.mjs';

async function diff(fake, args = []) {
  const out = [];
  const err = [];
  fake.world.calls = [];
  const res = await main(['diff', '--outputs', OUTPUTS_FILE, '--no-emulator', ...args], {
    cwd: ROOT, env: { ...CONFIG_ENV }, clock: fakeClock(), createAws: () => fake.clients, write: (l) => out.push(l), writeErr: (l) => err.push(l),
    exec: async () => { throw new Error('no shell in unit tests'); },
  });
  return { ...res, out: out.join('\n'), err: err.join('\n'), json: args.includes('--json') && res.exitCode < 2 ? JSON.parse(out.join('\n')) : null };
}
const READ_ONLY = /^(Describe|List|Get)/;
const family = (name) => OUTPUTS.service_catalog[name].task_family;
const N = WEB.length + WORKERS.length;

describe('diff', () => {
  test('right after a rollout of r1: nothing would change for r1, exit 0, read-only calls only', async () => {
    const fake = fakeWorld();
    expect((await rollout(fake, ['--no-emulator', '--release', 'r1'])).exitCode).toBe(0);
    const res = await diff(fake, ['--release', 'r1', '--json']);
    expect(res.exitCode).toBe(0);
    expect(res.err).not.toMatch(/^error/m);
    expect(res.json.services.map((s) => [s.name, s.status])).toEqual([...WEB, ...WORKERS].map((n) => [n, 'unchanged']));
    expect(res.json.changed).toBe(0);
    expect(fake.world.calls.map((c) => c.op).filter((op) => !READ_ONLY.test(op))).toEqual([]);
    // one DescribeServices per 10 services, one DescribeTaskDefinition per family and per running revision
    expect(fake.world.calls.filter((c) => c.op === 'DescribeServices')).toHaveLength(Math.ceil(N / 10));
    expect((await diff(fake, ['--release', 'r1'])).out).toMatch(new RegExp(`\\nnothing would change \\(${N} service\\(s\\)\\)$`));
  });

  test('a new frontend image: frontend\'s image is the one change named, exit 1', async () => {
    const fake = fakeWorld();
    await rollout(fake, ['--no-emulator', '--release', 'r1']);
    fake.world.images.frontend = `sha256:${'e'.repeat(64)}`;
    const res = await diff(fake, ['--release', 'r2', '--json']);
    expect(res.exitCode).toBe(1);
    const changed = res.json.services.filter((s) => s.status !== 'unchanged');
    expect(changed.map((s) => s.name)).toEqual(['frontend']);
    expect(changed[0].changes).toEqual([{ field: 'image', from: expect.stringMatching(/@sha256:b{64}$/), to: expect.stringMatching(/@sha256:e{64}$/) }]);
    expect(changed[0].desiredCount).toBeNull();
    const text = (await diff(fake, ['--release', 'r2'])).out;
    expect(text).toMatch(/^frontend: staging-frontend:\d+ -> the release revision\n {2}image {2}\S+@sha256:b{64} -> \S+@sha256:e{64}$/m);
    // an image every worker shares: each service that uses it is named
    fake.world.images.frontend = `sha256:${'b'.repeat(64)}`;
    fake.world.images.api = `sha256:${'e'.repeat(64)}`;
    const shared = await diff(fake, ['--release', 'r2', '--json']);
    const usesApi = Object.values(OUTPUTS.service_catalog).filter((e) => e.enabled && e.image === 'api').map((e) => e.name);
    expect(shared.json.services.filter((s) => s.status === 'changed').map((s) => s.name).sort()).toEqual(usesApi.sort());
    expect(text).toMatch(new RegExp(`\\n1 of ${N} service\\(s\\) would change$`));
  });

  test('a revision the foundation changed: variables and secrets by name, never a value', async () => {
    const fake = fakeWorld();
    await rollout(fake, ['--no-emulator', '--release', 'r1']);
    const list = fake.world.tds.get(family('frontend'));
    const latest = structuredClone(list[list.length - 1]);
    latest.revision += 1;
    latest.taskDefinitionArn = latest.taskDefinitionArn.replace(/:\d+$/, `:${latest.revision}`);
    latest.cpu = '512';
    latest.containerDefinitions[0].environment = [{ name: 'FEATURE_FLAG', value: 'value-that-must-not-show' }];
    latest.containerDefinitions[0].secrets = [{ name: 'DB_PASSWORD', valueFrom: 'arn:aws:secretsmanager:eu-west-1:1:secret:must-not-show' }];
    latest.containerDefinitions[0].dockerLabels = { note: 'label-that-must-not-show' };
    list.push(latest);
    const res = await diff(fake, ['--release', 'r1']);
    expect(res.exitCode).toBe(1);
    expect(res.out).toMatch(/^frontend: .*\n {2}task cpu +256 -> 512\n/m);
    expect(res.out).toMatch(/^ {2}environment +0 variable\(s\) -> \+FEATURE_FLAG$/m);
    expect(res.out).toMatch(/^ {2}secrets +0 secret\(s\) -> \+DB_PASSWORD$/m);
    expect(res.out).toMatch(/^ {2}dockerLabels +\(none\) -> changed$/m);
    expect(res.out + res.err).not.toMatch(/must-not-show/);
    expect(res.out).toMatch(new RegExp(`\\n1 of ${N} service\\(s\\) would change$`));
  });

  test('a fresh stack (bootstrap images, desired 0): every service would change, with its desired count', async () => {
    const fake = fakeWorld();
    const res = await diff(fake, ['--release', 'r1', '--json']);
    expect(res.exitCode).toBe(1);
    for (const s of res.json.services) {
      expect(s).toMatchObject({ status: 'changed', desiredCount: { from: 0, to: OUTPUTS.service_catalog[s.name].desired_count } });
      expect(s.changes.find((c) => c.field === 'image')).toMatchObject({ from: expect.stringMatching(/:bootstrap$/) });
    }
  });

  test('a service with no active ECS service is named as missing', async () => {
    const fake = fakeWorld();
    await rollout(fake, ['--no-emulator', '--release', 'r1']);
    fake.world.services.get(ecsName('admin')).status = 'INACTIVE';
    const res = await diff(fake, ['--release', 'r1']);
    expect(res.exitCode).toBe(1);
    expect(res.out).toMatch(/^admin: no active ECS service \S+ \(apply the foundation first; the rollout would fail on it\)$/m);
  });

  test('bad input and unreadable state exit 2 (diff(1)\'s trouble), never 1', async () => {
    const fake = fakeWorld();
    const bad = await diff(fake, ['--release', 'no/slash']);
    expect({ exit: bad.exitCode, calls: bad.awsCalls }).toEqual({ exit: 2, calls: 0 });
    expect(bad.err).toMatch(/--release: "no\/slash" is not a valid image tag/);
    fake.world.faults.set('DescribeServices', () => awsError('AccessDeniedException', 'not allowed'));
    const denied = await diff(fake, ['--release', 'r1']);
    expect(denied.exitCode).toBe(2);
    expect(denied.err).toMatch(/^error: .*not allowed/m);
  });
});

describe('taskDefinitionChanges', () => {
  const base = {
    cpu: '256', memory: '512', taskRoleArn: 'arn:aws:iam::1:role/a', executionRoleArn: 'arn:aws:iam::1:role/x',
    containerDefinitions: [{ name: 'app', image: 'r/app:1', command: ['serve'], portMappings: [{ containerPort: 8000 }], environment: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }],
  };
  test('identical: no change; every shown field is compared', () => {
    expect(taskDefinitionChanges(base, structuredClone(base), 'app')).toEqual([]);
    const d = structuredClone(base);
    Object.assign(d.containerDefinitions[0], { command: ['worker'], portMappings: [{ containerPort: 9000 }], environment: [{ name: 'A', value: 'changed' }, { name: 'C', value: '3' }], healthCheck: { command: ['CMD', 'true'] } });
    d.taskRoleArn = 'arn:aws:iam::1:role/b';
    expect(taskDefinitionChanges(base, d, 'app')).toEqual([
      { field: 'task role', from: 'a', to: 'b' },
      { field: 'command', from: '["serve"]', to: '["worker"]' },
      { field: 'environment', from: '2 variable(s)', to: '~A, -B, +C' },
      { field: 'ports', from: '["8000/tcp"]', to: '["9000/tcp"]' },
      { field: 'healthCheck', from: '(none)', to: '["CMD","true"] every 30s, timeout 5s, 3 retries, start 0s' },
    ]);
  });
  test('a sidecar added or removed is named', () => {
    const d = structuredClone(base);
    d.containerDefinitions.push({ name: 'proxy', image: 'envoy' });
    expect(taskDefinitionChanges(base, d, 'app')).toEqual([{ field: 'container proxy', from: '(none)', to: 'added' }]);
    expect(taskDefinitionChanges(d, base, 'app')).toEqual([{ field: 'container proxy', from: 'present', to: 'removed' }]);
  });
});
