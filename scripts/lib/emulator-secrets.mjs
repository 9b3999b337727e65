// Seed the stack's secrets on the emulator: on moto nobody gives them a value (no database host boots, the
// `cache` secret's version depends on the Valkey group moto cannot create, no operator sets `app` or
// `smoke_user`), so the runner's secrets preflight would wait for them and fail. Every secret of `secret_arns`
// without a current version gets a placeholder value generated here (random, never written to disk or logged);
// a secret that already has one is left alone. For emulator runs only: `npm run local`, the integration setup.
import { randomBytes } from 'node:crypto';
import { SecretsManagerClient, DescribeSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import contract from '../../lib/config/contract.cjs';

/** @param {string} region @returns {Record<string, () => object>} key -> placeholder of the secret's documented shape */
function placeholders(region) {
  const token = () => randomBytes(18).toString('base64url');
  return {
    // the shapes the stack's writers produce (lib/config/contract.cjs)
    database: () => contract.databaseSecretValue({ host: 'database.emulator.invalid', port: 5432, dbname: 'app', username: 'app', password: token() }),
    cache: () => contract.cacheSecretValue({ host: 'cache.emulator.invalid', port: 6379, username: 'app', password: token(), replicationGroupId: 'emulator', region }),
    app: () => ({ EMULATOR_PLACEHOLDER: token() }),
    smoke_user: () => ({ username: 'smoke-emulator', password: token() }),
  };
}

/**
 * @param {{ endpoint: string, region: string, outputs: Record<string, { value?: unknown }> }} opts outputs in
 *   `terraform output -json` form (as the harness's apply returns them)
 * @returns {Promise<{ seeded: string[], kept: string[] }>} secret keys given a placeholder, and those that had a value
 */
export async function seedEmulatorSecrets({ endpoint, region, outputs }) {
  const arns = /** @type {Record<string, string>} */ (outputs.secret_arns?.value ?? {});
  const client = new SecretsManagerClient({ region, endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const make = placeholders(region);
  /** @type {{ seeded: string[], kept: string[] }} */
  const out = { seeded: [], kept: [] };
  try {
    for (const [key, arn] of Object.entries(arns)) {
      const d = await client.send(new DescribeSecretCommand({ SecretId: arn }));
      if (Object.values(d.VersionIdsToStages ?? {}).some((stages) => (stages ?? []).includes('AWSCURRENT'))) {
        out.kept.push(key);
        continue;
      }
      const value = (make[key] ?? (() => ({ EMULATOR_PLACEHOLDER: randomBytes(18).toString('base64url') })))();
      await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(value) }));
      out.seeded.push(key);
    }
  } finally {
    client.destroy();
  }
  return out;
}

/**
 * Credentials for the local data plane's data stores: random passwords, names as the stack gives them (the
 * database and role from the config, the cache's RBAC user from the synthesized stack).
 * @param {{ database: { databaseName: string, username: string }, cacheUsername: string }} names
 */
export function datastoreCredentials(names) {
  const token = (/** @type {string} */ p) => `${p}-${randomBytes(18).toString('base64url')}`;
  return {
    database: { dbname: names.database.databaseName, username: names.database.username, password: token('db') },
    cache: { username: names.cacheUsername, password: token('cache') },
  };
}

/**
 * The local data plane's secrets: the REAL credentials of its data stores in the shapes the stack's writers
 * produce (lib/config/contract.cjs), an `app` secret with the example app's session key, and a smoke user with a
 * random password. Every secret of `secret_arns` gets a new current version (placeholders replaced). The smoke
 * user comes back in memory only, for the caller to create in the app; nothing is written to disk or logged.
 * @param {{ endpoint: string, region: string, outputs: Record<string, { value?: any }>,
 *   database: { host: string, port: number, dbname: string, username: string, password: string },
 *   cache: { host: string, port: number, username: string, password: string } }} o
 * @returns {Promise<{ written: string[], smokeUser: { username: string, password: string } }>}
 */
export async function writeDatastoreSecrets(o) {
  const arns = /** @type {Record<string, string>} */ (o.outputs.secret_arns?.value ?? {});
  const client = new SecretsManagerClient({ region: o.region, endpoint: o.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const smokeUser = { username: 'smoke@staging.local', password: `smoke-${randomBytes(18).toString('base64url')}` };
  /** @type {Record<string, object>} */
  const values = {
    database: contract.databaseSecretValue(o.database),
    cache: contract.cacheSecretValue({ ...o.cache, replicationGroupId: String(o.outputs.cache_replication_group_id?.value ?? 'local-data-plane'), region: o.region }),
    app: { sessionKey: randomBytes(32).toString('base64url') },
    smoke_user: smokeUser,
  };
  /** @type {string[]} */
  const written = [];
  try {
    for (const [key, arn] of Object.entries(arns)) {
      const value = values[key] ?? { LOCAL_DATA_PLANE: randomBytes(18).toString('base64url') };
      await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(value) }));
      written.push(key);
    }
  } finally {
    client.destroy();
  }
  return { written, smokeUser };
}
