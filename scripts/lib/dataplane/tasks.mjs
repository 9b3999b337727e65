// A task's lifecycle on the local data plane, as ECS runs one: PROVISIONING, PENDING while its containers are
// pulled, created and started (a failure there: STOPPED with TaskFailedToStart and ECS's error wording), RUNNING
// until an essential container exits (EssentialContainerExited) or it is stopped (out of its target group,
// draining for the deregistration delay, SIGTERM, SIGKILL after the stop timeout), then STOPPED once every
// container ended and its logs are shipped. taskView is the task as DescribeTasks shows it.
import { run } from '../proc.mjs';
import { StartFailure, clusterName, hex, nowS, sleep } from './common.mjs';
import { shipLogs } from './logs.mjs';
import { healthArgv, taskHealth, watchHealth } from './health.mjs';

/**
 * @typedef {import('./common.mjs').EngineContext} EngineContext @typedef {import('./common.mjs').TaskRec} TaskRec
 * @typedef {import('./common.mjs').ContainerRec} ContainerRec
 */

/** ECS's default stopTimeout: SIGTERM, then SIGKILL this many seconds later. */
const STOP_TIMEOUT_S = 30;

/**
 * @param {EngineContext} ctx
 * @param {{ containers: ReturnType<typeof import('./containers.mjs').containerRuntime>, onTaskStopped: (rec: TaskRec) => void }} parts
 *   onTaskStopped: called once a service task is STOPPED (the scheduler's books)
 */
export function taskLifecycle(ctx, { containers, onTaskStopped }) {
  const { o, log, tasks, track } = ctx;

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
      const td = await ctx.taskDefinition(rec.tdArn).catch((e) => { throw new StartFailure(`ResourceInitializationError: task definition ${rec.tdArn}: ${e.message}`); });
      rec.family = td.family ?? rec.family;
      const arch = td.runtimePlatform?.cpuArchitecture;
      if (arch && arch !== (process.arch === 'arm64' ? 'ARM64' : process.arch === 'x64' ? 'X86_64' : process.arch)) {
        throw new StartFailure(`the task definition asks for cpuArchitecture ${arch}; the local data plane runs on ${process.arch}`);
      }
      const overrides = /** @type {any} */ (rec.overrides)?.containerOverrides ?? [];
      rec.containers = (td.containerDefinitions ?? []).map((/** @type {any} */ d) => ({
        name: d.name, image: d.image, exitCode: null, reason: null, lastStatus: 'PENDING', essential: d.essential !== false,
        healthStatus: d.healthCheck ? 'UNKNOWN' : null,
      }));
      for (const d of td.containerDefinitions ?? []) {
        if (d.healthCheck) {
          try { healthArgv(d.healthCheck.command ?? []); } catch (e) { throw new StartFailure(`ResourceInitializationError: container ${d.name}: ${/** @type {Error} */ (e).message}`); }
        }
      }
      const mounts = await containers.volumeMounts(td);
      rec.lastStatus = 'PENDING';
      for (const def of td.containerDefinitions ?? []) {
        if (rec.desiredStatus === 'STOPPED') throw new StartFailure(rec.stoppedReason ?? 'stopped before it started');
        const c = /** @type {ContainerRec} */ (rec.containers.find((x) => x.name === def.name));
        const ov = overrides.find((/** @type {any} */ x) => x.name === def.name) ?? {};
        const dockerId = await containers.startContainer(rec, c, def, ov, mounts);
        c.lastStatus = 'RUNNING';
        const logOpts = def.logConfiguration?.logDriver === 'awslogs' ? def.logConfiguration.options ?? {} : null;
        const shipper = logOpts?.['awslogs-group']
          ? shipLogs({ logs: ctx.aws.logs, log }, dockerId, logOpts['awslogs-group'], `${logOpts['awslogs-stream-prefix'] ?? 'ecs'}/${def.name}/${rec.id}`)
          : Promise.resolve();
        started.push({ dockerId, c, def, shipper });
        if (def.healthCheck) track(watchHealth(c, dockerId, def.healthCheck, () => !ctx.closed(), log));
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

  /** @param {TaskRec} t @param {{ tags?: boolean }} [opts] */
  const taskView = (t, opts = {}) => ({
    taskArn: t.arn, clusterArn: t.clusterArn, taskDefinitionArn: t.tdArn, group: t.group, ...(t.startedBy ? { startedBy: t.startedBy } : {}),
    lastStatus: t.lastStatus, desiredStatus: t.desiredStatus, launchType: 'FARGATE', platformVersion: '1.4.0', cpu: undefined,
    createdAt: nowS(t.createdAt), startedAt: nowS(t.startedAt), stoppingAt: nowS(t.stoppingAt), stoppedAt: nowS(t.stoppedAt),
    ...(t.stopCode && t.desiredStatus === 'STOPPED' ? { stopCode: t.stopCode, stoppedReason: t.stoppedReason } : {}),
    healthStatus: taskHealth(t), enableExecuteCommand: t.exec,
    containers: t.containers.map((c) => ({
      name: c.name, image: c.image, lastStatus: c.lastStatus, taskArn: t.arn, ...(c.dockerId ? { runtimeId: c.dockerId } : {}),
      ...(c.exitCode !== null ? { exitCode: c.exitCode } : {}), ...(c.reason ? { reason: c.reason } : {}),
      ...(t.ip ? { networkInterfaces: [{ privateIpv4Address: t.ip }] } : {}), healthStatus: c.healthStatus ?? 'UNKNOWN',
    })),
    ...(t.overrides ? { overrides: t.overrides } : {}),
    ...(opts.tags ? { tags: t.tags } : {}),
  });

  return { newTask, stopTask, taskView };
}
