// The golden synth (scripts/golden.mjs): the committed, normalized JSON of both stacks for the shipped configs is
// what a synth gives now. A library, provider-binding or Node swap (CDKTF is archived: docs/toolchain.md) or a
// change of the stack code then shows here exactly what it changes; `npm run golden` accepts it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { normalize, differences, CASES } from '../../scripts/golden.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('golden synth', () => {
  test('the committed golden files are what the stacks synthesize to now (npm run golden -- --check)', () => {
    const res = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'golden.mjs'), '--check'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: '' });
  }, 120_000);

  test('both stacks and both shipped configs are covered', () => {
    expect(CASES.flatMap((c) => c.stacks.map((s) => `${c.config} ${s}`)).sort())
      .toEqual(['config/local.json foundation', 'config/staging.json ci-access', 'config/staging.json foundation']);
  });

  test('normalized: keys sorted, metadata dropped, the local state path relative to the repository; a change is named by its path', () => {
    const stackDir = path.join(ROOT, 'cdktf.out', 'stacks', 'foundation');
    const n = normalize({ '//': { metadata: { version: '0.21.0' } }, terraform: { backend: { local: { path: '../../../state/staging/foundation.tfstate' } } }, b: 1, a: { '//': {}, z: 1, y: [2] } }, stackDir);
    expect(JSON.stringify(n)).toBe('{"a":{"y":[2],"z":1},"b":1,"terraform":{"backend":{"local":{"path":"<repo>/state/staging/foundation.tfstate"}}}}');
    expect(differences({ r: { a: 1, b: 2 } }, { r: { a: 1, b: 3, c: 4 } })).toEqual(['.r.b: 2 -> 3', '.r.c: added']);
  });
});
