#!/usr/bin/env node
// npm run fixtures: test/fixtures/outputs/foundation.json (as `terraform output -json` prints the foundation
// stack's outputs) and foundation.plain.json (the same values, unwrapped: the other form --outputs takes), for
// config/staging.json. Not hand-kept: the stack is synthesized (scripts/lib/foundation/synth.mjs, as
// `npm run golden` does) and each output's references are resolved as an apply would: an attribute the
// resource's configuration sets (a name, a family) is that value; an attribute AWS computes (an ARN, an ID, a
// repository URL, a DNS name) is a fake in AWS's shape in account 123456789012 (moto's, test/support/fake-aws.mjs's)
// and the stack's region. A reference to any other computed attribute fails the generation, naming it.
// `--check` writes nothing and exits 1 naming each stale file and where it differs (test/unit/outputs-fixtures.test.mjs).
// `--config FILE --out DIR` writes the two files for another config (test/support/staging-config.mjs does, for the
// config under test when that is not the shipped one: docs/testing.md).
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './lib/paths.mjs';
import { synthFoundation } from './lib/foundation/synth.mjs';
import { differences } from './golden.mjs';
import { defineCommand, readFlags } from '../runner/lib/cli-options.mjs';

/** @typedef {{ check: boolean, help: boolean, config: string | undefined, out: string | undefined }} FixturesOptions */
const COMMAND = defineCommand(/** @type {import('../runner/lib/cli-options.mjs').CommandSpec<FixturesOptions>} */ ({
  head: 'Usage: npm run fixtures [-- flags]\n\nWrites test/fixtures/outputs/foundation.json and foundation.plain.json: the foundation stack\'s outputs for config/staging.json, as an apply would give them.',
  sections: [{ flags: [
    { flag: '--check', key: 'check', default: false, help: ['write nothing; exit 1 naming each stale file and where it differs'] },
    { flag: '--config', value: 'FILE', key: 'config', help: ['the config to synthesize (default config/staging.json)'] },
    { flag: '--out', value: 'DIR', key: 'out', help: ['write the two files into DIR (default test/fixtures/outputs)'] },
    { flag: '--help', short: 'h', key: 'help', default: false, help: ['this text'] },
  ] }],
  column: 16,
}));

export const OUTPUTS_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'outputs');
export const DEFAULT_CONFIG = path.join(REPO_ROOT, 'config', 'staging.json');
/** The account of the fake ARNs and URLs. */
export const ACCOUNT = '123456789012';

/**
 * What AWS computes, by resource type and attribute: (the resource's configuration, the region, a fresh id suffix)
 * -> the value in AWS's shape. Only what some output references; anything else throws.
 * @type {Record<string, Record<string, (body: Record<string, any>, region: string, id: () => string) => string>>}
 */
const COMPUTED = {
  aws_ecs_cluster: { arn: (b, r) => `arn:aws:ecs:${r}:${ACCOUNT}:cluster/${b.name}` },
  aws_subnet: { id: (_b, _r, id) => `subnet-${id()}` },
  aws_security_group: { id: (_b, _r, id) => `sg-${id()}` },
  aws_ecr_repository: { repository_url: (b, r) => `${ACCOUNT}.dkr.ecr.${r}.amazonaws.com/${b.name}` },
  aws_lb: { dns_name: (b, r) => `${b.name}-123456.${r}.elb.amazonaws.com` },
  aws_lb_target_group: { arn: (b, r) => `arn:aws:elasticloadbalancing:${r}:${ACCOUNT}:targetgroup/${b.name}/0123456789abcdef` },
  aws_efs_file_system: { id: (_b, _r, id) => `fs-${id()}` },
  aws_efs_access_point: { id: (_b, _r, id) => `fsap-${id()}` },
  // AWS appends "-" and 6 random characters to a secret's name
  aws_secretsmanager_secret: { arn: (b, r) => `arn:aws:secretsmanager:${r}:${ACCOUNT}:secret:${b.name}-AbCdEf` },
};

/**
 * The outputs of a synthesized stack (cdk.tf.json), resolved: output name -> value, in the stack's order.
 * @param {any} stack
 * @returns {Record<string, unknown>}
 */
