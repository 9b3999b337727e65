// Secrets: Secrets Manager secrets for the database credentials, the cache connection, application secrets and
// the staging smoke-test user, encrypted with the environment key. Terraform creates the secrets, never their
// values (no secret_string here): the database host writes `database` itself and, with cache.auth "password",
// `cache` (stacks/database.ts); with "iam" `cache` holds only non-secret connection metadata (stacks/cache.ts);
// `app` and `smoke_user` are put out of band (docs/foundation.md). Shapes: lib/config/contract.cjs.
import { Construct } from 'constructs';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { SECRET_KEYS } from '../lib/config/index.cjs';
import type { SecretKey } from '../lib/config/index.cjs';
import { PropsError, StackEnv } from './util';
import { ResourceNames } from './names';

export interface SecretsProps {
  readonly env: StackEnv;
  readonly kmsKeyArn: string;
  /**
   * Days a deleted secret can be restored.
   * @default 7
   */
  readonly recoveryWindowInDays?: number;
}

const DESCRIPTIONS: Record<SecretKey, string> = {
  database: 'PostgreSQL credentials (JSON: engine, host, port, dbname, username, password, sslmode, url); written by the database host',
  cache: 'Valkey connection (JSON: host, port, username, url, tls, auth; password with cache.auth password); written by the database host (password) or Terraform (iam)',
  app: 'Application secrets (JSON); set out of band',
  smoke_user: 'Smoke-test user (JSON: username, password); set out of band',
};

export class Secrets extends Construct {
  /** secret key -> secret */
  readonly secrets: Record<SecretKey, SecretsmanagerSecret>;

  constructor(scope: Construct, id: string, props: SecretsProps) {
    super(scope, id);
    const window = props.recoveryWindowInDays ?? 7;
    if (!Number.isInteger(window) || window < 7 || window > 30) throw new PropsError('Secrets', `recoveryWindowInDays must be an integer 7-30, got ${window}`);
    const out = {} as Record<SecretKey, SecretsmanagerSecret>;
    for (const key of SECRET_KEYS) {
      out[key] = new SecretsmanagerSecret(this, `secret-${key}`, {
        name: new ResourceNames(props.env.prefix).secret(key),
        description: DESCRIPTIONS[key],
        kmsKeyId: props.kmsKeyArn,
        recoveryWindowInDays: window,
      });
    }
    this.secrets = out;
  }
}
