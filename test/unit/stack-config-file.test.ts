// lib/config loadConfigFile: the one reader of environment config files (stack, runner, image CLI):
// errors that name the file, JSON positions, `"extends"` overlays (deep merge, replace, null removes, cycles),
// image contexts resolving against the file that declares them, and the stack's loadConfig on top of it.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfigFile, mergeOverlay } from '../../lib/config/index.cjs';
import { ConfigError, loadConfig } from '../../stacks/config';

const REPO = path.resolve(__dirname, '../..');
const STAGING_FILE = path.join(REPO, 'config', 'staging.json');
const STAGING = JSON.parse(fs.readFileSync(STAGING_FILE, 'utf8'));
let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'config-file-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Write a JSON (or raw text) file under tmp; returns its absolute path. */
function put(rel: string, content: unknown): string {
  const p = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return p;
}
const stagingFrom = (dir: string) => path.relative(path.join(tmp, dir), STAGING_FILE);
function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('reading', () => {
  test('staging.json loads as before: same result as the stack loader, no parents', () => {
    const r = loadConfigFile('config/staging.json', { cwd: REPO });
    expect(r.files).toEqual([STAGING_FILE]);
    expect(r.file).toBe(STAGING_FILE);
    expect(r.config.images.api.context).toBe(STAGING.images.api.context);
    expect(r.services.map((s) => s.name)).toEqual(Object.keys(STAGING.services).filter((k) => !k.startsWith('$')));
    expect(loadConfig('config/staging.json', REPO).config).toEqual(r.config);
  });

  test('cannot read: missing file and directory, named as given', () => {
    expect(errorOf(() => loadConfigFile('nope/x.json', { cwd: tmp })).message).toBe('nope/x.json: cannot read config file (no such file)');
    fs.mkdirSync(path.join(tmp, 'adir.json'), { recursive: true });
    expect(errorOf(() => loadConfigFile('adir.json', { cwd: tmp })).message).toBe('adir.json: cannot read config file (is a directory)');
  });

  test('not JSON: the parser message with line and column', () => {
    put('broken.json', '{\n  "environment": "qa",\n  "region": }\n');
    const msg = errorOf(() => loadConfigFile('broken.json', { cwd: tmp })).message;
    expect(msg).toMatch(/^broken\.json: not valid JSON: .+ \(line 3, column 13\)$/);
    put('truncated.json', '{\n  "a": 1');
    expect(errorOf(() => loadConfigFile('truncated.json', { cwd: tmp })).message).toMatch(/^truncated\.json: not valid JSON: .+ \(line 2, column 9\)$/);
    put('array.json', '[1]');
    expect(errorOf(() => loadConfigFile('array.json', { cwd: tmp })).message).toBe('array.json: must be a JSON object, got an array');
  });

  test('validation errors name the file and the JSON path', () => {
    const raw = structuredClone(STAGING);
    raw.services.api.port = '80';
    put('bad-port.json', raw);
    const e = errorOf(() => loadConfigFile('bad-port.json', { cwd: tmp }));
    expect(e.message).toMatch(/^bad-port\.json: services\.api\.port: must be an integer 1-65535, got "80" \(line \d+, column \d+\)$/);
    expect(e.path).toBe('services.api.port');
    // the line and column are those of the offending value in the file
    const lines = fs.readFileSync(path.join(tmp, 'bad-port.json'), 'utf8').split('\n');
    expect(lines[e.line! - 1].slice(e.column! - 1)).toMatch(/^"80"/);
    expect(e.message.endsWith(`(line ${e.line}, column ${e.column})`)).toBe(true);
  });
});

