// The fault matrix's tools (test/integration/runner-faults.test.mjs): run the real runner (runner/rollout.mjs, a
// child process) with AWS_ENDPOINT_URL at the fault proxy (scripts/lib/fault-proxy.mjs) in front of the shared
// moto_server, optionally Ctrl-C it at a point the proxy sees; canned replies for what moto cannot show (ECS
// deployments, stopped containers with an exit code, target health, images in ECR); and the assertion that no
// step after the failed one sent a mutating call.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { start } from '../../scripts/lib/proc.mjs';
import { REPO_ROOT } from '../../scripts/lib/paths.mjs';
import { rewriteJson, isMutating } from '../../scripts/lib/fault-proxy.mjs';

/** @typedef {import('../../scripts/lib/fault-proxy.mjs').Call} Call */
/** @typedef {import('../../scripts/lib/fault-proxy.mjs').Rule} Rule */
/** @typedef {import('../../scripts/lib/fault-proxy.mjs').FaultProxy} FaultProxy */

/**
 * Run the runner once through the proxy. `interrupt(proxy, since)` resolves when SIGINT is to be sent.
 * @param {FaultProxy} proxy
 * @param {{ args: string[], report: string, interrupt?: (proxy: FaultProxy, since: number) => Promise<unknown>, timeoutMs?: number }} o
 */
export async function runRollout(proxy, o) {
  proxy.take();
  const since = proxy.calls.length;
  const t0 = Date.now();
  const child = start(process.execPath, [path.join(REPO_ROOT, 'runner', 'rollout.mjs'), ...o.args, '--report', o.report], {
    cwd: REPO_ROOT,
    env: { ...process.env, AWS_ENDPOINT_URL: proxy.endpoint, NODE_NO_WARNINGS: '1' },
    timeoutMs: o.timeoutMs ?? 90_000,
  });
  let interruptedAt = null;
  if (o.interrupt) {
    const point = o.interrupt(proxy, since).then(() => {
      interruptedAt = Date.now() - t0;
      child.kill('SIGINT');
    });
    await Promise.race([point, child.done]);
  }
  const r = await child.done;
  /** @type {any} */
  let report = null;
  try { report = JSON.parse(readFileSync(o.report, 'utf8')); } catch { /* asserted by the caller */ }
  const { calls } = proxy.take();
  return { code: r.code, out: r.stdout, err: r.stderr, ms: Date.now() - t0, report, calls, interruptedAt, timedOut: r.timedOut };
}

/** Calls of `operation` that reached the emulator (a faulted attempt that was not forwarded did not change anything). */
export const applied = (/** @type {Call[]} */ calls, /** @type {string} */ operation) =>
  calls.filter((c) => c.operation === operation && c.upstreamStatus !== null && c.upstreamStatus < 300);

/** The parsed JSON request body of a call ({} when not JSON). @param {Call} c */
export const bodyOf = (c) => { try { return JSON.parse(c.body); } catch { return {}; } };

/**
 * The steps after `failedStep` in the report's order did not start, and none of the recorded calls is a
 * mutating one that belongs to them: UpdateService only for `allowedServices` (ECS names), RunTask only before
 * the tiers, RegisterTaskDefinition only in task-definitions.
 * @param {any} report @param {Call[]} calls @param {string} failedStep @param {{ allowedServices?: string[] }} [o]
 */
export function expectNothingChangedAfter(report, calls, failedStep, o = {}) {
  const ids = report.steps.map((/** @type {any} */ s) => s.id);
  const later = ids.slice(ids.indexOf(failedStep) + 1);
  for (const id of later) expect({ id, status: report.steps.find((/** @type {any} */ s) => s.id === id).status }).toEqual({ id, status: expect.stringMatching(/^(not-run|skipped)$/) });
  const before = (/** @type {string} */ id) => ids.indexOf(failedStep) < ids.indexOf(id);
  const mutating = calls.filter((c) => isMutating(c.operation));
  /** @type {string[]} */
  const wrong = [];
  for (const c of mutating) {
    if (c.operation === 'UpdateService' && !(o.allowedServices ?? []).includes(bodyOf(c).service)) wrong.push(`UpdateService ${bodyOf(c).service}`);
    if (c.operation === 'RunTask' && before('migration')) wrong.push('RunTask');
    if (c.operation === 'RegisterTaskDefinition' && before('task-definitions')) wrong.push('RegisterTaskDefinition');
    if (!['UpdateService', 'RunTask', 'RegisterTaskDefinition'].includes(c.operation)) wrong.push(c.operation);
  }
  expect(wrong).toEqual([]);
}

/** ECR has every image asked for (the registry is not what the matrix tests): DescribeImages answers a digest per
 * repository and tag, so each release pins its own images. @returns {Rule} */
