// runner/aws: the one retry layer (the SDK's strategy, counted per attempt through a transport middleware),
// the typed send, poll(), batched ECS reads and the one-off task.
import { DescribeServicesCommand, DescribeTasksCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { createAwsClients, retryDelayMs, retryConfig } from '../../runner/aws/clients.mjs';
import { RETRY_DEFAULTS, maxRetryWaitMs } from '../../runner/lib/retry.mjs';
import { createCallCounter } from '../../runner/lib/call-counter.mjs';
import { send, mutate, rejectedByAws, forget } from '../../runner/aws/send.mjs';
import { logRedactor, logTail, redactLine, LOG_TAIL_BYTES } from '../../runner/smoke/log-tail.mjs';
import { poll } from '../../runner/aws/poll.mjs';
import { describeServices, describeTasks, stoppedTasks } from '../../runner/aws/ecs.mjs';
import { runOneOffTask, OneOffTaskError } from '../../runner/aws/one-off-task.mjs';
import { InterruptedError } from '../../runner/lib/errors.mjs';
import { fakeClock } from '../support/fake-aws.mjs';

const creds = { accessKeyId: 'x', secretAccessKey: 'y' };
const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });

/** Clients whose every attempt is answered by `answer(call)`; `calls` records each attempt. */
function world(answer, retry = { baseDelayMs: 1 }) {
  const calls = [];
  const counter = createCallCounter();
  const aws = createAwsClients({
    region: 'us-east-1', credentials: creds, retry, counter,
    transport: async (call) => { calls.push(call); return answer(call, calls.length); },
  });
  return { aws, calls, counter };
}

