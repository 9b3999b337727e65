#!/usr/bin/env node
// npm run golden: the synthesized Terraform JSON of both stacks for the shipped configs, normalized, committed under
// test/fixtures/golden/ (issue: CDKTF is archived; a library or version swap must show exactly what it changes).
// `--check` writes nothing and exits 1 naming each stale file and the first JSON paths that differ
// (test/unit/golden.test.mjs runs it). Normalized: keys sorted, CDKTF's metadata blocks ("//": versions, construct
// paths) dropped, the local state path made relative to the repository (it is relative to the output directory).
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './lib/paths.mjs';
import { synthFoundation } from './lib/foundation/synth.mjs';
import { defineCommand, readFlags } from '../runner/lib/cli-options.mjs';

/** @typedef {{ check: boolean, help: boolean }} GoldenOptions */
const COMMAND = defineCommand(/** @type {import('../runner/lib/cli-options.mjs').CommandSpec<GoldenOptions>} */ ({
  head: 'Usage: npm run golden [-- flags]\n\nWrites test/fixtures/golden/*.json: the synthesized, normalized JSON of both stacks for the shipped configs.',
  sections: [{ flags: [
    { flag: '--check', key: 'check', default: false, help: ['write nothing; exit 1 naming each stale file and where it differs'] },
    { flag: '--help', short: 'h', key: 'help', default: false, help: ['this text'] },
  ] }],
  column: 12,
}));

export const GOLDEN_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'golden');

/**
 * The shipped configs, and the stacks kept of each. `ci` adds the section that makes the `ci-access` stack (the
 * shipped staging.json has none: its roles are an admin's one-off choice), so that stack has its golden file too.
 * @type {Array<{ name: string, config: string, stacks: string[], ci?: object }>}
 */
export const CASES = [
  { name: 'staging', config: 'config/staging.json', stacks: ['foundation'] },
  { name: 'local', config: 'config/local.json', stacks: ['foundation'] },
  { name: 'staging-ci', config: 'config/staging.json', stacks: ['ci-access'], ci: { repository: 'acme/staging-rollout', terraformCloud: { organization: 'acme', workspace: 'staging-foundation' } } },
];

/** Sorted keys, no "//" metadata, the local state path relative to the repository. @param {any} v @param {string} stackDir */
export function normalize(v, stackDir) {
  /** @type {(x: any, at: string[]) => any} */
  const walk = (x, at) => {
    if (Array.isArray(x)) return x.map((y, i) => walk(y, [...at, String(i)]));
    if (x === null || typeof x !== 'object') return x;
    /** @type {Record<string, any>} */
    const out = {};
    for (const k of Object.keys(x).sort()) {
      if (k === '//') continue;
      out[k] = walk(x[k], [...at, k]);
    }
    return out;
  };
  const n = walk(v, []);
  const local = n.terraform?.backend?.local;
  if (local?.path) local.path = `<repo>/${path.relative(REPO_ROOT, path.resolve(stackDir, local.path)).split(path.sep).join('/')}`;
  return n;
}

/** The first `max` JSON paths where two values differ. @param {any} a @param {any} b */
export function differences(a, b, at = '', out = /** @type {string[]} */ ([]), max = 12) {
  if (out.length >= max) return out;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (!(k in a)) out.push(`${at}.${k}: added`);
      else if (!(k in b)) out.push(`${at}.${k}: removed`);
      else differences(a[k], b[k], `${at}.${k}`, out, max);
      if (out.length >= max) break;
    }
  } else if (JSON.stringify(a) !== JSON.stringify(b)) {
    out.push(`${at}: ${JSON.stringify(a)?.slice(0, 80)} -> ${JSON.stringify(b)?.slice(0, 80)}`);
  }
  return out;
}

/** Synthesize every case: file name -> normalized stack JSON. */
export async function synthesizeAll() {
  const work = mkdtempSync(path.join(tmpdir(), 'golden-'));
  /** @type {Record<string, any>} */
  const files = {};
  try {
    for (const c of CASES) {
      let configPath = path.join(REPO_ROOT, c.config);
      if (c.ci) {
        configPath = path.join(work, `${c.name}-ci.json`);
        writeFileSync(configPath, JSON.stringify({ extends: path.join(REPO_ROOT, c.config), ci: c.ci }));
      }
      const outdir = path.join(work, c.name);
      const { stackDir } = await synthFoundation({ outdir, configPath, env: { CHECKPOINT_DISABLE: '1' } });
      for (const s of c.stacks) {
        const dir = path.join(path.dirname(stackDir), s);
        files[`${c.name === 'staging-ci' ? 'staging' : c.name}-${s}.json`] = normalize(JSON.parse(readFileSync(path.join(dir, 'cdk.tf.json'), 'utf8')), dir);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return files;
}

const text = (/** @type {any} */ v) => `${JSON.stringify(v, null, 1)}\n`;

async function main() {
  const flags = readFlags(COMMAND, process.argv.slice(2), { prefix: 'error: ' });
  if ('exitCode' in flags) return flags.exitCode;
  const files = await synthesizeAll();
  if (!flags.options.check) {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    for (const [name, v] of Object.entries(files)) writeFileSync(path.join(GOLDEN_DIR, name), text(v));
    process.stdout.write(`wrote ${Object.keys(files).map((f) => path.relative(process.cwd(), path.join(GOLDEN_DIR, f))).join(', ')}\n`);
    return 0;
  }
  let stale = 0;
  for (const [name, v] of Object.entries(files)) {
    const file = path.join(GOLDEN_DIR, name);
    let committed = null;
    try { committed = JSON.parse(readFileSync(file, 'utf8')); } catch { /* missing */ }
    if (committed && text(committed) === text(v)) continue;
    stale += 1;
    process.stderr.write(`${path.relative(REPO_ROOT, file)} is stale${committed ? `; differs at:\n  ${differences(committed, v).join('\n  ')}` : ' (missing)'}\n`);
  }
  if (stale) process.stderr.write('the synthesized stacks changed: review the differences, then run `npm run golden`\n');
  return stale ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(REPO_ROOT, 'scripts', 'golden.mjs')) {
  main().then((code) => { process.exitCode = code; }, (e) => { process.stderr.write(`golden: ${e instanceof Error ? e.message : e}\n`); process.exitCode = 1; });
}
