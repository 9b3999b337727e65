// scripts/lib/proc.mjs, the harness's one process helper, against real child processes (node -e).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, run, runSync, which, ProcessError } from '../../scripts/lib/proc.mjs';

const node = process.execPath;
/** @param {string} code @returns {[string, string[]]} */
const js = (code) => [node, ['-e', code]];

describe('run', () => {
  test('captures stdout and stderr separately and reports the exit code', async () => {
    const r = await run(...js('process.stdout.write("out"); process.stderr.write("err"); process.exit(3)'));
    expect(r).toEqual({ code: 3, signal: null, stdout: 'out', stderr: 'err', timedOut: false });
  });

  test('feeds `input` to stdin and closes it', async () => {
    const r = await run(...js('let s = ""; process.stdin.on("data", (b) => (s += b)); process.stdin.on("end", () => process.stdout.write(s.toUpperCase()))'), {
      input: 'hello\n',
    });
    expect(r.stdout).toBe('HELLO\n');
  });

  test('without input, stdin is closed at once (a reader sees end of input)', async () => {
    const r = await run(...js('process.stdin.on("data", () => {}); process.stdin.on("end", () => process.stdout.write("eof"))'), { timeoutMs: 5000 });
    expect(r).toMatchObject({ code: 0, stdout: 'eof', timedOut: false });
  });

  test('passes env and cwd', async () => {
    const dir = fs.realpathSync(os.tmpdir());
    const r = await run(...js('process.stdout.write(process.cwd() + "|" + process.env.PROC_TEST)'), { cwd: dir, env: { ...process.env, PROC_TEST: 'x1' } });
    expect(r.stdout).toBe(`${dir}|x1`);
  });

  test('kills the process when timeoutMs passes', async () => {
    const t0 = Date.now();
    const r = await run(...js('setTimeout(() => {}, 20000)'), { timeoutMs: 200 });
    expect(r).toMatchObject({ code: null, signal: 'SIGTERM', timedOut: true });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  test('a process that ignores the kill signal gets SIGKILL 3 s later', async () => {
    const r = await run(...js('process.on("SIGTERM", () => {}); console.log("ready"); setTimeout(() => {}, 20000)'), { timeoutMs: 500 });
    expect(r).toMatchObject({ signal: 'SIGKILL', timedOut: true });
  }, 10000);

  test('an aborted signal kills with killSignal', async () => {
    const ac = new AbortController();
    const p = run(...js('process.on("SIGINT", () => { process.stdout.write("got SIGINT"); process.exit(130) }); setTimeout(() => {}, 20000)'), {
      signal: ac.signal,
      killSignal: 'SIGINT',
    });
    setTimeout(() => ac.abort(), 300);
    const r = await p;
    expect(r).toMatchObject({ code: 130, stdout: 'got SIGINT', timedOut: false });
  });

  test('check: a non-zero exit rejects with a ProcessError carrying the output', async () => {
    const p = run(...js('process.stderr.write("bad thing"); process.exit(2)'), { check: true });
    await expect(p).rejects.toBeInstanceOf(ProcessError);
    await expect(p).rejects.toMatchObject({ code: 2, message: expect.stringContaining('exited 2:\nbad thing') });
    await expect(run(...js('0'), { check: true })).resolves.toMatchObject({ code: 0 });
  });

  test('a command that does not exist rejects (ENOENT)', async () => {
    await expect(run('no-such-command-proc-test', [])).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test("output 'ignore' drops the output; { file } appends it to the file", async () => {
    expect(await run(...js('console.log("x")'), { output: 'ignore' })).toMatchObject({ code: 0, stdout: '' });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'proc-test-')), 'log');
    fs.writeFileSync(file, 'before\n');
    const h = start(...js('console.log("out"); console.error("err")'), { output: { file } });
    expect((await h.done).stdout).toBe('');
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^before\n(out\nerr\n|err\nout\n)$/);
    expect(h.output()).toBe(fs.readFileSync(file, 'utf8'));
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });
});

describe('start', () => {
  test('a handle: output so far, exited(), kill()', async () => {
    const h = start(...js('console.log("up"); setTimeout(() => {}, 20000)'));
    expect(h.pid).toEqual(expect.any(Number));
    while (!h.output().includes('up')) await new Promise((r) => setTimeout(r, 20));
    expect(h.exited()).toBe(false);
    h.kill();
    const r = await h.done;
    expect(r.signal).toBe('SIGTERM');
    expect(h.exited()).toBe(true);
  });

  test('maxOutput keeps the tail of each stream', async () => {
    const r = await start(...js('process.stdout.write("a".repeat(100) + "END")'), { maxOutput: 10 }).done;
    expect(r.stdout).toBe('aaaaaaaEND');
  });
});

describe('runSync', () => {
  test('exit code, captured output, input', () => {
    const r = runSync(...js('let s = ""; process.stdin.on("data", (b) => (s += b)).on("end", () => { console.log(s.trim()); process.exit(4) })'), { input: 'abc' });
    expect(r).toEqual({ code: 4, signal: null, stdout: 'abc\n', stderr: '', timedOut: false });
  });

  test('timeoutMs kills it and says so', () => {
    const r = runSync(...js('setTimeout(() => {}, 20000)'), { timeoutMs: 200 });
    expect(r).toMatchObject({ signal: 'SIGTERM', timedOut: true });
  });

  test('check throws a ProcessError; a missing command throws', () => {
    expect(() => runSync(...js('process.exit(5)'), { check: true })).toThrow(ProcessError);
    expect(() => runSync('no-such-command-proc-test', [])).toThrow(/ENOENT/);
  });
});

describe('which', () => {
  test('finds an executable on PATH, null for a missing one', () => {
    expect(which('sh')).toMatch(/\/sh$/);
    expect(which('no-such-command-proc-test')).toBeNull();
  });

  test('a PATH without even `sh` gives null, not an error', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'proc-test-empty-'));
    try {
      expect(which('sh', { PATH: empty })).toBeNull();
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
