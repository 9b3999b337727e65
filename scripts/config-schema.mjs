#!/usr/bin/env node
// npm run schema: writes config/config.schema.json (the editor schema of config files) from the one zod
// declaration in lib/config. `--check` writes nothing and exits 1 when the committed file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import jsonSchema from '../lib/config/json-schema.cjs';
import { REPO_ROOT } from './lib/paths.mjs';
import { defineCommand, readFlags } from '../runner/lib/cli-options.mjs';

/** @typedef {{ check: boolean, help: boolean }} SchemaOptions */
const COMMAND = defineCommand(/** @type {import('../runner/lib/cli-options.mjs').CommandSpec<SchemaOptions>} */ ({
  head: 'Usage: npm run schema [-- flags]\n\nWrites config/config.schema.json from the zod declaration in lib/config.',
  sections: [{ flags: [
    { flag: '--check', key: 'check', default: false, help: ['write nothing; exit 1 when the committed file is stale'] },
    { flag: '--help', short: 'h', key: 'help', default: false, help: ['this text'] },
  ] }],
  column: 12,
}));

const FILE = path.join(REPO_ROOT, 'config', 'config.schema.json');
const flags = readFlags(COMMAND, process.argv.slice(2), { prefix: 'error: ' });
if ('exitCode' in flags) process.exitCode = flags.exitCode;
else if (flags.options.check) {
  let committed = '';
  try { committed = readFileSync(FILE, 'utf8'); } catch { /* missing: stale */ }
  if (committed !== jsonSchema.configJsonSchemaText()) {
    process.stderr.write('config/config.schema.json is stale: run `npm run schema`\n');
    process.exitCode = 1;
  }
} else {
  writeFileSync(FILE, jsonSchema.configJsonSchemaText());
  process.stdout.write(`wrote ${path.relative(process.cwd(), FILE)}\n`);
}
