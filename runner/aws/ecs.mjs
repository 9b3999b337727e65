// Batched ECS reads: DescribeServices takes at most 10 services a call, DescribeTasks at most 100 tasks. Both
// return what ECS found and the `failures` it reported (e.g. MISSING), and leave the verdict to the caller.
import { DescribeServicesCommand, DescribeTasksCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import { send } from './send.mjs';

export const DESCRIBE_SERVICES_MAX = 10;
export const DESCRIBE_TASKS_MAX = 100;

/**
 * @typedef {import('@aws-sdk/client-ecs').Service} EcsService
 * @typedef {import('@aws-sdk/client-ecs').Task} EcsTask
 * @typedef {import('@aws-sdk/client-ecs').Failure} EcsFailure
 * @typedef {import('@aws-sdk/client-ecs').ECSClient} EcsClient
 */

/**
 * @template T
 * @param {T[]} list @param {number} size
 * @returns {T[][]}
 */
export function batches(list, size) {
  /** @type {T[][]} */
  const out = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/**
 * DescribeServices for any number of services, 10 a call, in order.
 * @param {import('./send.mjs').CallContext} ctx @param {EcsClient} ecs @param {string} cluster
 * @param {string[]} names ECS service names (or ARNs)
 * @returns {Promise<{ services: EcsService[], failures: EcsFailure[] }>}
 */
export async function describeServices(ctx, ecs, cluster, names) {
  /** @type {EcsService[]} */ const services = [];
  /** @type {EcsFailure[]} */ const failures = [];
  for (const part of batches(names, DESCRIBE_SERVICES_MAX)) {
    const res = await send(ctx, ecs, new DescribeServicesCommand({ cluster, services: part }));
    services.push(...(res.services ?? []));
    failures.push(...(res.failures ?? []));
  }
  return { services, failures };
}

/**
 * DescribeTasks for any number of tasks, 100 a call, in order.
 * @param {import('./send.mjs').CallContext} ctx @param {EcsClient} ecs @param {string} cluster @param {string[]} arns
 * @param {{ tags?: boolean }} [opts] include the tasks' tags
 * @returns {Promise<{ tasks: EcsTask[], failures: EcsFailure[] }>}
 */
export async function describeTasks(ctx, ecs, cluster, arns, opts = {}) {
  /** @type {EcsTask[]} */ const tasks = [];
  /** @type {EcsFailure[]} */ const failures = [];
  for (const part of batches(arns, DESCRIBE_TASKS_MAX)) {
    const res = await send(ctx, ecs, new DescribeTasksCommand({ cluster, tasks: part, ...(opts.tags ? { include: ['TAGS'] } : {}) }));
    tasks.push(...(res.tasks ?? []));
    failures.push(...(res.failures ?? []));
  }
  return { tasks, failures };
}

/**
 * The STOPPED tasks of one service (ECS keeps them for about an hour), described: all of them, or the first
 * `limit` ListTasks returns.
 * @param {import('./send.mjs').CallContext} ctx @param {EcsClient} ecs @param {string} cluster @param {string} serviceName
 * @param {{ limit?: number }} [opts]
 * @returns {Promise<EcsTask[]>}
 */
export async function stoppedTasks(ctx, ecs, cluster, serviceName, opts = {}) {
  const limit = opts.limit ?? Infinity;
  /** @type {string[]} */
  const arns = [];
  /** @type {string | undefined} */
  let nextToken;
  do {
    const page = await send(ctx, ecs, new ListTasksCommand({ cluster, serviceName, desiredStatus: 'STOPPED', maxResults: 100, nextToken }));
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken && arns.length < limit);
  if (!arns.length) return [];
  return (await describeTasks(ctx, ecs, cluster, arns.slice(0, limit))).tasks;
}

/** The PRIMARY deployment of a service, if any. @param {EcsService | undefined} svc */
export const primaryDeployment = (svc) => (svc?.deployments ?? []).find((d) => d.status === 'PRIMARY');
