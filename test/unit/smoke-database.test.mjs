// The smoke `database` check as a one-off ECS task (`alembic current`) against scripted ECS and CloudWatch Logs.
import { jest } from '@jest/globals';
import { DescribeTasksCommand, RunTaskCommand, StopTaskCommand, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { runCheck } from '../../runner/smoke/index.mjs';
import { databaseCheck, alembicState } from '../../runner/smoke/checks/database.mjs';
import { setup } from '../support/smoke.mjs';

afterEach(() => jest.restoreAllMocks());

describe('database (one-off task)', () => {
  const TD = 'arn:aws:ecs:us-east-1:0:task-definition/staging-api:12';
  function taskScenario(mocks, { exitCode = 0, stopCode = 'EssentialContainerExited', lines = null, failures = [] } = {}) {
    mocks.ecs.on(RunTaskCommand).resolves(failures.length ? { tasks: [], failures } : { tasks: [{ taskArn: 'arn:aws:ecs:us-east-1:0:task/staging/db1' }], failures: [] });
    mocks.ecs.on(DescribeTasksCommand).resolves({ tasks: [{ lastStatus: 'STOPPED', stopCode, stoppedReason: stopCode === 'TaskFailedToStart' ? 'CannotPullContainerError: pull access denied' : 'Essential container in task exited', containers: [{ name: 'api', exitCode }] }] });
    mocks.ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { containerDefinitions: [{ name: 'api', logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/staging/api', 'awslogs-stream-prefix': 'ecs' } } }] } });
    if (lines) mocks.logs.on(GetLogEventsCommand).resolves({ events: lines.map((message) => ({ message })) });
    else mocks.logs.on(GetLogEventsCommand).rejects(Object.assign(new Error('The specified log stream does not exist.'), { name: 'ResourceNotFoundException' }));
  }
  const state = { taskDefinitions: { api: { arn: TD } } };

  test('`alembic current` exits 0 at the head revision: passed, with the head line as evidence', async () => {
    const { sctx, mocks } = setup({ state });
    taskScenario(mocks, { lines: ['INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.', '3f2a9c1d0b7e (head)'] });
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    expect(rec.evidence).toContain('3f2a9c1d0b7e (head)');
    const input = mocks.ecs.commandCalls(RunTaskCommand)[0].args[0].input;
    expect(input.taskDefinition).toBe(TD);
    expect(input.overrides.containerOverrides).toEqual([{ name: 'api', command: ['alembic', 'current'] }]);
    expect(input.launchType).toBe('FARGATE');
    expect(mocks.logs.commandCalls(GetLogEventsCommand)[0].args[0].input).toMatchObject({ logGroupName: '/ecs/staging/api', logStreamName: 'ecs/api/db1' });
  });

  test('exit 0 but a revision that is not head: failed', async () => {
    const { sctx, mocks } = setup({ state });
    taskScenario(mocks, { lines: ['1a2b3c4d5e6f'] });
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toBe('`alembic current`: database is not at the head revision');
  });

  test('exit 0 and no readable log: passed on the exit code, evidence says so', async () => {
    const { sctx, mocks } = setup({ state });
    taskScenario(mocks);
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('passed');
    expect(rec.evidence).toMatch(/exited 0; task log not readable, exit code only/);
  });

  test('exit 1: failed with the exit code, not retried', async () => {
    const { sctx, mocks } = setup({ state });
    taskScenario(mocks, { exitCode: 1, lines: ['sqlalchemy.exc.OperationalError: could not connect'] });
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toBe('`alembic current`: task db1 exited with code 1');
    expect(rec.evidence).toMatch(/OperationalError/);
    expect(mocks.ecs.commandCalls(RunTaskCommand)).toHaveLength(1);
  });

  test('TaskFailedToStart: failed with the stop reason', async () => {
    const { sctx, mocks } = setup({ state });
    taskScenario(mocks, { stopCode: 'TaskFailedToStart', exitCode: undefined });
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toMatch(/task db1 failed to start: CannotPullContainerError/);
  });

  test('RunTask failures: failed with the failure reason', async () => {
    const { sctx, mocks } = setup({ state, smoke: { checks: { database: { timeoutSeconds: 2, attempts: 2, retryDelaySeconds: 0.01 } } } });
    taskScenario(mocks, { failures: [{ arn: 'arn:cap', reason: 'RESOURCE:MEMORY' }] });
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toMatch(/^RunTask failed: RESOURCE:MEMORY/);
    expect(rec.attempts).toBe(2);
  });

  test('a task that never stops: failed after the task timeout, and the task is stopped', async () => {
    const { sctx, mocks } = setup({ state });
    mocks.ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: 'arn:aws:ecs:us-east-1:0:task/staging/db2' }] });
    mocks.ecs.on(DescribeTasksCommand).resolves({ tasks: [{ lastStatus: 'RUNNING' }] });
    mocks.ecs.on(StopTaskCommand).resolves({});
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('failed');
    expect(rec.reason).toMatch(/did not stop within 0.3s \(last status RUNNING\)/);
    expect(mocks.ecs.commandCalls(StopTaskCommand)[0].args[0].input.task).toBe('arn:aws:ecs:us-east-1:0:task/staging/db2');
  });

  test('a release like v1.2.3 gives a valid ECS startedBy (letters, digits, - _ /, at most 36)', async () => {
    const s = setup({ state });
    s.ctx.release = 'v1.2.3+build.2026-11-25T10:00';
    taskScenario(s.mocks, { lines: ['3f2a9c1d0b7e (head)'] });
    const rec = await runCheck(databaseCheck(s.sctx.settings), s.sctx);
    expect(rec.status).toBe('passed');
    const startedBy = s.mocks.ecs.commandCalls(RunTaskCommand)[0].args[0].input.startedBy;
    expect(startedBy).toMatch(/^smoke-database-v1_2_3[A-Za-z0-9_/-]*$/);
    expect(startedBy.length).toBeLessThanOrEqual(36);
  });

  test('without a release revision in state, the family (latest revision) is used', async () => {
    const { sctx, mocks } = setup();
    taskScenario(mocks, { lines: ['3f2a9c1d0b7e (head)'] });
    await runCheck(databaseCheck(sctx.settings), sctx);
    expect(mocks.ecs.commandCalls(RunTaskCommand)[0].args[0].input.taskDefinition).toBe('staging-api');
  });

  test('emulator: skipped (synthetic exit code), no task run', async () => {
    const { sctx, mocks } = setup({ emulator: true, state });
    const rec = await runCheck(databaseCheck(sctx.settings), sctx);
    expect(rec.status).toBe('skipped');
    expect(rec.reason).toMatch(/exit code/);
    expect(mocks.ecs.calls()).toHaveLength(0);
  });

  test('alembicState reads `alembic current` output', () => {
    expect(alembicState(null).state).toBe('unknown');
    expect(alembicState(['no revision here']).state).toBe('unknown');
    expect(alembicState(['abcd1234 (head)'])).toEqual({ state: 'head', line: 'abcd1234 (head)' });
    expect(alembicState(['abcd1234'])).toEqual({ state: 'behind', line: 'abcd1234' });
  });
});
