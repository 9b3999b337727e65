// A minimal Docker Registry HTTP API v2 client: does a tag exist (and with which digest), and copy a manifest to
// another tag (the convenience tag) without pulling. Works against ECR and any distribution-compatible registry:
// it sends Basic credentials first and follows a `WWW-Authenticate: Bearer` challenge when the registry uses
// token auth. `fetch` is injected so tests script the HTTP side.
import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { ImageAuthError, RegistryError } from './failures.mjs';
import { InputError } from '../lib/errors.mjs';
import configLib from '../../lib/config/index.cjs';

const { REGISTRY_ADDRESS_PATTERN } = configLib;

/** Manifest media types we accept, most specific first (multi-arch indexes included). */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];
export const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');

/**
 * @typedef {{ scheme: 'http'|'https', host: string }} RegistryAddress
 * @typedef {{ username: string, password: string }} RegistryCredentials
 */

/** A loopback host (localhost, 127.0.0.0/8): Docker itself treats such a registry as insecure (plain HTTP) by default. */
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3})(:\d{1,5})?$/i;

/**
 * Parse a registry address: `http://host[:port]` / `https://host[:port]`, or `host[:port]` without a scheme:
 * plain HTTP for a loopback host (as Docker, which treats 127.0.0.0/8 as an insecure registry by default), HTTPS
 * for any other.
 * @param {string} spec @param {string} [what] where the value came from, for the error message
 * @returns {RegistryAddress}
 */
