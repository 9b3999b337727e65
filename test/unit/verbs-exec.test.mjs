// The exec verb against the scripted AWS world (test/support/fake-aws.mjs): the service's newest running task (or
// --task), ExecuteCommand interactive with the command as one string, the session handed to session-manager-plugin
// with the AWS CLI's arguments, the plugin's exit code as the verb's; a clear refusal naming what is missing (the
// plugin, execute-command on the task, its agent, the permission) before or instead of a session.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fakeWorld, fakeClock, awsError, OUTPUTS, ROOT, OUTPUTS_FILE } from '../support/fake-aws.mjs';
import { main } from '../../runner/main.mjs';
import { onPath } from '../../runner/verbs/exec.mjs';
import { shellJoin } from '../../runner/lib/shell-words.mjs';

const API = OUTPUTS.service_catalog.api;
const TASK = (id) => `arn:aws:ecs:us-east-1:123456789012:task/${OUTPUTS.cluster_name}/${id}`;

/** A directory with an executable session-manager-plugin (never run: the spawn is injected). */
const binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-verb-'));
fs.writeFileSync(path.join(binDir, 'session-manager-plugin'), '#!/bin/sh\nexit 99\n', { mode: 0o755 });
const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-verb-none-'));
afterAll(() => { fs.rmSync(binDir, { recursive: true, force: true }); fs.rmSync(emptyDir, { recursive: true, force: true }); });

/** A running task of the api service, ECS Exec on, its agent running. */
function serviceTask(world, id, over = {}, container = {}) {
  world.tasks.set(TASK(id), {
    taskArn: TASK(id), group: `service:${API.ecs_service_name}`, lastStatus: 'RUNNING', desiredStatus: 'RUNNING', enableExecuteCommand: true,
    startedAt: new Date(Date.UTC(2026, 0, 1, 0, Number(id.replace(/\D/g, '')) || 0)), service: true, describes: 0,
    containers: [{ name: API.container_name, lastStatus: 'RUNNING', runtimeId: `${id}-rt`, managedAgents: [{ name: 'ExecuteCommandAgent', lastStatus: 'RUNNING' }], ...container }],
    ...over,
  });
}

async function exec(fake, args, { env = { PATH: binDir }, exitCode = 0 } = {}) {
  const out = [];
  const err = [];
  const spawned = [];
  fake.world.calls = [];
  const res = await main(['exec', '--outputs', OUTPUTS_FILE, ...args], {
    cwd: ROOT, env, clock: fakeClock(), createAws: () => fake.clients, write: (l) => out.push(l), writeErr: (l) => err.push(l),
    exec: async () => { throw new Error('no shell in unit tests'); },
    spawnSession: async (file, argv) => { spawned.push({ file, argv }); return exitCode; },
  });
  return { ...res, out: out.join('\n'), err: err.join('\n'), spawned };
}
const opsOf = (world) => world.calls.map((c) => c.op);

