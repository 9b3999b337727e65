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
 * Credentials for locally started data stores (scripts/lib/datastores.mjs): random passwords, names from the
 * config (database.databaseName, database.username). The cache user is the stack's RBAC user: pass its name as
 * synthesized (the `aws_elasticache_user` that is not `default`, stacks/cache.ts names it), not restated here.
 * @param {{ config: { database: { databaseName: string, username: string } }, cacheUsername: string }} o
 * @returns {{ database: { dbname: string, username: string, password: string }, cache: { username: string, password: string } }}
 */
export function datastoreCredentials({ config, cacheUsername }) {
  if (!config?.database?.databaseName || !config.database.username) throw new Error('datastoreCredentials: config.database.databaseName and config.database.username are required (config/<env>.json)');
  if (!cacheUsername) throw new Error('datastoreCredentials: cacheUsername is required (the synthesized aws_elasticache_user that is not "default")');
  const token = () => randomBytes(24).toString('base64url');
  return {
    database: { dbname: config.database.databaseName, username: config.database.username, password: token() },
    cache: { username: cacheUsername, password: token() },
  };
}

/**
 * Write the REAL credentials of locally started data stores into moto's Secrets Manager, replacing placeholders
 * (PutSecretValue whether or not a version exists): `database` and `cache` in the shapes of lib/config/contract.cjs,
 * `app` a random value, `smoke_user` a random password. The smoke user is returned (in memory only: the caller
 * creates it in the app database); nothing is written to disk or logged.
 * @param {{ endpoint: string, region: string, outputs: Record<string, { value?: unknown }>,
 *   database: { host: string, port: number, dbname: string, username: string, password: string },
 *   cache: { host: string, port: number, username: string, password: string }, replicationGroupId?: string }} o
 * @returns {Promise<{ written: string[], smokeUser: { username: string, password: string } }>}
 */
export async function writeDatastoreSecrets({ endpoint, region, outputs, database, cache, replicationGroupId }) {
  const arns = /** @type {Record<string, string>} */ (outputs.secret_arns?.value ?? {});
  const missing = ['database', 'cache', 'app', 'smoke_user'].filter((k) => !arns[k]);
  if (missing.length) throw new Error(`writeDatastoreSecrets: outputs.secret_arns lacks ${missing.join(', ')} (apply the foundation first: its secret_arns output names every secret)`);
  const outRg = /** @type {Record<string, unknown>} */ (outputs.cache?.value ?? {}).replicationGroupId;
  const groupId = replicationGroupId ?? (typeof outRg === 'string' ? outRg : null) ?? 'local';
  const token = () => randomBytes(24).toString('base64url');
  const smokeUser = { username: `smoke-${randomBytes(4).toString('hex')}`, password: token() };
  /** @type {Record<string, object>} */
  const values = {
    database: contract.databaseSecretValue(database),
    cache: contract.cacheSecretValue({ ...cache, replicationGroupId: groupId, region }),
    app: { sessionKey: token() },
    smoke_user: smokeUser,
  };
  const client = new SecretsManagerClient({ region, endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  /** @type {string[]} */ const written = [];
  try {
    for (const [key, value] of Object.entries(values)) {
      await client.send(new PutSecretValueCommand({ SecretId: arns[key], SecretString: JSON.stringify(value) }));
      written.push(key);
    }
  } finally {
    client.destroy();
  }
  return { written, smokeUser };
}
