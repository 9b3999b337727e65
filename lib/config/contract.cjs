'use strict';
// THE application contract (docs/app-contract.md is generated from it): which conventional environment variable
// a container gets, from which stack secret and which JSON key of it (ECS JSON-key `valueFrom`
// `<secretArn>:<key>::`), and the declared shape of each secret. The stack (stacks/services.ts), the contract
// doc generator (scripts/app-contract.mjs), the unit tests and the contract test (test/integration) read it;
// the database host bootstrap (stacks/database-user-data.ts) writes values of exactly these shapes (its unit test checks).

/**
 * Shape of a secret value: JSON key -> what it holds and a fake example. `string: true` keys are the ones a
 * variable may map from (ECS injects a JSON key's value as the variable; every mapped value is a JSON string).
 * `mode` limits a key to one cache auth mode.
 * @typedef {{ description: string, example: string | boolean, mode?: 'password' | 'iam' }} SecretKeyShape
 * @typedef {{ writer: string, freeForm?: boolean, keys: Record<string, SecretKeyShape> }} SecretShape
 */

/** @type {Record<'database' | 'cache' | 'app' | 'smoke_user', SecretShape>} */
const SECRET_SHAPES = {
  database: {
    writer: 'the database host at boot (stacks/database-user-data.ts)',
    keys: {
      engine: { description: 'always "postgres"', example: 'postgres' },
      host: { description: 'private IP of the database host', example: '10.40.1.23' },
      port: { description: 'PostgreSQL port, as a string', example: '5432' },
      dbname: { description: 'database name (config database.databaseName)', example: 'app' },
      username: { description: 'login role (config database.username)', example: 'app' },
      password: { description: 'generated on the host, never outside Secrets Manager and PostgreSQL', example: 'fake-db-password' },
      sslmode: { description: 'libpq sslmode; the server accepts TLS only', example: 'require' },
      url: { description: 'postgresql://username:password@host:port/dbname?sslmode=require (password URL-encoded)', example: 'postgresql://app:fake-db-password@10.40.1.23:5432/app?sslmode=require' },
    },
  },
  cache: {
    writer: 'the database host at boot with cache.auth "password" (it owns the password); by Terraform (write-only argument, no password) with "iam"',
    keys: {
      engine: { description: 'always "valkey"', example: 'valkey' },
      host: { description: 'primary endpoint of the replication group', example: 'master.staging-valkey.abc123.use1.cache.amazonaws.com' },
      port: { description: 'Valkey port, as a string', example: '6379' },
      username: { description: 'RBAC user (<prefix>-app)', example: 'staging-app' },
      password: { description: 'cache.auth "password" only: generated on the database host, set in the cache by ModifyUser', example: 'fake-cache-password', mode: 'password' },
      url: { description: 'rediss://username:password@host:port/0 (password URL-encoded); with cache.auth "iam" no password (sign an IAM token)', example: 'rediss://staging-app:fake-cache-password@master.staging-valkey.abc123.use1.cache.amazonaws.com:6379/0' },
      replicationGroupId: { description: 'replication group id (IAM token signing)', example: 'staging-valkey' },
      region: { description: 'AWS region (IAM token signing)', example: 'us-east-1' },
      tls: { description: 'always true: the cache accepts TLS only', example: true },
      auth: { description: '"password" or "iam" (config cache.auth)', example: 'password' },
    },
  },
  app: {
    writer: 'an operator, out of band',
    freeForm: true,
    keys: {},
  },
  smoke_user: {
    writer: 'an operator, out of band',
    keys: {
      username: { description: 'a user the api accepts at smoke.loginPath', example: 'smoke@example.com' },
      password: { description: 'its password', example: 'fake-smoke-password' },
    },
  },
};

/**
 * Conventional variables from secrets: THE mapping table (variable -> secret -> JSON key). A container that
 * lists the secret gets every variable mapped from it.
 * @type {ReadonlyArray<{ name: string, secret: 'database' | 'cache', key: string, description: string }>}
 */
const SECRET_VARIABLES = Object.freeze([
  { name: 'DATABASE_URL', secret: 'database', key: 'url', description: 'SQLAlchemy / alembic / Django-style database URL' },
  { name: 'PGHOST', secret: 'database', key: 'host', description: 'libpq host' },
  { name: 'PGPORT', secret: 'database', key: 'port', description: 'libpq port' },
  { name: 'PGUSER', secret: 'database', key: 'username', description: 'libpq user' },
  { name: 'PGPASSWORD', secret: 'database', key: 'password', description: 'libpq password' },
  { name: 'PGDATABASE', secret: 'database', key: 'dbname', description: 'libpq database' },
  { name: 'PGSSLMODE', secret: 'database', key: 'sslmode', description: 'libpq sslmode (TLS required)' },
  { name: 'REDIS_URL', secret: 'cache', key: 'url', description: 'redis-py / Celery / RQ URL (rediss: TLS)' },
  { name: 'REDIS_HOST', secret: 'cache', key: 'host', description: 'cache host' },
  { name: 'REDIS_PORT', secret: 'cache', key: 'port', description: 'cache port' },
  { name: 'REDIS_USERNAME', secret: 'cache', key: 'username', description: 'cache RBAC user' },
]);

/**
 * Problems of a mapping table against the declared secret shapes: a variable whose secret or JSON key the
 * shape does not declare, a key limited to one cache auth mode, an example value that is not a string (ECS
 * injects a JSON key's value; every mapped value is written as a string), a variable mapped twice.
 * @param {ReadonlyArray<{ name: string, secret: string, key: string }>} variables @param {Record<string, SecretShape>} shapes
 * @returns {string[]}
 */