describe('exec SERVICE [-- COMMAND]', () => {
  test('the newest running task; ExecuteCommand interactive; the plugin with the AWS CLI\'s arguments; its exit code', async () => {
    const fake = fakeWorld();
    serviceTask(fake.world, 't1');
    serviceTask(fake.world, 't2');
    const res = await exec(fake, ['api', '--', 'printenv', 'PORT'], { exitCode: 7, env: { PATH: binDir, AWS_PROFILE: 'ops' } });
    expect(res.exitCode).toBe(7);
    expect(opsOf(fake.world)).toEqual(['ListTasks', 'DescribeTasks', 'ExecuteCommand']);
    expect(fake.world.calls[0].input).toMatchObject({ cluster: OUTPUTS.cluster_name, serviceName: API.ecs_service_name, desiredStatus: 'RUNNING' });
    expect(fake.world.execCalls).toEqual([{ cluster: OUTPUTS.cluster_name, task: TASK('t2'), container: API.container_name, command: 'printenv PORT', interactive: true }]);
    expect(res.spawned).toHaveLength(1);
    const { file, argv } = res.spawned[0];
    expect(file).toBe(path.join(binDir, 'session-manager-plugin'));
    expect(JSON.parse(argv[0])).toEqual({ SessionId: 'ecs-execute-command-1', StreamUrl: 'wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/s1', TokenValue: 'TOKEN-SECRET' });
    expect(argv.slice(1, 4)).toEqual(['us-east-1', 'StartSession', 'ops']);
    expect(JSON.parse(argv[4])).toEqual({ Target: `ecs:${OUTPUTS.cluster_name}_t2_t2-rt` });
    expect(argv[5]).toBe('https://ssm.us-east-1.amazonaws.com');
    expect(res.err).toBe(`exec api: task t2, container ${API.container_name}: printenv PORT (session ecs-execute-command-1)`);
    expect(`${res.out}${res.err}`).not.toContain('TOKEN-SECRET');
  });

  test('--task ID, the default command /bin/sh, the endpoint from AWS_ENDPOINT_URL', async () => {
    const fake = fakeWorld();
    serviceTask(fake.world, 't1');
    serviceTask(fake.world, 't2');
    const res = await exec(fake, ['api', '--task', 't1'], { env: { PATH: binDir, AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' } });
    expect(res.exitCode).toBe(0);
    expect(opsOf(fake.world)).toEqual(['DescribeTasks', 'ExecuteCommand']);
    expect(fake.world.execCalls[0]).toMatchObject({ task: TASK('t1'), command: '/bin/sh' });
    expect(res.spawned[0].argv[5]).toBe('http://127.0.0.1:4566');
  });

  test.each([
    ['no plugin on PATH', (w) => serviceTask(w, 't1'), ['api'], { PATH: emptyDir }, 2, /^error: session-manager-plugin is not on PATH: ECS Exec hands its session to AWS's Session Manager plugin, as the AWS CLI does; install it \(https:/],
    ['a --task of another service', (w) => serviceTask(w, 't1', { group: 'service:staging-frontend' }), ['api', '--task', 't1'], undefined, 2, /^error: --task t1: not a task of service staging-api \(its group: service:staging-frontend\)$/],
    ['no running task', () => {}, ['api'], undefined, 1, /^error: service staging-api has no running task: nothing to exec into$/],
    ['enableExecuteCommand false', (w) => serviceTask(w, 't1', { enableExecuteCommand: false }), ['api'], undefined, 1, /^error: task t1 of staging-api was started with enableExecuteCommand false: ECS Exec needs the service's enable_execute_command/],
    ['the agent not running', (w) => serviceTask(w, 't1', {}, { managedAgents: [{ name: 'ExecuteCommandAgent', lastStatus: 'STOPPED', reason: 'no channel' }] }), ['api'], undefined, 1, /the ExecuteCommandAgent of api in task t1 is STOPPED \(no channel\): the task role needs ssmmessages:CreateControlChannel/],
  ])('%s: refused before ExecuteCommand', async (_name, setup, args, env, code, message) => {
    const fake = fakeWorld();
    setup(fake.world);
    const res = await exec(fake, args, env ? { env } : {});
    expect(res.exitCode).toBe(code);
    expect(res.err).toMatch(message);
    expect(fake.world.execCalls).toEqual([]);
    expect(res.spawned).toEqual([]);
  });

  test.each([
    ['AccessDeniedException', /^error: ExecuteCommand denied: .*\. The caller needs ecs:ExecuteCommand on this cluster's tasks \(the rollout role's EcsExecIntoThisClustersTasks/],
    ['TargetNotConnectedException', /^error: ExecuteCommand failed for api in task t1: .*enableExecuteCommand true .*ssmmessages:CreateControlChannel/],
  ])('ExecuteCommand answers %s: exit 1 naming what to check, no plugin started', async (name, message) => {
    const fake = fakeWorld();
    serviceTask(fake.world, 't1');
    fake.world.faults.set('ExecuteCommand', () => awsError(name, 'not allowed or not connected'));
    const res = await exec(fake, ['api', '--', 'true']);
    expect(res.exitCode).toBe(1);
    expect(res.err).toMatch(message);
    expect(res.spawned).toEqual([]);
  });

  test('bad input: unknown service, missing SERVICE, a stray argument (exit 2, nothing called)', async () => {
    for (const [args, message] of [[['nope'], /^error: unknown SERVICE "nope"/], [[], /^error: missing SERVICE/], [['api', 'ls'], /^error: unexpected argument "ls"/]]) {
      const fake = fakeWorld();
      const res = await exec(fake, args);
      expect(res.exitCode).toBe(2);
      expect(res.err).toMatch(message);
      expect(fake.world.calls).toEqual([]);
    }
  });
});

test('shellJoin quotes what a shell would split or expand; onPath finds only executables', () => {
  expect(shellJoin(['python3', '-c', "import sys; print('hi')", 'a b', '$HOME', ''])).toBe(`python3 -c 'import sys; print('\\''hi'\\'')' 'a b' '$HOME' ''`);
  expect(onPath('session-manager-plugin', `${emptyDir}${path.delimiter}${binDir}`)).toBe(path.join(binDir, 'session-manager-plugin'));
  fs.writeFileSync(path.join(emptyDir, 'not-executable'), 'x', { mode: 0o644 });
  expect(onPath('not-executable', emptyDir)).toBeNull();
});
