// The wait verb against the scripted AWS world: a settled environment (exit 0, one DescribeServices per poll for
// the catalog's services), a deployment that settles while it waits (its lines, the heartbeat), a timeout naming each service
// not stable and why (exit 1), a service missing from the cluster, Ctrl-C (130), bad input (2), --json.
import { fakeWorld, fakeClock, ROOT, OUTPUTS_FILE, OUTPUTS } from '../support/fake-aws.mjs';
import { rollout, WEB, WORKERS, ecsName } from '../support/rollout.mjs';
import { main } from '../../runner/main.mjs';

async function wait(fake, args = [], { clock = fakeClock(), signal } = {}) {
  const out = [];
  const err = [];
  fake.world.calls = [];
  const res = await main(['wait', '--outputs', OUTPUTS_FILE, '--no-emulator', ...args], {
    cwd: ROOT, env: {}, clock, signal, createAws: () => fake.clients, write: (l) => out.push(l), writeErr: (l) => err.push(l),
    exec: async () => { throw new Error('no shell in unit tests'); },
  });
  return { ...res, out: out.join('\n'), err: err.join('\n'), json: args.includes('--json') ? JSON.parse(out.join('\n')) : null };
}

/** The services a rollout of the config under test starts. */
const N = [...WEB, ...WORKERS].length;

async function settled() {
  const fake = fakeWorld();
  expect((await rollout(fake, ['--no-emulator', '--release', 'r1'])).exitCode).toBe(0);
  for (const svc of fake.world.services.values()) svc.updated = 0; // the fake's deployment script leaves them as they are
  return fake;
}