describe('extends', () => {
  test('objects deep-merge, arrays and scalars replace, null removes a key, extends itself is not a config key', () => {
    const file = put('env/qa.json', {
      extends: stagingFrom('env'),
      environment: 'qa',
      namePrefix: 'qa',
      tags: { Team: 'qa-team' },
      tiers: ['app', 'workers'],
      services: {
        api: { desiredCount: 2, secrets: ['database'] },
        anisette: { enabled: false },
      },
      migration: { timeoutSeconds: 120 },
      imageRegistry: null,
    });
    const r = loadConfigFile(file);
    expect(r.files).toEqual([STAGING_FILE, file]);
    expect(r.config.environment).toBe('qa');
    expect(r.config.namePrefix).toBe('qa');
    // deep merge: untouched siblings survive
    expect(r.config.migration).toMatchObject({ timeoutSeconds: 120, command: STAGING.migration.command, image: STAGING.migration.image });
    const api = r.services.find((s) => s.name === 'api')!;
    expect(api).toMatchObject({ desiredCount: 2, port: STAGING.services.api.port, cpu: STAGING.services.api.cpu });
    // arrays replace (not concatenate)
    expect(api.secrets).toEqual(['database']);
    expect(r.config.tags).toMatchObject({ ...STAGING.tags, Team: 'qa-team' });
    // the disabled dependency propagates through the merged catalog
    expect(r.services.find((s) => s.name === 'tracker-fetcher-2')).toMatchObject({ enabled: false, disabledReason: 'dependency anisette is disabled' });
    expect(r.raw).not.toHaveProperty('extends');
    expect(r.raw).not.toHaveProperty('imageRegistry');
  });

  test('null removes an inherited key (it then takes its default)', () => {
    const base = put('null/base.json', { ...STAGING, images: Object.fromEntries(Object.entries(STAGING.images).map(([k, v]) => [k, { ...(v as object), context: `../${k}` }])), imageConvenienceTag: 'base-latest' });
    const over = put('null/over.json', { extends: './base.json', imageConvenienceTag: null, services: { api: { desiredCount: null } } });
    expect(loadConfigFile(base).config.imageConvenienceTag).toBe('base-latest');
    const r = loadConfigFile(over);
    expect(r.config).not.toHaveProperty('imageConvenienceTag');
    expect(r.services.find((s) => s.name === 'api')!.desiredCount).toBe(1); // the catalog default
  });

  test('mergeOverlay does not modify its inputs', () => {
    const a = { x: { y: 1, z: [1, 2] }, k: 'v' };
    const b = { x: { z: [3] }, k: null };
    const before = JSON.stringify([a, b]);
    expect(mergeOverlay(a, b as Record<string, unknown>)).toEqual({ x: { y: 1, z: [3] } });
    expect(JSON.stringify([a, b])).toBe(before);
  });

  test('chains of three; the nearest file wins', () => {
    put('chain/a.json', { extends: path.relative(path.join(tmp, 'chain'), STAGING_FILE), migration: { timeoutSeconds: 100 }, namePrefix: 'aa' });
    put('chain/b.json', { extends: 'a.json', migration: { timeoutSeconds: 200 } });
    const c = put('chain/sub/c.json', { extends: '../b.json', namePrefix: 'cc' });
    const r = loadConfigFile(c);
    expect(r.files.map((f) => path.relative(tmp, f))).toEqual([path.relative(tmp, STAGING_FILE), 'chain/a.json', 'chain/b.json', 'chain/sub/c.json']);
    expect(r.config.migration.timeoutSeconds).toBe(200);
    expect(r.config.namePrefix).toBe('cc');
  });

  test('cycles and bad extends values are errors that name the files', () => {
    put('cycle/a.json', { extends: 'b.json' });
    put('cycle/b.json', { extends: './a.json' });
    const e = errorOf(() => loadConfigFile('cycle/a.json', { cwd: tmp }));
    expect(e.message).toBe('cycle/a.json: "extends" cycle: cycle/a.json -> cycle/b.json -> cycle/a.json');
    put('self.json', { extends: 'self.json' });
    expect(errorOf(() => loadConfigFile('self.json', { cwd: tmp })).message).toBe('self.json: "extends" cycle: self.json -> self.json');
    put('bad-extends.json', { extends: ['a.json'] });
    expect(errorOf(() => loadConfigFile('bad-extends.json', { cwd: tmp })).message).toBe('bad-extends.json: extends: must be the path of another config file (relative to this one), got an array');
    put('missing-parent.json', { extends: 'gone/base.json' });
    expect(errorOf(() => loadConfigFile('missing-parent.json', { cwd: tmp })).message).toBe('gone/base.json: cannot read config file (no such file)');
  });

  test('a validation error in an inherited value names the file that set it', () => {
    const raw = structuredClone(STAGING);
    raw.services.admin.port = 0;
    put('inherit/base.json', raw);
    put('inherit/qa.json', { extends: 'base.json', environment: 'qa' });
    const inherited = errorOf(() => loadConfigFile('inherit/qa.json', { cwd: tmp }));
    expect(inherited.message)
      .toBe(`inherit/qa.json: services.admin.port: must be an integer 1-65535, got 0 (set in inherit/base.json at line ${inherited.line}, column ${inherited.column}, extended by inherit/qa.json)`);
    const baseLines = fs.readFileSync(path.join(tmp, 'inherit/base.json'), 'utf8').split('\n');
    expect(baseLines[inherited.line! - 1].slice(inherited.column! - 1)).toMatch(/^0\b/);
    // the overlay's own bad value: no "set in"
    put('inherit/qa2.json', { extends: 'base.json', services: { admin: { port: 'x' } } });
    const own = errorOf(() => loadConfigFile('inherit/qa2.json', { cwd: tmp }));
    expect(own.message).toBe(`inherit/qa2.json: services.admin.port: must be an integer 1-65535, got "x" (line ${own.line}, column ${own.column})`);
    expect(fs.readFileSync(path.join(tmp, 'inherit/qa2.json'), 'utf8').split('\n')[own.line! - 1].slice(own.column! - 1)).toMatch(/^"x"/);
  });

  test('image contexts resolve against the file that declares them', () => {
    const file = put('ctx/deep/qa.json', { extends: path.relative(path.join(tmp, 'ctx/deep'), STAGING_FILE), images: { admin: { context: '../admin-qa' } } });
    const r = loadConfigFile(file);
    const dir = path.dirname(file);
    expect(path.resolve(dir, r.config.images.admin.context)).toBe(path.join(tmp, 'ctx', 'admin-qa'));
    expect(r.config.images.admin.dockerfile).toBe(STAGING.images.admin.dockerfile);
    for (const k of ['api', 'frontend', 'anisette']) {
      expect(path.resolve(dir, r.config.images[k].context)).toBe(path.resolve(REPO, 'config', STAGING.images[k].context));
    }
  });

  test('the stack loader follows extends too', () => {
    const file = put('stack/qa.json', { extends: path.relative(path.join(tmp, 'stack'), STAGING_FILE), environment: 'qa', namePrefix: 'qa' });
    const env = loadConfig(file);
    expect(env.config.environment).toBe('qa');
    expect(env.source).toBe(file);
  });
});
