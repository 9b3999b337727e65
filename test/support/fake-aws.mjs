// Test helper (not a test): a scripted, stateful fake of the AWS calls the runner makes, plus a virtual clock.
// The clients are real SDK clients (runner/aws/clients.mjs) whose network is replaced by a transport
// middleware inside the SDK's retry middleware: a throttled answer is retried by the SDK's strategy (with the
// runner's default attempts, and no backoff delay here). Every attempt is recorded with the step that made it.
import { createAwsClients } from '../../runner/aws/clients.mjs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STEPS } from '../../runner/steps/index.mjs';
import { outputsFile } from './staging-config.cjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// the outputs of the config under test (test/support/staging-config.cjs): `terraform output -json` form, and its values
export const OUTPUTS_FILE = outputsFile('foundation.json');
export const OUTPUTS = Object.fromEntries(
  Object.entries(JSON.parse(readFileSync(path.resolve(ROOT, OUTPUTS_FILE), 'utf8'))).map(([k, v]) => [k, v.value]),
);
const ACCOUNT = OUTPUTS.cluster_arn.split(':')[4];
const REGION = OUTPUTS.region;
/** ECR repository name -> image key, from the outputs' repository URLs (host/name) */
const IMAGE_OF_REPOSITORY = Object.fromEntries(Object.entries(OUTPUTS.repository_urls).map(([k, url]) => [url.slice(url.indexOf('/') + 1), k]));

/** A virtual clock: sleep advances time at once. */
export function fakeClock(start = Date.UTC(2026, 0, 1)) {
  let t = start;
  return {
    now: () => t,
    sleep: async (ms, signal) => {
      if (signal?.aborted) {
        const { InterruptedError } = await import('../../runner/lib/errors.mjs');
        throw new InterruptedError();
      }
      t += ms;
      await Promise.resolve();
    },
    advance: (ms) => { t += ms; },
  };
}

/** An error as the SDK raises it for an AWS answer (4xx: a client fault, 5xx: a server fault). */
export function awsError(name, message = name, httpStatusCode = 400) {
  const e = new Error(message);
  e.name = name;
  e.$metadata = { httpStatusCode };
  e.$fault = httpStatusCode >= 500 ? 'server' : 'client';
  return e;
}

/** HTTP 503 ServiceUnavailable, retried by the SDK. */
export const serverError = () => awsError('ServiceUnavailable', 'injected server error', 503);

/**
 * @param {object} [opts]
 * @param {Record<string, (svc, world) => void>} [opts.serviceScript] ecsName -> advance function per DescribeServices
 */
