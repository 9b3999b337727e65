// `exec SERVICE [--task ID] [-- COMMAND...]`: ECS Exec into a running task of SERVICE (the cluster and the services
// enable execute-command; every task role holds the ssmmessages channel actions, stacks/iam.ts). As the AWS CLI's
// `aws ecs execute-command`: DescribeTasks (the task, its container's runtime id), ExecuteCommand (interactive), then
// the session handed to AWS's Session Manager plugin:
//   session-manager-plugin <session JSON> <region> StartSession <profile> <{"Target": "ecs:<cluster>_<task>_<runtime>"}> <SSM endpoint>
// with this terminal as its stdin, stdout and stderr; the verb exits with the plugin's exit code. The runner knows
// nothing else about where the session goes: on the local data plane the proxy answers ExecuteCommand for its
// containers and the data plane puts its own session-manager-plugin first on PATH (scripts/lib/dataplane/exec.mjs),
// so this is the same code on AWS and on the data plane.
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { ExecuteCommandCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import { InputError, EXIT } from '../lib/errors.mjs';
import { defineCommand } from '../lib/cli-options.mjs';
import { stackInputFlags, helpFlag } from '../lib/args.mjs';
import { send, errorLine } from '../aws/send.mjs';
import { describeTasks } from '../aws/ecs.mjs';
import { taskId } from '../aws/one-off-task.mjs';
import { shellJoin } from '../lib/shell-words.mjs';
import { catalogService } from './run.mjs';
import { runVerb } from './setup.mjs';
import { usage } from './index.mjs';

/**
 * @typedef {{ outputs: string|null, stackDir: string, config: string|null, service: string|null, command: string[], task: string|null, help: boolean }} ExecOptions
 * @typedef {(file: string, args: string[], env: Record<string, string|undefined>) => Promise<number>} SpawnSession
 *   runs the plugin with this terminal and resolves to its exit code
 * @typedef {import('../main.mjs').MainDeps & { spawnSession?: SpawnSession }} ExecDeps
 */

export const PLUGIN = 'session-manager-plugin';
export const DEFAULT_COMMAND = ['/bin/sh'];
const INSTALL = 'https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html';

const COMMAND = defineCommand(/** @type {import('../lib/cli-options.mjs').CommandSpec<ExecOptions>} */ ({
  head: `${usage('exec', 'SERVICE [--task ID] [flags] [-- COMMAND...]')}

Opens COMMAND (default ${DEFAULT_COMMAND.join(' ')}) in SERVICE's container of a running task with ECS Exec, through
AWS's ${PLUGIN} (on PATH), as \`aws ecs execute-command --interactive\` does. Example:
  npx zx runner/rollout.mjs exec api -- printenv PORT`,
  column: 23,
  positional: { key: 'service', value: 'SERVICE', required: true },
  rest: { key: 'command', value: 'COMMAND...' },
  sections: [
    { title: 'Inputs', flags: [
      ...stackInputFlags(),
      { flag: '--task', value: 'ID', key: 'task', help: ['this task of SERVICE (id or ARN; default: its newest running task)'] },
    ] },
    { title: 'Output', flags: helpFlag() },
  ],
  tail: `Exit codes
  N    the session's exit code (the plugin's)
  1    no running task, the task or its container cannot be exec'd into (named), ExecuteCommand was denied or
       failed, or AWS could not be read
  2    bad input (flags, config, outputs, unknown or disabled SERVICE, a --task of another service,
       ${PLUGIN} not on PATH)`,
}));

export const HELP = COMMAND.help;

/**
 * @param {string[]} argv @param {ExecDeps} deps
 * @returns {Promise<import('./index.mjs').VerbResult>}
 */
export async function run(argv, deps) {
  return runVerb(COMMAND, argv, deps, async (o, ctx) => {
    const { outputs } = ctx;
    const service = catalogService(outputs, /** @type {string} */ (o.service));
    const container = /** @type {string} */ (service.containerName);
    const ecsName = /** @type {string} */ (service.ecsServiceName);
    const command = o.command.length ? o.command : DEFAULT_COMMAND;
    // before any AWS call: a session nobody can attach to is of no use
    const plugin = onPath(PLUGIN, ctx.env.PATH ?? '');
    if (!plugin) throw new InputError(`${PLUGIN} is not on PATH: ECS Exec hands its session to AWS's Session Manager plugin, as the AWS CLI does; install it (${INSTALL}) and run again`);
    const call = { signal: ctx.signal, log: ctx.log };
    const cluster = outputs.clusterName;
    const task = await pickTask(ctx, o.task, ecsName);
    const id = taskId(/** @type {string} */ (task.taskArn));
    if (task.lastStatus !== 'RUNNING') throw new Error(`task ${id} of ${ecsName} is ${task.lastStatus}, not RUNNING: nothing to exec into`);
    if (task.enableExecuteCommand === false) {
      throw new Error(`task ${id} of ${ecsName} was started with enableExecuteCommand false: ECS Exec needs the service's enable_execute_command `
        + '(config cluster.enableExecuteCommand, on by default) and a task started after it was set (a new deployment, e.g. a rollout)');
    }
    const c = (task.containers ?? []).find((x) => x.name === container);
    if (!c?.runtimeId) throw new Error(`task ${id} has no running container ${container}${c ? ` (${c.lastStatus ?? 'no status'})` : ''}: nothing to exec into`);
    const agent = (c.managedAgents ?? []).find((a) => a.name === 'ExecuteCommandAgent');
    if (agent && agent.lastStatus !== 'RUNNING') {
      throw new Error(`the ExecuteCommandAgent of ${container} in task ${id} is ${agent.lastStatus ?? 'not running'}${agent.reason ? ` (${agent.reason})` : ''}: the task role needs `
        + 'ssmmessages:CreateControlChannel, CreateDataChannel, OpenControlChannel and OpenDataChannel (stacks/iam.ts EcsExecChannels) and the task must reach the ssmmessages endpoint');
    }

    let res;
    try {
      res = await send(call, ctx.aws.ecs, new ExecuteCommandCommand({ cluster, task: task.taskArn, container, command: shellJoin(command), interactive: true })); // ECS splits it into words as a shell would, without one
    } catch (e) {
      throw new Error(execFailure(e, id, container));
    }
    const session = res.session;
    if (!session?.sessionId || !session.streamUrl || !session.tokenValue) throw new Error(`ExecuteCommand answered without a session for task ${id}`);
    ctx.writeErr(`exec ${service.name}: task ${id}, container ${container}: ${shellJoin(command)} (session ${session.sessionId})`);
    // the plugin's arguments exactly as the AWS CLI passes them; the token goes to the plugin only, never to output
    const args = [
      JSON.stringify({ SessionId: session.sessionId, StreamUrl: session.streamUrl, TokenValue: session.tokenValue }),
      outputs.region, 'StartSession', ctx.env.AWS_PROFILE ?? '',
      JSON.stringify({ Target: `ecs:${cluster}_${id}_${c.runtimeId}` }),
      ctx.env.AWS_ENDPOINT_URL_SSM || ctx.env.AWS_ENDPOINT_URL || `https://ssm.${outputs.region}.amazonaws.com`,
    ];
    let exitCode;
    try {
      exitCode = await (deps.spawnSession ?? spawnInherit)(plugin, args, ctx.env);
    } catch (e) {
      throw new Error(`${plugin} could not be started: ${/** @type {Error} */ (e).message}`);
    }
    return { exitCode, report: { schemaVersion: 1, service: service.name, taskArn: task.taskArn, container, sessionId: session.sessionId, exitCode } };
  });
}

/**
 * The task to exec into: --task (it must be one of the service's), else the service's newest running task.
 * @param {import('./setup.mjs').VerbContext} ctx @param {string|null} wanted @param {string} ecsName
 * @returns {Promise<import('@aws-sdk/client-ecs').Task>}
 */
async function pickTask(ctx, wanted, ecsName) {
  const call = { signal: ctx.signal, log: ctx.log };
  const cluster = ctx.outputs.clusterName;
  if (wanted) {
    const { tasks } = await describeTasks(call, ctx.aws.ecs, cluster, [wanted]);
    const t = tasks[0];
    if (!t) throw new InputError(`--task ${wanted}: no such task in cluster ${cluster}`);
    if (t.group !== `service:${ecsName}`) throw new InputError(`--task ${wanted}: not a task of service ${ecsName} (its group: ${t.group ?? 'none'})`);
    return t;
  }
  const listed = await send(call, ctx.aws.ecs, new ListTasksCommand({ cluster, serviceName: ecsName, desiredStatus: 'RUNNING', maxResults: 100 }));
  const arns = listed.taskArns ?? [];
  const { tasks } = arns.length ? await describeTasks(call, ctx.aws.ecs, cluster, arns) : { tasks: [] };
  const running = tasks.filter((t) => t.lastStatus === 'RUNNING').sort((a, b) => Number(b.startedAt ?? 0) - Number(a.startedAt ?? 0));
  const t = running.find((x) => x.enableExecuteCommand !== false) ?? running[0];
  if (!t) throw new Error(`service ${ecsName} has no running task${arns.length ? ` (${arns.length} not RUNNING yet)` : ''}: nothing to exec into`);
  return t;
}

/**
 * What a failed ExecuteCommand means, and what to check.
 * @param {unknown} e @param {string} id @param {string} container
 */
function execFailure(e, id, container) {
  const name = /** @type {Error} */ (e)?.name;
  const line = errorLine(e);
  if (name === 'AccessDeniedException') {
    return `ExecuteCommand denied: ${line}. The caller needs ecs:ExecuteCommand on this cluster's tasks (the rollout role's EcsExecIntoThisClustersTasks, stacks/ci-access/rollout-policy.ts)`;
  }
  if (name === 'TargetNotConnectedException' || name === 'InvalidParameterException') {
    return `ExecuteCommand failed for ${container} in task ${id}: ${line}. Check that the task was started with enableExecuteCommand true `
      + '(config cluster.enableExecuteCommand; a task started before it was set needs a new deployment) and that its task role grants '
      + 'ssmmessages:CreateControlChannel, CreateDataChannel, OpenControlChannel and OpenDataChannel (stacks/iam.ts EcsExecChannels)';
  }
  return `ExecuteCommand failed for ${container} in task ${id}: ${line}`;
}

/**
 * The first executable `name` in the PATH list, or null.
 * @param {string} name @param {string} pathList
 */
export function onPath(name, pathList) {
  for (const dir of pathList.split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, name);
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** @type {SpawnSession} */
function spawnInherit(file, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'inherit', env: /** @type {NodeJS.ProcessEnv} */ (env) });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? EXIT.INTERRUPTED : EXIT.FAILED)));
  });
}
