#!/usr/bin/env node
// Command-line access to the harness (for TypeScript tests, which cannot import ES modules, and for humans).
//   node scripts/lib/foundation-cli.mjs prereqs
//   node scripts/lib/foundation-cli.mjs synth --outdir DIR [--config FILE]
//   node scripts/lib/foundation-cli.mjs plan  --outdir DIR --endpoint URL [--config FILE]
//        synth + init + validate + plan into DIR; prints { stackDir, planJsonFile, timings }
//   node scripts/lib/foundation-cli.mjs apply --outdir DIR --endpoint URL [--config FILE]
// Result JSON on stdout; progress on stderr; exit 2 on a missing prerequisite or bad arguments, 1 on failure.
import { parseArgs } from 'node:util';
import { synthFoundation } from './foundation/synth.mjs';
import { applyFoundation, planFoundation } from './foundation/apply.mjs';
import { checkPrereqs, formatPrereqs } from './terraform.mjs';

const USAGE = 'usage: foundation-cli.mjs prereqs | synth|plan|apply --outdir DIR [--endpoint URL] [--config FILE] [--region R]';

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      outdir: { type: 'string' },
      endpoint: { type: 'string' },
      config: { type: 'string' },
      region: { type: 'string' },
    },
  });
  const [cmd] = positionals;
  const log = (/** @type {string} */ m) => process.stderr.write(`${m}\n`);
  const print = (/** @type {unknown} */ v) => process.stdout.write(JSON.stringify(v, null, 2) + '\n');
  if (cmd === 'prereqs') {
    const problems = checkPrereqs();
    print(problems);
    if (problems.length) log(formatPrereqs(problems));
    return problems.length ? 2 : 0;
  }
  if (!['synth', 'plan', 'apply'].includes(cmd ?? '') || !values.outdir) {
    log(USAGE);
    return 2;
  }
  if (cmd !== 'synth' && !values.endpoint) {
    log(`${cmd} needs --endpoint URL (a running moto_server)\n${USAGE}`);
    return 2;
  }
  const synth = await synthFoundation({ outdir: values.outdir, configPath: values.config });
  if (cmd === 'synth') {
    print(synth);
    return 0;
  }
  const endpoint = /** @type {string} */ (values.endpoint);
  if (cmd === 'plan') {
    const r = await planFoundation({ endpoint, workdir: synth.stackDir, region: values.region, log });
    print({ stackDir: synth.stackDir, planJsonFile: r.planJsonFile, timings: { synth: synth.durationMs, ...r.timings } });
    return 0;
  }
  const r = await applyFoundation({ endpoint, workdir: synth.stackDir, region: values.region, log });
  print({ ...r, timings: { synth: synth.durationMs, ...r.timings } });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(e && e.name === 'PrerequisiteError' ? 2 : 1);
  },
);
