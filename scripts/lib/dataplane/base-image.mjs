// The base image of the local data plane's images (examples/app, examples/images/frontend and admin): Debian 12
// from Debian packages only, no public registry. `mmdebstrap --variant=essential` makes a root file system
// tarball from the mirror this machine's apt uses (/etc/apt/sources.list and sources.list.d, one-line and
// deb822), `docker import` turns it into an image tagged `staging-rollout/base:<hash>` (hash of everything
// that defines it: suite, variant, packages, the customize step, the image settings) and aliased
// `staging-rollout/base:local`, the Dockerfiles' default `FROM`. A second run finds the hashed tag and
// only re-points the alias (seconds). Failures are PrerequisiteErrors (exit 2) naming what failed and the fix.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PrerequisiteError } from '../moto.mjs';
import { run, which } from '../proc.mjs';

export const BASE_REPOSITORY = 'staging-rollout/base';
export const BASE_ALIAS = `${BASE_REPOSITORY}:local`;
export const SUITE = 'bookworm';
export const VARIANT = 'essential';
/** What the images need: the example app (python3, alembic, SQLAlchemy, psycopg2, redis-py, CA bundle); the
 * frontend and admin images serve with python3's http.server. */
export const PACKAGES = Object.freeze([
  'ca-certificates', 'python-is-python3', 'python3', 'python3-alembic', 'python3-psycopg2', 'python3-redis', 'python3-sqlalchemy',
]);
/** Run in the root file system after the packages are installed: Debian's python3-alembic ships only the
 * module, the images (and the stack's migration command) call `alembic`. */
const CUSTOMIZE = `printf '#!/bin/sh\\nexec python3 -m alembic "$@"\\n' > "$1/usr/local/bin/alembic" && chmod 755 "$1/usr/local/bin/alembic"`;
/** dpkg options: no documentation, manual pages or translations in the image (copyright files kept) */
const DPKG_OPTS = Object.freeze(['path-exclude=/usr/share/doc/*', 'path-include=/usr/share/doc/*/copyright', 'path-exclude=/usr/share/man/*', 'path-exclude=/usr/share/locale/*']);
/** docker import --change lines */
const CHANGES = Object.freeze([
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'ENV LANG=C.UTF-8',
  'ENV PYTHONUNBUFFERED=1',
  'WORKDIR /',
  'CMD ["python3"]',
]);
/** Environment variable naming the mirror(s) to use instead of the host's apt sources (space separated URIs
 * or "deb ..." lines separated by ";"). */
export const MIRROR_ENV = 'STAGING_ROLLOUT_BASE_MIRROR';

/** The tag of the base image: 12 hex digits of a hash of everything that defines it. */
export function baseImageTag() {
  const spec = JSON.stringify({ suite: SUITE, variant: VARIANT, packages: [...PACKAGES].sort(), dpkg: DPKG_OPTS, customize: CUSTOMIZE, changes: CHANGES });
  return `${BASE_REPOSITORY}:${crypto.createHash('sha256').update(spec).digest('hex').slice(0, 12)}`;
}

/**
 * The Debian sources of `suite` (the suite itself, its -updates and -security) in apt source files, as
 * one-line "deb" entries mmdebstrap accepts. Disabled deb822 stanzas and deb-src lines are skipped.
 * @param {Array<{ file: string, text: string }>} files one-line (.list) or deb822 (.sources) files
 * @param {string} [suite]
 * @returns {string[]}
 */