export function parseRegistryAddress(spec, what = 'registry address') {
  if (typeof spec !== 'string' || spec.trim() === '') throw new InputError(`${what}: must be a non-empty string like "host:port" or "http://host:port"`);
  const address = spec.trim().replace(/\/$/, '');
  if (!REGISTRY_ADDRESS_PATTERN.test(address)) throw new InputError(`${what}: "${spec}" is not a registry address (expected "host[:port]" or "http(s)://host[:port]", no path)`);
  const host = address.replace(/^https?:\/\//, '');
  const scheme = /^(https?):\/\//.exec(address)?.[1] ?? (LOOPBACK_HOST.test(host) ? 'http' : 'https');
  return { scheme: /** @type {'http'|'https'} */ (scheme), host };
}

/**
 * A transport failure in words a user can act on: a TLS handshake against a plain-HTTP registry names the fix.
 * @param {RegistryAddress} address @param {string} detail
 */
function transportMessage(address, detail) {
  const tls = address.scheme === 'https' && /ssl|tls|wrong version number|EPROTO|certificate/i.test(detail);
  return tls ? `${detail} (the registry was spoken to over HTTPS; if ${address.host} serves plain HTTP, give it as http://${address.host})` : detail;
}

/**
 * Split a repository URL (`123.dkr.ecr.us-east-1.amazonaws.com/staging/api`) into registry host and name.
 * @param {string} url @param {string} [what]
 * @returns {{ host: string, name: string }}
 */
export function splitRepositoryUrl(url, what = 'repository URL') {
  const m = typeof url === 'string' ? /^(?:https?:\/\/)?([A-Za-z0-9.-]+(?::\d{1,5})?)\/([a-z0-9]+(?:[._\/-][a-z0-9]+)*)$/.exec(url) : null;
  if (!m) throw new InputError(`${what}: "${url}" is not a repository URL (expected "host/name")`);
  return { host: m[1], name: m[2] };
}

/**
 * @param {{ address: RegistryAddress, credentials: RegistryCredentials, fetch?: typeof fetch, signal?: AbortSignal }} opts
 */
export function createRegistryClient({ address, credentials, fetch: fetchImpl = globalThis.fetch, signal }) {
  const base = `${address.scheme}://${address.host}`;
  const basic = 'Basic ' + Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  /** @type {Map<string, string>} scope -> bearer token */
  const tokens = new Map();

  /**
   * @param {string} method @param {string} path @param {string} scope
   * @param {{ headers?: Record<string,string>, body?: BodyInit }} [init]
   * @returns {Promise<Response>}
   */
  async function request(method, path, scope, init = {}) {
    const url = base + path;
    const send = (/** @type {string} */ authorization) =>
      fetchImpl(url, { method, headers: { ...init.headers, Authorization: authorization }, body: init.body, signal, redirect: 'follow' })
        .catch((/** @type {Error & { cause?: { message?: string } }} */ e) => {
          if (e?.name === 'AbortError') throw e;
          throw new RegistryError(`${method} ${url}: ${transportMessage(address, String(e?.cause?.message ?? e?.message ?? e))}`);
        });
    let res = await send(tokens.has(scope) ? `Bearer ${tokens.get(scope)}` : basic);
    if (res.status === 401) {
      const challenge = res.headers.get('www-authenticate') ?? '';
      if (/^bearer\s/i.test(challenge)) {
        tokens.set(scope, await bearerToken(challenge, scope));
        res = await send(`Bearer ${tokens.get(scope)}`);
      }
    }
    if (res.status === 401 || res.status === 403) {
      throw new ImageAuthError(`registry ${address.host} refused ${method} ${path} (HTTP ${res.status}): ${await errorText(res)}`);
    }
    return res;
  }

  /** @param {string} challenge @param {string} scope */
  async function bearerToken(challenge, scope) {
    /** @type {Record<string,string>} */
    const params = {};
    for (const m of challenge.replace(/^bearer\s+/i, '').matchAll(/(\w+)="([^"]*)"/g)) params[m[1].toLowerCase()] = m[2];
    if (!params.realm) throw new ImageAuthError(`registry ${address.host} sent a Bearer challenge without realm`);
    const u = new URL(params.realm);
    if (params.service) u.searchParams.set('service', params.service);
    u.searchParams.set('scope', scope);
    const res = await fetchImpl(u.toString(), { headers: { Authorization: basic }, signal }).catch((/** @type {Error & { cause?: { message?: string } }} */ e) => {
      throw new RegistryError(`token request to ${u.origin}${u.pathname}: ${e?.cause?.message ?? e?.message ?? e}`);
    });
    if (!res.ok) throw new ImageAuthError(`registry ${address.host}: token service ${u.origin}${u.pathname} refused the credentials (HTTP ${res.status}): ${await errorText(res)}`);
    const body = /** @type {{ token?: string, access_token?: string }} */ (await res.json());
    const token = body.token ?? body.access_token;
    if (!token) throw new ImageAuthError(`registry ${address.host}: token service returned no token`);
    return token;
  }

  return {
    address,
    /**
     * Does `name:reference` exist? HEAD /v2/<name>/manifests/<reference>.
     * @param {string} name @param {string} reference
     * @returns {Promise<{ exists: boolean, digest: string|null, mediaType: string|null }>}
     */
    async manifest(name, reference) {
      const path = `/v2/${name}/manifests/${encodeURIComponent(reference)}`;
      const res = await request('HEAD', path, `repository:${name}:pull`, { headers: { Accept: MANIFEST_ACCEPT } });
      if (res.status === 404) return { exists: false, digest: null, mediaType: null };
      if (!res.ok) throw new RegistryError(`registry ${address.host}: HEAD ${path} answered HTTP ${res.status}`, res.status);
      let digest = res.headers.get('docker-content-digest');
      if (!digest) digest = (await this.getManifest(name, reference)).digest; // some registries omit it on HEAD
      return { exists: true, digest, mediaType: res.headers.get('content-type') };
    },

    /**
     * GET a manifest's exact bytes (needed to re-tag without changing the digest).
     * @param {string} name @param {string} reference
     * @returns {Promise<{ body: Uint8Array, mediaType: string, digest: string }>}
     */
    async getManifest(name, reference) {
      const path = `/v2/${name}/manifests/${encodeURIComponent(reference)}`;
      const res = await request('GET', path, `repository:${name}:pull`, { headers: { Accept: MANIFEST_ACCEPT } });
      if (!res.ok) throw new RegistryError(`registry ${address.host}: GET ${path} answered HTTP ${res.status}: ${await errorText(res)}`, res.status);
      const body = new Uint8Array(await res.arrayBuffer());
      const digest = res.headers.get('docker-content-digest') ?? 'sha256:' + createHash('sha256').update(body).digest('hex');
      return { body, mediaType: res.headers.get('content-type') ?? MANIFEST_MEDIA_TYPES[3], digest };
    },

    /**
     * Point `tag` at the manifest `digest` (PUT the same bytes under the tag).
     * @param {string} name @param {string} digest @param {string} tag
     * @returns {Promise<string>} the digest the registry reports for the tag
     */
    async putTag(name, digest, tag) {
      const m = await this.getManifest(name, digest);
      const path = `/v2/${name}/manifests/${encodeURIComponent(tag)}`;
      const res = await request('PUT', path, `repository:${name}:pull,push`, { headers: { 'Content-Type': m.mediaType }, body: /** @type {BodyInit} */ (/** @type {unknown} */ (m.body)) });
      if (!res.ok) throw new RegistryError(`registry ${address.host}: PUT ${path} answered HTTP ${res.status}: ${await errorText(res)}`, res.status);
      return res.headers.get('docker-content-digest') ?? m.digest;
    },
  };
}

/** @typedef {ReturnType<typeof createRegistryClient>} RegistryClient */

/** @param {Response} res */
async function errorText(res) {
  const text = await res.text().catch(() => '');
  try {
    const j = JSON.parse(text);
    if (Array.isArray(j.errors) && j.errors.length) return j.errors.map((/** @type {{ code?: string, message?: string }} */ e) => `${e.code}: ${e.message}`).join('; ');
  } catch { /* not JSON */ }
  return text.trim().slice(0, 500) || res.statusText || STATUS_CODES[res.status] || '(no body)';
}
