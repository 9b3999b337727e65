// A container from an ECS container definition: its image on the local registry that stands in for ECR, its
// environment and secrets (Secrets Manager, SSM Parameter Store, resolved at start as ECS does; into `docker
// create` through a 0600 env file in a private directory, deleted at once, never argv), its volumes (EFS as one
// named volume per file system) and the rest of the definition docker can honour.
import fs from 'node:fs';
import path from 'node:path';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { DescribeAccessPointsCommand } from '@aws-sdk/client-efs';
import { run } from '../proc.mjs';
import { StartFailure, hex } from './common.mjs';

/** @typedef {import('./common.mjs').EngineContext} EngineContext @typedef {import('./common.mjs').TaskRec} TaskRec @typedef {import('./common.mjs').ContainerRec} ContainerRec */

/**
 * A task definition's image on the local registry that stands in for ECR: `<any host>/<repo path>[@digest|:tag]`
 * becomes `<registry host>/<repo path>...`; an image already on the local registry is used as it is.
 * @param {string} image @param {string} registryHost
 */
export function localImage(image, registryHost) {
  const slash = image.indexOf('/');
  if (slash < 0) return image; // a Docker Hub short name: as it is (the pull then says what is missing)
  const host = image.slice(0, slash);
  if (host === registryHost) return image;
  return /[.:]/.test(host) || host === 'localhost' ? `${registryHost}${image.slice(slash)}` : image;
}

/**
 * ECS's `valueFrom`: a Secrets Manager ARN, optionally `:<json-key>:<version-stage>:<version-id>`, or an SSM
 * parameter (ARN or name).
 * @param {string} valueFrom
 * @returns {{ kind: 'secret', secretId: string, jsonKey: string, versionStage: string, versionId: string } | { kind: 'ssm', name: string }}
 */
export function parseValueFrom(valueFrom) {
  const parts = valueFrom.split(':');
  if (parts[0] === 'arn' && parts[2] === 'secretsmanager') {
    const [jsonKey = '', versionStage = '', versionId = ''] = parts.slice(7);
    return { kind: 'secret', secretId: parts.slice(0, 7).join(':'), jsonKey, versionStage, versionId };
  }
  if (parts[0] === 'arn' && parts[2] === 'ssm') return { kind: 'ssm', name: parts.slice(5).join(':').replace(/^parameter/, '') };
  return { kind: 'ssm', name: valueFrom };
}

/**
 * The engine's containers.
 * @param {EngineContext} ctx
 */