export function debianSources(files, suite = SUITE) {
  const wanted = (/** @type {string} */ s) => s === suite || s.startsWith(`${suite}-`) || s === `${suite}/updates`;
  /** @type {string[]} */
  const out = [];
  for (const { file, text } of files) {
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        /** @type {Record<string, string>} */
        const f = {};
        let last = '';
        for (const line of stanza.split('\n')) {
          if (/^\s*#/.test(line) || !line.trim()) continue;
          const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
          if (m) { last = m[1].toLowerCase(); f[last] = m[2].trim(); } else if (last && /^\s/.test(line)) f[last] += ` ${line.trim()}`;
        }
        if (!(f.types ?? '').split(/\s+/).includes('deb') || /^(no|false)$/i.test(f.enabled ?? '')) continue;
        const signed = f['signed-by'] && !f['signed-by'].includes('-----BEGIN') ? ` [signed-by=${f['signed-by']}]` : '';
        for (const uri of (f.uris ?? '').split(/\s+/).filter(Boolean)) {
          for (const s of (f.suites ?? '').split(/\s+/).filter(wanted)) out.push(`deb${signed} ${uri} ${s} ${f.components || 'main'}`);
        }
      }
    } else {
      for (const raw of text.split('\n')) {
        const line = raw.replace(/#.*$/, '').trim();
        const m = /^deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
        if (m && wanted(m[3])) out.push(`deb ${m[1] ?? ''}${m[2]} ${m[3]} ${m[4] || 'main'}`.replace(/\s+/g, ' ').trim());
      }
    }
  }
  return [...new Set(out)];
}

/** The apt source files this machine's apt reads (as apt does: sources.list, sources.list.d/*.list|*.sources). */
function hostSourceFiles(etc = '/etc/apt') {
  const files = [];
  const main = path.join(etc, 'sources.list');
  if (fs.existsSync(main)) files.push(main);
  const d = path.join(etc, 'sources.list.d');
  if (fs.existsSync(d)) for (const n of fs.readdirSync(d).sort()) if (/\.(list|sources)$/.test(n)) files.push(path.join(d, n));
  return files.map((file) => ({ file, text: fs.readFileSync(file, 'utf8') }));
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One builder at a time per tag on this machine (parallel test workers, a bench beside a local run): a lock
 * file holding the builder's pid; a lock whose process is gone is taken over.
 * @param {string} file @param {(line: string) => void} log
 */
async function lock(file, log) {
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => { try { fs.rmSync(file); } catch { /* gone */ } };
    } catch (e) {
      if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'EEXIST') throw e;
    }
    const pid = Number(fs.readFileSync(file, 'utf8'));
    let alive = false;
    try { process.kill(pid, 0); alive = pid > 0 && pid !== process.pid; } catch { /* gone */ }
    if (!alive) { fs.rmSync(file, { force: true }); continue; }
    if (!told) { log(`base image: waiting for process ${pid}, which is building it`); told = true; }
    await sleep(1000);
  }
}

/** @param {string} ref */
async function imageExists(ref) {
  const r = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', ref]);
  return r.code === 0 ? r.stdout.trim() : null;
}

/**
 * Make sure the base image exists; build it when its hashed tag is missing.
 * @param {{ log?: (line: string) => void, timeoutMs?: number }} [o]
 * @returns {Promise<{ ref: string, alias: string, id: string, built: boolean, ms: number, sizeBytes: number }>}
 */
export async function ensureBaseImage({ log = () => {}, timeoutMs = 30 * 60_000 } = {}) {
  const t0 = Date.now();
  const ref = baseImageTag();
  const docker = await run('docker', ['version', '--format', '{{.Server.Version}}']).catch((e) => ({ code: -1, stderr: e.message, stdout: '' }));
  if (docker.code !== 0) {
    throw new PrerequisiteError(`base image: Docker is not usable (docker version: ${(docker.stderr || docker.stdout).trim().split('\n')[0]})\n  fix: start dockerd (sudo scripts/ci/docker.sh start-dockerd) or install Docker (sudo scripts/ci/docker.sh install)`);
  }
  let built = false;
  let id = await imageExists(ref);
  if (!id) {
    const unlock = await lock(path.join(os.tmpdir(), `${ref.replace(/[/:]/g, '-')}.lock`), log);
    try {
      id = await imageExists(ref); // built by the process we waited for
      if (!id) { id = await build(ref, log, timeoutMs); built = true; }
    } finally {
      unlock();
    }
  }
  const tag = await run('docker', ['tag', ref, BASE_ALIAS]);
  if (tag.code !== 0) throw new PrerequisiteError(`base image: docker tag ${ref} ${BASE_ALIAS} failed: ${tag.stderr.trim()}\n  fix: check the Docker engine (docker info)`);
  const size = await run('docker', ['image', 'inspect', '--format', '{{.Size}}', ref]);
  const ms = Date.now() - t0;
  if (built) log(`base image: built ${ref} (${BASE_ALIAS}) in ${(ms / 1000).toFixed(0)} s, ${Math.round(Number(size.stdout) / 1e6)} MB`);
  return { ref, alias: BASE_ALIAS, id, built, ms, sizeBytes: Number(size.stdout.trim()) || 0 };
}

