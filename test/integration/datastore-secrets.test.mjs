// scripts/lib/emulator-secrets.mjs writeDatastoreSecrets against a real moto_server (its own, started here):
// placeholders (as the integration setup seeds them) are replaced by the real credentials in the contract's
// shapes (lib/config/contract.cjs), app and smoke_user get random values, the smoke user comes back in memory.
import { SecretsManagerClient, CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { startMoto } from '../../scripts/lib/moto.mjs';
import { seedEmulatorSecrets, writeDatastoreSecrets, datastoreCredentials } from '../../scripts/lib/emulator-secrets.mjs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const contract = require('../../lib/config/contract.cjs');
const region = 'us-east-1';

/** @type {Awaited<ReturnType<typeof startMoto>>} */ let moto;
/** @type {SecretsManagerClient} */ let sm;
beforeAll(async () => {
  moto = await startMoto();
  sm = new SecretsManagerClient({ region, endpoint: moto.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}, 60000);
afterAll(async () => { sm?.destroy(); await moto?.stop(); });

test('replaces placeholders with the real credentials in the contract shapes; smoke user returned', async () => {
  /** @type {Record<string, string>} */ const arns = {};
  for (const key of ['database', 'cache', 'app', 'smoke_user']) {
    arns[key] = /** @type {string} */ ((await sm.send(new CreateSecretCommand({ Name: `stage/${key}` }))).ARN);
  }
  const outputs = { secret_arns: { value: arns }, cache: { value: { replicationGroupId: 'stage-valkey' } } };
  await seedEmulatorSecrets({ endpoint: moto.endpoint, region, outputs });
  const creds = datastoreCredentials({ config: { database: { databaseName: 'appdb', username: 'app_user' } }, cacheUsername: 'stage-app' });
  expect(creds.database).toEqual({ dbname: 'appdb', username: 'app_user', password: expect.stringMatching(/^[\w-]{32}$/) });
  expect(creds.cache).toEqual({ username: 'stage-app', password: expect.stringMatching(/^[\w-]{32}$/) });
  const database = { host: '172.18.0.1', port: 40001, ...creds.database };
  const cache = { host: '172.18.0.1', port: 40002, ...creds.cache };
  const res = await writeDatastoreSecrets({ endpoint: moto.endpoint, region, outputs, database, cache });
  expect(res.written).toEqual(['database', 'cache', 'app', 'smoke_user']);
  const read = async (/** @type {string} */ key) => JSON.parse(/** @type {string} */ ((await sm.send(new GetSecretValueCommand({ SecretId: arns[key] }))).SecretString));
  expect(await read('database')).toEqual(contract.databaseSecretValue(database));
  expect(await read('cache')).toEqual(contract.cacheSecretValue({ ...cache, replicationGroupId: 'stage-valkey', region }));
  expect((await read('cache')).url).toBe(`rediss://stage-app:${cache.password}@172.18.0.1:40002/0`);
  expect(await read('smoke_user')).toEqual(res.smokeUser);
  expect(res.smokeUser).toEqual({ username: expect.stringMatching(/^smoke-[0-9a-f]{8}$/), password: expect.stringMatching(/^[\w-]{32}$/) });
  const app = await read('app');
  expect(app).not.toHaveProperty('EMULATOR_PLACEHOLDER');
  expect(Object.values(app)).toEqual([expect.stringMatching(/^[\w-]{32}$/)]);
  // every key a container variable maps from is in the written values (the declared shapes)
  for (const key of ['database', 'cache', 'smoke_user']) {
    expect(Object.keys(await read(key))).toEqual(expect.arrayContaining(Object.keys(contract.SECRET_SHAPES[key].keys)));
  }
});

test('a missing secret in secret_arns is an error naming it; bad config is refused', async () => {
  const d = { host: 'h', port: 1, dbname: 'd', username: 'u', password: 'p' };
  await expect(writeDatastoreSecrets({ endpoint: moto.endpoint, region, outputs: { secret_arns: { value: { database: 'x' } } }, database: d, cache: { host: 'h', port: 1, username: 'u', password: 'p' } }))
    .rejects.toThrow(/secret_arns lacks cache, app, smoke_user/);
  expect(() => datastoreCredentials({ config: /** @type {any} */ ({ database: {} }), cacheUsername: 'x' })).toThrow(/databaseName/);
});
