// docker CLI calls of the image step, as argv arrays through the injected command runner.
// Every call uses one --config directory (a private temporary one by default), so the registry login never
// touches ~/.docker/config.json and is removed when the step ends.
import { CommandError, ImageAuthError } from './failures.mjs';
import { DEFAULT_PLATFORM } from './targets.mjs';

/**
 * @param {import('./exec.mjs').CommandRunner} run
 * @param {{ configDir?: string|null, signal?: AbortSignal, docker?: string }} [opts]
 */
export function dockerCli(run, { configDir = null, signal, docker = 'docker' } = {}) {
  const base = configDir ? [docker, '--config', configDir] : [docker];

  return {
    /**
     * `docker login --password-stdin`: the password goes to stdin only.
     * @param {string} host @param {{ username: string, password: string }} creds
     */
    async login(host, creds) {
      const argv = [...base, 'login', '--username', creds.username, '--password-stdin', host];
      const r = await run(argv, { input: creds.password, signal });
      if (r.exitCode !== 0) {
        const err = new CommandError(`docker login to ${host}`, argv, r.exitCode, r.stderr, r.stdout);
        throw Object.assign(new ImageAuthError(err.message), { stderr: r.stderr });
      }
    },

    /**
     * @param {{ key: string, context: string, dockerfile: string, tags: string[], platform?: string,
     *   buildArgs?: Record<string,string>, labels?: Record<string,string> }} b
     */
    async build(b) {
      const argv = [...base, 'build', '--file', b.dockerfile];
      for (const t of b.tags) argv.push('--tag', t);
      argv.push('--platform', b.platform ?? DEFAULT_PLATFORM); // task definitions pin cpuArchitecture X86_64
      for (const [k, v] of Object.entries(b.buildArgs ?? {})) argv.push('--build-arg', `${k}=${v}`);
      for (const [k, v] of Object.entries(b.labels ?? {})) argv.push('--label', `${k}=${v}`);
      argv.push(b.context);
      const r = await run(argv, { signal });
      if (r.exitCode !== 0) throw new CommandError(`docker build of ${b.key}`, argv, r.exitCode, r.stderr, r.stdout);
      return r;
    },

    /**
     * `docker push ref`; returns the digest docker printed ("<tag>: digest: sha256:... size: N"), or null.
     * @param {string} key @param {string} ref repository:tag
     * @returns {Promise<string|null>}
     */
    async push(key, ref) {
      const argv = [...base, 'push', ref];
      const r = await run(argv, { signal });
      if (r.exitCode !== 0) throw new CommandError(`docker push of ${key} (${ref})`, argv, r.exitCode, r.stderr, r.stdout);
      return parsePushDigest(r.stdout + '\n' + r.stderr, ref.slice(ref.lastIndexOf(':') + 1));
    },

    /** @param {string} host */
    async logout(host) {
      await run([...base, 'logout', host], { signal });
    },
  };
}

/**
 * Digest from `docker push` output for `tag`.
 * @param {string} output @param {string} tag
 */
export function parsePushDigest(output, tag) {
  const esc = tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`(?:^|\\s)${esc}: digest: (sha256:[a-f0-9]{64})`, 'm').exec(output) ?? /digest: (sha256:[a-f0-9]{64})/.exec(output);
  return m ? m[1] : null;
}
