// The runner's layers point down only: runner/lib holds leaf modules that import nothing of the runner above them
// (only each other, the shared config under lib/, Node and packages), and the dispatcher (runner/main.mjs) sits
// above the verbs. A module of runner/lib that imported runner/aws, steps, verbs, report, ledger, smoke or images
// would make the floor depend on the roof: this test names it. Static imports and re-exports are read from the
// source (JSDoc type references are not imports).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LIB = path.join(ROOT, 'runner', 'lib');
const SHARED = path.join(ROOT, 'lib');

/** The specifiers a module's source imports or re-exports at run time. @param {string} source */
function importsOf(source) {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out = [];
  for (const m of code.matchAll(/^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm)) out.push(m[1]);
  for (const m of code.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) out.push(m[1]);
  for (const m of code.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]);
  return out;
}

/** Where a relative specifier of `file` leads outside the leaf layer, or null when it stays inside. */
function upward(file, spec) {
  if (!spec.startsWith('.')) return null; // node: builtins and packages
  const target = path.resolve(path.dirname(file), spec);
  if (target.startsWith(LIB + path.sep) || target.startsWith(SHARED + path.sep)) return null;
  return path.relative(ROOT, target);
}

describe('runner/lib is the floor: its modules import nothing above it', () => {
  const files = readdirSync(LIB).filter((f) => f.endsWith('.mjs')).map((f) => path.join(LIB, f));

  test('the reader finds imports, re-exports and dynamic imports, and skips type references in comments', () => {
    expect(importsOf("import a from './a.mjs';\nimport {\n  b,\n} from '../b.mjs';\nexport { c } from \"./c.mjs\";\nimport './d.mjs';\nconst e = await import('./e.mjs');\n/** @type {import('../f.mjs').F} */\n// import x from '../g.mjs'\n"))
      .toEqual(['./a.mjs', '../b.mjs', './c.mjs', './d.mjs', './e.mjs']);
  });

  test.each(readdirSync(LIB).filter((f) => f.endsWith('.mjs')))('runner/lib/%s', (name) => {
    const file = path.join(LIB, name);
    const bad = importsOf(readFileSync(file, 'utf8')).map((s) => upward(file, s)).filter(Boolean);
    expect({ file: name, importsAbove: bad }).toEqual({ file: name, importsAbove: [] });
  });

  test('the check would catch one: a module of lib importing runner/aws is named', () => {
    expect(upward(path.join(LIB, 'x.mjs'), '../aws/clients.mjs')).toBe('runner/aws/clients.mjs');
    expect(upward(path.join(LIB, 'x.mjs'), '../../lib/config/index.cjs')).toBeNull();
    expect(files.length).toBeGreaterThan(10);
  });

  test('the dispatcher is above the verbs: runner/main.mjs imports runner/verbs, and nothing in runner/verbs imports it', () => {
    const main = path.join(ROOT, 'runner', 'main.mjs');
    expect(importsOf(readFileSync(main, 'utf8'))).toEqual(expect.arrayContaining(['./verbs/index.mjs']));
    for (const f of readdirSync(path.join(ROOT, 'runner', 'verbs'))) {
      const file = path.join(ROOT, 'runner', 'verbs', f);
      expect({ f, main: importsOf(readFileSync(file, 'utf8')).some((s) => path.resolve(path.dirname(file), s) === main) }).toEqual({ f, main: false });
    }
  });
});

describe('the foundation stack imports nothing of the ci-access stack', () => {
  // what both stacks use (the permissions boundary, the policy-document helpers) lives in stacks/; only the
  // ci-access stack reaches into stacks/ci-access/
  const STACKS = path.join(ROOT, 'stacks');
  const own = readdirSync(STACKS).filter((f) => f.endsWith('.ts') && f !== 'ci-access-stack.ts');

  test.each(own)('stacks/%s', (name) => {
    const file = path.join(STACKS, name);
    const bad = importsOf(readFileSync(file, 'utf8')).filter((s) => s.startsWith('.') && path.resolve(STACKS, s).startsWith(path.join(STACKS, 'ci-access') + path.sep));
    expect({ file: name, importsCiAccess: bad }).toEqual({ file: name, importsCiAccess: [] });
  });

  test('the check would catch one, and it reads the stacks', () => {
    expect(path.resolve(STACKS, './ci-access/boundary').startsWith(path.join(STACKS, 'ci-access') + path.sep)).toBe(true);
    expect(own).toEqual(expect.arrayContaining(['foundation-stack.ts', 'boundary.ts', 'policy.ts']));
  });
});
