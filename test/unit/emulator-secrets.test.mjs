// scripts/lib/emulator-secrets.mjs: on the emulator every stack secret without a current version gets a generated
// placeholder of its documented shape; a secret with a value is left alone; nothing is read back.
import { mockClient } from 'aws-sdk-client-mock';
import { SecretsManagerClient, DescribeSecretCommand, PutSecretValueCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { seedEmulatorSecrets } from '../../scripts/lib/emulator-secrets.mjs';

const ARNS = { database: 'arn:db', cache: 'arn:cache', app: 'arn:app', smoke_user: 'arn:smoke' };
const outputs = { secret_arns: { value: ARNS } };

describe('seedEmulatorSecrets', () => {
  const sm = mockClient(SecretsManagerClient);
  afterEach(() => sm.reset());

  test('puts a generated placeholder into each secret without a current version, keeps the others', async () => {
    sm.on(DescribeSecretCommand).resolves({});
    sm.on(DescribeSecretCommand, { SecretId: 'arn:app' }).resolves({ VersionIdsToStages: { v1: ['AWSCURRENT'] } });
    sm.on(PutSecretValueCommand).resolves({});
    const res = await seedEmulatorSecrets({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', outputs });
    expect(res).toEqual({ seeded: ['database', 'cache', 'smoke_user'], kept: ['app'] });
    const put = Object.fromEntries(sm.commandCalls(PutSecretValueCommand).map((c) => [c.args[0].input.SecretId, JSON.parse(c.args[0].input.SecretString)]));
    expect(Object.keys(put)).toEqual(['arn:db', 'arn:cache', 'arn:smoke']);
    // the declared shapes (lib/config/contract.cjs): every key a container variable maps from is there
    expect(put['arn:db']).toEqual({ engine: 'postgres', host: expect.stringMatching(/\.invalid$/), port: '5432', dbname: 'app', username: 'app', password: expect.stringMatching(/^[\w-]{24}$/), sslmode: 'require', url: expect.stringMatching(/^postgresql:\/\/app:[\w-]{24}@database\.emulator\.invalid:5432\/app\?sslmode=require$/) });
    expect(put['arn:cache']).toMatchObject({ engine: 'valkey', tls: true, auth: 'password', region: 'us-east-1', url: expect.stringMatching(/^rediss:\/\//) });
    expect(put['arn:smoke']).toEqual({ username: 'smoke-emulator', password: expect.stringMatching(/^[\w-]{24}$/) });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  test('every run generates new values; a second run over seeded secrets puts nothing', async () => {
    sm.on(DescribeSecretCommand).resolves({});
    sm.on(PutSecretValueCommand).resolves({});
    await seedEmulatorSecrets({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', outputs });
    await seedEmulatorSecrets({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', outputs });
    const passwords = sm.commandCalls(PutSecretValueCommand).filter((c) => c.args[0].input.SecretId === 'arn:db').map((c) => JSON.parse(c.args[0].input.SecretString).password);
    expect(new Set(passwords).size).toBe(2);
    sm.reset();
    sm.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { v2: ['AWSCURRENT', 'AWSPENDING'] } });
    expect(await seedEmulatorSecrets({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', outputs })).toEqual({ seeded: [], kept: ['database', 'cache', 'app', 'smoke_user'] });
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });
});
