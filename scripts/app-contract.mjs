#!/usr/bin/env node
// npm run app-contract: writes docs/app-contract.md (what a container gets and what the smoke test expects of the
// app) from config/staging.json and lib/config/contract.cjs. `--check` writes nothing and exits 1 when the
// committed file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import configLib from '../lib/config/index.cjs';
import { appContractMarkdown } from './lib/app-contract-doc.mjs';
import { REPO_ROOT } from './lib/paths.mjs';
import { defineCommand, readFlags } from '../runner/lib/cli-options.mjs';

/** @typedef {{ check: boolean, help: boolean }} ContractOptions */
const COMMAND = defineCommand(/** @type {import('../runner/lib/cli-options.mjs').CommandSpec<ContractOptions>} */ ({
  head: 'Usage: npm run app-contract [-- flags]\n\nWrites docs/app-contract.md from config/staging.json and lib/config/contract.cjs.',
  sections: [{ flags: [
    { flag: '--check', key: 'check', default: false, help: ['write nothing; exit 1 when the committed file is stale'] },
    { flag: '--help', short: 'h', key: 'help', default: false, help: ['this text'] },
  ] }],
  column: 12,
}));

const FILE = path.join(REPO_ROOT, 'docs', 'app-contract.md');
const flags = readFlags(COMMAND, process.argv.slice(2), { prefix: 'error: ' });
if ('exitCode' in flags) process.exitCode = flags.exitCode;
else {
  const { config, services } = configLib.loadConfigFile(configLib.DEFAULT_CONFIG_PATH, { cwd: REPO_ROOT });
  const text = appContractMarkdown(config, services, configLib.DEFAULT_CONFIG_PATH);
  if (flags.options.check) {
    let committed = '';
    try { committed = readFileSync(FILE, 'utf8'); } catch { /* missing: stale */ }
    if (committed !== text) {
      process.stderr.write('docs/app-contract.md is stale: run `npm run app-contract`\n');
      process.exitCode = 1;
    }
  } else {
    writeFileSync(FILE, text);
    process.stdout.write(`wrote ${path.relative(process.cwd(), FILE)}\n`);
  }
}