export function resolveOutputs(stack) {
  const region = stack.provider?.aws?.[0]?.region;
  if (typeof region !== 'string') throw new Error('the stack has no aws provider region');
  /** @type {Map<string, string>} */
  const seen = new Map(); // reference -> value: one resource's attribute is one value wherever it is referenced
  let next = 0;
  const id = () => `0a1b2c3d4e5f6${String(++next).padStart(4, '0')}`;
  const resolveRef = (/** @type {string} */ ref) => {
    const hit = seen.get(ref);
    if (hit !== undefined) return hit;
    const m = /^([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)$/.exec(ref);
    if (!m) throw new Error(`output reference \${${ref}} is not resource.name.attribute`);
    const [, type, name, attr] = m;
    const body = stack.resource?.[type]?.[name];
    if (!body) throw new Error(`output reference \${${ref}}: no resource ${type}.${name}`);
    let value;
    if (typeof body[attr] === 'string' && !body[attr].includes('${')) value = body[attr];
    else if (COMPUTED[type]?.[attr]) value = COMPUTED[type][attr](body, region, id);
    else throw new Error(`output reference \${${ref}}: ${type}.${attr} is computed by AWS and has no fake here (COMPUTED in scripts/outputs-fixtures.mjs)`);
    seen.set(ref, value);
    return value;
  };
  /** @type {(v: any) => any} */
  const walk = (v) => {
    if (typeof v === 'string') return v.replace(/\$\{([^}]+)\}/g, (_, ref) => resolveRef(ref));
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
  };
  return Object.fromEntries(Object.entries(stack.output ?? {}).map(([k, o]) => [k, walk(/** @type {any} */ (o).value)]));
}

/** Terraform's type of a value as `terraform output -json` prints it. @param {unknown} v @returns {unknown} */
export function terraformType(v) {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return ['tuple', v.map(terraformType)];
  if (v && typeof v === 'object') return ['object', Object.fromEntries(Object.entries(v).map(([k, x]) => [k, terraformType(x)]))];
  return 'dynamic';
}

/**
 * The two fixture files for a config: file name -> content.
 * @param {string} [configPath]
 * @returns {Promise<Record<string, Record<string, unknown>>>}
 */
export async function outputsFixtures(configPath = DEFAULT_CONFIG) {
  const work = mkdtempSync(path.join(tmpdir(), 'outputs-fixtures-'));
  try {
    const { stackDir } = await synthFoundation({ outdir: path.join(work, 'cdktf.out'), configPath, env: { CHECKPOINT_DISABLE: '1' } });
    const values = resolveOutputs(JSON.parse(readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8')));
    return {
      'foundation.json': Object.fromEntries(Object.entries(values).map(([k, value]) => [k, { sensitive: false, type: terraformType(value), value }])),
      'foundation.plain.json': values,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const text = (/** @type {unknown} */ v) => `${JSON.stringify(v, null, 2)}\n`;

/** Write the files into `dir`. @param {Record<string, unknown>} files @param {string} dir */
export function writeFixtures(files, dir) {
  mkdirSync(dir, { recursive: true });
  for (const [name, v] of Object.entries(files)) writeFileSync(path.join(dir, name), text(v));
}

async function main() {
  const flags = readFlags(COMMAND, process.argv.slice(2), { prefix: 'error: ' });
  if ('exitCode' in flags) return flags.exitCode;
  const { check, config, out } = flags.options;
  const files = await outputsFixtures(config ? path.resolve(config) : DEFAULT_CONFIG);
  const dir = out ? path.resolve(out) : OUTPUTS_DIR;
  if (!check) {
    writeFixtures(files, dir);
    process.stdout.write(`wrote ${Object.keys(files).map((f) => path.relative(process.cwd(), path.join(dir, f))).join(', ')}\n`);
    return 0;
  }
  let stale = 0;
  for (const [name, v] of Object.entries(files)) {
    const file = path.join(dir, name);
    let committed = '';
    try { committed = readFileSync(file, 'utf8'); } catch { /* missing */ }
    if (committed === text(v)) continue;
    stale += 1;
    let where = ' (missing)';
    if (committed) {
      const diffs = differences(JSON.parse(committed), v);
      where = `; differs at:\n  ${diffs.length ? diffs.join('\n  ') : '(key order or formatting only)'}`;
    }
    process.stderr.write(`${path.relative(REPO_ROOT, file)} is stale${where}\n`);
  }
  if (stale) process.stderr.write('the stack\'s outputs changed: review the differences, then run `npm run fixtures`\n');
  return stale ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(REPO_ROOT, 'scripts', 'outputs-fixtures.mjs')) {
  main().then((code) => { process.exitCode = code; }, (e) => { process.stderr.write(`outputs-fixtures: ${e instanceof Error ? e.message : e}\n`); process.exitCode = 1; });
}
