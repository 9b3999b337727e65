// The runner in-process against the fake AWS world (test/support/fake-aws.mjs): a rollout helper and the
// assertion that a failed step stopped the rollout (later steps not-run, no AWS call from them).
import { main } from '../../runner/main.mjs';
import { fakeClock, stepsThatCalled, ROOT, OUTPUTS_FILE, OUTPUTS } from './fake-aws.mjs';
export const STEP_IDS = ['preflight', 'images', 'task-definitions', 'migration', 'tier:app', 'tier:workers', 'smoke'];
export const WEB = ['api', 'frontend', 'admin'];
export const WORKERS = ['anisette', 'tracker-fetcher-2', 'unified-geofence', 'notification-service', 'materialized-view-service'];
export const ecsName = (n) => OUTPUTS.service_catalog[n].ecs_service_name;

/** Run the runner in-process against the fake world. */
export async function rollout(fake, args = [], { clock = fakeClock(), signal, env = {}, modules = {} } = {}) {
  const out = [];
  const err = [];
  const res = await main(
    ['--outputs', OUTPUTS_FILE, '--release', 'rel1', '--poll-interval', '1', ...args],
    {
      cwd: ROOT, env, clock, signal,
      createAws: () => fake.clients,
      write: (l) => out.push(l), writeErr: (l) => err.push(l),
      exec: async () => { throw new Error('no shell in unit tests'); },
      steps: fake.steps({ images: null, smoke: null, ...modules }),
      writeArtifacts: async () => ({}),
    },
  );
  return { ...res, out: out.join('\n'), err: err.join('\n') };
}

export const ops = (world, op) => world.calls.filter((c) => c.op === op);
export const stepOf = (report, id) => report.steps.find((s) => s.id === id);

/** A failed step: later steps are not-run and made no AWS call. */
export function expectStoppedAfter(res, world, failedStep) {
  expect(res.exitCode).toBe(1);
  expect(res.report.status).toBe('failed');
  expect(res.report.failure.step).toBe(failedStep);
  const later = STEP_IDS.slice(STEP_IDS.indexOf(failedStep) + 1);
  for (const id of later) {
    expect(stepOf(res.report, id)).toMatchObject({ status: 'not-run', reason: `not started: ${failedStep} failed` });
  }
  const called = stepsThatCalled(world);
  for (const id of later) expect(called).not.toContain(id);
}
