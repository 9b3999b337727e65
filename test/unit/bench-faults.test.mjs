// The benchmark's figures under faults (scripts/bench/faults.mjs): goals, verdicts, and the measurement against a
// fault proxy with a stand-in runner that sends AWS calls the way the runner does (SDK client, retries).
import http from 'node:http';
import { ECSClient, DescribeTaskDefinitionCommand, DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { startFaultProxy } from '../../scripts/lib/fault-proxy.mjs';
import { measureFaults, formatFaults, throttledGoalMs, GIVE_UP_GOAL_MS } from '../../scripts/bench/faults.mjs';

test('the throttling goal is max(3x fault-free, fault-free + 5 s)', () => {
  expect(throttledGoalMs(1000)).toBe(6000);
  expect(throttledGoalMs(2500)).toBe(7500);
  expect(throttledGoalMs(4000)).toBe(12000);
  expect(GIVE_UP_GOAL_MS).toBe(60000);
});

test('measureFaults: give-up time per call from the proxy records, throttled runs per seed, verdicts', async () => {
  const upstream = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }); res.end('{"services":[],"failures":[]}'); }); });
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
  const proxy = await startFaultProxy({ target: upstream.address().port });
  const ecs = new ECSClient({ region: 'us-east-1', endpoint: proxy.endpoint, maxAttempts: 3, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const runner = async () => {
    const t0 = Date.now();
    try {
      await Promise.all(['a', 'b'].map((f) => ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: f }))));
      for (let i = 0; i < 10; i++) await ecs.send(new DescribeServicesCommand({ cluster: 'c', services: ['s'] }));
      return { code: 0, wallMs: Date.now() - t0, report: null };
    } catch {
      return { code: 1, wallMs: Date.now() - t0, report: null };
    }
  };
  try {
    const f = await measureFaults({ proxy, faultFreeMs: 100, runner, say: () => {} });
    expect(f.giveUp).toMatchObject({ attempts: 3, calls: 2, code: 1, met: true });
    expect(f.giveUp.ms).toBeGreaterThan(0);
    expect(f.throttled.runs.map((r) => r.seed)).toEqual([1, 2, 3]);
    expect(f.throttled.runs.some((r) => r.throttled > 0)).toBe(true);
    expect(f.throttled.goalMs).toBe(5100);
    const table = formatFaults(f, (ms) => `${ms} ms`);
    expect(table).toMatch(/\| a call that is always throttled .* \| fails after \d+ ms and 3 attempts \(the longest of 2 such call\(s\)\); runner exit 1 \| <= 60000 ms \| MET \|/);
    expect(table).toMatch(/fault-free 100 ms \| <= max\(3x, \+5 s\) = 5100 ms \| (MET|NOT MET) \|/);
  } finally {
    await proxy.close();
    await new Promise((r) => upstream.close(r));
  }
}, 30_000);
