// The local data plane's ECS: every task ECS would start becomes a Docker container on one bridge network, and
// the answers the emulator (moto) cannot give are overlaid from those containers. Why a proxy overlay and not
// moto itself: moto keeps ECS's books (task definitions, services, ARNs, validation) but cannot have task state
// set from outside (exit codes are hard-coded to 0, targets are always healthy, ListTasks ignores the service),
// and the runner must not change to suit a test bed: it speaks to what looks like AWS. So the fault proxy in front
// of moto forwards every call and, for the calls below, answers from Docker (scripts/lib/fault-proxy.mjs
// `overlay`):
//   RunTask          moto validates and books the task; a container per container definition is started
//   DescribeTasks    tasks this engine started: their real state, exit codes, stop codes and reasons, times
//   ListTasks        from the engine's books, filtered by service, family, startedBy and desired status as ECS does
//   StopTask         docker stop, with the reason recorded
//   UpdateService    moto books the service; a deployment as ECS's rolling update (minimum healthy 100 %, the
//                    circuit breaker with rollback) starts the new revision's tasks and stops the old ones
//   DescribeServices moto's answer with the engine's deployments, running and pending counts and events
// The engine's own AWS calls (task definitions, secrets, log events) go straight to moto, never through the proxy,
// so the runner's recorded calls stay the runner's. Container output is shipped to moto's CloudWatch Logs under
// the task definition's awslogs group, as `<stream prefix>/<container>/<task id>`, and flushed before a task shows
// STOPPED. Secrets reach `docker create` in an env file (0600, private directory, deleted at once), never argv.
// Every container, network and volume carries the labels of its run (LABELS), so a start can sweep what a killed
// run left (sweepLeftovers). Container health checks (a container definition's healthCheck) are run as the ECS
// agent runs them; DescribeTasks shows healthStatus, and a service task that turns UNHEALTHY is replaced.
// This file composes the engine and holds its ECS API overlays (the one list of them, below); the parts, one
// concern each: containers.mjs (a container from a container definition: image, environment and secrets,
// volumes), tasks.mjs (a task's lifecycle, DescribeTasks' view), services.mjs (deployments, circuit breaker,
// scheduler, DescribeServices' view), health.mjs (container health checks), logs.mjs (log shipping), docker.mjs
// (labels, network, sweep); their shared types and helpers in common.mjs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ECSClient, DescribeServicesCommand, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EFSClient } from '@aws-sdk/client-efs';
import { run } from '../proc.mjs';
import { clusterName, sleep } from './common.mjs';
import { RUN_LABEL, labelArgs } from './docker.mjs';
import { containerRuntime } from './containers.mjs';
import { taskLifecycle } from './tasks.mjs';
import { serviceScheduler, TICK_MS } from './services.mjs';

export { LABEL, RUN_LABEL, PID_LABEL, createNetwork, sweepLeftovers } from './docker.mjs';
export { localImage, parseValueFrom } from './containers.mjs';
export { failureThreshold } from './services.mjs';

/**
 * @typedef {import('../fault-proxy.mjs').Rule} Rule
 * @typedef {import('../fault-proxy.mjs').Reply} Reply
 * @typedef {import('./common.mjs').LocalRegistry} LocalRegistry
 * @typedef {import('./common.mjs').LocalAlbLike} LocalAlbLike
 * @typedef {import('./common.mjs').ContainerRec} ContainerRec
 * @typedef {import('./common.mjs').TaskRec} TaskRec
 * @typedef {import('./common.mjs').Deployment} Deployment
 * @typedef {import('./common.mjs').ServiceRec} ServiceRec
 * @typedef {import('./common.mjs').Engine} Engine
 * @typedef {import('./common.mjs').EngineOptions} EngineOptions
 * @typedef {import('./common.mjs').EngineContext} EngineContext
 */

const jsonReply = (/** @type {object} */ body) => ({ status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body) });

/**
 * @param {EngineOptions} o
 * @returns {Promise<Engine>}
 */
