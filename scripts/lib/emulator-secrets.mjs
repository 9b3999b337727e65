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
