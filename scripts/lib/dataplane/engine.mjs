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
// run left (sweepLeftovers).
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ECSClient, DescribeServicesCommand, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SSMClient, GetParameterCommand } from '@aws-sdk/client-ssm';
import { CloudWatchLogsClient, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { EFSClient, DescribeAccessPointsCommand } from '@aws-sdk/client-efs';
import { run } from '../proc.mjs';

export const LABEL = 'staging-rollout.dataplane';
export const RUN_LABEL = 'staging-rollout.run';
export const PID_LABEL = 'staging-rollout.pid';

/** ECS's circuit breaker threshold: half the desired count, at least 3 and at most 200 (AWS documentation). */
export const failureThreshold = (/** @type {number} */ desired) => Math.min(200, Math.max(3, Math.ceil(desired * 0.5)));

/** ECS's default stopTimeout: SIGTERM, then SIGKILL this many seconds later. */
const STOP_TIMEOUT_S = 30;
/** a deployment whose tasks keep failing starts its next task no sooner than this after the last failure */
const RESTART_BACKOFF_MS = 1000;
const TICK_MS = 200;
const LOG_FLUSH_MS = 300;

/**
 * @typedef {import('../fault-proxy.mjs').Rule} Rule
 * @typedef {import('../fault-proxy.mjs').Reply} Reply
 * @typedef {{ host: string, username: string, password: string }} LocalRegistry
 * @typedef {object} LocalAlbLike the part of the local ALB (alb.mjs) the engine uses
 * @property {(tgArn: string, t: { id: string, port: number }) => void} register
 * @property {(tgArn: string, t: { id: string, port: number }) => void} deregister
 * @property {(tgArn: string) => { Target?: { Id?: string, Port?: number }, TargetHealth?: { State?: string } }[]} health
 * @property {Map<string, { deregistrationDelaySeconds: number }>} [targetGroups]
 */

/**
 * @typedef {object} ContainerRec
 * @property {string} name
 * @property {string} image   as the task definition names it
 * @property {string} [dockerId]
 * @property {number | null} exitCode
 * @property {string | null} reason
 * @property {string} lastStatus
 * @property {boolean} essential
 */

/**
 * @typedef {object} TaskRec
 * @property {string} arn
 * @property {string} id
 * @property {string} clusterArn
 * @property {string} tdArn
 * @property {string} family
 * @property {string} group
 * @property {string | undefined} startedBy
 * @property {string | null} service      ECS service name for service tasks
 * @property {string | null} deploymentId
 * @property {object | undefined} overrides RunTask overrides
 * @property {{ key: string, value: string }[]} tags RunTask tags (DescribeTasks shows them with include TAGS)
 * @property {ContainerRec[]} containers
 * @property {string} lastStatus
 * @property {string} desiredStatus
 * @property {number} createdAt            epoch ms
 * @property {number | null} startedAt
 * @property {number | null} stoppingAt
 * @property {number | null} stoppedAt
 * @property {string | null} stopCode
 * @property {string | null} stoppedReason
 * @property {string | null} ip
 * @property {{ tgArn: string, port: number } | null} target  registered in the ALB
 * @property {boolean} everHealthy
 * @property {number | null} healthyAt     epoch ms when it first counted as healthy (service tasks)
 * @property {Promise<void>} done          resolves once STOPPED
 * @property {boolean} oneOff
 * @property {boolean} exec                started with enableExecuteCommand (ECS Exec: scripts/lib/dataplane/exec.mjs)
 */

/**
 * @typedef {object} Deployment
 * @property {string} id
 * @property {'PRIMARY'|'ACTIVE'|'INACTIVE'} status
 * @property {string} taskDefinition
 * @property {number} desiredCount
 * @property {number} failedTasks
 * @property {'IN_PROGRESS'|'COMPLETED'|'FAILED'} rolloutState
 * @property {string} rolloutStateReason
 * @property {number} createdAt
 * @property {number} updatedAt
 * @property {number} lastFailureAt
 */

/**
 * @typedef {object} ServiceRec
 * @property {string} name
 * @property {string} arn
 * @property {string} clusterArn
 * @property {number} desiredCount
 * @property {Deployment[]} deployments
 * @property {{ id: string, createdAt: number, message: string }[]} events newest first
 * @property {{ targetGroupArn: string, containerName: string, containerPort: number }[]} loadBalancers
 * @property {{ enable: boolean, rollback: boolean }} circuitBreaker
 * @property {number} graceMs
 * @property {string | null} lastCompletedTd
 * @property {boolean} steady
 */

/**
 * @typedef {object} Engine
 * @property {Rule[]} overlays          install into the fault proxy in front of moto
 * @property {() => TaskRec[]} tasks    every task it started
 * @property {(name: string) => ServiceRec | undefined} service
 * @property {(spec: { taskDefinition: string, container: string, command: string[], input?: string }) => Promise<{ exitCode: number | null, output: string }>} runContainer
 * @property {() => Promise<void>} close stops and removes its containers and volumes; log shippers flushed
 */

const nowS = (/** @type {number | null} */ ms) => (ms === null ? undefined : ms / 1000);
const clusterName = (/** @type {string | undefined} */ c) => (c ?? 'default').split('/').pop() ?? 'default';
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
const jsonReply = (/** @type {object} */ body) => ({ status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body) });
const hex = (/** @type {number} */ n) => crypto.randomBytes(n).toString('hex');

/**
 * A task definition's image on the local registry that stands in for ECR: `<any host>/<repo path>[@digest|:tag]`
 * becomes `<registry host>/<repo path>...`; an image already on the local registry is used as it is.
 * @param {string} image @param {string} registryHost
 */
export function localImage(image, registryHost) {
  const slash = image.indexOf('/');
  if (slash < 0) return image; // a Docker Hub short name: as it is (the pull then says what is missing)
  const host = image.slice(0, slash);
  if (host === registryHost) return image;
  return /[.:]/.test(host) || host === 'localhost' ? `${registryHost}${image.slice(slash)}` : image;
}