export async function startEngine(o) {
  const log = o.log ?? (() => {});
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const cfg = { region: o.region, endpoint: o.motoEndpoint, credentials };
  const aws = { ecs: new ECSClient(cfg), secrets: new SecretsManagerClient(cfg), ssm: new SSMClient(cfg), logs: new CloudWatchLogsClient(cfg), efs: new EFSClient(cfg) };
  const { ecs } = aws;
  const secretDir = fs.mkdtempSync(path.join(os.tmpdir(), 'staging-rollout-dp-'));
  fs.chmodSync(secretDir, 0o700);
  /** @type {Map<string, Promise<any>>} */
  const tdCache = new Map();
  /** @type {Set<Promise<unknown>>} */
  const background = new Set();
  let closed = false;

  const login = await run('docker', ['login', '--username', o.registry.username, '--password-stdin', o.registry.host], { input: o.registry.password });
  if (login.code !== 0) throw new Error(`data plane: docker login to the local registry ${o.registry.host} failed: ${login.stderr.trim()}`);

  /** @type {EngineContext} */
  const ctx = {
    o, log, aws, secretDir,
    caMount: o.caBundle ? ['--mount', `type=bind,src=${o.caBundle},dst=/etc/ssl/certs/ca-certificates.crt,readonly`] : [],
    labelArgs: () => labelArgs(o.runId),
    tasks: new Map(),
    services: new Map(),
    track: (p) => { background.add(p); p.finally(() => background.delete(p)).catch(() => {}); },
    taskDefinition: (arn) => {
      let p = tdCache.get(arn);
      if (!p) {
        p = ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn })).then((r) => r.taskDefinition);
        tdCache.set(arn, p);
        p.catch(() => tdCache.delete(arn));
      }
      return p;
    },
    closed: () => closed,
  };
  const containers = containerRuntime(ctx);
  /** @type {ReturnType<typeof serviceScheduler>} */
  let scheduler;
  const { newTask, stopTask, taskView } = taskLifecycle(ctx, { containers, onTaskStopped: (rec) => scheduler.onTaskStopped(rec) });
  scheduler = serviceScheduler(ctx, { newTask, stopTask });
  const { serviceFrom, deploy, patchService } = scheduler;
  const timer = setInterval(() => { if (!closed) scheduler.tick(); }, TICK_MS);

  // ---- the ECS API overlays ------------------------------------------------------------------------------------

  /** @param {string} body */
  const parse = (body) => { try { return JSON.parse(body || '{}'); } catch { return {}; } };
  /** @param {Reply} r */
  const bodyOf = (r) => parse(Buffer.isBuffer(r.body) ? r.body.toString('utf8') : String(r.body));

  /** @param {string} operation @param {(call: import('../fault-proxy.mjs').Call, forward: () => Promise<Reply>) => Promise<Reply | undefined>} handle @returns {Rule} */
  const overlay = (operation, handle) => ({ name: `dataplane:ecs:${operation}`, service: 'ecs', operation, fault: { kind: 'overlay', handle } });

  /** @type {Rule[]} */
  const overlays = [
    overlay('RunTask', async (call, forward) => {
      const up = await forward();
      if (up.status !== 200) return undefined;
      const req = parse(call.body);
      const res = bodyOf(up);
      res.tasks = (res.tasks ?? []).map((/** @type {any} */ t) => {
        const rec = newTask({ arn: t.taskArn, clusterArn: t.clusterArn, tdArn: t.taskDefinitionArn, startedBy: req.startedBy, overrides: req.overrides, group: req.group, tags: req.tags, exec: req.enableExecuteCommand === true });
        return { ...t, ...taskView(rec) };
      });
      return jsonReply(res);
    }),
    overlay('DescribeTasks', async (call, forward) => {
      const req = parse(call.body);
      const wanted = /** @type {string[]} */ (req.tasks ?? []);
      const mine = wanted.map((a) => [...ctx.tasks.values()].find((t) => t.arn === a || t.id === a));
      if (!mine.some(Boolean)) return undefined;
      const up = mine.every(Boolean) ? { tasks: [], failures: [] } : bodyOf(await forward());
      const ours = new Set(mine.filter(Boolean).map((t) => /** @type {TaskRec} */ (t).arn));
      const theirs = (up.tasks ?? []).filter((/** @type {any} */ t) => !ours.has(t.taskArn));
      return jsonReply({
        tasks: [...mine.filter(Boolean).map((t) => taskView(/** @type {TaskRec} */ (t), { tags: (req.include ?? []).includes('TAGS') })), ...theirs],
        failures: (up.failures ?? []).filter((/** @type {any} */ f) => !wanted.some((a, i) => mine[i] && (f.arn === a || String(f.arn).endsWith(a)))),
      });
    }),
    overlay('ListTasks', async (call) => {
      const req = parse(call.body);
      const cluster = clusterName(req.cluster);
      const status = req.desiredStatus ?? 'RUNNING';
      const family = req.family ? String(req.family).split('/').pop()?.split(':')[0] : null;
      const arns = [...ctx.tasks.values()]
        .filter((t) => clusterName(t.clusterArn) === cluster && t.desiredStatus === status
          && (!req.serviceName || t.service === clusterName(req.serviceName))
          && (!family || t.family === family) && (!req.startedBy || t.startedBy === req.startedBy))
        .sort((a, b) => b.createdAt - a.createdAt).map((t) => t.arn);
      const from = Number(req.nextToken ?? 0) || 0;
      const max = Math.min(Number(req.maxResults ?? 100) || 100, 100);
      const page = arns.slice(from, from + max);
      return jsonReply({ taskArns: page, ...(from + max < arns.length ? { nextToken: String(from + max) } : {}) });
    }),
    overlay('StopTask', async (call, forward) => {
      const req = parse(call.body);
      const rec = [...ctx.tasks.values()].find((t) => t.arn === req.task || t.id === req.task);
      if (!rec) return undefined;
      await forward().catch(() => null);
      stopTask(rec, 'UserInitiated', req.reason ?? 'Task stopped by user');
      return jsonReply({ task: taskView(rec) });
    }),
    overlay('UpdateService', async (call, forward) => {
      const req = parse(call.body);
      const name = clusterName(req.service);
      if (!ctx.services.has(name)) {
        const cur = await ecs.send(new DescribeServicesCommand({ cluster: req.cluster, services: [req.service] }));
        if (cur.services?.[0]) serviceFrom(cur.services[0]);
      }
      const up = await forward();
      if (up.status !== 200) return undefined;
      const res = bodyOf(up);
      const svc = res.service ? serviceFrom(res.service) : ctx.services.get(name);
      if (!svc) return undefined;
      const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
      deploy(svc, req.taskDefinition ? res.service?.taskDefinition ?? req.taskDefinition : primary?.taskDefinition ?? '',
        req.desiredCount ?? svc.desiredCount, req.forceNewDeployment === true);
      if (res.service) patchService(res.service);
      return jsonReply(res);
    }),
    overlay('DescribeServices', async (_call, forward) => {
      const up = await forward();
      if (up.status !== 200) return undefined;
      const res = bodyOf(up);
      for (const s of res.services ?? []) patchService(s);
      return jsonReply(res);
    }),
  ];

  return {
    overlays,
    runContainer: containers.runContainer,
    tasks: () => [...ctx.tasks.values()],
    service: (name) => ctx.services.get(name),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      const ids = (await run('docker', ['ps', '-aq', '--filter', `label=${RUN_LABEL}=${o.runId}`])).stdout.split('\n').filter(Boolean);
      if (ids.length) await run('docker', ['rm', '-f', ...ids]);
      await Promise.race([Promise.allSettled([...background]), sleep(10_000)]);
      const vols = (await run('docker', ['volume', 'ls', '-q', '--filter', `label=${RUN_LABEL}=${o.runId}`])).stdout.split('\n').filter(Boolean);
      if (vols.length) await run('docker', ['volume', 'rm', '-f', ...vols]);
      fs.rmSync(secretDir, { recursive: true, force: true });
      for (const c of Object.values(aws)) c.destroy();
    },
  };
}