export function containerRuntime(ctx) {
  const { o, secretDir, caMount, labelArgs } = ctx;
  const { secrets, ssm, efs } = ctx.aws;
  /** @type {Map<string, Promise<string>>} */
  const volumes = new Map();


  /** @param {any[]} list @returns {Promise<[string, string][]>} */
  async function resolveSecrets(list) {
    /** @type {Map<string, Promise<string>>} */
    const cache = new Map();
    /** @type {[string, string][]} */
    const out = [];
    for (const s of list) {
      const ref = parseValueFrom(String(s.valueFrom));
      let value;
      try {
        if (ref.kind === 'secret') {
          const key = `${ref.secretId}|${ref.versionStage}|${ref.versionId}`;
          if (!cache.has(key)) {
            cache.set(key, secrets.send(new GetSecretValueCommand({
              SecretId: ref.secretId, ...(ref.versionStage ? { VersionStage: ref.versionStage } : {}), ...(ref.versionId ? { VersionId: ref.versionId } : {}),
            })).then((r) => String(r.SecretString ?? '')));
          }
          const raw = await /** @type {Promise<string>} */ (cache.get(key));
          if (ref.jsonKey) {
            /** @type {any} */
            let json;
            try { json = JSON.parse(raw); } catch { throw new Error(`secret ${ref.secretId} is not JSON, so it has no key ${ref.jsonKey}`); }
            if (json === null || typeof json !== 'object' || !(ref.jsonKey in json)) throw new Error(`secret ${ref.secretId} has no JSON key ${ref.jsonKey}`);
            const v = json[ref.jsonKey];
            value = typeof v === 'string' ? v : JSON.stringify(v);
          } else {
            value = raw;
          }
        } else {
          const r = await ssm.send(new GetParameterCommand({ Name: ref.name, WithDecryption: true }));
          value = String(r.Parameter?.Value ?? '');
        }
      } catch (e) {
        // ECS's wording for a secret it cannot read at task start
        throw new StartFailure(`ResourceInitializationError: unable to pull secrets or registry auth: retrieving ${s.name} from ${ref.kind === 'secret' ? ref.secretId : ref.name}: ${/** @type {Error} */ (e).message}`);
      }
      out.push([s.name, value]);
    }
    return out;
  }

  /**
   * Docker volumes for the task definition's volumes: an EFS volume is one named volume per file system (shared
   * by every task, as EFS is), its root owned by the access point's POSIX user; a volume without configuration is
   * the task's own scratch volume (''); anything else cannot run here, as on Fargate.
   * @param {any} td @returns {Promise<Map<string, string>>}
   */
  async function volumeMounts(td) {
    /** @type {Map<string, string>} */
    const out = new Map();
    for (const v of td.volumes ?? []) {
      if (v.efsVolumeConfiguration) {
        const cfg = v.efsVolumeConfiguration;
        out.set(v.name, await efsVolume(cfg.fileSystemId, cfg.authorizationConfig?.accessPointId));
      } else if (v.host?.sourcePath || v.dockerVolumeConfiguration || v.fsxWindowsFileServerVolumeConfiguration) {
        const kind = v.host?.sourcePath ? 'host' : v.dockerVolumeConfiguration ? 'dockerVolumeConfiguration' : 'fsxWindowsFileServerVolumeConfiguration';
        throw new StartFailure(`ResourceInitializationError: volume ${v.name}: a ${kind} volume is not supported on Fargate (nor on the local data plane)`);
      } else {
        out.set(v.name, '');
      }
    }
    return out;
  }

  /** @param {string} fileSystemId @param {string | undefined} accessPointId */
  function efsVolume(fileSystemId, accessPointId) {
    const key = `${fileSystemId}|${accessPointId ?? ''}`;
    let p = volumes.get(key);
    if (!p) {
      p = (async () => {
        const name = `sr-${o.runId}-efs-${fileSystemId}`;
        const made = await run('docker', ['volume', 'create', ...labelArgs(), name]);
        if (made.code !== 0) throw new StartFailure(`ResourceInitializationError: EFS volume ${fileSystemId}: ${made.stderr.trim()}`);
        if (accessPointId) {
          const ap = (await efs.send(new DescribeAccessPointsCommand({ AccessPointId: accessPointId })).catch(() => null))?.AccessPoints?.[0];
          const owner = ap?.RootDirectory?.CreationInfo ?? ap?.PosixUser;
          const uid = 'OwnerUid' in (owner ?? {}) ? /** @type {any} */ (owner).OwnerUid : /** @type {any} */ (owner)?.Uid;
          const gid = 'OwnerGid' in (owner ?? {}) ? /** @type {any} */ (owner).OwnerGid : /** @type {any} */ (owner)?.Gid;
          if (uid !== undefined) {
            // as the access point's creation info does for its root directory
            const base = await run('docker', ['image', 'ls', '--quiet', '--filter', 'reference=staging-rollout/base:local']);
            const image = base.stdout.trim().split('\n')[0];
            if (image) await run('docker', ['run', '--rm', ...labelArgs(), '--network', 'none', '--mount', `type=volume,src=${name},dst=/v`, image, 'chown', `${uid}:${gid ?? uid}`, '/v']);
          }
        }
        return name;
      })();
      volumes.set(key, p);
    }
    return p;
  }

  /**
   * Create and start one container of a task: the image from the local registry, the environment (with the
   * task's overrides) and the resolved secrets in a 0600 env file deleted at once, the service's network aliases,
   * the task definition's user, working directory, read-only root, init process and volumes.
   * @param {TaskRec} rec @param {ContainerRec} c @param {any} def its container definition
   * @param {any} ov its RunTask containerOverrides entry ({} without one) @param {Map<string, string>} mounts volumeMounts(td)
   * @returns {Promise<string>} the docker id (also set on c)
   */
  async function startContainer(rec, c, def, ov, mounts) {
    const env = [...(def.environment ?? []), ...(ov.environment ?? [])];
    const secretEnv = await resolveSecrets(def.secrets ?? []);
    const image = localImage(def.image, o.registry.host);
    const pull = await run('docker', ['pull', '--quiet', image]);
    if (pull.code !== 0) throw new StartFailure(`CannotPullContainerError: pull image ${def.image} (local registry ${image}): ${pull.stderr.trim().split('\n').pop()}`);
    const envFile = path.join(secretDir, `${rec.id}-${def.name}.env`);
    const lines = [...env.map((e) => [e.name, e.value]), ...secretEnv].map(([k, v]) => {
      if (/[\r\n]/.test(String(v))) throw new StartFailure(`ResourceInitializationError: the value of ${k} has a line break, which the local data plane cannot pass`);
      return `${k}=${v}`;
    });
    fs.writeFileSync(envFile, lines.join('\n') + '\n', { mode: 0o600 });
    const aliases = rec.service ? o.networkAliases?.[rec.service] ?? [] : [];
    const entry = /** @type {string[] | undefined} */ (def.entryPoint);
    const command = /** @type {string[]} */ (ov.command ?? def.command ?? []);
    const args = [
      'create', '--name', `sr-${o.runId}-${rec.id.slice(0, 12)}-${def.name}`.replace(/[^a-zA-Z0-9_.-]/g, '-'), ...labelArgs(),
      '--label', `staging-rollout.task=${rec.arn}`, '--network', o.network, ...aliases.flatMap((a) => ['--network-alias', a]),
      '--env-file', envFile, ...(def.linuxParameters?.initProcessEnabled ? ['--init'] : []),
      ...(def.user ? ['--user', def.user] : []), ...(def.workingDirectory ? ['--workdir', def.workingDirectory] : []),
      ...(def.readonlyRootFilesystem ? ['--read-only'] : []), ...caMount,
      ...(def.mountPoints ?? []).flatMap((/** @type {any} */ m) => {
        const src = mounts.get(m.sourceVolume);
        if (src === undefined) throw new StartFailure(`ResourceInitializationError: mount point ${m.containerPath} names volume ${m.sourceVolume}, which the task definition does not declare`);
        return ['--mount', `type=volume,${src ? `src=${src},` : ''}dst=${m.containerPath}${m.readOnly ? ',readonly' : ''}`];
      }),
      ...(entry?.length ? ['--entrypoint', entry[0]] : []), image, ...(entry?.slice(1) ?? []), ...command,
    ];
    const created = await run('docker', args).finally(() => fs.rmSync(envFile, { force: true }));
    if (created.code !== 0) throw new StartFailure(`CannotCreateContainerError: ${created.stderr.trim().split('\n').pop()}`);
    const dockerId = created.stdout.trim();
    c.dockerId = dockerId;
    const begun = await run('docker', ['start', dockerId]);
    if (begun.code !== 0) throw new StartFailure(`CannotStartContainerError: ${begun.stderr.trim().split('\n').pop()}`);
    return dockerId;
  }

  /**
   * A plain one-off container from a task definition's container (its image, environment and resolved secrets),
   * the command overridden and `input` on stdin: an operator's step on the data plane (e.g. creating the smoke
   * user, as docs/app-contract.md tells operators to do in a one-off task). Not an ECS task.
   * @param {{ taskDefinition: string, container: string, command: string[], input?: string }} spec
   * @returns {Promise<{ exitCode: number | null, output: string }>}
   */
  async function runContainer(spec) {
    const td = await ctx.taskDefinition(spec.taskDefinition);
    const def = (td.containerDefinitions ?? []).find((/** @type {any} */ c) => c.name === spec.container);
    if (!def) throw new Error(`data plane: ${spec.taskDefinition} has no container ${spec.container}`);
    const secretEnv = await resolveSecrets(def.secrets ?? []);
    const envFile = path.join(secretDir, `run-${hex(6)}.env`);
    fs.writeFileSync(envFile, [...(def.environment ?? []).map((/** @type {any} */ e) => [e.name, e.value]), ...secretEnv].map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
    try {
      const image = localImage(def.image, o.registry.host);
      const r = await run('docker', ['run', '--rm', '-i', ...labelArgs(), '--network', o.network, '--env-file', envFile, ...caMount, image, ...spec.command], { input: spec.input ?? '' });
      return { exitCode: r.code, output: `${r.stdout}${r.stderr}` };
    } finally {
      fs.rmSync(envFile, { force: true });
    }
  }

  return { resolveSecrets, volumeMounts, startContainer, runContainer };
}
