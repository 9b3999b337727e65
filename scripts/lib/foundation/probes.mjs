// SDK probes of what the apply left in the emulator's ECS: a snapshot before any suite changes it, and a
// release-like change of one service around a re-plan (then put back as Terraform left it).
import {
  ECSClient,
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  DeregisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';

/** An ECS client on the emulator (moto's dummy credentials). @param {{ endpoint: string, region: string }} opts */
const emulatorEcs = (opts) =>
  new ECSClient({ endpoint: opts.endpoint, region: opts.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

/**
 * What ECS holds right after the apply, before any suite changes it (the runner tests update services):
 * the cluster and, for every enabled catalog service, its ECS service and task-definition family.
 * @param {{ endpoint: string, region: string, outputs: Record<string, { value: any }> }} opts
 * @returns {Promise<{ cluster: { name: string, status?: string } | null, services: Record<string, any>, taskDefinitions: Record<string, any> }>}
 */
export async function snapshotEcs(opts) {
  const ecs = emulatorEcs(opts);
  try {
    const clusterName = opts.outputs.cluster_name?.value;
    const catalog = opts.outputs.service_catalog?.value;
    if (typeof clusterName !== 'string' || !catalog) return { cluster: null, services: {}, taskDefinitions: {} };
    const c = await ecs.send(new DescribeClustersCommand({ clusters: [clusterName] }));
    const entries = Object.values(/** @type {Record<string, any>} */ (catalog)).filter((e) => e.enabled);
    /** @type {Record<string, any>} */
    const services = {};
    const names = entries.map((e) => e.ecs_service_name);
    for (let i = 0; i < names.length; i += 10) {
      const r = await ecs.send(new DescribeServicesCommand({ cluster: clusterName, services: names.slice(i, i + 10) }));
      for (const s of r.services ?? []) {
        services[/** @type {string} */ (s.serviceName)] = {
          status: s.status,
          desiredCount: s.desiredCount,
          taskDefinition: s.taskDefinition,
          deploymentCircuitBreaker: s.deploymentConfiguration?.deploymentCircuitBreaker ?? null,
        };
      }
    }
    /** @type {Record<string, any>} */
    const taskDefinitions = {};
    for (const e of entries) {
      const r = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: e.task_family }));
      taskDefinitions[e.task_family] = {
        revision: r.taskDefinition?.revision,
        containers: (r.taskDefinition?.containerDefinitions ?? []).map((d) => ({ name: d.name, image: d.image })),
      };
    }
    return { cluster: { name: clusterName, status: c.clusters?.[0]?.status }, services, taskDefinitions };
  } finally {
    ecs.destroy();
  }
}

/**
 * Act like a release on one ECS service (new task-definition revision + desired count 1), as the runner does,
 * run `fn` (a re-plan), then put the service back as Terraform left it and deregister the probe revision.
 * Proves with real Terraform that a later deploy leaves release-owned attributes alone.
 * @template T
 * @param {{ endpoint: string, region: string, cluster: string, service: string, family: string }} opts
 * @param {() => Promise<T>} fn
 * @returns {Promise<{ result: T, probe: { service: string, taskDefinitionArn: string, desiredCount: number, restored: { taskDefinition?: string, desiredCount?: number } } }>}
 */
export async function withReleaseProbe(opts, fn) {
  const ecs = emulatorEcs(opts);
  try {
    const [svc] = (await ecs.send(new DescribeServicesCommand({ cluster: opts.cluster, services: [opts.service] }))).services ?? [];
    if (!svc) throw new Error(`release probe: service ${opts.service} not found in ${opts.cluster}`);
    const td = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: opts.family }))).taskDefinition;
    if (!td) throw new Error(`release probe: task definition family ${opts.family} not found`);
    /** @type {import('@aws-sdk/client-ecs').RegisterTaskDefinitionCommandInput} */
    const input = {
      family: /** @type {string} */ (td.family),
      containerDefinitions: (td.containerDefinitions ?? []).map((c) => ({ ...c, image: String(c.image).replace(/:[^:/]+$/, ':release-probe') })),
      taskRoleArn: td.taskRoleArn,
      executionRoleArn: td.executionRoleArn,
      networkMode: td.networkMode,
      requiresCompatibilities: td.requiresCompatibilities,
      cpu: td.cpu,
      memory: td.memory,
      volumes: td.volumes,
    };
    const registered = (await ecs.send(new RegisterTaskDefinitionCommand(input))).taskDefinition;
    const arn = /** @type {string} */ (registered?.taskDefinitionArn);
    await ecs.send(new UpdateServiceCommand({ cluster: opts.cluster, service: opts.service, taskDefinition: arn, desiredCount: 1 }));
    /** @type {T} */
    let result;
    try {
      result = await fn();
    } finally {
      await ecs.send(
        new UpdateServiceCommand({ cluster: opts.cluster, service: opts.service, taskDefinition: svc.taskDefinition, desiredCount: svc.desiredCount }),
      );
      await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
    }
    const [after] = (await ecs.send(new DescribeServicesCommand({ cluster: opts.cluster, services: [opts.service] }))).services ?? [];
    return {
      result,
      probe: {
        service: opts.service,
        taskDefinitionArn: arn,
        desiredCount: 1,
        restored: { taskDefinition: after?.taskDefinition, desiredCount: after?.desiredCount },
      },
    };
  } finally {
    ecs.destroy();
  }
}
