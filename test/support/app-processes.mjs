// Local stand-ins for containers of the application contract test: the example app (examples/app) copied like
// the image's `COPY` into a temporary /app, each container's process started with exactly the environment ECS
// would give it (plus PATH and the image's CA bundle), its output kept as its awslogs stream would be.
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

export const APP_DIR = path.resolve(new URL('../../examples/app', import.meta.url).pathname);

/** Dockerfile of each image the example app provides (its CMD is the command of a container without one). */
export const IMAGE_DOCKERFILES = { api: 'Dockerfile', anisette: 'anisette.Dockerfile' };

/** The JSON-form CMD of an example image. @param {string} image */
export function imageCmd(image) {
  const file = IMAGE_DOCKERFILES[/** @type {keyof typeof IMAGE_DOCKERFILES} */ (image)];
  if (!file) return null;
  const m = /^CMD (\[.*\])\s*$/m.exec(fs.readFileSync(path.join(APP_DIR, file), 'utf8'));
  if (!m) throw new Error(`${file}: no JSON-form CMD`);
  return /** @type {string[]} */ (JSON.parse(m[1]));
}

/** A python3 with SQLAlchemy, psycopg2, redis-py and alembic (Debian 12 packages), or null. */
export function findPython() {
  for (const p of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(p, ['-c', 'import sqlalchemy, psycopg2, redis, alembic, sys; print(sys.executable)'], { encoding: 'utf8' });
    if (!r.error && r.status === 0) return r.stdout.trim();
  }
  return null;
}

/**
 * The image's file system stand-in: /app (the example app) and a bin dir with `python` (python-is-python3) and
 * `alembic` (as the Dockerfile installs them).
 * @param {string} root @param {string} python
 */
export function prepareImage(root, python) {
  const app = path.join(root, 'app');
  fs.cpSync(APP_DIR, app, { recursive: true, filter: (src) => !src.includes('__pycache__') });
  const bin = path.join(root, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.symlinkSync(python, path.join(bin, 'python'));
  fs.symlinkSync(python, path.join(bin, 'python3'));
  fs.writeFileSync(path.join(bin, 'alembic'), `#!/bin/sh\nexec ${python} -m alembic "$@"\n`, { mode: 0o755 });
  return { app, path: `${bin}:/usr/bin:/bin` };
}

/**
 * A started container process: output lines (stdout and stderr, as awslogs keeps them), exit, stop.
 * @param {string} name @param {string[]} command @param {Record<string, string>} env @param {string} cwd
 * @param {{ input?: string }} [opts]
 */
export function startProcess(name, command, env, cwd, opts = {}) {
  const child = spawn(command[0], command.slice(1), { cwd, env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  /** @type {string[]} */
  const lines = [];
  /** @type {Array<() => void>} */
  const waiters = [];
  let spawnError = null;
  const onData = (/** @type {{ rest: string }} */ buf) => (/** @type {Buffer} */ d) => {
    buf.rest += d.toString();
    const parts = buf.rest.split('\n');
    buf.rest = /** @type {string} */ (parts.pop());
    for (const l of parts) lines.push(l);
    for (const w of waiters.splice(0)) w();
  };
  child.stdout.on('data', onData({ rest: '' }));
  child.stderr.on('data', onData({ rest: '' }));
  const exited = new Promise((resolve) => {
    child.on('error', (e) => { spawnError = e; lines.push(`spawn failed: ${e.message}`); resolve(127); });
    child.on('close', (code, signal) => { for (const w of waiters.splice(0)) w(); resolve(code ?? (signal ? 128 : 1)); });
  });
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  const proc = {
    name,
    child,
    lines,
    /** @type {Promise<number>} */ exited: /** @type {Promise<number>} */ (exited),
    get running() { return child.exitCode === null && child.signalCode === null && !spawnError; },
    /** Wait for a line matching `re`; throws with the output when the process exits or `ms` pass first. */
    async waitForLine(/** @type {RegExp} */ re, ms = 20000) {
      const until = Date.now() + ms;
      for (;;) {
        const hit = lines.find((l) => re.test(l));
        if (hit) return hit;
        if (!proc.running) throw new Error(`${name} exited (${child.exitCode}) before printing ${re}:\n${lines.slice(-20).join('\n')}`);
        if (Date.now() > until) throw new Error(`${name} printed no ${re} within ${ms} ms:\n${lines.slice(-20).join('\n')}`);
        await new Promise((r) => { const t = setTimeout(r, 100); waiters.push(() => { clearTimeout(t); r(null); }); });
      }
    },
    async stop() {
      if (proc.running) child.kill('SIGTERM');
      const t = setTimeout(() => { if (proc.running) child.kill('SIGKILL'); }, 5000);
      await exited;
      clearTimeout(t);
    },
  };
  return proc;
}