function mappingProblems(variables, shapes) {
  const problems = [];
  const seen = new Set();
  for (const v of variables) {
    const where = `${v.name} (from secret ${v.secret}, JSON key ${JSON.stringify(v.key)})`;
    if (seen.has(v.name)) problems.push(`${v.name} is mapped twice`);
    seen.add(v.name);
    const shape = shapes[v.secret];
    if (!shape) { problems.push(`${where}: no secret ${v.secret} is declared`); continue; }
    const key = shape.keys[v.key];
    if (!key) problems.push(`${where}: the ${v.secret} secret declares no such key (keys: ${Object.keys(shape.keys).join(', ')})`);
    else if (key.mode) problems.push(`${where}: the key exists only with cache.auth "${key.mode}"`);
    else if (typeof key.example !== 'string') problems.push(`${where}: the key's value is not a string`);
  }
  return problems;
}

/** Throws when the mapping table does not fit the declared shapes: the stack cannot synthesize then. */
function assertMapping(/** @type {Parameters<typeof mappingProblems>[0]} */ variables = SECRET_VARIABLES, shapes = SECRET_SHAPES) {
  const problems = mappingProblems(variables, shapes);
  if (problems.length) {
    const e = new Error(`lib/config/contract.cjs: the variable mapping does not fit the secret shapes:\n  ${problems.join('\n  ')}\nfix SECRET_VARIABLES or SECRET_SHAPES (and the writer of that secret)`);
    e.name = 'PropsError';
    throw e;
  }
}

/** Plain variable every container with a port gets (web and support services): the port to listen on. */
const PORT_VARIABLE = 'PORT';

/**
 * Secrets delivered whole as `<KEY>_SECRET` (their JSON): the ones no variable maps from. `app` is free-form
 * (its keys are the app team's, unknown to the stack); `database` and `cache` are fully covered by the
 * conventional variables, so they are not injected a second time.
 * @param {string} key
 */
function deliveredWhole(key) {
  return !SECRET_VARIABLES.some((v) => v.secret === key);
}

/** @param {string} key `database` -> `DATABASE_SECRET` */
function secretEnvName(key) {
  return `${key.toUpperCase()}_SECRET`;
}

/** Every variable name the stack injects; a catalog `environment` entry must not reuse one. */
function injectedNames() {
  return [...SECRET_VARIABLES.map((v) => v.name), PORT_VARIABLE, ...Object.keys(SECRET_SHAPES).filter(deliveredWhole).map(secretEnvName)];
}

/**
 * What ECS injects into a container that lists `secrets` (and listens on `port`): plain variables and
 * secret references, in a fixed order.
 * @param {{ secrets: readonly string[], port: number | null }} c
 * @returns {{ environment: Record<string, string>, secrets: Array<{ name: string, secret: string, key: string | null }> }}
 */
function containerContract(c) {
  assertMapping();
  /** @type {Array<{ name: string, secret: string, key: string | null }>} */
  const secrets = [];
  for (const key of c.secrets) {
    if (deliveredWhole(key)) secrets.push({ name: secretEnvName(key), secret: key, key: null });
    else for (const v of SECRET_VARIABLES.filter((x) => x.secret === key)) secrets.push({ name: v.name, secret: key, key: v.key });
  }
  return { environment: c.port === null ? {} : { [PORT_VARIABLE]: String(c.port) }, secrets };
}

/** ECS `valueFrom` of a secret reference: the whole secret, or one JSON key of it (AWSCURRENT). */
function valueFrom(/** @type {string} */ arn, /** @type {string | null} */ key) {
  return key === null ? arn : `${arn}:${key}::`;
}

/** encodeURIComponent plus !'()* (what Python's urllib.parse.quote(s, safe='') encodes too). */
function encodeUserinfo(/** @type {string} */ s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The `database` secret value, as the bootstrap writes it (test/unit/stack-database-bootstrap.test.ts checks
 * the bootstrap's output equals this for the same inputs).
 * @param {{ host: string, port: number, dbname: string, username: string, password: string }} v
 */
function databaseSecretValue(v) {
  return {
    engine: 'postgres', host: v.host, port: String(v.port), dbname: v.dbname, username: v.username, password: v.password, sslmode: 'require',
    url: `postgresql://${encodeUserinfo(v.username)}:${encodeUserinfo(v.password)}@${v.host}:${v.port}/${v.dbname}?sslmode=require`,
  };
}

/**
 * The `cache` secret value: with a password (cache.auth "password", written by the database host) or without
 * (cache.auth "iam", written by Terraform).
 * @param {{ host: string, port: number, username: string, password?: string | null, replicationGroupId: string, region: string }} v
 */
function cacheSecretValue(v) {
  const pw = v.password ?? null;
  const userinfo = pw === null ? encodeUserinfo(v.username) : `${encodeUserinfo(v.username)}:${encodeUserinfo(pw)}`;
  return {
    engine: 'valkey', host: v.host, port: String(v.port), username: v.username,
    ...(pw === null ? {} : { password: pw }),
    url: `rediss://${userinfo}@${v.host}:${v.port}/0`,
    replicationGroupId: v.replicationGroupId, region: v.region, tls: true, auth: pw === null ? 'iam' : 'password',
  };
}

module.exports = {
  SECRET_SHAPES, SECRET_VARIABLES, PORT_VARIABLE,
  mappingProblems, assertMapping, deliveredWhole, secretEnvName, injectedNames, containerContract, valueFrom, encodeUserinfo, databaseSecretValue, cacheSecretValue,
};