describe('one retry layer: the SDK retry strategy', () => {
  test('a persistently throttled call stops after the configured attempts with the service error', async () => {
    const { aws, calls } = world(() => { throw throttled(); }, { maxAttempts: 3, baseDelayMs: 1 });
    const t0 = Date.now();
    await expect(send({}, aws.ecs, new DescribeServicesCommand({ cluster: 'c', services: ['a'] }))).rejects.toMatchObject({ name: 'ThrottlingException', $metadata: { attempts: 3 } });
    expect(calls).toHaveLength(3);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  test('by default: 8 attempts, then the error; nothing above the SDK retries again', async () => {
    const { aws, calls } = world(() => { throw throttled(); }, { baseDelayMs: 0 });
    await expect(send({}, aws.ecs, new DescribeServicesCommand({ cluster: 'c', services: ['a'] }))).rejects.toThrow('Rate exceeded');
    expect(calls).toHaveLength(RETRY_DEFAULTS.maxAttempts);
    expect(RETRY_DEFAULTS.maxAttempts).toBe(8);
  });

  test('the default backoff is bounded: at most 12.7 s of waiting in all, well under a minute', () => {
    const waits = (random) => Array.from({ length: RETRY_DEFAULTS.maxAttempts - 1 }, (_, i) => retryDelayMs(i + 1, { random }));
    expect(waits(() => 0.999999).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(12700);
    expect(maxRetryWaitMs(RETRY_DEFAULTS)).toBe(12700);
    expect(maxRetryWaitMs({ maxAttempts: 3 })).toBe(300);
    expect(waits(() => 0)).toEqual([50, 100, 200, 400, 800, 1600, 3200]);
    expect(retryDelayMs(30, { random: () => 0.999999 })).toBeLessThanOrEqual(RETRY_DEFAULTS.maxDelayMs);
  });

  test('a throttling burst is retried and the call succeeds; every attempt is counted', async () => {
    const { aws, calls, counter } = world((_c, n) => { if (n < 3) throw throttled(); return { services: [], failures: [] }; });
    const warnings = [];
    const res = await send({ log: { warn: (m) => warnings.push(m) } }, aws.ecs, new DescribeServicesCommand({ cluster: 'c', services: ['a'] }));
    expect(res.$metadata.attempts).toBe(3);
    expect(calls).toHaveLength(3);
    expect(counter.byOperation['ecs.DescribeServices']).toBe(3);
    expect(warnings).toEqual([
      'DescribeServicesCommand throttled (ThrottlingException); the SDK retries (attempt 1/8)',
      'DescribeServicesCommand throttled (ThrottlingException); the SDK retries (attempt 2/8)',
    ]);
  });

  test('a client error is not retried', async () => {
    const { aws, calls } = world(() => { throw Object.assign(new Error('bad'), { name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } }); });
    await expect(send({}, aws.ecs, new DescribeServicesCommand({ cluster: 'c', services: ['a'] }))).rejects.toThrow('bad');
    expect(calls).toHaveLength(1);
  });

  test('an abort during the backoff ends the call at once with InterruptedError', async () => {
    // a backoff of 1.5 s ended after 30 ms; the SDK's own sleep timer is not cleared by the abort and keeps the
    // process alive until it fires, so it is kept short here (a 60 s one kept jest's worker alive for a minute)
    const { aws, calls } = world(() => { throw throttled(); }, { baseDelayMs: 1500, maxDelayMs: 1500 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const t0 = Date.now();
    await expect(send({ signal: ac.signal }, aws.ecs, new DescribeServicesCommand({ cluster: 'c', services: ['a'] }))).rejects.toBeInstanceOf(InterruptedError);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(calls).toHaveLength(1);
  });

  test('maxAttempts is checked', () => {
    expect(() => retryConfig({ maxAttempts: 0 })).toThrow(/maxAttempts must be an integer >= 1/);
    expect(retryConfig({ maxAttempts: 4 }).maxAttempts).toBe(4);
  });
});

describe('send names the failed operation; mutate records the change before it is sent', () => {
  const update = () => new UpdateServiceCommand({ cluster: 'c', service: 'svc-a', taskDefinition: 'td:2' });
  const note = (list) => ({ list, record: { step: 'tier:app', service: 'a', what: 'svc-a may have been updated to td:2' }, applied: () => 'svc-a was updated to td:2 but not yet stable' });
  const serverError = () => Object.assign(new Error('down'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });

  test('send: a failed call carries its operation', async () => {
    const { aws } = world(() => { throw Object.assign(new Error('bad'), { name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } }); });
    await expect(send({}, aws.ecs, new DescribeServicesCommand({ cluster: 'c', services: ['a'] }))).rejects.toMatchObject({ name: 'InvalidParameterException', operation: 'DescribeServices' });
  });

  test('the change is listed as may-have-changed while in flight, then changed with the reply', async () => {
    const list = [];
    let seen;
    const { aws } = world(() => { seen = structuredClone(list); return { service: {} }; });
    const { record } = await mutate({}, aws.ecs, update(), note(list));
    expect(seen).toEqual([{ step: 'tier:app', service: 'a', operation: 'UpdateService', state: 'may-have-changed', what: 'svc-a may have been updated to td:2 (UpdateService sent, no reply yet)' }]);
    expect(list).toEqual([{ step: 'tier:app', service: 'a', operation: 'UpdateService', state: 'changed', what: 'svc-a was updated to td:2 but not yet stable' }]);
    expect(record).toBe(list[0]);
    forget(list, record);
    expect(list).toEqual([]);
  });

  test('a 4xx answer (AWS refused it) drops the entry; a 5xx after the retries keeps it as may-have-changed', async () => {
    const refused = [];
    const a = world(() => { throw Object.assign(new Error('no'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }); });
    await expect(mutate({}, a.aws.ecs, update(), note(refused))).rejects.toMatchObject({ name: 'AccessDeniedException', operation: 'UpdateService' });
    expect(refused).toEqual([]);
    const unknown = [];
    const b = world(() => { throw serverError(); }, { maxAttempts: 2, baseDelayMs: 0 });
    await expect(mutate({}, b.aws.ecs, update(), note(unknown))).rejects.toMatchObject({ name: 'ServiceUnavailable', operation: 'UpdateService' });
    expect(b.calls).toHaveLength(2);
    expect(unknown).toEqual([{ step: 'tier:app', service: 'a', operation: 'UpdateService', state: 'may-have-changed', what: 'svc-a may have been updated to td:2 (UpdateService failed with ServiceUnavailable: down; AWS may have applied it)' }]);
    const network = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect([rejectedByAws(serverError()), rejectedByAws(network), rejectedByAws({ $metadata: { httpStatusCode: 429 } })]).toEqual([false, false, true]);
  });

  test('Ctrl-C: not sent once aborted; once sent it is not cancelled and resolves with the reply', async () => {
    const ac = new AbortController();
    ac.abort();
    const list = [];
    const a = world(() => ({ service: {} }));
    await expect(mutate({ signal: ac.signal }, a.aws.ecs, update(), note(list))).rejects.toBeInstanceOf(InterruptedError);
    expect(a.calls).toHaveLength(0);
    expect(list).toEqual([]);
    const later = new AbortController();
    const b = world(async () => { later.abort(); await new Promise((r) => setTimeout(r, 20)); return { service: { serviceName: 'svc-a' } }; });
    const { output } = await mutate({ signal: later.signal }, b.aws.ecs, update(), note(list));
    expect(output.service).toEqual({ serviceName: 'svc-a' });
    expect(list.map((h) => h.state)).toEqual(['changed']);
    // the next read stops at once
    await expect(send({ signal: later.signal }, b.aws.ecs, new DescribeServicesCommand({ cluster: 'c', services: ['a'] }))).rejects.toBeInstanceOf(InterruptedError);
    expect(b.calls).toHaveLength(1);
  });

  test('a reply that never comes after Ctrl-C is given up after changeGraceMs: InterruptedError, still listed', async () => {
    const list = [];
    const ac = new AbortController();
    const { aws, calls } = world(() => { ac.abort(); return new Promise(() => {}); });
    const t0 = Date.now();
    await expect(mutate({ signal: ac.signal, changeGraceMs: 30 }, aws.ecs, update(), note(list))).rejects.toBeInstanceOf(InterruptedError);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    expect(calls).toHaveLength(1);
    expect(list).toEqual([{ step: 'tier:app', service: 'a', operation: 'UpdateService', state: 'may-have-changed', what: 'svc-a may have been updated to td:2 (UpdateService sent, no reply within 30 ms after Ctrl-C; given up)' }]);
  });

  test('applied returning null (the reply says nothing changed) drops the entry', async () => {
    const list = [];
    const { aws } = world(() => ({ service: {} }));
    const { record } = await mutate({}, aws.ecs, update(), { ...note(list), applied: () => null });
    expect(record).toBeNull();
    expect(list).toEqual([]);
  });
});

describe('log tail: bounded and redacted', () => {
  test('known secret values of the environment and secret-looking values are replaced', () => {
    const redact = logRedactor({ AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI', HOME: '/home/runner', PORT: '8080' });
    expect(redactLine('key wJalrXUtnFEMI in /home/runner on 8080', redact)).toBe('key [REDACTED] in /home/runner on 8080');
    expect(redactLine('dsn=postgres://app:p%40ss@db:5432/app', redact)).toBe('dsn=postgres://app:[REDACTED]@db:5432/app');
    expect(redactLine('{"password": "x y", "user": "app"} api_key=abc123; token: t0k', redact)).toBe('{"password": "[REDACTED]", "user": "app"} api_key=[REDACTED]; token: [REDACTED]');
    expect(redactLine('applying migration 0042', redact)).toBe('applying migration 0042');
  });

  test('at most 20 lines and 4 KiB, the newest kept; a longer line is cut', () => {
    const redact = logRedactor({});
    expect(logTail(Array.from({ length: 30 }, (_, i) => `l${i}`), redact)).toEqual(Array.from({ length: 20 }, (_, i) => `l${i + 10}`));
    const big = logTail(['old', 'y'.repeat(10_000)], redact);
    expect(big).toHaveLength(1);
    expect(Buffer.byteLength(big[0])).toBeLessThanOrEqual(LOG_TAIL_BYTES);
    expect(big[0].endsWith('...')).toBe(true);
    const many = logTail(Array.from({ length: 20 }, (_, i) => `${i} ${'z'.repeat(500)}`), redact);
    expect(Buffer.byteLength(many.join('\n'))).toBeLessThanOrEqual(LOG_TAIL_BYTES);
    expect(many[many.length - 1]).toMatch(/^19 /);
  });
});

describe('poll', () => {
  test('a long wait is never silent: the heartbeat is said every HEARTBEAT_MS (30 s) with the time waited, not after a success', async () => {
    const clock = fakeClock(0);
    const beats = [];
    const v = await poll({ clock, intervalMs: 10_000, timeoutMs: 100_000, onTimeout: () => 'late', heartbeat: (w) => beats.push(w) }, async () => undefined);
    expect(v).toBe('late');
    expect(beats).toEqual([30_000, 60_000, 90_000]);
    const quick = [];
    let n = 0;
    await poll({ clock, intervalMs: 10_000, timeoutMs: 100_000, onTimeout: () => 'late', heartbeat: (w) => quick.push(w) }, async () => (++n === 3 ? 'done' : undefined));
    expect(quick).toEqual([]);
  });

  test('returns the first value; sleeps the interval between probes on the injected clock', async () => {
    const clock = fakeClock(0);
    let n = 0;
    const v = await poll({ clock, intervalMs: 5, timeoutMs: 100, onTimeout: () => 'late' }, async () => (++n === 3 ? null : undefined));
    expect(v).toBeNull();
    expect(n).toBe(3);
    expect(clock.now()).toBe(10);
  });

  test('hands over to onTimeout once the timeout has passed, after a last probe', async () => {
    const clock = fakeClock(0);
    let n = 0;
    const v = await poll({ clock, intervalMs: 10, timeoutMs: 30, onTimeout: () => `timeout after ${n} probes` }, async () => { n += 1; return undefined; });
    expect(v).toBe('timeout after 4 probes');
    await expect(poll({ clock, intervalMs: 10, timeoutMs: 0, onTimeout: () => { throw new Error('late'); } }, async () => undefined)).rejects.toThrow('late');
  });

  test('the system clock sleeps on timers/promises and turns an abort into InterruptedError', async () => {
    const { systemClock } = await import('../../runner/lib/runtime.mjs');
    const clock = systemClock();
    await expect(clock.sleep(5)).resolves.toBeUndefined();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 10);
    const t0 = Date.now();
    await expect(clock.sleep(60_000, ac.signal)).rejects.toBeInstanceOf(InterruptedError);
    expect(Date.now() - t0).toBeLessThan(5000);
    await expect(clock.sleep(1, ac.signal)).rejects.toBeInstanceOf(InterruptedError);
  });

  test('an aborted signal ends the wait with InterruptedError', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(poll({ clock: fakeClock(0), signal: ac.signal, intervalMs: 10, timeoutMs: 100, onTimeout: () => 0 }, async () => undefined)).rejects.toBeInstanceOf(InterruptedError);
  });
});

describe('batched ECS reads', () => {
  test('DescribeServices: at most 10 services a call, results and failures merged in order', async () => {
    const { aws, calls } = world(({ input }) => ({
      services: input.services.filter((n) => n !== 's7').map((serviceName) => ({ serviceName })),
      failures: input.services.filter((n) => n === 's7').map((arn) => ({ arn, reason: 'MISSING' })),
    }));
    const names = Array.from({ length: 23 }, (_, i) => `s${i}`);
    const res = await describeServices({}, aws.ecs, 'c', names);
    expect(calls.map((c) => c.input.services.length)).toEqual([10, 10, 3]);
    expect(res.services.map((s) => s.serviceName)).toEqual(names.filter((n) => n !== 's7'));
    expect(res.failures).toEqual([{ arn: 's7', reason: 'MISSING' }]);
  });

  test('DescribeTasks: at most 100 tasks a call; tags on request', async () => {
    const { aws, calls } = world(({ input }) => ({ tasks: input.tasks.map((taskArn) => ({ taskArn })), failures: [] }));
    const arns = Array.from({ length: 150 }, (_, i) => `t${i}`);
    const res = await describeTasks({}, aws.ecs, 'c', arns, { tags: true });
    expect(calls.map((c) => c.input.tasks.length)).toEqual([100, 50]);
    expect(calls[0].input.include).toEqual(['TAGS']);
    expect(res.tasks).toHaveLength(150);
  });

  test('stoppedTasks follows ListTasks pages, up to a limit', async () => {
    const pages = { undefined: { taskArns: ['a', 'b'], nextToken: 'p2' }, p2: { taskArns: ['c'] } };
    const { aws, calls } = world(({ operation, input }) => (operation === 'ListTasks' ? pages[input.nextToken] : { tasks: input.tasks.map((taskArn) => ({ taskArn })) }));
    expect((await stoppedTasks({}, aws.ecs, 'c', 'svc')).map((t) => t.taskArn)).toEqual(['a', 'b', 'c']);
    expect(calls.filter((c) => c.operation === 'ListTasks').map((c) => c.input)).toEqual([
      expect.objectContaining({ serviceName: 'svc', desiredStatus: 'STOPPED', maxResults: 100 }),
      expect.objectContaining({ nextToken: 'p2' }),
    ]);
    calls.length = 0;
    expect((await stoppedTasks({}, aws.ecs, 'c', 'svc', { limit: 1 })).map((t) => t.taskArn)).toEqual(['a']);
    expect(calls.filter((c) => c.operation === 'ListTasks')).toHaveLength(1);
  });
});

describe('runOneOffTask', () => {
  const spec = (over = {}) => ({
    cluster: 'c', taskDefinition: 'td:1', container: 'app', command: ['run'], subnets: ['s1'], securityGroups: ['sg'],
    startedBy: 'x', timeoutMs: 50, intervalMs: 10, ...over,
  });
  /** RunTask starts task t1; it stops after `stopAfter` DescribeTasks with `exitCode`. */
  function taskWorld({ stopAfter = 2, exitCode = 0, runTask, lines = ['one', 'two'], describe } = {}) {
    let describes = 0;
    return world(({ operation, input }) => {
      if (operation === 'RunTask') return runTask ?? { tasks: [{ taskArn: 'arn:task/c/t1' }], failures: [] };
      if (operation === 'DescribeTasks') {
        if (describe) return describe(input);
        describes += 1;
        return { tasks: [describes >= stopAfter
          ? { taskArn: input.tasks[0], lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited', containers: [{ name: 'app', exitCode }] }
          : { taskArn: input.tasks[0], lastStatus: 'RUNNING', containers: [{ name: 'app' }] }] };
      }
      if (operation === 'GetLogEvents') return input.nextToken ? { events: [], nextForwardToken: input.nextToken } : { events: lines.map((message) => ({ message })), nextForwardToken: 'f/1' };
      if (operation === 'StopTask') return {};
      throw new Error(`unexpected ${operation}`);
    });
  }

  test('runs on Fargate without a public IP, waits for STOPPED, reads the exit code and the log', async () => {
    const w = taskWorld();
    const seen = [];
    const r = await runOneOffTask({ aws: w.aws, clock: fakeClock(0) }, spec({ log: { group: 'g', streamPrefix: 'ecs' }, onLogLine: (l) => seen.push(l) }));
    expect(r).toMatchObject({ taskArn: 'arn:task/c/t1', started: true, exitCode: 0, stopCode: 'EssentialContainerExited', logLines: ['one', 'two'], logCount: 2 });
    expect(seen).toEqual(['one', 'two']);
    const run = w.calls.find((c) => c.operation === 'RunTask').input;
    expect(run).toMatchObject({ launchType: 'FARGATE', networkConfiguration: { awsvpcConfiguration: { subnets: ['s1'], securityGroups: ['sg'], assignPublicIp: 'DISABLED' } }, overrides: { containerOverrides: [{ name: 'app', command: ['run'] }] } });
    expect(w.calls.find((c) => c.operation === 'GetLogEvents').input).toMatchObject({ logGroupName: 'g', logStreamName: 'ecs/app/t1' });
  });

  test('RunTask failures, no task, a missing task and a timeout come back as OneOffTaskError kinds', async () => {
    const ctx = (w) => ({ aws: w.aws, clock: fakeClock(0) });
    const refused = taskWorld({ runTask: { tasks: [], failures: [{ arn: 'a', reason: 'RESOURCE:ENI' }] } });
    await expect(runOneOffTask(ctx(refused), spec())).rejects.toMatchObject({ kind: 'refused', failures: [{ reason: 'RESOURCE:ENI' }] });
    await expect(runOneOffTask(ctx(taskWorld({ runTask: { tasks: [] } })), spec())).rejects.toMatchObject({ kind: 'no-task' });
    const missing = taskWorld({ describe: () => ({ tasks: [], failures: [{ reason: 'MISSING' }] }) });
    await expect(runOneOffTask(ctx(missing), spec())).rejects.toMatchObject({ kind: 'missing', failures: [{ reason: 'MISSING' }] });
    const never = taskWorld({ stopAfter: Infinity });
    const err = await runOneOffTask(ctx(never), spec({ stopReason: 'gave up' })).catch((e) => e);
    expect(err).toBeInstanceOf(OneOffTaskError);
    expect(err).toMatchObject({ kind: 'timeout', taskArn: 'arn:task/c/t1', lastStatus: 'RUNNING' });
    expect(never.calls.filter((c) => c.operation === 'DescribeTasks')).toHaveLength(6);
    expect(never.calls.find((c) => c.operation === 'StopTask').input).toMatchObject({ task: 'arn:task/c/t1', reason: 'gave up' });
  });

  test('an already started task is waited for, not started again', async () => {
    const w = taskWorld();
    const r = await runOneOffTask({ aws: w.aws, clock: fakeClock(0) }, spec({ taskArn: 'arn:task/c/t9' }));
    expect(r).toMatchObject({ taskArn: 'arn:task/c/t9', started: false, exitCode: 0, logLines: null });
    expect(w.calls.some((c) => c.operation === 'RunTask')).toBe(false);
  });
});

test('DescribeTasksCommand output is what send resolves to (typed layer, plain SDK call)', async () => {
  const { aws } = world(() => ({ tasks: [{ taskArn: 't' }] }));
  const res = await send({}, aws.ecs, new DescribeTasksCommand({ cluster: 'c', tasks: ['t'] }));
  expect(res.tasks).toEqual([{ taskArn: 't' }]);
});

describe('service state against the release', () => {
  const TD = 'arn:aws:ecs:r:1:task-definition/api:2';
  const OLD = 'arn:aws:ecs:r:1:task-definition/api:1';
  const rel = { target: TD, desired: 2, deployments: true, maxFailedTasks: 3 };
  const svc = (over = {}) => ({ status: 'ACTIVE', taskDefinition: TD, desiredCount: 2, runningCount: 2,
    deployments: [{ id: 'd2', status: 'PRIMARY', taskDefinition: TD, rolloutState: 'COMPLETED', runningCount: 2, failedTasks: 0 }], ...over });

  test('settledAt: at the revision, desired count, one completed deployment, all running', async () => {
    const { settledAt } = await import('../../runner/aws/service-state.mjs');
    expect(settledAt(svc(), rel)).toBe(true);
    expect(settledAt(svc({ runningCount: 1 }), rel)).toBe(false);
    expect(settledAt(svc({ taskDefinition: OLD }), rel)).toBe(false);
    expect(settledAt(svc({ runningCount: 0, deployments: [] }), { ...rel, deployments: false })).toBe(true);
  });

  test('rolloutProgress: done, going, FAILED, rolled back, tasks that keep stopping', async () => {
    const { rolloutProgress } = await import('../../runner/aws/service-state.mjs');
    expect(rolloutProgress(svc(), rel)).toEqual({ done: true });
    const going = svc({ runningCount: 1, deployments: [{ id: 'd2', status: 'PRIMARY', taskDefinition: TD, rolloutState: 'IN_PROGRESS', failedTasks: 0 }, { id: 'd1', status: 'ACTIVE', taskDefinition: OLD }] });
    expect(rolloutProgress(going, rel)).toEqual({ done: false });
    const failed = svc({ deployments: [{ id: 'd1', status: 'PRIMARY', taskDefinition: OLD, rolloutStateReason: 'rolling back' }, { id: 'd2', status: 'ACTIVE', taskDefinition: TD, rolloutState: 'FAILED', rolloutStateReason: 'tasks failed to start.' }] });
    expect(rolloutProgress(failed, rel).fail).toBe('deployment d2 FAILED: tasks failed to start.');
    failed.deployments[1].rolloutState = 'IN_PROGRESS';
    expect(rolloutProgress(failed, rel).fail).toBe('circuit breaker rolled back: the primary deployment runs api:1 instead of api:2 (rolling back)');
    expect(rolloutProgress(svc({ deployments: [{ id: 'd2', status: 'PRIMARY', taskDefinition: TD, rolloutState: 'IN_PROGRESS', failedTasks: 3 }] }), rel).fail)
      .toBe('tasks keep stopping: 3 failed tasks in deployment d2');
    expect(rolloutProgress(svc({ status: 'DRAINING' }), rel).fail).toBe('service status is DRAINING');
    expect(rolloutProgress(svc({ taskDefinition: OLD }), { ...rel, deployments: false }).fail).toBe('service runs api:1 instead of api:2 after the update');
  });

  test('stoppedTaskLines: only tasks of the release deployment, with container exit codes', async () => {
    const { stoppedTaskLines } = await import('../../runner/aws/service-state.mjs');
    const tasks = [
      { taskArn: 'arn:task/c/t1', taskDefinitionArn: TD, startedBy: 'd2', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', containers: [{ name: 'api', exitCode: 3, reason: 'boom' }] },
      { taskArn: 'arn:task/c/t0', taskDefinitionArn: OLD, startedBy: 'd1', stopCode: 'ServiceSchedulerInitiated' },
    ];
    expect(stoppedTaskLines(svc(), TD, tasks, 5)).toEqual(['t1: EssentialContainerExited Essential container in task exited; api exit 3 (boom)']);
  });
});