/**
 * ECS's `valueFrom`: a Secrets Manager ARN, optionally `:<json-key>:<version-stage>:<version-id>`, or an SSM
 * parameter (ARN or name).
 * @param {string} valueFrom
 * @returns {{ kind: 'secret', secretId: string, jsonKey: string, versionStage: string, versionId: string } | { kind: 'ssm', name: string }}
 */
export function parseValueFrom(valueFrom) {
  const parts = valueFrom.split(':');
  if (parts[0] === 'arn' && parts[2] === 'secretsmanager') {
    const [jsonKey = '', versionStage = '', versionId = ''] = parts.slice(7);
    return { kind: 'secret', secretId: parts.slice(0, 7).join(':'), jsonKey, versionStage, versionId };
  }
  if (parts[0] === 'arn' && parts[2] === 'ssm') return { kind: 'ssm', name: parts.slice(5).join(':').replace(/^parameter/, '') };
  return { kind: 'ssm', name: valueFrom };
}

/** A stop of the task before its container started (ECS: TaskFailedToStart). */
class StartFailure extends Error {}

/**
 * @param {object} o
 * @param {string} o.motoEndpoint     moto_server, for the engine's own calls (never the proxy)
 * @param {string} o.region
 * @param {string} o.runId
 * @param {string} o.network          the Docker bridge network (createNetwork)
 * @param {LocalRegistry} o.registry  the local registry that stands in for ECR, and its login
 * @param {Record<string, string[]>} [o.networkAliases]  ECS service name -> its Cloud Map names (DNS aliases)
 * @param {LocalAlbLike} [o.alb]
 * @param {Record<string, number>} [o.healthCheckGracePeriodSeconds] ECS service name -> seconds (moto drops it)
 * @param {string[]} [o.executeCommandServices] ECS service names whose tasks enable ECS Exec (moto drops it)
 * @param {(task: TaskRec) => Promise<void>} [o.onOneOffExit] awaited after a RunTask container exited and before
 *   DescribeTasks shows the task STOPPED
 * @param {number} [o.stableSeconds] a task counts as healthy once it has run this long (and, behind a load
 *   balancer, its target is healthy). ECS judges steadiness over time too; without it a container that exits a
 *   second after it started would count as healthy and the circuit breaker would never see it. Default 3.
 * @param {string} [o.caBundle] a CA bundle mounted over the image's (/etc/ssl/certs/ca-certificates.crt): the
 *   system's CAs plus the local data stores' own, as the images trust AWS's public CAs on AWS
 * @param {(line: string) => void} [o.log]
 * @returns {Promise<Engine>}
 */