export function fakeWorld(opts = {}) {
  const world = {
    step: null,
    calls: [],
    ledgerCalls: [], // SSM Parameter Store calls (runner/ledger), apart from the stack's calls
    tds: new Map(), // family -> [td]
    services: new Map(), // ecsName -> svc
    tasks: new Map(),
    logEvents: [], // strings the migration prints
    migrationExit: 0,
    migrationStopCode: 'EssentialContainerExited',
    migrationDescribesUntilStop: 2,
    runTaskFailures: null,
    throttle: new Map(), // command name -> remaining throttling errors
    // operation -> (input, world) => an error to answer with before the call is applied (or nothing)
    faults: new Map(),
    // operation -> async (input, output, world) => run after the call was applied, before its reply: may wait
    // (a reply in flight), or return an error to answer with instead of the reply (applied, reply lost)
    afterApply: new Map(),
    targetHealth: new Map(), // tg arn -> fn(world) -> descriptions
    mountTargets: [{ MountTargetId: 'fsmt-1', LifeCycleState: 'available' }, { MountTargetId: 'fsmt-2', LifeCycleState: 'available' }],
    images: { api: 'sha256:' + 'a'.repeat(64), frontend: 'sha256:' + 'b'.repeat(64), admin: 'sha256:' + 'c'.repeat(64), anisette: 'sha256:' + 'd'.repeat(64) },
    serviceScript: opts.serviceScript ?? {},
    deploymentSeq: 0,
    // secret ARN -> { current: boolean | (world) => boolean, deleted?: true, missing?: true }; default: current
    secrets: new Map(),
  };
  const catalog = Object.values(OUTPUTS.service_catalog);
  const families = [...catalog.map((s) => ({ family: s.task_family, container: s.container_name, image: s.image })), { family: OUTPUTS.migration_task_family, container: OUTPUTS.migration_container_name, image: 'api' }];
  for (const f of families) {
    world.tds.set(f.family, [makeTd(f.family, 1, [{
      name: f.container, image: `${OUTPUTS.repository_urls[f.image]}:bootstrap`, essential: true, cpu: 0,
      // the stack sets memoryReservation = task memory; containerMemory: null models a family without it
      ...(opts.containerMemory === null ? {} : { memoryReservation: opts.containerMemory ?? 512 }),
      environment: [], mountPoints: [], volumesFrom: [], portMappings: [],
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': `/ecs/staging/${f.container}`, 'awslogs-region': REGION, 'awslogs-stream-prefix': 'ecs' } },
    }])]);
  }
  for (const s of catalog) {
    const td = world.tds.get(s.task_family)[0].taskDefinitionArn;
    world.services.set(s.ecs_service_name, {
      serviceName: s.ecs_service_name, serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/staging/${s.ecs_service_name}`,
      status: 'ACTIVE', taskDefinition: td, desiredCount: 0, runningCount: 0, events: [{ createdAt: new Date(0), message: `(service ${s.ecs_service_name}) has reached a steady state.` }],
      deployments: [{ id: 'ecs-svc/0', status: 'PRIMARY', taskDefinition: td, rolloutState: 'COMPLETED', runningCount: 0, desiredCount: 0, failedTasks: 0 }],
    });
    if (s.target_group_arn) world.targetHealth.set(s.target_group_arn, () => Array.from({ length: s.desired_count }, (_, i) => ({ Target: { Id: `10.0.0.${i + 1}`, Port: s.port }, TargetHealth: { State: 'healthy' } })));
  }

  function makeTd(family, revision, containerDefinitions) {
    return {
      taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`,
      family, revision, status: 'ACTIVE', networkMode: 'awsvpc', requiresCompatibilities: ['FARGATE'], cpu: '256', memory: '512',
      executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/staging-exec`, taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/staging-task`,
      containerDefinitions, volumes: [], compatibilities: ['EC2', 'FARGATE'], registeredAt: new Date(0),
    };
  }

  /** operation name -> handler(input) */
  const handlers = new Map();
  const clients = createAwsClients({
    region: REGION,
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    retry: { baseDelayMs: 0 },
    transport: async ({ client, operation, input }) => {
      const fn = handlers.get(operation);
      if (!fn) throw awsError('UnknownOperationException', `the fake AWS does not answer ${operation}`);
      // the release ledger's calls (SSM) go to world.ledgerCalls: world.calls is what a run did to the stack
      (client === 'ssm' ? world.ledgerCalls : world.calls).push({ step: world.step, op: operation, input });
      const left = world.throttle.get(operation) ?? 0;
      if (left > 0) {
        world.throttle.set(operation, left - 1);
        throw awsError('ThrottlingException', 'Rate exceeded');
      }
      const fault = world.faults.get(operation)?.(input, world);
      if (fault) throw fault;
      const output = await fn(input);
      const lost = await world.afterApply.get(operation)?.(input, output, world);
      if (lost) throw lost;
      return output;
    },
  });
  const on = (_client, op, fn) => handlers.set(op, fn);

  on('ecr', 'DescribeImages', (input) => {
    const key = IMAGE_OF_REPOSITORY[input.repositoryName];
    return { imageDetails: [{ imageDigest: world.images[key], imageTags: [input.imageIds[0].imageTag] }] };
  });
  // --- rollback (test/unit/rollback.test.mjs): DescribeImages by digest; world.goneDigests: digests deleted from ECR ---
  world.goneDigests = new Set();
  const byTag = handlers.get('DescribeImages');
  on('ecr', 'DescribeImages', (input) => {
    if (!input.imageIds.some((i) => i.imageDigest)) return byTag(input);
    const gone = input.imageIds.find((i) => world.goneDigests.has(i.imageDigest));
    if (gone) throw awsError('ImageNotFoundException', `The image with imageId {imageDigest:'${gone.imageDigest}'} does not exist within the repository with name '${input.repositoryName}'`);
    return { imageDetails: input.imageIds.map((i) => ({ repositoryName: input.repositoryName, imageDigest: i.imageDigest })) };
  });
  // --- end rollback ---
  on('ecs', 'DescribeTaskDefinition', (input) => {
    const [fam, rev] = input.taskDefinition.split('/').pop().split(':');
    const list = world.tds.get(fam);
    if (!list) throw awsError('ClientException', 'Unable to describe task definition.');
    const td = rev ? list.find((t) => t.revision === Number(rev)) : list[list.length - 1];
    return { taskDefinition: structuredClone(td), tags: [{ key: 'Project', value: 'staging-rollout' }] };
  });
  on('ecs', 'ListTaskDefinitions', (input) => ({
    taskDefinitionArns: [...(world.tds.get(input.familyPrefix) ?? [])].reverse().map((t) => t.taskDefinitionArn),
  }));
  on('ecs', 'RegisterTaskDefinition', (input) => {
    const list = world.tds.get(input.family);
    const { tags, ...rest } = input;
    const td = { ...makeTd(input.family, list.length + 1, []), ...structuredClone(rest) };
    list.push(td);
    return { taskDefinition: structuredClone(td) };
  });
  on('ecs', 'ListTasks', (input) => ({
    taskArns: [...world.tasks.values()].filter((t) => (!input.startedBy || t.startedBy === input.startedBy)
      && (!input.family || t.taskDefinitionArn.split('/').pop().split(':')[0] === input.family)
      && (!input.serviceName || t.group === `service:${input.serviceName}`)
      && (!input.desiredStatus || t.desiredStatus === input.desiredStatus)).map((t) => t.taskArn),
  }));
  on('ecs', 'RunTask', (input) => {
    if (world.runTaskFailures) return { tasks: [], failures: world.runTaskFailures };
    // idempotency as ECS keeps it: the same clientToken starts no second task
    const same = input.clientToken && [...world.tasks.values()].find((t) => t.input?.clientToken === input.clientToken);
    if (same) return { tasks: [pub(same)], failures: [] };
    const id = `task${world.tasks.size + 1}`;
    const task = {
      taskArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/staging/${id}`, taskDefinitionArn: input.taskDefinition, lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING', startedBy: input.startedBy, tags: input.tags, group: 'family:migration', describes: 0, input,
      containers: [{ name: input.overrides.containerOverrides[0].name, lastStatus: 'PENDING' }],
    };
    world.tasks.set(task.taskArn, task);
    return { tasks: [pub(task)], failures: [] };
  });
  on('ecs', 'DescribeTasks', (input) => {
    const out = [];
    for (const arn of input.tasks) {
      // an ARN or, as ECS takes it too, a task id
      const t = world.tasks.get(arn) ?? [...world.tasks.values()].find((x) => x.taskArn.endsWith(`/${arn}`));
      if (!t) continue;
      t.describes += 1;
      if (t.lastStatus !== 'STOPPED' && !t.service) { // a service's task (world.tasks entries with `service`) keeps running
        if (t.describes >= world.migrationDescribesUntilStop) {
          Object.assign(t, { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: world.migrationStopCode, stoppedReason: world.migrationStopCode === 'TaskFailedToStart' ? 'CannotPullContainerError: pull image manifest has been retried 5 time(s)' : 'Essential container in task exited' });
          t.containers = t.containers.map((c) => ({ ...c, lastStatus: 'STOPPED', ...(world.migrationExit === undefined || world.migrationStopCode === 'TaskFailedToStart' ? {} : { exitCode: world.migrationExit }) }));
        } else {
          t.lastStatus = 'RUNNING';
        }
      }
      out.push(pub(t));
    }
    return { tasks: out, failures: [] };
  });
  const pub = (t) => { const { describes, input, service, ...rest } = t; return structuredClone(rest); };
  // ECS Exec (runner/verbs/exec.mjs): world.execCalls records each call; world.execAnswer(input) may answer instead
  world.execCalls = [];
  on('ecs', 'ExecuteCommand', (input) => {
    world.execCalls.push(input);
    return world.execAnswer?.(input) ?? {
      clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${input.cluster}`, taskArn: input.task, containerName: input.container, interactive: true,
      session: { sessionId: `ecs-execute-command-${world.execCalls.length}`, streamUrl: `wss://ssmmessages.${REGION}.amazonaws.com/v1/data-channel/s${world.execCalls.length}`, tokenValue: 'TOKEN-SECRET' },
    };
  });

  on('logs', 'GetLogEvents', (input) => {
    const start = input.nextToken ? Number(input.nextToken.slice(2)) : 0;
    const events = world.logEvents.slice(start, start + 2).map((m, i) => ({ timestamp: i, message: m }));
    return { events, nextForwardToken: `f/${start + events.length}` };
  });

  // world.logStore: CloudWatch Logs events { group, stream, timestamp, message } (the logs verb); FilterLogEvents in
  // time order, pages of 3 events (nextToken: the index of the next one), as CloudWatch filters them (world.logsIgnorePrefix:
  // as moto does, logStreamNamePrefix ignored)
  world.logStore = [];
  on('logs', 'FilterLogEvents', (input) => {
    const all = world.logStore.map((e, i) => ({ ...e, eventId: `ev${i}` })).filter((e) => e.group === input.logGroupName
      && (!input.logStreamNames || input.logStreamNames.includes(e.stream))
      && (!input.logStreamNamePrefix || world.logsIgnorePrefix || e.stream.startsWith(input.logStreamNamePrefix))
      && (input.startTime === undefined || e.timestamp >= input.startTime)).sort((a, b) => a.timestamp - b.timestamp);
    const from = input.nextToken ? Number(input.nextToken) : 0;
    const page = all.slice(from, from + 3);
    return {
      events: page.map((e) => ({ logStreamName: e.stream, timestamp: e.timestamp, message: e.message, eventId: e.eventId, ingestionTime: e.timestamp })),
      ...(from + 3 < all.length ? { nextToken: String(from + 3) } : {}),
    };
  });

  on('ecs', 'UpdateService', (input) => {
    const svc = world.services.get(input.service);
    const changedTd = input.taskDefinition && input.taskDefinition !== svc.taskDefinition;
    svc.desiredCount = input.desiredCount;
    if (changedTd || input.forceNewDeployment) {
      for (const d of svc.deployments) d.status = 'ACTIVE';
      svc.deployments.unshift({ id: `ecs-svc/${++world.deploymentSeq}`, status: 'PRIMARY', taskDefinition: input.taskDefinition, rolloutState: 'IN_PROGRESS', runningCount: 0, desiredCount: input.desiredCount, failedTasks: 0 });
      svc.taskDefinition = input.taskDefinition;
    }
    svc.updated = (svc.updated ?? 0) + 1;
    svc.polls = 0;
    return { service: structuredClone(svc) };
  });
  const defaultScript = (svc) => {
    // second poll after an update: the new deployment completed
    const p = svc.deployments[0];
    if (svc.polls >= 2) {
      svc.deployments = [{ ...p, rolloutState: 'COMPLETED', runningCount: svc.desiredCount }];
      svc.runningCount = svc.desiredCount;
    } else {
      p.runningCount = 0;
    }
  };
  on('ecs', 'DescribeServices', (input) => {
    if (input.services.length > 10) throw awsError('InvalidParameterException', 'more than 10 services');
    const services = [];
    for (const n of input.services) {
      const svc = world.services.get(n);
      if (!svc) continue;
      if (svc.updated) {
        svc.polls += 1;
        (world.serviceScript[n] ?? defaultScript)(svc, world);
      }
      const { updated, polls, ...pubSvc } = svc;
      services.push(structuredClone(pubSvc));
    }
    const failures = input.services.filter((n) => !world.services.has(n)).map((n) => ({ arn: n, reason: 'MISSING' }));
    return { services, failures };
  });
  on('elbv2', 'DescribeTargetHealth', (input) => ({ TargetHealthDescriptions: (world.targetHealth.get(input.TargetGroupArn) ?? (() => []))(world) }));
  on('secrets', 'DescribeSecret', (input) => {
    const s = world.secrets.get(input.SecretId) ?? { current: true };
    if (s.missing) throw awsError('ResourceNotFoundException', 'Secrets Manager can\'t find the specified secret.');
    const current = typeof s.current === 'function' ? s.current(world) : s.current;
    return {
      ARN: input.SecretId, Name: input.SecretId.split(':').pop(), ...(s.deleted ? { DeletedDate: new Date(0) } : {}),
      ...(current ? { VersionIdsToStages: { v1: ['AWSCURRENT'] }, LastChangedDate: new Date(0) } : {}),
    };
  });
  on('efs', 'DescribeMountTargets', () => ({ MountTargets: world.mountTargets }));

  // ---- SSM Parameter Store (the release ledger, runner/ledger) -------------------------------------------------
  // world.parameters: name -> { value, version, history: [values] } ; GetParametersByPath pages of MaxResults
  // (<= 10) in name order, NextToken = the index of the next parameter; a value over 4096 bytes is refused as SSM does.
  world.parameters = new Map();
  on('ssm', 'PutParameter', (input) => {
    if (Buffer.byteLength(input.Value, 'utf8') > 4096) throw awsError('ValidationException', 'Standard tier parameters support a maximum parameter value of 4096 characters.');
    const have = world.parameters.get(input.Name);
    if (have && !input.Overwrite) throw awsError('ParameterAlreadyExists', 'The parameter already exists.');
    const p = have ?? { value: null, version: 0, history: [] };
    Object.assign(p, { value: input.Value, version: p.version + 1 });
    p.history.push(input.Value);
    world.parameters.set(input.Name, p);
    return { Version: p.version, Tier: 'Standard' };
  });
  on('ssm', 'GetParameter', (input) => {
    const p = world.parameters.get(input.Name);
    if (!p) throw awsError('ParameterNotFound', 'ParameterNotFound');
    return { Parameter: { Name: input.Name, Type: 'String', Value: p.value, Version: p.version } };
  });
  on('ssm', 'GetParametersByPath', (input) => {
    const max = input.MaxResults ?? 10;
    if (max > 10) throw awsError('ValidationException', 'MaxResults must be <= 10');
    const prefix = `${input.Path.replace(/\/$/, '')}/`;
    const names = [...world.parameters.keys()].filter((n) => n.startsWith(prefix) && (input.Recursive || !n.slice(prefix.length).includes('/'))).sort();
    const from = input.NextToken ? Number(input.NextToken) : 0;
    const page = names.slice(from, from + max);
    return {
      Parameters: page.map((n) => ({ Name: n, Type: 'String', Value: world.parameters.get(n).value, Version: world.parameters.get(n).version })),
      ...(from + max < names.length ? { NextToken: String(from + max) } : {}),
    };
  });
  on('ssm', 'DeleteParameter', (input) => {
    if (!world.parameters.delete(input.Name)) throw awsError('ParameterNotFound', 'ParameterNotFound');
    return {};
  });
  on('ssm', 'DeleteParameters', (input) => {
    if (input.Names.length > 10) throw awsError('ValidationException', 'at most 10 names');
    const DeletedParameters = input.Names.filter((n) => world.parameters.delete(n));
    return { DeletedParameters, InvalidParameters: input.Names.filter((n) => !DeletedParameters.includes(n)) };
  });
  // ---- end of SSM Parameter Store ------------------------------------------------------------------------------

  /** Step registry (kind -> module) that tags AWS calls with the running step; `extra` replaces modules (null: absent). */
  const steps = (extra = {}) => Object.fromEntries(Object.entries({ ...STEPS, ...extra }).map(([kind, mod]) => [kind, mod && {
    run: async (ctx) => { world.step = ctx.step.id; try { return await mod.run(ctx); } finally { world.step = null; } },
    ...('checkInputs' in mod ? { checkInputs: mod.checkInputs } : {}),
  }]));
  return { world, clients, steps };
}

/** Steps (ids) that made at least one AWS call. */
export function stepsThatCalled(world) {
  return [...new Set(world.calls.map((c) => c.step))];
}
