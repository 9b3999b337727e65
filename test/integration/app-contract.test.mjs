// The application contract on real parts (docs/app-contract.md): the example app (examples/app) runs with
// exactly the environment the synthesized task definitions declare, against real PostgreSQL 15 (TLS only) and
// Redis 7 (TLS only, ACL user with a password), and the runner's own smoke checks pass against it.
//
// - The stack is synthesized from main.ts and config/staging.json (cache.auth "password"); each container's
//   `environment` and `secrets` are read from the synthesized container_definitions, not from a copy.
// - Secret values are filled the way ECS does (whole SecretString, or one JSON key for `<arn>:<key>::`) from
//   secrets shaped by lib/config/contract.cjs, the shapes the database host bootstrap writes (its unit test
//   checks that). A missing secret or JSON key fails like ECS refuses to start the task.
// - The processes get that environment and nothing else, except: PATH; SSL_CERT_FILE (the image's CA bundle:
//   here the test's self-signed CA); and the network addresses of awsvpc tasks, which share one loopback here:
//   PORT becomes a free local port, and a Cloud Map name:port (anisette.staging.internal:6969) the local
//   address of that process. Where a smoke check needs ECS or the ALB, its source is the local processes:
//   alb_url is the api's local URL, RunTask runs the command in the container's environment, CloudWatch Logs
//   serves the processes' output.
// Needs PostgreSQL 15, redis-server 7, openssl and python3 with python3-sqlalchemy, python3-psycopg2,
// python3-redis, python3-alembic (.ci/run installs them). Without them the suite is recorded as skipped; with
// CI=true or STAGING_ROLLOUT_REQUIRE_INTEGRATION=1 it fails.
import { jest } from '@jest/globals';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { mockClient } from 'aws-sdk-client-mock';
import { ECSClient, RunTaskCommand, DescribeTasksCommand, DescribeTaskDefinitionCommand, StopTaskCommand, DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { CloudWatchLogsClient, GetLogEventsCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import configLib from '../../lib/config/index.cjs';
import contract from '../../lib/config/contract.cjs';
import { synthFoundation } from '../../scripts/lib/foundation/synth.mjs';
import { detectCapabilities } from '../../runner/lib/emulator.mjs';
import { buildChecks, createSmokeContext, runCheck } from '../../runner/smoke/index.mjs';
import { RAW, creds, outputsFor, smokeSettings } from '../support/smoke.mjs';
import { containerDefinitions, ecsEnvironment } from '../support/task-definitions.mjs';
import { freePort, missingDatastoreTools, startDatastores } from '../../scripts/lib/datastores.mjs';
import { findPython, imageCmd, prepareImage, startProcess } from '../support/app-processes.mjs';

const require = createRequire(import.meta.url);
const { recordSkip } = require('../../scripts/lib/skips.cjs');

jest.setTimeout(120_000);

const SUITE = 'application contract (examples/app on PostgreSQL + Redis)';
const strict = process.env.CI === 'true' || process.env.STAGING_ROLLOUT_REQUIRE_INTEGRATION === '1';
const { config, services } = configLib.normalizeConfig(RAW, { source: 'config/staging.json' });
const SMOKE_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:staging/smoke-user-AbCdEf';
/** the checks the contract covers (workers, logs and target-groups need ECS services and an ALB) */
const CHECKS = ['api-health', 'login', 'database', 'fetcher-anisette'];

const st = {
  /** @type {string | null} */ skip: null,
  work: '',
  /** @type {Record<string, any>} */ json: {},
  /** @type {Record<string, Array<Record<string, any>>>} */ defs: {},
  /** @type {any} */ ds: null,
  /** @type {Record<string, string>} */ secretStrings: {},
  smokeUser: { username: 'smoke@example.com', password: '' },
  /** @type {{ app: string, path: string }} */ image: { app: '', path: '' },
  /** container name -> local port */ ports: /** @type {Record<string, number>} */ ({}),
  /** container name -> running process */ procs: /** @type {Record<string, ReturnType<typeof startProcess>>} */ ({}),
  /** one-off tasks started through the ECS stand-in: task ARN -> process and container name */
  tasks: /** @type {Map<string, { proc: ReturnType<typeof startProcess>, container: string }>} */ (new Map()),
  /** @type {(env: Record<string, string>, family: string) => Record<string, string>} */ editTaskEnv: (env) => env,
  timings: /** @type {Record<string, number>} */ ({}),
};

/** "type.name.attr" of the synthesized JSON -> a value: literal attributes as written, ARNs and URLs derived. */
function resolver(json) {
  return (/** @type {string} */ ref) => {
    const m = /^([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)$/.exec(ref);
    const body = m && json.resource?.[m[1]]?.[m[2]];
    if (!m || !body) throw new Error(`unresolvable reference ${ref}`);
    const [, type, , attr] = m;
    if (type === 'aws_secretsmanager_secret' && attr === 'arn') return `arn:aws:secretsmanager:${config.region}:000000000000:secret:${body.name}-AbCdEf`;
    if (type === 'aws_ecr_repository' && attr === 'repository_url') return `000000000000.dkr.ecr.${config.region}.amazonaws.com/${body.name}`;
    if (typeof body[attr] === 'string' && !body[attr].includes('${')) return body[attr];
    throw new Error(`reference ${ref} has no literal value in the synthesized JSON`);
  };
}

/** The single container of a synthesized task definition family. */
function containerOf(/** @type {string} */ family) {
  const defs = st.defs[family];
  if (!defs || defs.length !== 1) throw new Error(`task definition family ${family}: expected one container, got ${defs?.length ?? 'none'}`);
  return defs[0];
}

/** The image key of a container (`<repo url>/<prefix>/<key>:bootstrap`). */
const imageKeyOf = (/** @type {Record<string, any>} */ c) => c.image.replace(/:bootstrap$/, '').split('/').pop();

/**
 * What the process of a container gets: the ECS environment, with PORT and Cloud Map addresses mapped to this
 * machine (see the file comment), plus PATH and SSL_CERT_FILE.
 * @param {string} family
 */
function envFor(family) {
  const c = containerOf(family);
  const env = ecsEnvironment(c, st.secretStrings);
  if (c.portMappings.length) {
    if (env.PORT !== String(c.portMappings[0].containerPort)) throw new Error(`${c.name}: PORT ${env.PORT} is not the container port ${c.portMappings[0].containerPort}`);
    env.PORT = String(st.ports[c.name]);
  }
  for (const s of services.filter((x) => x.enabled && x.kind === 'support')) {
    const from = `${s.discoveryName}.${config.cluster.namespace}:${s.port}`;
    for (const k of Object.keys(env)) env[k] = env[k].split(from).join(`127.0.0.1:${st.ports[s.name]}`);
  }
  return st.editTaskEnv({ ...env, PATH: st.image.path, SSL_CERT_FILE: st.ds.caFile }, family);
}

/** Run one container's command to its end. */
async function runToEnd(/** @type {string} */ family, /** @type {string[]} */ command, /** @type {{ input?: string, env?: Record<string, string> }} */ opts = {}) {
  const p = startProcess(family, command, opts.env ?? envFor(family), st.image.app, { input: opts.input });
  const code = await p.exited;
  return { code, lines: p.lines };
}

beforeAll(async () => {
  const missing = missingDatastoreTools();
  const python = findPython();
  if (!python) missing.push('python3 with SQLAlchemy, psycopg2, redis-py and alembic (apt-get install python3-sqlalchemy python3-psycopg2 python3-redis python3-alembic)');
  if (missing.length) {
    st.skip = `missing: ${missing.join('; ')}`;
    if (strict) throw new Error(`CI=true (or STAGING_ROLLOUT_REQUIRE_INTEGRATION=1) but the contract test cannot run: ${st.skip}`);
    recordSkip({ suite: SUITE, reason: st.skip });
    return;
  }
  const t0 = Date.now();
  st.work = fs.mkdtempSync(path.join(os.tmpdir(), 'app-contract-run-'));
  const { stackDir } = await synthFoundation({ outdir: path.join(st.work, 'cdktf.out'), configPath: path.resolve('config/staging.json') });
  st.json = JSON.parse(fs.readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8'));
  st.defs = containerDefinitions(st.json, resolver(st.json));
  st.timings.synthMs = Date.now() - t0;

  // secrets shaped as the stack and the database host write them; passwords with URL-special characters
  const dbPassword = `db-${crypto.randomBytes(12).toString('base64url')}@/:%?#`;
  const cachePassword = `cache-${crypto.randomBytes(12).toString('base64url')}@/:%`;
  st.smokeUser.password = `smoke-${crypto.randomBytes(9).toString('base64url')}`;
  const cacheUser = Object.values(st.json.resource.aws_elasticache_user).find((u) => u.user_name !== 'default').user_name;
  const t1 = Date.now();
  st.ds = await startDatastores({
    database: { dbname: config.database.databaseName, username: config.database.username, password: dbPassword },
    cache: { username: cacheUser, password: cachePassword },
  });
  st.timings.datastoresMs = Date.now() - t1;
  const arnOf = (/** @type {string} */ key) => `arn:aws:secretsmanager:${config.region}:000000000000:secret:${config.namePrefix}/${key.replace(/_/g, '-')}-AbCdEf`;
  st.secretStrings = {
    [arnOf('database')]: JSON.stringify(contract.databaseSecretValue({ host: st.ds.pg.host, port: st.ds.pg.port, dbname: config.database.databaseName, username: config.database.username, password: dbPassword })),
    [arnOf('cache')]: JSON.stringify(contract.cacheSecretValue({ host: st.ds.redis.host, port: st.ds.redis.port, username: cacheUser, password: cachePassword, replicationGroupId: `${config.namePrefix}-valkey`, region: config.region })),
    [arnOf('app')]: JSON.stringify({ sessionKey: crypto.randomBytes(24).toString('hex') }),
  };
  st.image = prepareImage(st.work, /** @type {string} */ (python));
  for (const s of services.filter((x) => x.enabled && x.port !== null)) st.ports[s.name] = await freePort();
});

afterAll(async () => {
  await Promise.all([...Object.values(st.procs), ...[...st.tasks.values()].map((t) => t.proc)].map((p) => p.stop()));
  if (st.ds) await st.ds.stop();
  if (st.work) fs.rmSync(st.work, { recursive: true, force: true });
  if (!st.skip) process.stdout.write(`[app-contract] synth ${st.timings.synthMs} ms, datastores up ${st.timings.datastoresMs} ms\n`);
});

/** @returns {boolean} true when the suite cannot run here (recorded once in beforeAll) */
const skipped = () => st.skip !== null;

describe('the example app on the synthesized environment', () => {
  test('the migration task runs `alembic upgrade head` with its declared environment (DATABASE_URL over TLS)', async () => {
    if (skipped()) return;
    const migration = containerOf(`${config.namePrefix}-migration`);
    expect(migration.command).toEqual(config.migration.command);
    const r = await runToEnd(`${config.namePrefix}-migration`, migration.command);
    expect([r.code, r.lines.join('\n')]).toEqual([0, expect.stringContaining('Running upgrade  -> 3f2a9c1d0b7e')]);
    // the app's role reached the tables over TLS (pg_hba has hostssl lines only)
    expect(st.ds.pg.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1;", config.database.databaseName).trim().split('\n'))
      .toEqual(['alembic_version', 'heartbeats', 'users']);
  });

  test('the operator adds the known smoke user (`python -m app.create_user`, JSON on stdin, api environment)', async () => {
    if (skipped()) return;
    const r = await runToEnd(`${config.namePrefix}-api`, ['python', '-m', 'app.create_user'], { input: JSON.stringify(st.smokeUser) });
    expect([r.code, r.lines.join('\n')]).toEqual([0, 'user is current']);
  });

  test('anisette, the api and every worker start with exactly their declared environment', async () => {
    if (skipped()) return;
    const run = services.filter((s) => s.enabled && imageCmd(s.image) !== null);
    // frontend and admin run other images (not part of the example app)
    expect(services.filter((s) => s.enabled && imageCmd(s.image) === null).map((s) => s.name).sort()).toEqual(['admin', 'frontend']);
    const order = [...run.filter((s) => s.kind === 'support'), ...run.filter((s) => s.kind === 'web'), ...run.filter((s) => s.kind === 'worker')];
    for (const s of order) {
      const family = `${config.namePrefix}-${s.name}`;
      const c = containerOf(family);
      const command = c.command ?? imageCmd(imageKeyOf(c));
      st.procs[s.name] = startProcess(s.name, command, envFor(family), st.image.app);
      const ready = s.kind === 'worker' ? new RegExp(`^${s.name} ready`) : /listening on \d+/;
      await st.procs[s.name].waitForLine(ready);
    }
    // each worker connected to what its secrets give it
    expect(st.procs['unified-geofence'].lines).toContain('unified-geofence ready (database ok, cache ok)');
    expect(st.procs['materialized-view-service'].lines).toContain('materialized-view-service ready (database ok)');
  });

  test('the runner\'s smoke checks pass against them: api health, login, database (`alembic current`), fetcher-to-anisette', async () => {
    if (skipped()) return;
    const { sctx } = smokeSetup();
    const checks = buildChecks(sctx.settings).filter((c) => CHECKS.includes(c.name));
    expect(checks.map((c) => c.name)).toEqual(CHECKS);
    const records = await Promise.all(checks.map((c) => runCheck(c, sctx)));
    expect(records.map((r) => [r.name, r.status, r.status === 'passed' ? '' : `${r.reason} ${r.evidence}`])).toEqual(CHECKS.map((n) => [n, 'passed', '']));
    const by = Object.fromEntries(records.map((r) => [r.name, r]));
    expect(by['api-health'].evidence).toContain('body contains "ok"');
    expect(by.database.evidence).toMatch(/`alembic current` task \S+ exited 0; log: 3f2a9c1d0b7e \(head\)/);
    expect(by['fetcher-anisette'].evidence).toContain('anisette reachable');
    // no secret value reached the smoke records
    const text = JSON.stringify(records);
    for (const v of [st.smokeUser.password, ...Object.values(st.secretStrings).flatMap((s) => Object.values(JSON.parse(s)).filter((x) => typeof x === 'string' && x.length > 8))]) {
      if (/^(postgres|valkey|require|127\.0\.0\.1)$/.test(v)) continue;
      expect(text).not.toContain(v);
    }
  });

  test('the workers beat in the database and stay up through the smoke checks', async () => {
    if (skipped()) return;
    const workers = services.filter((s) => s.enabled && s.kind === 'worker').map((s) => s.name);
    for (const w of workers) expect([w, st.procs[w].running]).toEqual([w, true]);
    const rows = st.ds.pg.psql('SELECT worker FROM heartbeats ORDER BY 1;', config.database.databaseName);
    expect(rows.trim().split('\n')).toEqual([...workers].sort());
  });
});

describe('a container lacking a variable the app needs fails', () => {
  test('the migration without DATABASE_URL exits non-zero naming it', async () => {
    if (skipped()) return;
    const family = `${config.namePrefix}-migration`;
    const env = envFor(family);
    delete env.DATABASE_URL;
    const r = await runToEnd(family, containerOf(family).command, { env });
    expect(r.code).not.toBe(0);
    expect(r.lines.join('\n')).toContain('DATABASE_URL is not set');
  });

  test('a worker without REDIS_URL exits non-zero naming it, and never says ready', async () => {
    if (skipped()) return;
    const family = `${config.namePrefix}-unified-geofence`;
    const env = envFor(family);
    delete env.REDIS_URL;
    const r = await runToEnd(family, containerOf(family).command, { env });
    expect(r.code).not.toBe(0);
    expect(r.lines.join('\n')).toContain('REDIS_URL is not set');
    expect(r.lines.join('\n')).not.toContain('ready');
  });

  test('the smoke database check fails when the api task definition lacks DATABASE_URL', async () => {
    if (skipped()) return;
    st.editTaskEnv = (env) => { const { DATABASE_URL: _, ...rest } = env; return rest; };
    try {
      const { sctx } = smokeSetup();
      const check = buildChecks(sctx.settings).find((c) => c.name === 'database');
      const rec = await runCheck(/** @type {any} */ (check), sctx);
      expect(rec.status).toBe('failed');
      expect(rec.reason).toMatch(/`alembic current`: task \S+ exited with code 3/);
    } finally {
      st.editTaskEnv = (env) => env;
    }
  });

  test('a task definition whose secret lacks a mapped JSON key cannot start (as ECS refuses it)', () => {
    if (skipped()) return;
    const c = containerOf(`${config.namePrefix}-api`);
    const dbArn = Object.keys(st.secretStrings).find((a) => a.includes('/database-'));
    const { url: _, ...withoutUrl } = JSON.parse(st.secretStrings[/** @type {string} */ (dbArn)]);
    expect(() => ecsEnvironment(c, { ...st.secretStrings, [/** @type {string} */ (dbArn)]: JSON.stringify(withoutUrl) }))
      .toThrow(/DATABASE_URL: secret \S+ has no JSON key "url"/);
  });
});

/**
 * A smoke context whose ALB is the api's local URL and whose AWS is the local processes: RunTask runs the
 * override command in the container's environment; CloudWatch Logs serves each process's output.
 */
function smokeSetup() {
  const ecs = new ECSClient(creds); const logs = new CloudWatchLogsClient(creds);
  const elbv2 = new ElasticLoadBalancingV2Client(creds); const secrets = new SecretsManagerClient(creds);
  const mocks = { ecs: mockClient(ecs), logs: mockClient(logs), secrets: mockClient(secrets) };
  const outputs = outputsFor(RAW, { alb_url: `http://127.0.0.1:${st.ports.api}`, secret_arns: { ...outputsFor(RAW).secretArns, smoke_user: SMOKE_ARN } });
  mocks.secrets.on(GetSecretValueCommand, { SecretId: SMOKE_ARN }).resolves({ SecretString: JSON.stringify(st.smokeUser) });
  mocks.ecs.on(RunTaskCommand).callsFake((input) => {
    const override = input.overrides.containerOverrides[0];
    const c = containerOf(input.taskDefinition);
    if (c.name !== override.name) throw new Error(`RunTask: container ${override.name} is not in ${input.taskDefinition}`);
    const arn = `arn:aws:ecs:${config.region}:000000000000:task/${outputs.clusterName}/${crypto.randomBytes(8).toString('hex')}`;
    const command = override.command ?? c.command ?? imageCmd(imageKeyOf(c));
    st.tasks.set(arn, { proc: startProcess(`${input.taskDefinition}: ${command.join(' ')}`, command, envFor(input.taskDefinition), st.image.app), container: c.name });
    return { tasks: [{ taskArn: arn }], failures: [] };
  });
  mocks.ecs.on(DescribeTasksCommand).callsFake((input) => ({
    tasks: input.tasks.map((arn) => {
      const t = /** @type {{ proc: ReturnType<typeof startProcess>, container: string }} */ (st.tasks.get(arn));
      return t.proc.running
        ? { taskArn: arn, lastStatus: 'RUNNING', containers: [{ name: t.container }] }
        : { taskArn: arn, lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', containers: [{ name: t.container, exitCode: t.proc.child.exitCode }] };
    }),
    failures: [],
  }));
  mocks.ecs.on(DescribeTaskDefinitionCommand).callsFake((input) => ({ taskDefinition: { family: input.taskDefinition, containerDefinitions: st.defs[input.taskDefinition] } }));
  mocks.ecs.on(StopTaskCommand).callsFake(async (input) => { await st.tasks.get(input.task)?.proc.stop(); return {}; });
  // the processes stand in for services deployed by this release: their deployment is not older than its start
  mocks.ecs.on(DescribeServicesCommand).callsFake((input) => ({
    services: input.services.map((n) => ({ serviceName: n, status: 'ACTIVE', deployments: [{ status: 'PRIMARY', createdAt: new Date() }] })),
    failures: [],
  }));
  mocks.logs.on(GetLogEventsCommand).callsFake((input) => {
    const p = [...st.tasks.entries()].find(([arn]) => input.logStreamName.endsWith(`/${arn.split('/').pop()}`))?.[1].proc;
    if (!p) throw Object.assign(new Error('The specified log stream does not exist.'), { name: 'ResourceNotFoundException' });
    if (input.nextToken === 'end') return { events: [], nextForwardToken: 'end' };
    return { events: p.lines.map((message) => ({ message, timestamp: Date.now() })), nextForwardToken: 'end' };
  });
  mocks.logs.on(FilterLogEventsCommand).callsFake((input) => {
    // the log group of each running service, as its synthesized task definition names it
    const name = Object.keys(st.procs).find((n) => containerOf(`${config.namePrefix}-${n}`).logConfiguration.options['awslogs-group'] === input.logGroupName);
    const phrase = String(input.filterPattern ?? '').replace(/^"|"$/g, '');
    const hit = name ? st.procs[name].lines.find((l) => l.includes(phrase)) : undefined;
    return { events: hit ? [{ message: hit, timestamp: Date.now(), logStreamName: `${name}/${name}/local` }] : [] };
  });
  const quick = { timeoutSeconds: 10, attempts: 3, retryDelaySeconds: 0.5 };
  const ctx = {
    outputs, catalog: outputs.catalog, capabilities: detectCapabilities({ emulator: false }), release: 'contract',
    smoke: smokeSettings({
      ...RAW.smoke, allowPlainHttpLogin: true, taskTimeoutSeconds: 30, taskPollSeconds: 0.2,
      checks: { 'api-health': quick, login: quick, database: { timeoutSeconds: 30, attempts: 1, retryDelaySeconds: 0 }, 'fetcher-anisette': { timeoutSeconds: 5, attempts: 20, retryDelaySeconds: 0.5 } },
    }),
    aws: { ecs, logs, elbv2, secrets }, state: { halfDone: [] }, releaseStartedAt: new Date(Date.now() - 60_000).toISOString(), log: { info: () => {} },
  };
  return { sctx: createSmokeContext(/** @type {any} */ (ctx)), mocks };
}
