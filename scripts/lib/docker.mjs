// Docker for the local run and the image tests: can it be used here, and a loopback registry whose basic-auth
// user is the one ECR's GetAuthorizationToken returns (so the image step logs in to it exactly as to ECR).
// Registries are started and stopped through scripts/ci/docker.sh (dockerSh); the password goes to it on stdin only.
import fs from 'node:fs';
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { freePort } from './moto.mjs';
import { DOCKER_SH } from './paths.mjs';
import { runSync, which } from './proc.mjs';

/**
 * Run scripts/ci/docker.sh COMMAND ...; throws with its output when it fails (unless `check` is false).
 * @param {string[]} args
 * @param {{ input?: string, output?: 'capture' | 'inherit' | 'ignore', check?: boolean }} [opts]
 */
export function dockerSh(args, opts = {}) {
  const r = runSync(DOCKER_SH, args, { input: opts.input, output: opts.output });
  if (r.code !== 0 && opts.check !== false) throw new Error(`scripts/ci/docker.sh ${args[0]} failed:\n${r.stderr || r.stdout}`);
  return r;
}

/**
 * Can Docker (engine, registry, htpasswd) be used here?
 * @returns {{ reason: string|null, running: boolean, canStartDockerd: boolean }} reason: why not (null: it can,
 *   now when `running`, or after `scripts/ci/docker.sh start-dockerd` when `canStartDockerd`)
 */
export function dockerStatus() {
  const no = (/** @type {string} */ reason) => ({ reason, running: false, canStartDockerd: false });
  let server;
  try {
    server = runSync('docker', ['version', '--format', '{{.Server.Version}}']);
  } catch (e) {
    return no(`docker CLI not found (${/** @type {Error} */ (e).message}); install with: sudo scripts/ci/docker.sh install`);
  }
  const missing = [];
  if (!fs.existsSync('/usr/bin/docker-registry')) missing.push('docker-registry (Debian package docker-registry)');
  if (!which('htpasswd')) missing.push('htpasswd (Debian package apache2-utils)');
  if (missing.length) return no(`missing ${missing.join(', ')}; install with: sudo scripts/ci/docker.sh install`);
  if (server.code === 0) return { reason: null, running: true, canStartDockerd: false };
  if (!which('dockerd')) return no('no Docker engine running and dockerd is not installed (Debian package docker.io)');
  if (process.getuid?.() !== 0) return no('no Docker engine running, and starting dockerd needs root');
  return { reason: null, running: false, canStartDockerd: true };
}

/**
 * The registry credentials ECR hands out (base64 "user:password" of GetAuthorizationToken).
 * @param {import('@aws-sdk/client-ecr').ECRClient} ecr
 */
export async function ecrCredentials(ecr) {
  const tok = await ecr.send(new GetAuthorizationTokenCommand({}));
  const decoded = Buffer.from(tok.authorizationData?.[0]?.authorizationToken ?? '', 'base64').toString();
  const at = decoded.indexOf(':');
  if (at < 1) throw new Error('ECR GetAuthorizationToken returned no "user:password" token');
  return { username: decoded.slice(0, at), password: decoded.slice(at + 1) };
}

/**
 * Start a basic-auth registry on a free 127.0.0.1 port with the given credentials; its data lives in `dir`.
 * @param {{ dir: string, creds: { username: string, password: string } }} opts
 */
export async function startRegistry({ dir, creds }) {
  const port = await freePort();
  dockerSh(['start-registry', dir, String(port)], { input: `${creds.username}:${creds.password}\n` });
  return {
    port,
    host: `127.0.0.1:${port}`,
    stop: () => void dockerSh(['stop-registry', dir], { output: 'ignore', check: false }),
  };
}
