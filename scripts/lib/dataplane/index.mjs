// The local data plane, composed: after the foundation is applied to the emulator, every task of the rollout runs
// for real on this machine. What it starts, in order (and stops in reverse, also on failure):
//   1. leftovers of killed runs swept (by their labels), one Docker bridge network for this run
//   2. PostgreSQL 15 and Redis 7 (TLS, the ACL user) listening on the bridge's gateway; their real credentials
//      written into the emulator's Secrets Manager in the contract's shapes (lib/config/contract.cjs)
//   3. the local ALB with the synthesized listener rules and health checks (alb.mjs)
//   4. the engine: ECS tasks as containers (engine.mjs)
//   5. the fault proxy in front of the emulator with the overlays of 3, 4 and ECR (ecr.mjs): the runner's endpoint
// The runner is pointed at the proxy (STAGING_ROLLOUT_LOCAL_DATAPLANE=1) and at outputs whose `alb_url` is the
// local ALB's; it speaks AWS as on AWS. After the migration task exits 0, the smoke user is created as an operator
// would (docs/app-contract.md: `python -m app.create_user` in a one-off container of the migration's task
// definition, the credentials on stdin).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { startFaultProxy } from '../fault-proxy.mjs';
import { startDatastores } from '../datastores.mjs';
import { writeDatastoreSecrets, datastoreCredentials } from '../emulator-secrets.mjs';
import { startEngine, createNetwork, sweepLeftovers } from './engine.mjs';
import { startLocalAlb } from './alb.mjs';
import { ecrOverlays } from './ecr.mjs';
import { execOverlays } from './exec.mjs';

/** The system CA bundle the images' own is a copy of (Debian's). */
const SYSTEM_CA = '/etc/ssl/certs/ca-certificates.crt';

/**
 * @typedef {object} DataPlane
 * @property {string} endpoint        the proxy: the runner's (and aws CLI's) AWS endpoint
 * @property {string} albUrl          the local ALB
 * @property {Record<string, { value?: unknown }>} outputs  the stack outputs with alb_url pointing at the local ALB
 * @property {{ host: string, port: number, dbname: string, username: string }} database  where PostgreSQL listens (no password)
 * @property {import('../fault-proxy.mjs').FaultProxy} proxy
 * @property {import('./engine.mjs').Engine} engine
 * @property {{ created: boolean, error: string | null }} smokeUser
 * @property {string} network
 * @property {() => Promise<void>} close
 */

/**
 * @param {object} o
 * @param {string} o.motoEndpoint
 * @param {string} o.region
 * @param {Record<string, { value?: any }>} o.outputs `terraform output -json` form
 * @param {{ databaseName: string, username: string }} o.database config `database` (names only)
 * @param {string} o.cacheUsername the cache's RBAC user as the synthesized stack names it
 * @param {Record<string, number>} [o.healthCheckGracePeriodSeconds] ECS service name -> the stack's grace period
 * @param {string[]} [o.executeCommandServices] ECS service names the stack enables ECS Exec on
 * @param {{ host: string, username: string, password: string }} o.registry the local registry standing in for ECR
 * @param {string} o.dir  a private directory for the data stores' files (removed by close())
 * @param {(line: string) => void} [o.log]
 * @returns {Promise<DataPlane>}
 */