/** @param {string} ref @param {(line: string) => void} log @param {number} timeoutMs @returns {Promise<string>} */
async function build(ref, log, timeoutMs) {
  const mmdebstrap = which('mmdebstrap');
  if (!mmdebstrap) throw new PrerequisiteError('base image: mmdebstrap not found on PATH\n  fix: apt-get install mmdebstrap (Debian/Ubuntu package)');
  let mirrors;
  const override = process.env[MIRROR_ENV]?.trim();
  if (override) {
    mirrors = override.includes('deb ') ? override.split(';').map((s) => s.trim()).filter(Boolean) : override.split(/\s+/);
  } else {
    const files = hostSourceFiles();
    mirrors = debianSources(files);
    if (!mirrors.length) {
      throw new PrerequisiteError(`base image: no Debian 12 (${SUITE}) source in this machine's apt sources (${files.map((f) => f.file).join(', ') || 'none found'})\n  fix: set ${MIRROR_ENV} to a Debian mirror, e.g. ${MIRROR_ENV}=http://deb.debian.org/debian`);
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'staging-rollout-base-'));
  try {
    const tarball = path.join(dir, 'rootfs.tar');
    const logFile = path.join(dir, 'mmdebstrap.log');
    log(`base image: building ${ref} with mmdebstrap --variant=${VARIANT} (Debian 12, ${PACKAGES.length} packages) from ${mirrors.map((m) => m.split(/\s+/).find((w) => w.includes('://'))).filter((v, i, a) => a.indexOf(v) === i).join(', ')}; a few minutes, once`);
    const args = [`--variant=${VARIANT}`, `--include=${PACKAGES.join(',')}`, '--aptopt=Acquire::Check-Valid-Until "false"',
      '--aptopt=Acquire::Retries "3"', ...DPKG_OPTS.map((o) => `--dpkgopt=${o}`), `--customize-hook=${CUSTOMIZE}`, SUITE, tarball, ...mirrors];
    const r = await run(mmdebstrap, args, { output: { file: logFile }, timeoutMs });
    if (r.code !== 0 || !fs.existsSync(tarball)) {
      const tail = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-12).join('\n    ');
      const how = r.timedOut ? `timed out after ${Math.round(timeoutMs / 1000)} s` : `exited ${r.code ?? r.signal}`;
      const net = /Could not resolve|Failed to fetch|Unable to connect|Connection failed|Temporary failure/i.test(tail);
      const fix = net
        ? `the mirror is not reachable from here: check the network (apt-get update uses the same sources), or set ${MIRROR_ENV} to a mirror that is`
        : process.getuid?.() !== 0 ? 'run as root, or give this user subordinate ids (/etc/subuid, /etc/subgid) for mmdebstrap\'s unshare mode' : 'see the mmdebstrap output above';
      throw new PrerequisiteError(`base image: mmdebstrap ${how}:\n    ${tail}\n  fix: ${fix}`);
    }
    const imp = await run('docker', ['import', ...CHANGES.flatMap((c) => ['--change', c]), '--message', `mmdebstrap ${VARIANT} ${SUITE}: ${PACKAGES.join(' ')}`, tarball, ref]);
    if (imp.code !== 0) throw new PrerequisiteError(`base image: docker import of the root file system failed: ${imp.stderr.trim()}\n  fix: check the Docker engine (docker info) and free space in its data root`);
    return imp.stdout.trim();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
