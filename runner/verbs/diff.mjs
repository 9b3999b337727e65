// `diff [--release R]`: what a rollout of R would change, per service, against what runs now, with read-only calls
// only. The release revision of each family is worked out exactly as the rollout's task-definitions step does
// (runner/steps/task-definitions.mjs desiredRevisions: the family's latest revision with R's image, pinned by
// digest where ECR has it) and compared field by field (runner/lib/td-diff.mjs: no value of a variable or a
// secret is shown) with the revision each ECS service runs (DescribeServices, DescribeTaskDefinition), together
// with the desired count the rollout sets from the config. Exit codes as diff(1): 0 nothing would change, 1
// something would, 2 trouble (bad input, or what runs could not be read).
import { DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { defineCommand } from '../lib/cli-options.mjs';
import { stackInputFlags, releaseFlag, imageFlags, emulatorFlags, jsonFlag, helpFlag } from '../lib/args.mjs';
import { EXIT } from '../lib/errors.mjs';
import { buildPlan, MIGRATION_KEY } from '../lib/plan.mjs';
import { detectCapabilities } from '../lib/emulator.mjs';
import { taskDefinitionChanges, formatChanges } from '../lib/td-diff.mjs';
import { send } from '../aws/send.mjs';
import { describeServices } from '../aws/ecs.mjs';
import { desiredRevisions } from '../steps/task-definitions.mjs';
import { gitRelease } from './rollout.mjs';
import { runVerb } from './setup.mjs';
import { usage } from './index.mjs';

/**
 * @typedef {object} DiffOptions
 * @property {string|null} outputs
 * @property {string} stackDir
 * @property {string|null} config
 * @property {string|null} release
 * @property {string|null} imageRegistry
 * @property {string|false|null} convenienceTag
 * @property {number|null} imageConcurrency
 * @property {boolean|null} emulator
 * @property {boolean} json
 * @property {boolean} help
 */

/**
 * @typedef {object} ServiceDiff
 * @property {string} name
 * @property {string|null} ecsService
 * @property {'unchanged'|'changed'|'missing'} status missing: no active ECS service runs it (the rollout would fail on it)
 * @property {string|null} running the task definition it runs
 * @property {string} image the image the release revision pins
 * @property {import('../lib/td-diff.mjs').Change[]} changes
 * @property {{ from: number, to: number } | null} desiredCount
 */

const COMMAND = defineCommand(/** @type {import('../lib/cli-options.mjs').CommandSpec<DiffOptions>} */ ({
  head: `${usage('diff', '[--release R] [flags]')}

What a rollout of the release would change, per service, against what runs now: the container definition
fields that differ (image and digest, command, environment and secret names, ports, CPU and memory, health
check, roles), the desired count, and services that have no ECS service yet. Read-only; no value of a variable
or a secret is shown. \`--dry-run\` of a rollout shows the same per service.`,
  column: 23,
  sections: [
    { title: 'Inputs', flags: [
      ...stackInputFlags(),
      ...releaseFlag([
        'the release to compare (default: git rev-parse --short=12 HEAD; the images are then',
        'looked up under the git commit of each build context, as the rollout tags them)']),
      ...imageFlags().filter((f) => f.flag === '--image-registry'),
    ] },
    { title: 'Behaviour', flags: emulatorFlags() },
    { title: 'Output', flags: [...jsonFlag(), ...helpFlag()] },
  ],
  tail: `Exit codes
  0    nothing would change
  1    something would change (named per service)
  2    bad input, or what runs could not be read (as diff(1): trouble)`,
  initial: () => ({ convenienceTag: null, imageConcurrency: null }),
}));

export const HELP = COMMAND.help;

/**
 * @param {string[]} argv @param {import('../main.mjs').MainDeps} deps
 * @returns {Promise<import('./index.mjs').VerbResult>}
 */
export async function run(argv, deps) {
  const res = await runVerb(COMMAND, argv, deps, async (o, ctx) => {
    const release = o.release ?? (await gitRelease(ctx.exec, ctx.cwd));
    const plan = buildPlan({ outputs: ctx.outputs, config: ctx.config, release, source: ctx.source });
    const families = (plan.steps.find((s) => s.kind === 'task-definitions')?.families ?? []).filter((f) => f.service !== MIGRATION_KEY);
    const capabilities = detectCapabilities({ emulator: o.emulator, env: ctx.env });
    /** @type {import('../lib/types.mjs').StepContext} */
    const stepCtx = /** @type {any} */ ({
      outputs: ctx.outputs, catalog: plan.services, release, imageTag: o.release, config: ctx.config, configPath: ctx.configPath,
      // a dry run's tolerance: an image not pushed yet is compared by its tag, with a warning
      options: { dryRun: true, imageRegistry: o.imageRegistry },
      env: ctx.env, aws: ctx.aws, exec: ctx.exec, signal: ctx.signal, clock: ctx.clock, capabilities, state: { halfDone: [] },
      log: { info: () => {}, progress: () => {}, warn: ctx.log.warn },
    });
    const wanted = await desiredRevisions(stepCtx, families);
    const byService = new Map(plan.services.map((s) => [s.name, s]));
    const names = wanted.map((w) => /** @type {string} */ (byService.get(w.f.service)?.ecsServiceName));
    const { services } = await describeServices(ctx, ctx.aws.ecs, ctx.outputs.clusterName, names);
    const live = new Map(services.filter((s) => s.status === 'ACTIVE').map((s) => [s.serviceName, s]));
    /** @type {Map<string, import('@aws-sdk/client-ecs').TaskDefinition>} */
    const runningTds = new Map();
    for (const arn of new Set([...live.values()].map((s) => s.taskDefinition).filter(Boolean))) {
      const d = await send(ctx, ctx.aws.ecs, new DescribeTaskDefinitionCommand({ taskDefinition: /** @type {string} */ (arn) }));
      if (d.taskDefinition) runningTds.set(/** @type {string} */ (arn), d.taskDefinition);
    }
    /** @type {ServiceDiff[]} */
    const diffs = wanted.map((w) => {
      const entry = byService.get(w.f.service);
      const ecsService = entry?.ecsServiceName ?? null;
      const svc = ecsService ? live.get(ecsService) : undefined;
      const running = svc?.taskDefinition ?? null;
      if (!svc) return { name: w.f.service, ecsService, status: 'missing', running, image: w.image, changes: [], desiredCount: null };
      const td = running ? runningTds.get(running) : undefined;
      const changes = td ? taskDefinitionChanges(td, w.desired, w.f.container) : [{ field: 'task definition', from: String(running), to: 'unreadable' }];
      const want = entry?.desiredCount ?? svc.desiredCount ?? 0;
      const desiredCount = svc.desiredCount !== want ? { from: svc.desiredCount ?? 0, to: want } : null;
      return { name: w.f.service, ecsService, status: changes.length || desiredCount ? 'changed' : 'unchanged', running, image: w.image, changes, desiredCount };
    });
    // tier order (config tiers), then catalog order, as status shows them
    const rank = new Map(ctx.config.tiers.flatMap((t) => plan.services.filter((x) => x.tier === t)).map((x, i) => [x.name, i]));
    diffs.sort((x, y) => (rank.get(x.name) ?? 0) - (rank.get(y.name) ?? 0));
    const changed = diffs.filter((d) => d.status !== 'unchanged').length;
    const report = { schemaVersion: 1, release, environment: ctx.outputs.environment, changed, services: diffs };
    if (o.json) ctx.write(JSON.stringify(report, null, 2));
    else ctx.write(formatDiff(report));
    return { exitCode: changed ? EXIT.FAILED : EXIT.OK, report };
  }, { catalog: true });
  // diff(1): trouble is 2, "differs" is 1
  return res.exitCode === EXIT.FAILED && !res.report ? { ...res, exitCode: EXIT.BAD_INPUT } : res;
}

/**
 * @param {{ release: string, environment: string, changed: number, services: ServiceDiff[] }} r
 */
export function formatDiff(r) {
  const lines = [`diff: a rollout of ${r.release} to ${r.environment}, against what runs now`];
  for (const d of r.services) {
    const short = (/** @type {string|null} */ arn) => (arn ? arn.split('/').pop() : '-');
    if (d.status === 'missing') {
      lines.push(`${d.name}: no active ECS service ${d.ecsService ?? ''} (apply the foundation first; the rollout would fail on it)`);
      continue;
    }
    if (d.status === 'unchanged') {
      lines.push(`${d.name}: no change (${short(d.running)})`);
      continue;
    }
    lines.push(`${d.name}: ${short(d.running)} -> the release revision`);
    lines.push(...formatChanges(d.changes));
    if (d.desiredCount) lines.push(`  desired count  ${d.desiredCount.from} -> ${d.desiredCount.to}`);
  }
  lines.push(r.changed ? `${r.changed} of ${r.services.length} service(s) would change` : `nothing would change (${r.services.length} service(s))`);
  return lines.join('\n');
}

