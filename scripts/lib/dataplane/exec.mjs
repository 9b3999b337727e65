// ECS Exec on the local data plane. The runner's `exec` verb (runner/verbs/exec.mjs) does what the AWS CLI does:
// ExecuteCommand, then `session-manager-plugin <session JSON> <region> StartSession <profile> <target JSON> <endpoint>`.
// The data plane keeps both halves and changes neither: the fault proxy answers ExecuteCommand for the engine's
// tasks (execOverlays) with a session whose StreamUrl names the task's container and the command, and the handoff
// puts this directory's bin/ first on PATH, where a `session-manager-plugin` of its own (openSession) runs
// `docker exec` into that container. Why this design: the runner speaks to what looks like AWS and must not
// special-case the data plane, so the one seam AWS itself has (a session URL handed to an external plugin) is
// where the data plane plugs in; the runner's exec path is the same code on both. What the overlay refuses as ECS
// does: a task of another service or none of the engine's (the emulator answers), a task started without
// enableExecuteCommand, a task or container not RUNNING, a non-interactive call.
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorReply } from '../fault-proxy.mjs';

/** The directory the handoff puts first on PATH: its `session-manager-plugin` is openSession. */
export const PLUGIN_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bin');
/** The scheme of a data-plane session's StreamUrl (AWS's are wss://ssmmessages...). */
export const STREAM_SCHEME = 'dataplane-docker:';

/** @typedef {import('../fault-proxy.mjs').Rule} Rule */

const NOT_ENABLED = 'The execute command failed because execute command was not enabled when the task was run or the execute command agent isn\'t running. Wait and try again or run a new task with execute command enabled and try again.';

/**
 * The fault-proxy overlay answering ECS ExecuteCommand for the engine's tasks.
 * @param {{ tasks: () => import('./engine.mjs').TaskRec[] }} engine
 * @returns {Rule[]}
 */
export function execOverlays(engine) {
  return [{
    name: 'dataplane:ecs:ExecuteCommand',
    service: 'ecs',
    operation: 'ExecuteCommand',
    fault: {
      kind: 'overlay',
      async handle(call) {
        /** @type {{ task?: string, container?: string, command?: string, interactive?: boolean }} */
        const req = JSON.parse(call.body || '{}');
        const rec = engine.tasks().find((t) => t.arn === req.task || t.id === req.task);
        if (!rec) return undefined; // not a task of the engine's: the emulator answers
        const refuse = (/** @type {string} */ message) => errorReply('json', 400, 'InvalidParameterException', message);
        if (req.interactive !== true) return refuse('Interactive is the only mode supported currently.');
        if (!rec.exec) return refuse(NOT_ENABLED);
        if (rec.lastStatus !== 'RUNNING') return refuse(`The execute command failed because the task is ${rec.lastStatus}, not RUNNING.`);
        const c = req.container ? rec.containers.find((x) => x.name === req.container) : rec.containers.length === 1 ? rec.containers[0] : undefined;
        if (!c) return refuse(req.container ? `The container ${req.container} is not in the task.` : 'The task has more than one container: name one.');
        if (!c.dockerId || c.lastStatus !== 'RUNNING') return refuse(NOT_ENABLED);
        const url = new URL(`${STREAM_SCHEME}//exec`);
        url.searchParams.set('container', c.dockerId);
        url.searchParams.set('command', String(req.command ?? ''));
        const body = {
          clusterArn: rec.clusterArn, containerArn: `${rec.arn.replace(':task/', ':container/')}/${c.name}`, containerName: c.name, interactive: true, taskArn: rec.arn,
          session: { sessionId: `ecs-execute-command-${crypto.randomBytes(8).toString('hex')}`, streamUrl: url.toString(), tokenValue: 'dataplane' },
        };
        return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body) };
      },
    },
  }];
}

/**
 * A command string split into words as ECS does (as a POSIX shell would, without running one): blanks separate
 * words; '...' is literal; "..." keeps \" \\ \$ \` escapes; a backslash outside quotes escapes the next character.
 * @param {string} s
 * @returns {string[]}
 */
export function shellSplit(s) {
  /** @type {string[]} */
  const words = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in the command: ${s}`);
      word += s.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (ch === '"') {
      i += 1;
      for (; i < s.length && s[i] !== '"'; i++) word += s[i] === '\\' && '"\\$`'.includes(s[i + 1] ?? '') ? s[++i] : s[i];
      if (i >= s.length) throw new Error(`unterminated " in the command: ${s}`);
      inWord = true;
    } else if (ch === '\\') {
      word += s[i + 1] ?? '';
      i += 1;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * The data plane's session-manager-plugin: the AWS CLI's arguments; a data-plane session opens `docker exec` into
 * the container its StreamUrl names, with this terminal; resolves to the command's exit code.
 * @param {string[]} argv the plugin's arguments
 * @param {{ write: (s: string) => void, spawnDocker?: (args: string[]) => Promise<number> }} io
 */
export async function openSession(argv, io) {
  if (!argv.length) {
    io.write('The local data plane\'s session-manager-plugin: it opens the data plane\'s ECS Exec sessions with docker exec (scripts/lib/dataplane/exec.mjs).\n');
    return 0;
  }
  /** @type {{ StreamUrl?: string }} */
  let session;
  try {
    session = JSON.parse(argv[0]);
  } catch {
    io.write(`session-manager-plugin (local data plane): the first argument is not a session (JSON), got ${JSON.stringify(argv[0].slice(0, 40))}\n`);
    return 2;
  }
  const url = new URL(String(session.StreamUrl ?? 'none:'));
  const container = url.searchParams.get('container');
  if (url.protocol !== STREAM_SCHEME || !container) {
    io.write(`session-manager-plugin (local data plane): ${url.protocol}// is not a local data plane session; for AWS, put AWS's session-manager-plugin first on PATH instead of ${PLUGIN_DIR}\n`);
    return 2;
  }
  const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const args = ['exec', '-i', ...(tty ? ['-t'] : []), container, ...shellSplit(url.searchParams.get('command') || '/bin/sh')];
  return (io.spawnDocker ?? dockerInherit)(args);
}

/** @param {string[]} args */
function dockerInherit(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1)));
  });
}

// run as a program (bin/session-manager-plugin): the plugin itself
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await openSession(process.argv.slice(2), { write: (s) => process.stderr.write(s) });
}