export async function startEngine(o) {
  const log = o.log ?? (() => {});
  const stableMs = 1000 * (o.stableSeconds ?? 3);
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const aws = { region: o.region, endpoint: o.motoEndpoint, credentials };
  const ecs = new ECSClient(aws);
  const secrets = new SecretsManagerClient(aws);
  const ssm = new SSMClient(aws);
  const logs = new CloudWatchLogsClient(aws);
  const efs = new EFSClient(aws);
  const secretDir = fs.mkdtempSync(path.join(os.tmpdir(), 'staging-rollout-dp-'));
  fs.chmodSync(secretDir, 0o700);
  const caMount = o.caBundle ? ['--mount', `type=bind,src=${o.caBundle},dst=/etc/ssl/certs/ca-certificates.crt,readonly`] : [];
  const labels = [LABEL, '1', RUN_LABEL, o.runId, PID_LABEL, String(process.pid)];
  const labelArgs = () => [0, 2, 4].flatMap((i) => ['--label', `${labels[i]}=${labels[i + 1]}`]);
  /** @type {Map<string, TaskRec>} */
  const tasks = new Map();
  /** @type {Map<string, ServiceRec>} */
  const services = new Map();
  /** @type {Map<string, Promise<any>>} */
  const tdCache = new Map();
  /** @type {Map<string, Promise<string>>} */
  const volumes = new Map();
  /** @type {Set<Promise<unknown>>} */
  const background = new Set();
  let closed = false;

  const login = await run('docker', ['login', '--username', o.registry.username, '--password-stdin', o.registry.host], { input: o.registry.password });
  if (login.code !== 0) throw new Error(`data plane: docker login to the local registry ${o.registry.host} failed: ${login.stderr.trim()}`);

  /** @param {Promise<unknown>} p */
  const track = (p) => { background.add(p); p.finally(() => background.delete(p)).catch(() => {}); };

  /** @param {string} arn */
  const taskDefinition = (arn) => {
    let p = tdCache.get(arn);
    if (!p) {
      p = ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn })).then((r) => r.taskDefinition);
      tdCache.set(arn, p);
      p.catch(() => tdCache.delete(arn));
    }
    return p;
  };

  // ---- tasks ----------------------------------------------------------------------------------------------

  /**
   * @param {{ arn?: string, clusterArn: string, tdArn: string, startedBy?: string, service?: string | null, deploymentId?: string | null, overrides?: object, group?: string, tags?: { key: string, value: string }[], exec?: boolean }} spec
   * @returns {TaskRec}
   */
  const newTask = (spec) => {
    const cluster = clusterName(spec.clusterArn);
    const id = spec.arn ? spec.arn.split('/').pop() ?? hex(16) : hex(16);
    const arn = spec.arn ?? `arn:aws:ecs:${o.region}:000000000000:task/${cluster}/${id}`;
    const family = (spec.tdArn.split('/').pop() ?? '').split(':')[0];
    /** @type {() => void} */
    let resolveDone = () => {};
    /** @type {TaskRec} */
    const rec = {
      arn, id, clusterArn: spec.clusterArn, tdArn: spec.tdArn, family,
      group: spec.group ?? (spec.service ? `service:${spec.service}` : `family:${family}`),
      startedBy: spec.startedBy, service: spec.service ?? null, deploymentId: spec.deploymentId ?? null, overrides: spec.overrides, tags: spec.tags ?? [],
      containers: [], lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', createdAt: Date.now(),
      startedAt: null, stoppingAt: null, stoppedAt: null, stopCode: null, stoppedReason: null, ip: null, target: null,
      everHealthy: false, healthyAt: null, done: new Promise((/** @type {(v: void) => void} */ r) => { resolveDone = () => r(); }), oneOff: !spec.service,
      exec: spec.exec ?? Boolean(spec.service && (o.executeCommandServices ?? []).includes(spec.service)),
    };
    Object.defineProperty(rec, 'finish', { value: resolveDone, enumerable: false });
    tasks.set(arn, rec);
    track(launch(rec));
    return rec;
  };

  /** @param {TaskRec} rec @param {string} code @param {string} reason */
  const markStopped = async (rec, code, reason) => {
    if (rec.lastStatus === 'STOPPED') return;
    rec.stopCode ??= code;
    rec.stoppedReason ??= reason;
    rec.desiredStatus = 'STOPPED';
    rec.stoppingAt ??= Date.now();
    if (rec.oneOff && o.onOneOffExit) {
      try { await o.onOneOffExit(rec); } catch (e) { log(`data plane: after task ${rec.id}: ${/** @type {Error} */ (e).message}`); }
    }
    rec.stoppedAt = Date.now();
    rec.lastStatus = 'STOPPED';
    for (const c of rec.containers) c.lastStatus = 'STOPPED';
    /** @type {any} */ (rec).finish();
    onTaskStopped(rec);
  };

  /** @param {TaskRec} rec */
  async function launch(rec) {
    /** @type {{ dockerId: string, c: ContainerRec, def: any, shipper: Promise<void> }[]} */
    const started = [];
    try {
      const td = await taskDefinition(rec.tdArn).catch((e) => { throw new StartFailure(`ResourceInitializationError: task definition ${rec.tdArn}: ${e.message}`); });
      rec.family = td.family ?? rec.family;
      const arch = td.runtimePlatform?.cpuArchitecture;
      if (arch && arch !== (process.arch === 'arm64' ? 'ARM64' : process.arch === 'x64' ? 'X86_64' : process.arch)) {
        throw new StartFailure(`the task definition asks for cpuArchitecture ${arch}; the local data plane runs on ${process.arch}`);
      }
      const overrides = /** @type {any} */ (rec.overrides)?.containerOverrides ?? [];
      rec.containers = (td.containerDefinitions ?? []).map((/** @type {any} */ d) => ({
        name: d.name, image: d.image, exitCode: null, reason: null, lastStatus: 'PENDING', essential: d.essential !== false,
      }));
      const mounts = await volumeMounts(td);
      rec.lastStatus = 'PENDING';
      for (const def of td.containerDefinitions ?? []) {
        if (rec.desiredStatus === 'STOPPED') throw new StartFailure(rec.stoppedReason ?? 'stopped before it started');
        const c = /** @type {ContainerRec} */ (rec.containers.find((x) => x.name === def.name));
        const ov = overrides.find((/** @type {any} */ x) => x.name === def.name) ?? {};
        const env = [...(def.environment ?? []), ...(ov.environment ?? [])];
        const secretEnv = await resolveSecrets(def.secrets ?? []);
        const image = localImage(def.image, o.registry.host);
        const pull = await run('docker', ['pull', '--quiet', image]);
        if (pull.code !== 0) throw new StartFailure(`CannotPullContainerError: pull image ${def.image} (local registry ${image}): ${pull.stderr.trim().split('\n').pop()}`);
        const envFile = path.join(secretDir, `${rec.id}-${def.name}.env`);
        const lines = [...env.map((e) => [e.name, e.value]), ...secretEnv].map(([k, v]) => {
          if (/[\r\n]/.test(String(v))) throw new StartFailure(`ResourceInitializationError: the value of ${k} has a line break, which the local data plane cannot pass`);
          return `${k}=${v}`;
        });
        fs.writeFileSync(envFile, lines.join('\n') + '\n', { mode: 0o600 });
        const aliases = rec.service ? o.networkAliases?.[rec.service] ?? [] : [];
        const entry = /** @type {string[] | undefined} */ (def.entryPoint);
        const command = /** @type {string[]} */ (ov.command ?? def.command ?? []);
        const args = [
          'create', '--name', `sr-${o.runId}-${rec.id.slice(0, 12)}-${def.name}`.replace(/[^a-zA-Z0-9_.-]/g, '-'), ...labelArgs(),
          '--label', `staging-rollout.task=${rec.arn}`, '--network', o.network, ...aliases.flatMap((a) => ['--network-alias', a]),
          '--env-file', envFile, ...(def.linuxParameters?.initProcessEnabled ? ['--init'] : []),
          ...(def.user ? ['--user', def.user] : []), ...(def.workingDirectory ? ['--workdir', def.workingDirectory] : []),
          ...(def.readonlyRootFilesystem ? ['--read-only'] : []), ...caMount,
          ...(def.mountPoints ?? []).flatMap((/** @type {any} */ m) => {
            const src = mounts.get(m.sourceVolume);
            if (src === undefined) throw new StartFailure(`ResourceInitializationError: mount point ${m.containerPath} names volume ${m.sourceVolume}, which the task definition does not declare`);
            return ['--mount', `type=volume,${src ? `src=${src},` : ''}dst=${m.containerPath}${m.readOnly ? ',readonly' : ''}`];
          }),
          ...(entry?.length ? ['--entrypoint', entry[0]] : []), image, ...(entry?.slice(1) ?? []), ...command,
        ];
        const created = await run('docker', args).finally(() => fs.rmSync(envFile, { force: true }));
        if (created.code !== 0) throw new StartFailure(`CannotCreateContainerError: ${created.stderr.trim().split('\n').pop()}`);
        const dockerId = created.stdout.trim();
        c.dockerId = dockerId;
        const begun = await run('docker', ['start', dockerId]);
        if (begun.code !== 0) throw new StartFailure(`CannotStartContainerError: ${begun.stderr.trim().split('\n').pop()}`);
        c.lastStatus = 'RUNNING';
        const logOpts = def.logConfiguration?.logDriver === 'awslogs' ? def.logConfiguration.options ?? {} : null;
        const shipper = logOpts?.['awslogs-group']
          ? shipLogs(dockerId, logOpts['awslogs-group'], `${logOpts['awslogs-stream-prefix'] ?? 'ecs'}/${def.name}/${rec.id}`)
          : Promise.resolve();
        started.push({ dockerId, c, def, shipper });
      }
      const first = started[0];
      if (first) {
        const ip = await run('docker', ['inspect', '--format', `{{(index .NetworkSettings.Networks "${o.network}").IPAddress}}`, first.dockerId]);
        rec.ip = ip.stdout.trim() || null;
      }
      rec.startedAt = Date.now();
      rec.lastStatus = 'RUNNING';
      if (rec.desiredStatus === 'STOPPED') void stopContainers(rec);
    } catch (e) {
      const reason = e instanceof StartFailure ? e.message : `ResourceInitializationError: ${/** @type {Error} */ (e).message}`;
      for (const s of started) await run('docker', ['rm', '-f', s.dockerId]);
      await Promise.all(started.map((s) => s.shipper));
      for (const c of rec.containers) c.lastStatus = 'STOPPED';
      await markStopped(rec, 'TaskFailedToStart', reason);
      return;
    }
    // the task runs until an essential container exits
    const exits = started.map(async (s) => {
      const w = await run('docker', ['wait', s.dockerId]);
      const code = Number(w.stdout.trim());
      const st = await run('docker', ['inspect', '--format', '{{.State.OOMKilled}} {{.State.Error}}', s.dockerId]);
      const [oom, ...err] = st.stdout.trim().split(' ');
      s.c.exitCode = Number.isFinite(code) ? code : null;
      s.c.reason = oom === 'true' ? 'OutOfMemoryError: Container killed due to memory usage' : err.join(' ') || null;
      s.c.lastStatus = 'STOPPED';
      return s;
    });
    const firstExit = await Promise.race(exits.map((p, i) => p.then(() => i)));
    const essentialExited = started[firstExit].c.essential;
    if (essentialExited && rec.desiredStatus !== 'STOPPED') {
      rec.stopCode = 'EssentialContainerExited';
      rec.stoppedReason = 'Essential container in task exited';
      rec.desiredStatus = 'STOPPED';
      rec.stoppingAt = Date.now();
      if (rec.target) { o.alb?.deregister(rec.target.tgArn, { id: /** @type {string} */ (rec.ip), port: rec.target.port }); }
    }
    if (rec.desiredStatus === 'STOPPED') for (const s of started) if (s.c.lastStatus !== 'STOPPED') void run('docker', ['stop', '-t', String(STOP_TIMEOUT_S), s.dockerId]);
    await Promise.all(exits);
    await Promise.all(started.map((s) => s.shipper));
    await markStopped(rec, 'EssentialContainerExited', 'Essential container in task exited');
    for (const s of started) void run('docker', ['rm', '-f', s.dockerId]);
  }

  /** @param {TaskRec} rec */
  const stopContainers = async (rec) => {
    for (const c of rec.containers) if (c.dockerId && c.lastStatus !== 'STOPPED') await run('docker', ['stop', '-t', String(STOP_TIMEOUT_S), c.dockerId]);
  };

  /**
   * Stop a task as ECS does: desired STOPPED, out of its target group (draining for the deregistration delay),
   * then SIGTERM and after the stop timeout SIGKILL.
   * @param {TaskRec} rec @param {string} code @param {string} reason
   */
  const stopTask = (rec, code, reason) => {
    if (rec.desiredStatus === 'STOPPED') return;
    rec.desiredStatus = 'STOPPED';
    rec.stopCode = code;
    rec.stoppedReason = reason;
    rec.stoppingAt = Date.now();
    track((async () => {
      if (rec.target && rec.ip && o.alb) {
        o.alb.deregister(rec.target.tgArn, { id: rec.ip, port: rec.target.port });
        await sleep(1000 * (o.alb.targetGroups?.get(rec.target.tgArn)?.deregistrationDelaySeconds ?? 0));
      }
      if (rec.lastStatus === 'RUNNING') await stopContainers(rec);
    })());
  };

  /** @param {any[]} list @returns {Promise<[string, string][]>} */
  async function resolveSecrets(list) {
    /** @type {Map<string, Promise<string>>} */
    const cache = new Map();
    /** @type {[string, string][]} */
    const out = [];
    for (const s of list) {
      const ref = parseValueFrom(String(s.valueFrom));
      let value;
      try {
        if (ref.kind === 'secret') {
          const key = `${ref.secretId}|${ref.versionStage}|${ref.versionId}`;
          if (!cache.has(key)) {
            cache.set(key, secrets.send(new GetSecretValueCommand({
              SecretId: ref.secretId, ...(ref.versionStage ? { VersionStage: ref.versionStage } : {}), ...(ref.versionId ? { VersionId: ref.versionId } : {}),
            })).then((r) => String(r.SecretString ?? '')));
          }
          const raw = await /** @type {Promise<string>} */ (cache.get(key));
          if (ref.jsonKey) {
            /** @type {any} */
            let json;
            try { json = JSON.parse(raw); } catch { throw new Error(`secret ${ref.secretId} is not JSON, so it has no key ${ref.jsonKey}`); }
            if (json === null || typeof json !== 'object' || !(ref.jsonKey in json)) throw new Error(`secret ${ref.secretId} has no JSON key ${ref.jsonKey}`);
            const v = json[ref.jsonKey];
            value = typeof v === 'string' ? v : JSON.stringify(v);
          } else {
            value = raw;
          }
        } else {
          const r = await ssm.send(new GetParameterCommand({ Name: ref.name, WithDecryption: true }));
          value = String(r.Parameter?.Value ?? '');
        }
      } catch (e) {
        // ECS's wording for a secret it cannot read at task start
        throw new StartFailure(`ResourceInitializationError: unable to pull secrets or registry auth: retrieving ${s.name} from ${ref.kind === 'secret' ? ref.secretId : ref.name}: ${/** @type {Error} */ (e).message}`);
      }
      out.push([s.name, value]);
    }
    return out;
  }

  /**
   * Docker volumes for the task definition's volumes: an EFS volume is one named volume per file system (shared
   * by every task, as EFS is), its root owned by the access point's POSIX user; a volume without configuration is
   * the task's own scratch volume (''); anything else cannot run here, as on Fargate.
   * @param {any} td @returns {Promise<Map<string, string>>}
   */
  async function volumeMounts(td) {
    /** @type {Map<string, string>} */
    const out = new Map();
    for (const v of td.volumes ?? []) {
      if (v.efsVolumeConfiguration) {
        const cfg = v.efsVolumeConfiguration;
        out.set(v.name, await efsVolume(cfg.fileSystemId, cfg.authorizationConfig?.accessPointId));
      } else if (v.host?.sourcePath || v.dockerVolumeConfiguration || v.fsxWindowsFileServerVolumeConfiguration) {
        const kind = v.host?.sourcePath ? 'host' : v.dockerVolumeConfiguration ? 'dockerVolumeConfiguration' : 'fsxWindowsFileServerVolumeConfiguration';
        throw new StartFailure(`ResourceInitializationError: volume ${v.name}: a ${kind} volume is not supported on Fargate (nor on the local data plane)`);
      } else {
        out.set(v.name, '');
      }
    }
    return out;
  }

  /** @param {string} fileSystemId @param {string | undefined} accessPointId */
  function efsVolume(fileSystemId, accessPointId) {
    const key = `${fileSystemId}|${accessPointId ?? ''}`;
    let p = volumes.get(key);
    if (!p) {
      p = (async () => {
        const name = `sr-${o.runId}-efs-${fileSystemId}`;
        const made = await run('docker', ['volume', 'create', ...labelArgs(), name]);
        if (made.code !== 0) throw new StartFailure(`ResourceInitializationError: EFS volume ${fileSystemId}: ${made.stderr.trim()}`);
        if (accessPointId) {
          const ap = (await efs.send(new DescribeAccessPointsCommand({ AccessPointId: accessPointId })).catch(() => null))?.AccessPoints?.[0];
          const owner = ap?.RootDirectory?.CreationInfo ?? ap?.PosixUser;
          const uid = 'OwnerUid' in (owner ?? {}) ? /** @type {any} */ (owner).OwnerUid : /** @type {any} */ (owner)?.Uid;
          const gid = 'OwnerGid' in (owner ?? {}) ? /** @type {any} */ (owner).OwnerGid : /** @type {any} */ (owner)?.Gid;
          if (uid !== undefined) {
            // as the access point's creation info does for its root directory
            const base = await run('docker', ['image', 'ls', '--quiet', '--filter', 'reference=staging-rollout/base:local']);
            const image = base.stdout.trim().split('\n')[0];
            if (image) await run('docker', ['run', '--rm', ...labelArgs(), '--network', 'none', '--mount', `type=volume,src=${name},dst=/v`, image, 'chown', `${uid}:${gid ?? uid}`, '/v']);
          }
        }
        return name;
      })();
      volumes.set(key, p);
    }
    return p;
  }

  /**
   * Follow a container's output into CloudWatch Logs; resolves once the container ended and every line is sent.
   * @param {string} dockerId @param {string} group @param {string} stream
   */
  function shipLogs(dockerId, group, stream) {
    /** @type {{ timestamp: number, message: string }[]} */
    let queue = [];
    let created = false;
    let sending = Promise.resolve();
    const flush = () => {
      sending = sending.then(async () => {
        if (!queue.length) return;
        const batch = queue.sort((a, b) => a.timestamp - b.timestamp).slice(0, 5000);
        queue = queue.slice(batch.length);
        try {
          if (!created) {
            await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream })).catch((e) => {
              if (e.name !== 'ResourceAlreadyExistsException') throw e;
            });
            created = true;
          }
          await logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents: batch }));
        } catch (e) {
          log(`data plane: logs of ${stream} to ${group}: ${/** @type {Error} */ (e).message}`);
        }
        if (queue.length) flush();
      });
      return sending;
    };
    return new Promise((/** @type {(v: void) => void} */ resolve) => {
      const child = spawn('docker', ['logs', '--follow', '--timestamps', dockerId], { stdio: ['ignore', 'pipe', 'pipe'] });
      const timer = setInterval(flush, LOG_FLUSH_MS);
      /** @param {NodeJS.ReadableStream} s */
      const read = (s) => {
        let rest = '';
        s.setEncoding('utf8');
        s.on('data', (/** @type {string} */ d) => {
          rest += d;
          const lines = rest.split('\n');
          rest = lines.pop() ?? '';
          for (const l of lines) push(l);
        });
        s.on('end', () => { if (rest) push(rest); });
      };
      /** @param {string} l */
      const push = (l) => {
        const m = /^(\S+)\s(.*)$/.exec(l);
        const t = m ? Date.parse(m[1]) : NaN;
        const message = (m && Number.isFinite(t) ? m[2] : l).replace(/\r$/, '');
        if (message.length) queue.push({ timestamp: Number.isFinite(t) ? t : Date.now(), message });
      };
      read(/** @type {NodeJS.ReadableStream} */ (child.stdout));
      read(/** @type {NodeJS.ReadableStream} */ (child.stderr));
      child.on('close', () => {
        clearInterval(timer);
        flush().then(() => flush()).then(() => resolve());
      });
    });
  }

  // ---- services ----------------------------------------------------------------------------------------------

  /** @param {any} s moto's Service @returns {ServiceRec} */
  const serviceFrom = (s) => {
    const name = String(s.serviceName);
    let rec = services.get(name);
    if (rec) return rec;
    const cb = s.deploymentConfiguration?.deploymentCircuitBreaker;
    rec = {
      name, arn: s.serviceArn, clusterArn: s.clusterArn, desiredCount: s.desiredCount ?? 0,
      deployments: [{
        id: `ecs-svc/${String(BigInt(`0x${hex(8)}`)).slice(0, 19)}`, status: 'PRIMARY', taskDefinition: s.taskDefinition,
        desiredCount: s.desiredCount ?? 0, failedTasks: 0, rolloutState: 'COMPLETED', rolloutStateReason: 'ECS deployment completed.',
        createdAt: Date.now(), updatedAt: Date.now(), lastFailureAt: 0,
      }],
      events: [],
      loadBalancers: (s.loadBalancers ?? []).filter((/** @type {any} */ l) => l.targetGroupArn),
      circuitBreaker: { enable: cb?.enable ?? true, rollback: cb?.rollback ?? true },
      graceMs: 1000 * (o.healthCheckGracePeriodSeconds?.[name] ?? s.healthCheckGracePeriodSeconds ?? 0),
      lastCompletedTd: s.taskDefinition, steady: true,
    };
    services.set(name, rec);
    return rec;
  };

  /** @param {ServiceRec} svc @param {string} message */
  const event = (svc, message) => {
    svc.events.unshift({ id: crypto.randomUUID(), createdAt: Date.now(), message: `(service ${svc.name}) ${message}` });
    svc.events.length = Math.min(svc.events.length, 100);
  };

  /** @param {ServiceRec} svc @param {string} td @param {number} desired @param {boolean} force */
  const deploy = (svc, td, desired, force) => {
    svc.desiredCount = desired;
    const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
    if (primary && primary.taskDefinition === td && !force) {
      if (primary.desiredCount !== desired) svc.steady = false;
      primary.desiredCount = desired;
      primary.updatedAt = Date.now();
      return;
    }
    for (const d of svc.deployments) if (d.status === 'PRIMARY') d.status = 'ACTIVE';
    svc.deployments.unshift({
      id: `ecs-svc/${String(BigInt(`0x${hex(8)}`)).slice(0, 19)}`, status: 'PRIMARY', taskDefinition: td, desiredCount: desired,
      failedTasks: 0, rolloutState: 'IN_PROGRESS', rolloutStateReason: 'ECS deployment in progress.', createdAt: Date.now(), updatedAt: Date.now(), lastFailureAt: 0,
    });
    svc.steady = false;
  };

  /** @param {Deployment} d */
  const tasksOf = (d) => [...tasks.values()].filter((t) => t.deploymentId === d.id);
  /** @param {ServiceRec} svc @param {TaskRec} t */
  const targetState = (svc, t) => {
    if (!t.target || !o.alb || !t.ip) return null;
    const h = o.alb.health(t.target.tgArn).find((x) => x.Target?.Id === t.ip && x.Target?.Port === t.target?.port);
    return h?.TargetHealth?.State ?? null;
  };
  /** @param {ServiceRec} svc @param {TaskRec} t */
  const healthy = (svc, t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING' && t.startedAt !== null
    && Date.now() - t.startedAt >= stableMs && (!t.target || targetState(svc, t) === 'healthy');

  /** @param {TaskRec} rec */
  function onTaskStopped(rec) {
    if (!rec.service) return;
    const svc = services.get(rec.service);
    const d = svc?.deployments.find((x) => x.id === rec.deploymentId);
    if (!svc || !d) return;
    if (rec.stopCode === 'ServiceSchedulerInitiated' && !/health checks/.test(rec.stoppedReason ?? '')) return;
    if (rec.stopCode === 'UserInitiated') return;
    event(svc, `has stopped 1 running tasks: (task ${rec.id}).`);
    if (d.rolloutState !== 'IN_PROGRESS') return;
    d.failedTasks += 1;
    d.lastFailureAt = Date.now();
    if (svc.circuitBreaker.enable && d.failedTasks >= failureThreshold(d.desiredCount)) trip(svc, d);
  }

  /** @param {ServiceRec} svc @param {Deployment} d */
  function trip(svc, d) {
    d.rolloutState = 'FAILED';
    d.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.';
    d.updatedAt = Date.now();
    event(svc, `(deployment ${d.id}) deployment failed: tasks failed to start.`);
    const back = svc.circuitBreaker.rollback ? svc.lastCompletedTd : null;
    if (d.status === 'PRIMARY' && back && back !== d.taskDefinition) {
      d.status = 'ACTIVE';
      deploy(svc, back, svc.desiredCount, true);
      const primary = /** @type {Deployment} */ (svc.deployments[0]);
      event(svc, `(deployment ${d.id}) rolling back to deployment ${primary.id}.`);
    }
  }

  /** @param {ServiceRec} svc @param {Deployment} d */
  const startServiceTask = (svc, d) => {
    const rec = newTask({ clusterArn: svc.clusterArn, tdArn: d.taskDefinition, startedBy: d.id, service: svc.name, deploymentId: d.id });
    event(svc, `has started 1 tasks: (task ${rec.id}).`);
    const lb = svc.loadBalancers[0];
    if (lb && o.alb) {
      // registered once its container runs (its IP is known), as ECS registers a task's ENI
      const wait = setInterval(() => {
        if (rec.lastStatus === 'RUNNING' && rec.ip && !rec.target && rec.desiredStatus === 'RUNNING') {
          rec.target = { tgArn: lb.targetGroupArn, port: lb.containerPort };
          o.alb?.register(lb.targetGroupArn, { id: rec.ip, port: lb.containerPort });
          event(svc, `registered 1 targets in (target-group ${lb.targetGroupArn})`);
        }
        if (rec.target || rec.lastStatus === 'STOPPED' || closed) clearInterval(wait);
      }, 100);
    }
  };

  /** One pass of every service's scheduler. */
  function tick() {
    for (const svc of services.values()) {
      const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
      if (!primary) continue;
      const live = tasksOf(primary).filter((t) => t.desiredStatus === 'RUNNING');
      for (const t of live) {
        if (healthy(svc, t) && !t.everHealthy) { t.everHealthy = true; t.healthyAt = Date.now(); }
        // ELB health checks fail outside the grace period: the scheduler replaces the task
        if (t.target && t.startedAt && Date.now() - t.startedAt > svc.graceMs && targetState(svc, t) === 'unhealthy') {
          stopTask(t, 'ServiceSchedulerInitiated', `Task failed ELB health checks in (target-group ${t.target.tgArn})`);
        }
      }
      const running = live.filter((t) => t.desiredStatus === 'RUNNING');
      if (primary.rolloutState !== 'FAILED' && running.length < primary.desiredCount && Date.now() - primary.lastFailureAt >= RESTART_BACKOFF_MS) {
        for (let i = running.length; i < primary.desiredCount; i++) startServiceTask(svc, primary);
      }
      for (const t of running.slice(primary.desiredCount)) stopTask(t, 'ServiceSchedulerInitiated', `Scaling activity initiated by (deployment ${primary.id})`);
      const others = svc.deployments.filter((d) => d !== primary && d.status !== 'INACTIVE');
      const ready = running.filter((t) => healthy(svc, t)).length >= primary.desiredCount;
      if (ready || primary.rolloutState === 'FAILED') {
        for (const d of others) {
          for (const t of tasksOf(d)) if (t.desiredStatus === 'RUNNING') stopTask(t, 'ServiceSchedulerInitiated', `Scaling activity initiated by (deployment ${d.id})`);
          if (tasksOf(d).every((t) => t.lastStatus === 'STOPPED')) d.status = 'INACTIVE';
        }
      }
      // a FAILED deployment that is no longer primary leaves once its tasks are gone
      for (const d of others) if (d.rolloutState === 'FAILED' && tasksOf(d).every((t) => t.lastStatus === 'STOPPED')) d.status = 'INACTIVE';
      svc.deployments = svc.deployments.filter((d) => d.status !== 'INACTIVE');
      if (ready && svc.deployments.length === 1 && primary.rolloutState === 'IN_PROGRESS') {
        primary.rolloutState = 'COMPLETED';
        primary.rolloutStateReason = 'ECS deployment completed.';
        primary.updatedAt = Date.now();
        svc.lastCompletedTd = primary.taskDefinition;
      }
      if (ready && svc.deployments.length === 1 && !svc.steady) {
        svc.steady = true;
        event(svc, 'has reached a steady state.');
      }
    }
  }
  const timer = setInterval(() => { if (!closed) tick(); }, TICK_MS);

  // ---- views -------------------------------------------------------------------------------------------------

  /** @param {TaskRec} t @param {{ tags?: boolean }} [opts] */
  const taskView = (t, opts = {}) => ({
    taskArn: t.arn, clusterArn: t.clusterArn, taskDefinitionArn: t.tdArn, group: t.group, ...(t.startedBy ? { startedBy: t.startedBy } : {}),
    lastStatus: t.lastStatus, desiredStatus: t.desiredStatus, launchType: 'FARGATE', platformVersion: '1.4.0', cpu: undefined,
    createdAt: nowS(t.createdAt), startedAt: nowS(t.startedAt), stoppingAt: nowS(t.stoppingAt), stoppedAt: nowS(t.stoppedAt),
    ...(t.stopCode && t.desiredStatus === 'STOPPED' ? { stopCode: t.stopCode, stoppedReason: t.stoppedReason } : {}),
    healthStatus: 'UNKNOWN', enableExecuteCommand: t.exec,
    containers: t.containers.map((c) => ({
      name: c.name, image: c.image, lastStatus: c.lastStatus, taskArn: t.arn, ...(c.dockerId ? { runtimeId: c.dockerId } : {}),
      ...(c.exitCode !== null ? { exitCode: c.exitCode } : {}), ...(c.reason ? { reason: c.reason } : {}),
      ...(t.ip ? { networkInterfaces: [{ privateIpv4Address: t.ip }] } : {}), healthStatus: 'UNKNOWN',
    })),
    ...(t.overrides ? { overrides: t.overrides } : {}),
    ...(opts.tags ? { tags: t.tags } : {}),
  });

  /** @param {ServiceRec} svc @param {Deployment} d */
  const deploymentView = (svc, d) => {
    const ts = tasksOf(d).filter((t) => t.desiredStatus === 'RUNNING');
    return {
      id: d.id, status: d.status, taskDefinition: d.taskDefinition, desiredCount: d.desiredCount,
      pendingCount: ts.filter((t) => t.lastStatus !== 'RUNNING').length, runningCount: ts.filter((t) => t.lastStatus === 'RUNNING').length,
      failedTasks: d.failedTasks, createdAt: nowS(d.createdAt), updatedAt: nowS(d.updatedAt), launchType: 'FARGATE',
      rolloutState: d.rolloutState, rolloutStateReason: d.rolloutStateReason,
    };
  };

  /** @param {any} s moto's service, patched in place */
  const patchService = (s) => {
    const svc = serviceFrom(s);
    const deployments = svc.deployments.map((d) => deploymentView(svc, d));
    s.deployments = deployments;
    s.taskDefinition = svc.deployments.find((d) => d.status === 'PRIMARY')?.taskDefinition ?? s.taskDefinition;
    s.runningCount = deployments.reduce((n, d) => n + d.runningCount, 0);
    s.pendingCount = deployments.reduce((n, d) => n + d.pendingCount, 0);
    s.events = svc.events.map((e) => ({ id: e.id, createdAt: nowS(e.createdAt), message: e.message }));
    return s;
  };

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
      const mine = wanted.map((a) => [...tasks.values()].find((t) => t.arn === a || t.id === a));
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
      const arns = [...tasks.values()]
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
      const rec = [...tasks.values()].find((t) => t.arn === req.task || t.id === req.task);
      if (!rec) return undefined;
      await forward().catch(() => null);
      stopTask(rec, 'UserInitiated', req.reason ?? 'Task stopped by user');
      return jsonReply({ task: taskView(rec) });
    }),
    overlay('UpdateService', async (call, forward) => {
      const req = parse(call.body);
      const name = clusterName(req.service);
      if (!services.has(name)) {
        const cur = await ecs.send(new DescribeServicesCommand({ cluster: req.cluster, services: [req.service] }));
        if (cur.services?.[0]) serviceFrom(cur.services[0]);
      }
      const up = await forward();
      if (up.status !== 200) return undefined;
      const res = bodyOf(up);
      const svc = res.service ? serviceFrom(res.service) : services.get(name);
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

  /**
   * A plain one-off container from a task definition's container (its image, environment and resolved secrets),
   * the command overridden and `input` on stdin: an operator's step on the data plane (e.g. creating the smoke
   * user, as docs/app-contract.md tells operators to do in a one-off task). Not an ECS task.
   * @param {{ taskDefinition: string, container: string, command: string[], input?: string }} spec
   * @returns {Promise<{ exitCode: number | null, output: string }>}
   */
  async function runContainer(spec) {
    const td = await taskDefinition(spec.taskDefinition);
    const def = (td.containerDefinitions ?? []).find((/** @type {any} */ c) => c.name === spec.container);
    if (!def) throw new Error(`data plane: ${spec.taskDefinition} has no container ${spec.container}`);
    const secretEnv = await resolveSecrets(def.secrets ?? []);
    const envFile = path.join(secretDir, `run-${hex(6)}.env`);
    fs.writeFileSync(envFile, [...(def.environment ?? []).map((/** @type {any} */ e) => [e.name, e.value]), ...secretEnv].map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
    try {
      const image = localImage(def.image, o.registry.host);
      const r = await run('docker', ['run', '--rm', '-i', ...labelArgs(), '--network', o.network, '--env-file', envFile, ...caMount, image, ...spec.command], { input: spec.input ?? '' });
      return { exitCode: r.code, output: `${r.stdout}${r.stderr}` };
    } finally {
      fs.rmSync(envFile, { force: true });
    }
  }

  return {
    overlays,
    runContainer,
    tasks: () => [...tasks.values()],
    service: (name) => services.get(name),
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
      for (const c of [ecs, secrets, ssm, logs, efs]) c.destroy();
    },
  };
}

/**
 * A user-defined bridge network for one run (never the host network); its gateway is the host's address the
 * containers reach the data stores on.
 * @param {string} runId
 * @returns {Promise<{ name: string, gateway: string, subnet: string, remove: () => Promise<void> }>}
 */
export async function createNetwork(runId) {
  const name = `staging-rollout-dp-${runId}`;
  const made = await run('docker', ['network', 'create', '--driver', 'bridge', '--label', `${LABEL}=1`, '--label', `${RUN_LABEL}=${runId}`, '--label', `${PID_LABEL}=${process.pid}`, name]);
  if (made.code !== 0) throw new Error(`data plane: docker network create ${name} failed: ${made.stderr.trim()}`);
  const inspect = await run('docker', ['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', name]);
  const [subnet, gateway] = inspect.stdout.trim().split(/\s+/);
  if (!gateway) throw new Error(`data plane: network ${name} has no gateway address (${inspect.stdout.trim() || inspect.stderr.trim()})`);
  return { name, gateway, subnet, remove: async () => { await run('docker', ['network', 'rm', name]); } };
}

/**
 * Remove the containers, volumes and networks of data-plane runs whose process is gone (a killed run).
 * @param {{ log?: (line: string) => void }} [o]
 * @returns {Promise<number>} how many things were removed
 */
export async function sweepLeftovers({ log = () => {} } = {}) {
  const alive = (/** @type {string} */ pid) => {
    const n = Number(pid);
    if (!n) return false;
    try { process.kill(n, 0); return true; } catch (e) { return /** @type {NodeJS.ErrnoException} */ (e).code === 'EPERM'; }
  };
  let removed = 0;
  const fmt = `{{.ID}} {{.Label "${PID_LABEL}"}}`;
  for (const [list, rm] of /** @type {const} */ ([
    [['ps', '-a', '--filter', `label=${LABEL}`, '--format', fmt], ['rm', '-f']],
    [['volume', 'ls', '--filter', `label=${LABEL}`, '--format', `{{.Name}} {{.Label "${PID_LABEL}"}}`], ['volume', 'rm', '-f']],
    [['network', 'ls', '--filter', `label=${LABEL}`, '--format', fmt], ['network', 'rm']],
  ])) {
    const r = await run('docker', [...list]);
    const dead = r.stdout.split('\n').filter(Boolean).map((l) => l.split(' ')).filter(([, pid]) => !alive(pid)).map(([id]) => id);
    if (dead.length) {
      await run('docker', [...rm, ...dead]);
      removed += dead.length;
    }
  }
  if (removed) log(`data plane: removed ${removed} container(s), volume(s) and network(s) a previous run left`);
  return removed;
}
