// Broken releases of the example app for the data plane's failure cases: a copy of examples/app with one real
// defect, and an environment config (extending config/local.json) whose api image is built from it. Each defect
// is in the app itself, so the rollout meets it the way it would on AWS:
//   failing-migration  an alembic revision whose upgrade raises (the migration task exits non-zero)
//   exits-at-start     the api process exits 1 before it listens (its tasks stop; the circuit breaker trips)
//   health-500         the api's health path answers 500 (its targets turn unhealthy)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const APP_DIR = path.join(ROOT, 'examples', 'app');
export const LOCAL_CONFIG = path.join(ROOT, 'config', 'local.json');

/** @typedef {'failing-migration' | 'exits-at-start' | 'health-500'} Defect */

/** @param {string} file @param {string} from @param {string} to */
function patch(file, from, to) {
  const text = fs.readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`app variant: ${path.relative(ROOT, file)} no longer contains ${JSON.stringify(from)}; update test/support/app-variants.mjs`);
  fs.writeFileSync(file, text.replace(from, to));
}

/** The head revision of the example app's migrations (the one whose id no other revision names as down_revision). */
function headRevision(dir) {
  const revs = fs.readdirSync(dir).filter((f) => f.endsWith('.py')).map((f) => {
    const t = fs.readFileSync(path.join(dir, f), 'utf8');
    return { rev: /^revision\s*=\s*'([^']+)'/m.exec(t)?.[1], down: /^down_revision\s*=\s*'([^']+)'/m.exec(t)?.[1] };
  });
  const downs = new Set(revs.map((r) => r.down));
  const head = revs.find((r) => r.rev && !downs.has(r.rev));
  if (!head?.rev) throw new Error('app variant: no head revision in examples/app/migrations/versions');
  return head.rev;
}

/**
 * A copy of examples/app with `defect`, and a config that builds the api (and the migration) from it.
 * @param {Defect} defect @param {string} dir a scratch directory
 * @returns {{ context: string, config: string }}
 */
export function appVariant(defect, dir) {
  const context = path.join(dir, defect);
  fs.rmSync(context, { recursive: true, force: true });
  fs.cpSync(APP_DIR, context, { recursive: true, filter: (p) => !p.includes('__pycache__') });
  if (defect === 'failing-migration') {
    const versions = path.join(context, 'migrations', 'versions');
    fs.writeFileSync(path.join(versions, 'ffff00000001_fails.py'), [
      '"""A revision that fails: its upgrade raises (a data plane failure case)."""',
      "revision = 'ffff00000001'",
      `down_revision = '${headRevision(versions)}'`,
      'branch_labels = None',
      'depends_on = None',
      '',
      '',
      'def upgrade():',
      "    raise RuntimeError('this revision fails on purpose')",
      '',
      '',
      'def downgrade():',
      '    pass',
      '',
    ].join('\n'));
  } else if (defect === 'exits-at-start') {
    patch(path.join(context, 'app', 'api.py'), 'def main():\n', "def main():\n    print('api: refusing to start (a data plane failure case)', flush=True)\n    raise SystemExit(1)\n");
  } else {
    patch(path.join(context, 'app', 'api.py'), "            return self.reply(200, 'ok', 'text/plain')", "            return self.reply(500, 'broken on purpose', 'text/plain')");
  }
  const base = JSON.parse(fs.readFileSync(LOCAL_CONFIG, 'utf8'));
  const images = Object.fromEntries(Object.entries(base.images).map(([k, v]) => [k, { ...v, context: path.resolve(path.dirname(LOCAL_CONFIG), v.context) }]));
  images.api = { ...images.api, context };
  const config = path.join(dir, `${defect}.json`);
  fs.writeFileSync(config, JSON.stringify({ extends: LOCAL_CONFIG, images }, null, 2));
  return { context, config };
}
