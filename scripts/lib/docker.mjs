// Docker for the local run and the image tests: can it be used here, and a loopback registry whose basic-auth
// user is the one ECR's GetAuthorizationToken returns (so the image step logs in to it exactly as to ECR).
// Registries are started and stopped through scripts/ci/docker.sh; the password goes to it on stdin only.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { freePort } from './moto.mjs';

export const DOCKER_SH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'ci', 'docker.sh');

/** @param {string} name */
const onPath = (name) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name]).status === 0;

/**
 * Can Docker (engine, registry, htpasswd) be used here?
 * @returns {{ reason: string|null, running: boolean, canStartDockerd: boolean }} reason: why not (null: it can,
 *   now when `running`, or after `scripts/ci/docker.sh start-dockerd` when `canStartDockerd`)
 */
export function dockerStatus() {
  const server = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' });
  const no = (/** @type {string} */ reason) => ({ reason, running: false, canStartDockerd: false });
  if (server.error) return no(`docker CLI not found (${server.error.message}); install with: sudo scripts/ci/docker.sh install`);
  const missing = [];
  if (!fs.existsSync('/usr/bin/docker-registry')) missing.push('docker-registry (Debian package docker-registry)');
  if (!onPath('htpasswd')) missing.push('htpasswd (Debian package apache2-utils)');
  if (missing.length) return no(`missing ${missing.join(', ')}; install with: sudo scripts/ci/docker.sh install`);
  if (server.status === 0) return { reason: null, running: true, canStartDockerd: false };
  if (!onPath('dockerd')) return no('no Docker engine running and dockerd is not installed (Debian package docker.io)');
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
  execFileSync(DOCKER_SH, ['start-registry', dir, String(port)], {
    input: `${creds.username}:${creds.password}\n`,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return {
    port,
    host: `127.0.0.1:${port}`,
    stop: () => void spawnSync(DOCKER_SH, ['stop-registry', dir], { stdio: 'ignore' }),
  };
}
