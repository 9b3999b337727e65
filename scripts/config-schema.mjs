#!/usr/bin/env node
// npm run schema: writes config/config.schema.json (the editor schema of config files) from the one zod
// declaration in lib/config. `--check` writes nothing and exits 1 when the committed file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import jsonSchema from '../lib/config/json-schema.cjs';

const FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'config', 'config.schema.json');
const text = jsonSchema.configJsonSchemaText();
if (process.argv.includes('--check')) {
  let committed = '';
  try { committed = readFileSync(FILE, 'utf8'); } catch { /* missing: stale */ }
  if (committed !== text) {
    process.stderr.write('config/config.schema.json is stale: run `npm run schema`\n');
    process.exitCode = 1;
  }
} else {
  writeFileSync(FILE, text);
  process.stdout.write(`wrote ${path.relative(process.cwd(), FILE)}\n`);
}
