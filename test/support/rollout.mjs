// The runner in-process against the fake AWS world (test/support/fake-aws.mjs): a rollout helper and the
// assertion that a failed step stopped the rollout (later steps not-run, no AWS call from them).
import { main } from '../../runner/main.mjs';
import { fakeClock, stepsThatCalled, ROOT, OUTPUTS_FILE, OUTPUTS } from './fake-aws.mjs';
import { stagingConfig, enabledServices, CONFIG_ENV } from './staging-config.cjs';

/** The rollout's steps for the config under test: its tiers between the migration and the smoke. */
export const STEP_IDS = ['preflight', 'images', 'task-definitions', 'migration', ...stagingConfig().config.tiers.map((t) => `tier:${t}`), 'smoke'];
/** `names` in the outputs' catalog order: the order the runner keeps wherever the dependencies leave a choice. */
export const inCatalogOrder = (names) => Object.keys(OUTPUTS.service_catalog).filter((n) => names.includes(n));
/** Who needs secret `key` as the runner names them: the enabled services listing it (catalog order), then the migration. */
export function secretUsers(key) {
  const { config, services } = stagingConfig();
  return [...inCatalogOrder(services.filter((s) => s.enabled && s.secrets.includes(key)).map((s) => s.name)), ...(config.migration.secrets.includes(key) ? ['migration'] : [])];
}
/** Enabled services of the app tier (the web services) and of the workers tier, in the outputs' catalog order. */
export const WEB = inCatalogOrder(enabledServices('app').map((s) => s.name));
export const WORKERS = inCatalogOrder(enabledServices('workers').map((s) => s.name));
/** Task-definition families a release registers: one per enabled service, plus the migration's. */
export const FAMILIES = Object.values(OUTPUTS.service_catalog).filter((s) => s.enabled).length + 1;
export const ecsName = (n) => OUTPUTS.service_catalog[n].ecs_service_name;

/** Run the runner in-process against the fake world. */
export async function rollout(fake, args = [], { clock = fakeClock(), signal, env = {}, modules = {} } = {}) {
  const out = [];
  const err = [];
  const res = await main(
    ['--outputs', OUTPUTS_FILE, '--release', 'rel1', '--poll-interval', '1', ...args],
    {
      cwd: ROOT, env: { ...CONFIG_ENV, ...env }, clock, signal,
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
