// lib/config: the editor schema generated from the one zod declaration (and kept fresh), the helpers that place
// a message (JSON path segments, line and column), and THE dependency rule shared with the runner.
import * as fs from 'fs';
import * as path from 'path';
import { configJsonSchema, configJsonSchemaText } from '../../lib/config/json-schema.cjs';
import { segmentsOf, joinPath } from '../../lib/config/errors.cjs';
import { positionOf } from '../../lib/config/load.cjs';
import { resolveCatalog, parseOutputs, ServiceCatalogEntrySchema, IMAGE_TAG_PATTERN, REGISTRY_ADDRESS_PATTERN, DEFAULT_CONFIG_PATH } from '../../lib/config/index.cjs';

const REPO = path.resolve(__dirname, '../..');
const SCHEMA_FILE = path.join(REPO, 'config', 'config.schema.json');

describe('config/config.schema.json', () => {
  test('is what `npm run schema` generates from lib/config', () => {
    const committed = fs.existsSync(SCHEMA_FILE) ? fs.readFileSync(SCHEMA_FILE, 'utf8') : '';
    if (committed !== configJsonSchemaText()) {
      throw new Error('config/config.schema.json is stale (lib/config changed): run `npm run schema` and commit the result');
    }
  });

  test('every config file in config/ names it', () => {
    for (const f of fs.readdirSync(path.join(REPO, 'config')).filter((n) => n.endsWith('.json') && n !== 'config.schema.json')) {
      expect([f, JSON.parse(fs.readFileSync(path.join(REPO, 'config', f), 'utf8')).$schema]).toEqual([f, './config.schema.json']);
    }
  });

  test('a full config has required fields; an overlay (extends) has none; every service field is described', () => {
    const s = configJsonSchema() as any;
    expect(s.else.required).toEqual(expect.arrayContaining(['environment', 'region', 'images', 'migration', 'tiers', 'services']));
    expect(s.else.required).not.toContain('namePrefix');
    expect(JSON.stringify(s.then)).not.toContain('"required"');
    const service = s.else.properties.services.additionalProperties;
    for (const [key, field] of Object.entries<any>(service.properties)) expect([key, typeof (field.description ?? field.anyOf?.[0]?.description)]).toEqual([key, 'string']);
    expect(service.required).toEqual(['tier', 'kind', 'image']);
    expect(service.patternProperties).toEqual({ '^\\$': {} });
  });
});

describe('placing a message', () => {
  test('segmentsOf reverses joinPath', () => {
    const p = joinPath(joinPath(joinPath(joinPath('', 'services'), 'odd key'), 'dependsOn'), 2);
    expect(p).toBe('services["odd key"].dependsOn[2]');
    expect(segmentsOf(p)).toEqual(['services', 'odd key', 'dependsOn', 2]);
    expect(segmentsOf('services.tracker-fetcher-2.mounts[0].volume')).toEqual(['services', 'tracker-fetcher-2', 'mounts', 0, 'volume']);
  });

  test('positionOf: the value, else its nearest parent; 1-based', () => {
    const text = '{\n  "a": {\n    "b": [1, "x"]\n  }\n}\n';
    expect(positionOf(text, ['a', 'b', 1])).toEqual({ line: 3, column: 14 });
    expect(positionOf(text, ['a', 'missing'])).toEqual({ line: 2, column: 8 });
    expect(positionOf('not json', ['a'])).toBeNull();
  });
});

describe('the shared catalog rule (runner and config)', () => {
  const svc = (name: string, dependsOn: string[] = [], enabled = true) => ({ name, dependsOn, enabled, disabledReason: enabled ? null : 'disabled in config', tier: 'app' });

  test('dependency order, disabled spread transitively, inputs untouched', () => {
    const input = [svc('c', ['b']), svc('b', ['a']), svc('a', [], false), svc('d')];
    const before = JSON.stringify(input);
    const out = resolveCatalog(input);
    expect(out.map((s) => [s.name, s.enabled, s.disabledReason])).toEqual([
      ['a', false, 'disabled in config'], ['b', false, 'dependency a is disabled'], ['c', false, 'dependency b is disabled'], ['d', true, null],
    ]);
    expect(JSON.stringify(input)).toBe(before);
  });

  test('a cycle is an error with its path', () => {
    expect(() => resolveCatalog([svc('a', ['b']), svc('b', ['a'])])).toThrow('dependency cycle: a -> b -> a');
  });
});

describe('the outputs contract', () => {
  test('the recorded outputs fixtures read against it', () => {
    const dir = path.join(REPO, 'test', 'fixtures', 'outputs');
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.json'))) {
      const raw = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      const plain = Object.fromEntries(Object.entries<any>(raw).map(([k, v]) => [k, v && typeof v === 'object' && 'value' in v ? v.value : v]));
      const o = parseOutputs(plain, f);
      expect(o.catalog.length).toBeGreaterThan(0);
    }
  });

  test('one entry: the stack writes snake_case, the runner reads camelCase', () => {
    const e = ServiceCatalogEntrySchema.parse({ name: 'w', enabled: false, tier: 'app', kind: 'worker', image: 'api', desired_count: 1 });
    expect(e).toEqual({
      name: 'w', enabled: false, disabledReason: 'disabled', tier: 'app', kind: 'worker', image: 'api', dependsOn: [], needsData: false, desiredCount: 1,
      ecsServiceName: null, taskFamily: null, containerName: null, port: null, targetGroupArn: null, logGroupName: null, discoveryName: null,
    });
  });
});

describe('facts with one home', () => {
  test('default config path, image tag and registry address', () => {
    expect(fs.existsSync(path.join(REPO, DEFAULT_CONFIG_PATH))).toBe(true);
    expect(['v1.2', 'abc_1', 'a'.repeat(128)].every((t) => IMAGE_TAG_PATTERN.test(t))).toBe(true);
    expect(['-x', '.x', 'a/b', 'a'.repeat(129)].some((t) => IMAGE_TAG_PATTERN.test(t))).toBe(false);
    expect(['host:5000', 'http://127.0.0.1:5000', 'https://r.example.com'].every((r) => REGISTRY_ADDRESS_PATTERN.test(r))).toBe(true);
    expect(['ftp://x', 'host/path'].some((r) => REGISTRY_ADDRESS_PATTERN.test(r))).toBe(false);
  });
});
