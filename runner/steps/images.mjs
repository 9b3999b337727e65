// Rollout step `images` (docs/contract.md section 4; docs/images.md): build and push every image an enabled
// service uses under the release tag, skipping tags the registry already has, and record
// ctx.state.images[key] = { uri, tag, digest, status } for the task-definition step and the report.
import { InterruptedError, InputError } from '../lib/errors.mjs';
import { runImages, checkImageInputs } from '../images/run.mjs';

export const id = 'images';
export const title = 'Images';

/**
 * Before the first AWS call: every build context and Dockerfile exists, each destination and the registry address
 * parse, the tag settings are valid (runner/images/run.mjs checkImageInputs). Throws InputError naming them all.
 * @param {import('./index.mjs').StepInput} input
 */
export function checkInputs({ config, configPath, catalog, outputs, options, env }) {
  checkImageInputs({
    config, configPath, services: catalog, outputs, env,
    options: { imageRegistry: options.imageRegistry, convenienceTag: options.convenienceTag, imageConcurrency: options.imageConcurrency },
  });
}

/**
 * Reads from the context: the config the runner loaded (`config`; image contexts resolve against the directory of
 * `configPath`), `catalog`, `outputs`, `imageTag` (explicit --release only; when null each image is
 * tagged with its context's git commit), and the options dryRun, imageRegistry, convenienceTag (string, or false for none) and
 * imageConcurrency; the environment variables of runner/images/run.mjs ENV work without flags.
 * @param {import('../lib/types.mjs').StepContext} ctx
 * @returns {Promise<import('../lib/types.mjs').StepResult>}
 */
export async function run(ctx) {
  const { options } = ctx;
  let result;
  try {
    result = await runImages({
      config: ctx.config,
      configPath: ctx.configPath,
      services: ctx.catalog,
      outputs: ctx.outputs,
      options: {
        release: ctx.imageTag,
        dryRun: options.dryRun,
        imageRegistry: options.imageRegistry,
        convenienceTag: options.convenienceTag,
        imageConcurrency: options.imageConcurrency,
      },
      ecr: ctx.aws.ecr,
      exec: ctx.exec,
      fetch: ctx.fetch,
      log: (m) => ctx.log.info(m),
      signal: ctx.signal,
      env: ctx.env,
    });
  } catch (e) {
    if (ctx.signal.aborted || (e instanceof Error && e.name === 'AbortError')) throw new InterruptedError('interrupted during the images step');
    if (e instanceof InputError) throw e;
    // auth failure before anything was built (ECR token, registry refused the tag check)
    return { status: 'failed', reason: /** @type {Error} */ (e).message, checks: [], details: { images: {} } };
  }

  // a command killed by Ctrl-C looks like a failed command; it is an interruption
  if (ctx.signal.aborted) throw new InterruptedError('interrupted during the images step');

  ctx.state.images ??= {};
  /** @type {import('../lib/types.mjs').Check[]} */
  const checks = [];
  /** convenience tags the repository policy does not allow: not checks (a policy, not a gap), said as such */
  /** @type {{ name: string, reason: string }[]} */
  const notApplicable = [];
  for (const r of Object.values(result.images)) {
    ctx.state.images[r.key] = { uri: r.uri, tag: r.tag, digest: r.digest ?? undefined, status: r.status, repository: r.repository };
    const total = (r.timings.buildMs ?? 0) + (r.timings.pushMs ?? 0) + r.timings.checkMs;
    checks.push({
      name: `image:${r.key}`,
      status: r.status === 'pushed' || r.status === 'skipped-exists' ? 'passed' : r.status === 'failed' ? 'failed' : 'skipped',
      reason: r.status === 'pushed' ? null : r.reason ?? r.status,
      evidence: r.digest ? `${r.uri} ${r.digest} (${r.status})` : `${r.uri} (${r.status})`,
      durationMs: total,
    });
    const c = r.convenienceTag;
    if (c.tag && c.status === 'not-applicable') notApplicable.push({ name: `image:${r.key}:${c.tag}`, reason: c.reason ?? 'not allowed by the repository policy' });
    else if (c.tag) {
      checks.push({
        name: `image:${r.key}:${c.tag}`,
        status: c.status === 'updated' || c.status === 'unchanged' ? 'passed' : c.status === 'failed' ? 'failed' : 'skipped',
        reason: c.status === 'updated' || c.status === 'unchanged' ? null : c.reason ?? c.status,
        evidence: c.digest ? `${r.repository}:${c.tag} -> ${c.digest} (${c.status})` : `${r.repository}:${c.tag} (${c.status})`,
      });
    }
  }
  for (const u of result.unused) checks.push({ name: `image:${u.key}`, status: 'skipped', reason: u.reason });

  /** @type {import('../lib/types.mjs').StepResult} */
  const out = { status: result.status, checks, details: { images: result.images, unused: result.unused, concurrency: result.settings.concurrency, notApplicable } };
  if (result.reason) out.reason = result.reason;
  return out;
}
