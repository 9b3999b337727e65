// ECS Exec on the local data plane (scripts/lib/dataplane/exec.mjs): ExecuteCommand answered for the engine's tasks
// through the fault proxy, as the runner's ECS client parses it (a session whose StreamUrl names the container and
// the command; ECS's refusals otherwise; a task the engine does not know goes to the emulator), and the data plane's
// session-manager-plugin turning that session into `docker exec` with the command's words as the runner quoted them.
import http from 'node:http';
import { ECSClient, ExecuteCommandCommand } from '@aws-sdk/client-ecs';
import { startFaultProxy } from '../../scripts/lib/fault-proxy.mjs';
import { execOverlays, openSession, shellSplit, PLUGIN_DIR } from '../../scripts/lib/dataplane/exec.mjs';
import { shellJoin } from '../../runner/lib/shell-words.mjs';

const ARN = (id) => `arn:aws:ecs:us-east-1:000000000000:task/staging/${id}`;
const task = (id, over = {}) => ({
  arn: ARN(id), id, clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/staging', lastStatus: 'RUNNING', exec: true,
  containers: [{ name: 'api', dockerId: `docker-${id}`, lastStatus: 'RUNNING' }], ...over,
});
const tasks = [task('t1'), task('off', { exec: false }), task('gone', { lastStatus: 'STOPPED' })];
let emulator; let proxy; let ecs; let emulatorHits = 0;

beforeAll(async () => {
  emulator = http.createServer((req, res) => {
    emulatorHits += 1;
    req.resume();
    req.on('end', () => {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'InvalidParameterException' });
      res.end(JSON.stringify({ __type: 'InvalidParameterException', message: 'from the emulator' }));
    });
  });
  const port = await new Promise((r) => emulator.listen(0, '127.0.0.1', () => r(emulator.address().port)));
  proxy = await startFaultProxy({ target: `http://127.0.0.1:${port}`, rules: execOverlays({ tasks: () => tasks }) });
  ecs = new ECSClient({ region: 'us-east-1', endpoint: proxy.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
});
afterAll(async () => { ecs.destroy(); await proxy.close(); await new Promise((r) => emulator.close(r)); });

const execute = (input) => ecs.send(new ExecuteCommandCommand({ cluster: 'staging', container: 'api', interactive: true, ...input }));

test('a running task with ECS Exec on: a session naming its container and the command', async () => {
  const res = await execute({ task: ARN('t1'), command: "python3 -c 'print(1)'" });
  expect(res).toMatchObject({ taskArn: ARN('t1'), containerName: 'api', interactive: true, session: { sessionId: expect.stringMatching(/^ecs-execute-command-/), tokenValue: 'dataplane' } });
  const url = new URL(res.session.streamUrl);
  expect([url.protocol, url.searchParams.get('container'), url.searchParams.get('command')]).toEqual(['dataplane-docker:', 'docker-t1', "python3 -c 'print(1)'"]);
});

test.each([
  ['execute-command off', { task: 'off', command: 'true' }, /execute command was not enabled/],
  ['a stopped task', { task: 'gone', command: 'true' }, /the task is STOPPED, not RUNNING/],
  ['not interactive', { task: 't1', command: 'true', interactive: false }, /Interactive is the only mode supported/],
  ['another container', { task: 't1', command: 'true', container: 'sidecar' }, /The container sidecar is not in the task/],
])('%s: InvalidParameterException as ECS answers', async (_n, input, message) => {
  const before = emulatorHits;
  await expect(execute(input)).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringMatching(message) });
  expect(emulatorHits).toBe(before);
});

test('a task the engine does not know: the emulator answers', async () => {
  const before = emulatorHits;
  await expect(execute({ task: 'other', command: 'true' })).rejects.toMatchObject({ message: 'from the emulator' });
  expect(emulatorHits).toBe(before + 1);
});

test('the plugin: docker exec into the session\'s container with the runner\'s words; other sessions refused', async () => {
  const words = ['python3', '-c', "import sys; print('hi'); sys.exit(3)", 'a b', '$HOME', ''];
  expect(shellSplit(shellJoin(words))).toEqual(words);
  expect(shellSplit(`a "b \\"c\\" $d" e\\ f`)).toEqual(['a', 'b "c" $d', 'e f']);
  const calls = [];
  const io = { write: (s) => calls.push(['write', s]), spawnDocker: async (args) => { calls.push(['docker', args]); return 3; } };
  const url = `dataplane-docker://exec?container=abc&command=${encodeURIComponent(shellJoin(words))}`;
  expect(await openSession([JSON.stringify({ SessionId: 's', StreamUrl: url, TokenValue: 'dataplane' }), 'us-east-1', 'StartSession', '', '{"Target":"ecs:x"}', 'http://e'], io)).toBe(3);
  expect(calls).toEqual([['docker', ['exec', '-i', 'abc', ...words]]]);
  calls.length = 0;
  expect(await openSession([JSON.stringify({ StreamUrl: 'wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/s' })], io)).toBe(2);
  expect(calls).toEqual([['write', `session-manager-plugin (local data plane): wss:// is not a local data plane session; for AWS, put AWS's session-manager-plugin first on PATH instead of ${PLUGIN_DIR}\n`]]);
});