describe('wait', () => {
  test('a settled environment: exit 0 after one look, one DescribeServices call for every service (up to 10), nothing else', async () => {
    const fake = await settled();
    const res = await wait(fake, ['--json']);
    expect(res.exitCode).toBe(0);
    expect(res.json).toMatchObject({ ok: true, exitCode: 0, notStable: [], waitedMs: 0, emulator: null });
    expect(res.json.services.map((s) => s.name).sort()).toEqual([...WEB, ...WORKERS].sort());
    expect(res.json.services.every((s) => s.stable)).toBe(true);
    expect(fake.world.calls.map((c) => c.op)).toEqual(['DescribeServices']);
    expect(fake.world.calls[0].input.services).toHaveLength(N);
    expect(res.err).toContain('[wait] api 0 ms: running 1/1, COMPLETED'); // progress on stderr with --json
  });

  test('a deployment in progress: waits, prints its line when it changes and the heartbeat, exit 0 once it settles', async () => {
    const fake = await settled();
    const svc = fake.world.services.get(ecsName('frontend'));
    let polls = 0;
    // 3 deployments-in-progress answers 20 s apart (the poll interval), then settled
    fake.world.serviceScript[ecsName('frontend')] = (s) => {
      polls += 1;
      if (polls > 3) { s.deployments = [{ ...s.deployments[0], rolloutState: 'COMPLETED' }]; s.runningCount = s.desiredCount; }
    };
    svc.deployments = [{ ...svc.deployments[0], rolloutState: 'IN_PROGRESS', id: 'new' }, { ...svc.deployments[0], status: 'ACTIVE', id: 'old' }];
    svc.runningCount = 0;
    svc.updated = 1;
    svc.polls = 0;
    const res = await wait(fake, ['--poll-interval', '20']);
    expect(res.exitCode).toBe(0);
    const lines = res.out.split('\n');
    expect(lines).toContain('[wait] frontend 0 ms: running 0/1, IN_PROGRESS, 2 deployments');
    expect(lines).toContain('[wait] frontend 60.0 s: running 1/1, COMPLETED');
    expect(lines.filter((l) => l.startsWith('[wait] still waiting'))).toEqual(['[wait] still waiting (40.0 s of 600.0 s) for frontend: running 0/1, IN_PROGRESS, 2 deployments']);
    expect(lines.at(-1)).toMatch(new RegExp(`^OK \\(exit 0\\): every enabled service \\(${N}\\) is stable; waited 60\\.0 s, \\d+ AWS API calls$`));
    // after the first look only the services not stable yet are described
    expect(fake.world.calls.slice(1).every((c) => c.input.services.length === 1)).toBe(true);
  });

  test('not stable within --timeout: exit 1 naming each service and why', async () => {
    const fake = await settled();
    const fe = fake.world.services.get(ecsName('frontend'));
    fe.deployments = [{ ...fe.deployments[0], rolloutState: 'IN_PROGRESS' }];
    const geo = fake.world.services.get(ecsName('unified-geofence'));
    geo.runningCount = 0;
    const res = await wait(fake, ['--timeout', '10', '--poll-interval', '5', '--json']);
    expect(res.exitCode).toBe(1);
    expect(res.json.notStable).toEqual([
      { name: 'frontend', why: 'rollout IN_PROGRESS' },
      { name: 'unified-geofence', why: 'running 0/1' },
    ]);
    expect(res.json.verdict).toBe('2 service(s) not stable after 10.0 s: frontend (rollout IN_PROGRESS); unified-geofence (running 0/1)');
    expect(fake.world.calls).toHaveLength(3); // t=0, 5, 10 s
    const text = await wait(fake, ['--timeout', '0']);
    expect(text.exitCode).toBe(1);
    expect(text.out.split('\n').at(-1)).toMatch(/^NOT OK \(exit 1\): 2 service\(s\) not stable after 0 ms: frontend \(rollout IN_PROGRESS\); unified-geofence \(running 0\/1\);/);
  });

  test('a service missing from the cluster is not stable, named; more than one deployment is named with each', async () => {
    const fake = await settled();
    fake.world.services.delete(ecsName('admin'));
    const api = fake.world.services.get(ecsName('api'));
    api.deployments = [api.deployments[0], { ...api.deployments[0], status: 'ACTIVE', id: 'old' }];
    const res = await wait(fake, ['--timeout', '0', '--json']);
    expect(res.exitCode).toBe(1);
    expect(res.json.notStable).toHaveLength(2);
    expect(res.json.notStable).toEqual(expect.arrayContaining([
      { name: 'api', why: '2 deployments (PRIMARY staging-api:2 COMPLETED, ACTIVE staging-api:2 COMPLETED)' },
      { name: 'admin', why: `ECS service ${ecsName('admin')} not found in cluster ${OUTPUTS.cluster_name}` },
    ]));
  });

  test('emulator mode: only ACTIVE is observable, and the verdict says so', async () => {
    const fake = await settled();
    fake.world.services.get(ecsName('api')).runningCount = 0;
    const out = [];
    const res = await main(['wait', '--outputs', OUTPUTS_FILE, '--emulator'], {
      cwd: ROOT, env: {}, clock: fakeClock(), createAws: () => fake.clients, write: (l) => out.push(l), writeErr: () => {}, exec: async () => { throw new Error('no'); },
    });
    expect(res.exitCode).toBe(0);
    expect(out.at(-1)).toMatch(new RegExp(`^OK \\(exit 0\\): every enabled service \\(${N}\\) is stable \\(emulator: only ACTIVE is observable: `));
  });

  test('Ctrl-C while waiting: exit 130, what was not stable yet', async () => {
    const fake = await settled();
    fake.world.services.get(ecsName('api')).runningCount = 0;
    const ac = new AbortController();
    const clock = fakeClock();
    const sleep = clock.sleep;
    clock.sleep = async (ms, signal) => { ac.abort(); return sleep(ms, signal); };
    const res = await wait(fake, ['--json'], { clock, signal: ac.signal });
    expect(res.exitCode).toBe(130);
    expect(res.json.verdict).toBe('interrupted after 0 ms; not stable yet: api (running 0/1)');
  });

  test('bad input: exit 2 naming the flag; --help from the table', async () => {
    const fake = await settled();
    const bad = await wait(fake, ['--timeout', 'soon']);
    expect(bad.exitCode).toBe(2);
    expect(bad.err).toBe('error: --timeout: must be a number of seconds >= 0, got "soon"');
    expect((await wait(fake, ['--follow'])).err).toBe('error: unknown flag --follow (see --help)');
    const help = await wait(fake, ['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.out).toMatch(/^Usage: npx zx runner\/rollout\.mjs wait/);
    expect(help.out).toMatch(/--timeout SEC\s+give up after this long \(default 600; 0: look once\)/);
    expect(fake.world.calls).toEqual([]);
  });
});