export async function startDataPlane(o) {
  const log = o.log ?? (() => {});
  const runId = crypto.randomBytes(4).toString('hex');
  /** @type {(() => Promise<void> | void)[]} */
  const stops = [];
  const close = async () => {
    for (const s of stops.splice(0).reverse()) {
      try { await s(); } catch (e) { log(`data plane: cleanup: ${/** @type {Error} */ (e).message}`); }
    }
  };
  try {
    await sweepLeftovers({ log });
    const net = await createNetwork(runId);
    stops.push(net.remove);
    log(`data plane: Docker bridge network ${net.name} (${net.subnet}, gateway ${net.gateway})`);

    const out = /** @type {Record<string, { value?: any }>} */ (JSON.parse(JSON.stringify(o.outputs)));
    const creds = datastoreCredentials({ config: { database: o.database }, cacheUsername: o.cacheUsername });
    fs.mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    const ds = await startDatastores({
      database: creds.database, cache: creds.cache, listen: [net.gateway], clientCidrs: [net.subnet], log,
    });
    stops.push(ds.stop);
    const database = { host: net.gateway, port: ds.pg.port, dbname: creds.database.dbname, username: creds.database.username };
    log(`data plane: PostgreSQL 15 on ${net.gateway}:${ds.pg.port}, Redis 7 (TLS, ACL user ${creds.cache.username}) on ${net.gateway}:${ds.redis.port}`);
    const written = await writeDatastoreSecrets({
      endpoint: o.motoEndpoint, region: o.region, outputs: out,
      database: { ...creds.database, host: net.gateway, port: ds.pg.port },
      cache: { ...creds.cache, host: net.gateway, port: ds.redis.port },
    });
    log(`data plane: real credentials written to the emulator's Secrets Manager (${written.written.join(', ')}); values nowhere else`);

    // trust: the system CAs plus the data stores' own (AWS's endpoints chain to public CAs the images trust)
    const caBundle = path.join(o.dir, 'ca-bundle.crt');
    fs.writeFileSync(caBundle, `${fs.existsSync(SYSTEM_CA) ? fs.readFileSync(SYSTEM_CA, 'utf8') : ''}\n${fs.readFileSync(ds.caFile, 'utf8')}`, { mode: 0o644 });

    const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
    const elbv2 = new ElasticLoadBalancingV2Client({ region: o.region, endpoint: o.motoEndpoint, credentials });
    stops.push(() => elbv2.destroy());
    const alb = await startLocalAlb({ elbv2, log });
    stops.push(alb.close);
    out.alb_url = { ...out.alb_url, value: alb.url };
    log(`data plane: local ALB on ${alb.url}`);

    // Cloud Map names as network aliases: <discovery name>.<namespace> (and the short name)
    const ns = String(out.namespace_name?.value ?? '');
    /** @type {Record<string, string[]>} */
    const networkAliases = {};
    for (const e of /** @type {any[]} */ (Object.values(out.service_catalog?.value ?? {}))) {
      if (e.enabled && e.discovery_name && e.ecs_service_name) networkAliases[e.ecs_service_name] = [`${e.discovery_name}.${ns}`, e.discovery_name];
    }
    const migrationFamily = String(out.migration_task_family?.value ?? '');
    const smokeUser = { created: false, error: /** @type {string | null} */ (null) };
    /** @type {import('./engine.mjs').Engine} */
    let engine;
    engine = await startEngine({
      motoEndpoint: o.motoEndpoint, region: o.region, runId, network: net.name, registry: o.registry, networkAliases, alb, caBundle,
      healthCheckGracePeriodSeconds: o.healthCheckGracePeriodSeconds, executeCommandServices: o.executeCommandServices,
      log,
      async onOneOffExit(task) {
        if (smokeUser.created || task.family !== migrationFamily || task.containers[0]?.exitCode !== 0) return;
        const r = await engine.runContainer({
          taskDefinition: task.tdArn, container: String(out.migration_container_name?.value ?? task.containers[0].name),
          command: ['python', '-m', 'app.create_user'], input: JSON.stringify(written.smokeUser),
        });
        smokeUser.created = r.exitCode === 0;
        smokeUser.error = r.exitCode === 0 ? null : `python -m app.create_user exited ${r.exitCode}: ${r.output.trim().split('\n').slice(-3).join(' | ')}`;
        log(smokeUser.created ? 'data plane: smoke user created (python -m app.create_user in a one-off container of the migration\'s task definition)' : `data plane: smoke user NOT created: ${smokeUser.error}`);
      },
    });
    stops.push(engine.close);
    const proxy = await startFaultProxy({
      target: o.motoEndpoint,
      rules: [...engine.overlays, ...execOverlays(engine), ...alb.overlays, ...ecrOverlays({ registry: o.registry })],
    });
    stops.push(proxy.close);
    log(`data plane: AWS endpoint for the runner ${proxy.endpoint} (the emulator, with ECS, ELB target health and ECR answered from Docker)`);
    return { endpoint: proxy.endpoint, albUrl: alb.url, outputs: out, database, proxy, engine, smokeUser, network: net.name, close };
  } catch (e) {
    await close();
    throw e;
  }
}