export const imagesInEcr = () => ({
  name: 'image-in-ecr', service: 'ecr', operation: 'DescribeImages',
  fault: {
    kind: 'reply',
    body: (c) => {
      const { repositoryName, imageIds = [] } = bodyOf(c);
      const tags = imageIds.map((/** @type {any} */ i) => i.imageTag).filter(Boolean);
      const imageDigest = `sha256:${createHash('sha256').update(`${repositoryName}:${tags.join(',')}`).digest('hex')}`;
      return JSON.stringify({ imageDetails: [{ registryId: '000000000000', repositoryName, imageDigest, imageTags: tags }] });
    },
  },
});

/**
 * DescribeServices as real AWS shows it (moto starts no deployment): one PRIMARY deployment on the service's task
 * definition with the given rollout state, running = desired when COMPLETED, 0 otherwise.
 * @param {'COMPLETED' | 'IN_PROGRESS' | 'FAILED'} state @param {{ services?: string[] }} [o] only these ECS names
 * @returns {Rule}
 */
export function deployments(state, o = {}) {
  return {
    name: `deployment-${state}`, service: 'ecs', operation: 'DescribeServices',
    fault: {
      kind: 'rewrite',
      rewrite: rewriteJson((d) => {
        for (const s of d.services ?? []) {
          if (o.services && !o.services.includes(s.serviceName)) continue;
          const running = state === 'COMPLETED' ? s.desiredCount : 0;
          s.runningCount = running;
          s.pendingCount = state === 'IN_PROGRESS' ? s.desiredCount : 0;
          s.deployments = [{
            id: `ecs-svc/fault-${s.serviceName}`, status: 'PRIMARY', taskDefinition: s.taskDefinition, desiredCount: s.desiredCount,
            runningCount: running, pendingCount: s.pendingCount, failedTasks: state === 'FAILED' ? 3 : 0, rolloutState: state,
            rolloutStateReason: state === 'FAILED' ? 'ECS deployment circuit breaker: tasks failed to start.' : state === 'IN_PROGRESS' ? 'ECS deployment in progress.' : 'ECS deployment completed.',
          }];
        }
      }),
    },
  };
}

/**
 * DescribeTargetHealth: one target, `healthy`, or `unhealthy` failing its health checks.
 * @param {'healthy' | 'unhealthy'} [state] @returns {Rule}
 */
export const targets = (state = 'unhealthy') => ({
  name: `${state}-targets`, service: 'elasticloadbalancing', operation: 'DescribeTargetHealth',
  fault: {
    kind: 'reply',
    body: '<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeTargetHealthResult><TargetHealthDescriptions>' +
      `<member><Target><Id>10.0.1.23</Id><Port>8080</Port></Target><HealthCheckPort>8080</HealthCheckPort><TargetHealth><State>${state}</State>` +
      (state === 'healthy' ? '' : '<Reason>Target.FailedHealthChecks</Reason><Description>Health checks failed with these codes: [502]</Description>') +
      '</TargetHealth></member></TargetHealthDescriptions></DescribeTargetHealthResult><ResponseMetadata><RequestId>fault</RequestId></ResponseMetadata></DescribeTargetHealthResponse>',
  },
});

/**
 * Tasks of a one-off run as moto cannot show them. `taskArns` is filled by the returned `capture` rule (the
 * RunTask replies of this case); `describe` rewrites DescribeTasks for those tasks only: 'never-stops' keeps
 * them RUNNING; `{ exitCode }` gives the stopped container that exit code with a stop code and reason.
 * @param {'never-stops' | { exitCode: number }} how
 */
export function oneOffTasks(how) {
  /** @type {Set<string>} */
  const taskArns = new Set();
  /** @type {Rule} */
  const capture = {
    name: 'capture-task', service: 'ecs', operation: 'RunTask',
    fault: { kind: 'rewrite', rewrite: rewriteJson((d) => { for (const t of d.tasks ?? []) taskArns.add(t.taskArn); }) },
  };
  /** @type {Rule} */
  const describe = {
    name: how === 'never-stops' ? 'task-never-stops' : `task-exits-${how.exitCode}`, service: 'ecs', operation: 'DescribeTasks',
    fault: {
      kind: 'rewrite',
      rewrite: rewriteJson((d) => {
        for (const t of d.tasks ?? []) {
          if (!taskArns.has(t.taskArn)) continue;
          if (how === 'never-stops') {
            Object.assign(t, { lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
            delete t.stopCode; delete t.stoppedReason; delete t.stoppedAt;
            for (const c of t.containers ?? []) { c.lastStatus = 'RUNNING'; delete c.exitCode; }
          } else if (t.lastStatus === 'STOPPED') {
            Object.assign(t, { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' });
            for (const c of t.containers ?? []) { c.exitCode = how.exitCode; c.reason = 'migration failed: relation "users" already exists'; }
          }
        }
      }),
    },
  };
  return { taskArns, capture, describe };
}
