// docs/app-contract.md is generated from the config and lib/config/contract.cjs (`npm run app-contract`): it is
// current, and what it says follows the sources (a changed catalog or smoke setting changes the document).
import { readFileSync } from 'node:fs';
import configLib from '../../lib/config/index.cjs';
import contract from '../../lib/config/contract.cjs';
import { appContractMarkdown } from '../../scripts/lib/app-contract-doc.mjs';
import { RAW } from '../support/smoke.mjs';
import { shippedRaw } from '../support/staging-config.cjs';

const FILE = new URL('../../docs/app-contract.md', import.meta.url);
const render = (raw) => { const { config, services } = configLib.normalizeConfig(raw, { source: 'test' }); return appContractMarkdown(config, services, 'config/staging.json'); };

describe('docs/app-contract.md', () => {
  test('is what `npm run app-contract` generates from config/staging.json and lib/config/contract.cjs', () => {
    let committed = '';
    try { committed = readFileSync(FILE, 'utf8'); } catch { /* missing: stale */ }
    // the committed document is of the shipped config, whatever config the other tests run against
    if (committed !== render(shippedRaw())) throw new Error('docs/app-contract.md is stale (the catalog, smoke settings or lib/config/contract.cjs changed): run `npm run app-contract` and commit the result');
  });

  test('covers every variable of the mapping, every enabled container, the /data owner and the smoke expectations', () => {
    const doc = render(RAW);
    for (const v of contract.SECRET_VARIABLES) expect(doc).toContain(`| \`${v.name}\` | \`${v.secret}\` | \`${v.key}\` |`);
    const { services } = configLib.normalizeConfig(RAW, { source: 'test' });
    for (const s of services.filter((x) => x.enabled)) expect(doc).toContain(`### ${s.name}\n`);
    expect(doc).toContain('files are owned by uid 1000, gid 1000');
    expect(doc).toContain('`GET <alb_url>/health` answers 2xx and the body contains `"ok"`');
    expect(doc).toContain('`POST <alb_url>/api/auth/login`');
    expect(doc).toContain('runs `["alembic","current"]`');
    expect(doc).toContain('logs a line containing `"anisette reachable"`');
  });

  test('follows the sources: a changed smoke setting or storage owner changes the document', () => {
    const raw = JSON.parse(JSON.stringify(RAW));
    raw.smoke.expectHealthBody = 'healthy';
    raw.storage.posixUid = 2000;
    const doc = render(raw);
    expect(doc).toContain('the body contains `"healthy"`');
    expect(doc).toContain('files are owned by uid 2000');
    expect(doc).not.toBe(render(RAW));
  });

  test('a service\'s container health check is in its table (none without one)', () => {
    expect(render(RAW)).not.toContain('| health check |');
    const raw = JSON.parse(JSON.stringify(RAW));
    raw.services.api.healthCheck = { command: ['python3', '-m', 'app.healthcheck'], intervalSeconds: 10, startPeriodSeconds: 20 };
    const api = render(raw).split('### api\n')[1].split('### ')[0];
    expect(api).toContain('| health check | `["python3","-m","app.healthcheck"]` in the container exits 0, every 10 s (5 s each; UNHEALTHY after 3 failure(s) in a row, not counted in the first 20 s): an UNHEALTHY task is replaced and counts as failed |');
  });
});
