// Jest globalTeardown of the `integration` project: stop moto_server and print every skip record of the run
// (emulator-gap resources and skipped checks) so nothing skipped can pass unnoticed.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { readSkips, itDir } = require('./skips.cjs');

export default async function globalTeardown() {
  const shared = /** @type {{ __stagingRolloutMoto?: import('./moto.mjs').MotoHandle }} */ (globalThis);
  const moto = shared.__stagingRolloutMoto;
  if (moto && process.env.STAGING_ROLLOUT_IT_KEEP !== '1') {
    await moto.stop();
    shared.__stagingRolloutMoto = undefined;
  } else if (moto) {
    process.stdout.write(`[it-teardown] STAGING_ROLLOUT_IT_KEEP=1: moto_server left running at ${moto.endpoint} (pid ${moto.pid})\n`);
  }
  const dir = itDir();
  let env = null;
  try {
    env = JSON.parse(fs.readFileSync(path.join(dir, 'foundation.json'), 'utf8'));
  } catch {
    /* setup wrote nothing */
  }
  const skips = readSkips();
  const report = {
    environment: env ? env.status : 'missing',
    environmentReason: env ? env.reason ?? env.error ?? null : 'no foundation.json',
    skippedResources: env && Array.isArray(env.skipped) ? env.skipped : [],
    skippedChecks: skips,
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'skipped.json'), JSON.stringify(report, null, 2) + '\n');
  const lines = [];
  if (report.environment !== 'applied') lines.push(`environment: ${report.environment} (${report.environmentReason})`);
  if (report.skippedResources.length) lines.push(`${report.skippedResources.length} foundation resource(s) not applied on the emulator (see ${path.join(dir, 'foundation.json')})`);
  for (const s of skips) lines.push(`SKIPPED ${s.suite}${s.test ? ` > ${s.test}` : ''}: ${s.reason}`);
  if (lines.length) process.stdout.write(`\n[it-teardown] skipped in this run (not passed):\n  ${lines.join('\n  ')}\n`);
  process.stdout.write(`[it-teardown] skip report: ${path.join(dir, 'skipped.json')}\n`);
}
