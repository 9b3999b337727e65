// test/support/task-definitions.mjs, which the contract test relies on: it reads cdktf's `${jsonencode(...)}`
// container definitions (references and interpolations resolved) and fills secrets the way ECS does.
import { readHclValue, ecsEnvironment } from '../support/task-definitions.mjs';

const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:staging/database-AbCdEf';
const APP = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:staging/app-AbCdEf';
const resolve = (ref) => ({ 'aws_secretsmanager_secret.db.arn': ARN, 'aws_secretsmanager_secret.app.arn': APP, 'aws_cloudwatch_log_group.api.name': '/ecs/staging/api' })[ref] ?? (() => { throw new Error(`unknown ${ref}`); })();

describe('readHclValue', () => {
  test('objects, tuples, strings with interpolations and escapes, numbers, booleans, null, bare references', () => {
    const text = '${jsonencode([{"name" = "api", "n" = 512, "ok" = true, "none" = null, "empty" = [], "o" = {}, '
      + '"secrets" = [{"name" = "DATABASE_URL", "valueFrom" = "${aws_secretsmanager_secret.db.arn}:url::"}, {"name" = "APP_SECRET", "valueFrom" = aws_secretsmanager_secret.app.arn}], '
      + '"log" = {"group" = aws_cloudwatch_log_group.api.name, "q" = "say \\"hi\\""}}])}';
    expect(readHclValue(text, resolve)).toEqual([{
      name: 'api', n: 512, ok: true, none: null, empty: [], o: {},
      secrets: [{ name: 'DATABASE_URL', valueFrom: `${ARN}:url::` }, { name: 'APP_SECRET', valueFrom: APP }],
      log: { group: '/ecs/staging/api', q: 'say "hi"' },
    }]);
  });

  test('unknown functions, unknown references and trailing text are errors', () => {
    expect(() => readHclValue('${lookup({}, "a")}', resolve)).toThrow(/unsupported function lookup/);
    expect(() => readHclValue('${aws_x.y.z}', resolve)).toThrow(/unknown aws_x.y.z/);
    expect(() => readHclValue('["a"] "b"', resolve)).toThrow(/trailing text/);
  });
});

describe('ecsEnvironment', () => {
  const container = {
    name: 'api',
    environment: [{ name: 'PORT', value: '8000' }],
    secrets: [{ name: 'DATABASE_URL', valueFrom: `${ARN}:url::` }, { name: 'PGPORT', valueFrom: `${ARN}:port::` }, { name: 'APP_SECRET', valueFrom: APP }],
  };
  const secrets = { [ARN]: JSON.stringify({ url: 'postgresql://u:p@h:5432/d', port: '5432' }), [APP]: '{"sessionKey":"k"}' };

  test('plain variables, one JSON key per `<arn>:<key>::`, the whole SecretString for a bare ARN', () => {
    expect(ecsEnvironment(container, secrets)).toEqual({ PORT: '8000', DATABASE_URL: 'postgresql://u:p@h:5432/d', PGPORT: '5432', APP_SECRET: '{"sessionKey":"k"}' });
  });

  test('a missing secret or JSON key stops the container as ECS would; version pinning is not modelled', () => {
    expect(() => ecsEnvironment(container, { [ARN]: secrets[ARN] })).toThrow(/APP_SECRET: secret \S+ has no value/);
    expect(() => ecsEnvironment(container, { ...secrets, [ARN]: '{"port":"5432"}' })).toThrow(/DATABASE_URL: secret \S+ has no JSON key "url"/);
    expect(() => ecsEnvironment({ name: 'x', secrets: [{ name: 'A', valueFrom: `${ARN}:url:AWSPREVIOUS:` }] }, secrets)).toThrow(/only the current secret version/);
    expect(() => ecsEnvironment({ name: 'x', secrets: [{ name: 'A', valueFrom: 'arn:aws:ssm:us-east-1:0:parameter/x' }] }, secrets)).toThrow(/not a Secrets Manager ARN/);
  });
});
