import { stagingRaw } from '../support/staging-config.cjs';
import { modelCriticalPath, serviceSeconds, AWS_DEFAULTS, DEFAULT_ASSUMPTIONS } from '../../scripts/bench/model.mjs';

const staging = () => stagingRaw();

describe('modeled critical path', () => {
  test('a web service pays start + healthy checks + draining; a worker only its start', () => {
    const hc = { intervalSeconds: 5, healthyThreshold: 2, deregistrationDelaySeconds: 5 };
    const a = { ...DEFAULT_ASSUMPTIONS, taskStartSeconds: 10 };
    expect(serviceSeconds({ kind: 'web' }, hc, a)).toBe(10 + 2 * 5 + 5);
    expect(serviceSeconds({ kind: 'worker' }, hc, a)).toBe(10);
    expect(serviceSeconds({ kind: 'web' }, AWS_DEFAULTS, a)).toBe(10 + 5 * 30 + 300);
  });

  test('tiers add up; inside a tier dependencies chain (anisette then tracker-fetcher-2)', () => {
    const m = modelCriticalPath(staging(), { runnerPollSeconds: 1, taskStartSeconds: 40, migrationRunSeconds: 20 });
    const [app, workers] = m.ours.tiers;
    // app tier: three web services in parallel, each 40 + 2*5 + 5
    expect(app).toEqual({ tier: 'app', seconds: 55, waves: [55] });
    // workers: anisette (40) then the fetcher (40); the other workers run beside them
    expect(workers).toEqual({ tier: 'workers', seconds: 80, waves: [40, 40] });
    expect(m.ours.seconds).toBe(60 + 55 + 80);
  });

  test('a wave waits for its slowest service, as the runner does', () => {
    const cfg = staging();
    // a web service in the workers tier: wave 1 now lasts as long as it (start + checks + drain)
    cfg.services['status-page'] = {
      tier: 'workers', kind: 'web', image: 'frontend', port: 3001, healthCheckPath: '/',
      routing: { pathPatterns: ['/status', '/status/*'], priority: 30 }, cpu: 256, memory: 512, desiredCount: 1, secrets: [],
    };
    const m = modelCriticalPath(cfg, { runnerPollSeconds: 1, taskStartSeconds: 40 });
    // wave 1: max(anisette 40, workers 40, status-page 40 + 2*5 + 5); wave 2: tracker-fetcher-2 40
    expect(m.ours.tiers[1]).toEqual({ tier: 'workers', seconds: 55 + 40, waves: [55, 40] });
  });

  test('disabling anisette (and so the fetcher) shortens the workers tier to one start', () => {
    const cfg = staging();
    cfg.services.anisette.enabled = false;
    const m = modelCriticalPath(cfg, { runnerPollSeconds: 1 });
    expect(m.services).toBe(Object.keys(cfg.services).length - 2); // anisette and the fetcher that depends on it
    expect(m.ours.tiers[1].seconds).toBe(DEFAULT_ASSUMPTIONS.taskStartSeconds);
  });

  test('the staging settings and the parallel order each make the modeled rollout shorter', () => {
    const m = modelCriticalPath(staging());
    expect(m.ours.seconds).toBeLessThan(m.oursWithAwsDefaults.seconds);
    expect(m.oursWithAwsDefaults.seconds).toBeLessThan(m.baselineWithAwsDefaults.seconds);
    expect(m.ours.seconds).toBeLessThan(m.baselineTuned.seconds);
  });

  test('slower health checks in the config show up in the model', () => {
    const cfg = staging();
    const before = modelCriticalPath(cfg).ours.seconds;
    cfg.loadBalancer.healthCheck.intervalSeconds = 30;
    expect(modelCriticalPath(cfg).ours.seconds).toBeGreaterThan(before);
  });
});
