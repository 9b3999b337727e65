// scripts/add-a-worker.mjs, the proof that the tests follow the config (docs/testing.md): the copy it makes has
// exactly one more worker, and the suites it runs are every unit suite that reads the staging config. The run
// itself is the `add-a-worker` phase of scripts/test.sh.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { configSuites, withAddedWorker } from '../../scripts/add-a-worker.mjs';
import { shippedRaw, stagingRaw } from '../support/staging-config.cjs';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('add-a-worker', () => {
  test('the copy is the shipped config plus one worker: a copy of the first worker without dependencies under the new name', () => {
    const raw = shippedRaw();
    const { source, ...copy } = withAddedWorker(raw, { name: 'w-new' });
    const first = Object.keys(raw.services).find((n) => raw.services[n].kind === 'worker' && !(raw.services[n].dependsOn ?? []).length);
    expect(source).toBe(first);
    expect(Object.keys(copy.services)).toEqual([...Object.keys(raw.services), 'w-new']);
    expect(copy.services['w-new']).toEqual(raw.services[source]);
    expect({ ...copy, services: undefined }).toEqual({ ...raw, services: undefined });
    expect(raw.services['w-new']).toBeUndefined(); // the original is left as it is
    expect(withAddedWorker(raw, { from: 'tracker-fetcher-2', name: 'w2' }).services.w2.dependsOn).toEqual(['anisette']);
  });

  test('refused: a source that is not a worker, a name already in the catalog', () => {
    const raw = stagingRaw();
    expect(() => withAddedWorker(raw, { from: 'api', name: 'x' })).toThrow('no worker "api" to copy');
    expect(() => withAddedWorker(raw, { name: 'anisette' })).toThrow('already has a service "anisette"');
  });

  test('the suites it runs: the users of test/support/staging-config.cjs, directly or through a support module', () => {
    const suites = configSuites();
    // one of each way in: the helper itself, stack.ts (TypeScript, no extension), fake-aws.mjs, rollout.mjs, smoke.mjs
    expect(suites).toEqual(expect.arrayContaining(['test/unit/bench-model.test.mjs', 'test/unit/stack-services.test.ts',
      'test/unit/runner-plan.test.mjs', 'test/unit/runner-execute.test.mjs', 'test/unit/smoke-workers.test.mjs']));
    expect(suites).not.toContain('test/unit/layers.test.mjs');
    // a unit test naming config/staging.json outside the proof is about that file, not the catalog: the golden
    // synth of the shipped config, the config-file loader, the workflow's default path
    const naming = readdirSync(path.join(ROOT, 'test', 'unit')).map((f) => `test/unit/${f}`)
      .filter((f) => /config\/staging\.json|'staging\.json'/.test(readFileSync(path.join(ROOT, f), 'utf8')));
    expect(naming.filter((f) => !suites.includes(f)).sort()).toEqual(['test/unit/golden.test.mjs', 'test/unit/stack-config-file.test.ts', 'test/unit/workflow-layout.test.mjs']);
  });
});
