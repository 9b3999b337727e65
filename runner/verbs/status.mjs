// `status`: what runs where now, against the last successful release in the ledger (runner/ledger). For each
// catalog service in tier order: the release it runs (by the ledger's task-definition ARNs, else the revision's
// `staging-rollout:release` tag), the revision, running/desired, the rollout state, target health where it has a
// target group, and since when (the PRIMARY deployment's createdAt); then every service that does not match.
// Calls: the ledger read (one per 10 entries), DescribeServices (10 services a call), DescribeTaskDefinition only
// for a revision no ledger entry names (once per ARN), DescribeTargetHealth once per enabled service with a target
// group (none in emulator mode). Exit 0: every enabled service runs the last successful release and is stable;
// 1 otherwise (also with no successful release yet); 2 bad input.
import { DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { defineCommand } from '../lib/cli-options.mjs';
import { stackInputFlags, jsonFlag, helpFlag, emulatorFlags } from '../lib/args.mjs';
import { EXIT } from '../lib/errors.mjs';
import { checkCatalog } from '../lib/catalog.mjs';
import { skippedServiceReasons } from '../lib/plan.mjs';
import { detectCapabilities } from '../lib/emulator.mjs';
import { targetGroupHealth, healthReason } from '../aws/target-health.mjs';
import { describeServices, primaryDeployment } from '../aws/ecs.mjs';
import { shortTd } from '../aws/service-state.mjs';
import { send } from '../aws/send.mjs';
import { RELEASE_TAG_KEY } from '../steps/task-definitions.mjs';
import { readLedger, lastSuccessful, ledgerPath, isRelease } from '../ledger/index.mjs';
import { readLock, describeHolder, isStale } from '../ledger/lock.mjs';
import { runVerb, table } from './setup.mjs';
import { usage } from './index.mjs';

/**
 * @typedef {{ outputs: string|null, stackDir: string, config: string|null, json: boolean, emulator: boolean|null, help: boolean }} StatusOptions
 * @typedef {import('@aws-sdk/client-ecs').Service} EcsService
 */

/**
 * One service as status shows it.
 * @typedef {object} ServiceStatus
 * @property {string} name
 * @property {string} tier
 * @property {boolean} enabled
 * @property {string|null} disabledReason
 * @property {string|null} release the release its task definition belongs to; null when unknown
 * @property {'ledger'|'tag'|null} releaseFrom
 * @property {string|null} taskDefinition `family:revision`
 * @property {number|null} revision
 * @property {number|null} running
 * @property {number|null} desired
 * @property {string|null} rolloutState PRIMARY deployment's rolloutState; null when not checkable (emulator)
 * @property {{ state: 'healthy'|'unhealthy'|'not-checkable'|'none', detail: string|null }} targets
 * @property {string|null} since PRIMARY deployment's createdAt (ISO)
 * @property {boolean} matches runs the task definition the last successful release has for it
 * @property {boolean} stable
 * @property {string|null} drift why it does not match or is not stable; null when it is fine (or disabled)
 */

/**
 * @typedef {object} StatusReport
 * @property {1} schemaVersion
 * @property {string} environment
 * @property {string} cluster
 * @property {{ id: string, release: string, kind: string, finishedAt: string|null } | null} lastSuccessful
 * @property {{ id: string, release: string, kind: string, outcome: string, failedStep: string|null } | null} latest
 * @property {ServiceStatus[]} services tier order
 * @property {string[]} drift names of the enabled services that do not match or are not stable
 * @property {boolean} ok
 * @property {string} verdict one line
 * @property {number} exitCode
 * @property {number} awsCalls
 * @property {string|null} emulator why emulator mode is on; null on real AWS
 * @property {import('../ledger/index.mjs').Unreadable[]} unreadable ledger parameters that are not valid entries (exit 1)
 * @property {{ holder: string, stale: boolean } | null} lock who holds the environment's lock now (runner/ledger/lock.mjs)
 */

const COMMAND = defineCommand(/** @type {import('../lib/cli-options.mjs').CommandSpec<StatusOptions>} */ ({
  head: `${usage('status')}

What runs where now: per service in tier order the release, task-definition revision, running/desired, rollout
state, target health and since when; the last successful release from the ledger and every service that does
not match it.`,
  column: 23,
  sections: [
    { title: 'Inputs', flags: stackInputFlags() },
    { title: 'Behaviour', flags: emulatorFlags() },
    { title: 'Output', flags: [...jsonFlag(), ...helpFlag()] },
  ],
  tail: `Exit codes
  0    every enabled service runs the last successful release and is stable
  1    a service differs from it or is not stable, there is no successful release yet, the ledger holds an
       entry that cannot be read, or AWS could not be read
  2    bad input (flags, config, outputs)`,
}));

export const HELP = COMMAND.help;

/**
 * @param {string[]} argv @param {import('../main.mjs').MainDeps} deps
 * @returns {Promise<import('./index.mjs').VerbResult>}
 */
export async function run(argv, deps) {
  return runVerb(COMMAND, argv, deps, async (options, ctx) => {
    const capabilities = detectCapabilities({ emulator: options.emulator, env: ctx.env });
    const report = await collectStatus(ctx, capabilities);
    report.awsCalls = ctx.counter.total;
    if (options.json) ctx.write(JSON.stringify(report, null, 2));
    else ctx.write(formatStatus(report));
    return { exitCode: report.exitCode, report };
  });
}

/**
 * Read the ledger and the services, and judge them.
 * @param {import('./setup.mjs').VerbContext} ctx @param {import('../lib/emulator.mjs').Capabilities} capabilities
 * @returns {Promise<StatusReport>}
 */
export async function collectStatus(ctx, capabilities) {
  const { outputs, config, aws } = ctx;
  const call = { signal: ctx.signal, log: ctx.log };
  const { entries, unreadable } = await readLedger({ aws, namePrefix: config.namePrefix, signal: ctx.signal, log: ctx.log });
  const held = await readLock({ aws, namePrefix: config.namePrefix, signal: ctx.signal, log: ctx.log, clock: ctx.clock });
  const lock = held ? { holder: describeHolder(held.value, ctx.clock.now()), stale: isStale(held.value, ctx.clock.now()) } : null;
  const last = lastSuccessful(entries);
  // one-off runs (kind run) put no release in place: the newest rollout or rollback is the newest entry here
  const latest = entries.find(isRelease) ?? null;
  const tierIndex = (/** @type {string} */ t) => config.tiers.indexOf(t);
  const catalog = checkCatalog(outputs.catalog, config.tiers, ctx.source).map((s, i) => ({ s, i }))
    .sort((a, b) => tierIndex(a.s.tier) - tierIndex(b.s.tier) || a.i - b.i).map((x) => x.s);
  const skipped = skippedServiceReasons(catalog);
  const names = catalog.map((s) => s.ecsServiceName ?? s.name);
  const { services } = await describeServices(call, aws.ecs, outputs.clusterName, names);
  const byName = new Map(services.map((v) => [v.serviceName, v]));

  // release of a task definition: the newest ledger entry naming its ARN, else its release tag (one call per ARN)
  /** @type {Map<string, string>} */
  const releaseByArn = new Map();
  for (const e of entries) for (const arn of Object.values(e.taskDefinitions)) if (!releaseByArn.has(arn)) releaseByArn.set(arn, e.release);
  /** @type {Map<string, string|null>} */
  const tagged = new Map();
  for (const v of services) {
    const arn = v.taskDefinition;
    if (!arn || releaseByArn.has(arn) || tagged.has(arn)) continue;
    const res = await send(call, aws.ecs, new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] }));
    tagged.set(arn, res.tags?.find((t) => t.key === RELEASE_TAG_KEY)?.value ?? null);
  }

  /** @type {ServiceStatus[]} */
  const rows = [];
  for (let i = 0; i < catalog.length; i++) {
    const s = catalog[i];
    const svc = byName.get(names[i]);
    const enabled = !skipped.has(s.name);
    const arn = svc?.taskDefinition ?? null;
    const fromLedger = arn ? releaseByArn.get(arn) : undefined;
    const fromTag = arn ? tagged.get(arn) ?? null : null;
    const primary = primaryDeployment(svc);
    /** @type {ServiceStatus['targets']} */
    let targets = { state: 'none', detail: null };
    if (s.targetGroupArn && enabled && svc) {
      if (capabilities.lacks('target-health')) targets = { state: 'not-checkable', detail: `not checkable here: ${capabilities.reason('target-health')}` };
      else {
        const v = await targetGroupHealth(call, aws.elbv2, s.targetGroupArn, svc.desiredCount ?? 0);
        targets = { state: v.ok ? 'healthy' : 'unhealthy', detail: `${v.healthy.length} healthy${v.bad.length ? `, ${v.bad.map((d) => `${d.Target?.Id} ${d.TargetHealth?.State}${healthReason(d)}`).join('; ')}` : ''}` };
      }
    }
    const wanted = last?.taskDefinitions[s.name] ?? null;
    const noDeployments = capabilities.lacks('ecs-deployments');
    const rolloutState = noDeployments ? null : primary?.rolloutState ?? null;
    const stable = Boolean(svc && svc.status === 'ACTIVE' && targets.state !== 'unhealthy'
      && (noDeployments || ((svc.deployments ?? []).length <= 1 && (rolloutState === null || rolloutState === 'COMPLETED') && svc.runningCount === svc.desiredCount)));
    const matches = Boolean(arn && wanted && arn === wanted);
    const release = fromLedger ?? fromTag;
    rows.push({
      name: s.name, tier: s.tier, enabled, disabledReason: enabled ? null : skipped.get(s.name) ?? null,
      release, releaseFrom: fromLedger ? 'ledger' : fromTag ? 'tag' : null,
      taskDefinition: arn ? shortTd(arn) : null, revision: arn ? Number(arn.split(':').pop()) : null,
      running: svc?.runningCount ?? null, desired: svc?.desiredCount ?? null, rolloutState, targets,
      since: primary?.createdAt ? new Date(primary.createdAt).toISOString() : null,
      matches, stable,
      drift: enabled && last ? driftReason({ svc, arn, wanted, release, matches, stable, rolloutState, targets, last }) : null,
    });
  }
  const drift = rows.filter((r) => r.drift).map((r) => r.name);
  const ok = Boolean(last) && drift.length === 0 && unreadable.length === 0;
  const verdict = unreadable.length ? `the release ledger has ${unreadable.length} unreadable entr${unreadable.length === 1 ? 'y' : 'ies'} (${unreadable.map((u) => u.name).join(', ')}): restore or delete it`
    : !last
    ? `no successful release in the ledger ${ledgerPath(config.namePrefix)} yet${latest ? ` (newest entry: ${latest.id}, ${latest.outcome})` : ''}`
    : ok ? `every enabled service runs release ${last.release} and is stable`
      : `${drift.length} service(s) differ from release ${last.release} or are not stable: ${drift.join(', ')}`;
  return {
    schemaVersion: 1, environment: outputs.environment, cluster: outputs.clusterName,
    lastSuccessful: last ? { id: last.id, release: last.release, kind: last.kind, finishedAt: last.finishedAt } : null,
    latest: latest ? { id: latest.id, release: latest.release, kind: latest.kind, outcome: latest.outcome, failedStep: latest.failedStep } : null,
    services: rows, drift, ok, verdict, exitCode: ok ? EXIT.OK : EXIT.FAILED, awsCalls: 0,
    emulator: capabilities.emulator ? capabilities.source : null,
    unreadable, lock,
  };
}

/**
 * @param {{ svc: EcsService|undefined, arn: string|null, wanted: string|null, release: string|null, matches: boolean, stable: boolean,
 *   rolloutState: string|null, targets: ServiceStatus['targets'], last: import('../ledger/index.mjs').LedgerEntry }} x
 * @returns {string|null}
 */
function driftReason({ svc, arn, wanted, release, matches, stable, rolloutState, targets, last }) {
  if (!svc) return 'service not found in the cluster';
  if (!wanted) return `not in release ${last.release} (a catalog change not deployed yet)`;
  if (!matches) return `runs ${shortTd(arn ?? undefined)}${release ? ` (release ${release})` : ' (release unknown)'} instead of ${shortTd(wanted)} (release ${last.release})`;
  if (!stable) {
    if (targets.state === 'unhealthy') return `targets not healthy: ${targets.detail}`;
    return `not stable: ${svc.status !== 'ACTIVE' ? `status ${svc.status}` : `rollout ${rolloutState ?? 'unknown'}, ${(svc.deployments ?? []).length} deployment(s), running ${svc.runningCount}/${svc.desiredCount}`}`;
  }
  return null;
}

/** @param {StatusReport} r */
export function formatStatus(r) {
  const rows = [['service', 'tier', 'release', 'revision', 'running', 'rollout', 'targets', 'since']];
  for (const s of r.services) {
    rows.push([
      `${s.drift ? '! ' : '  '}${s.name}`, s.tier, s.enabled ? s.release ?? '?' : 'disabled', s.taskDefinition ?? '-',
      s.running === null ? '-' : `${s.running}/${s.desired}`, s.rolloutState ?? (r.emulator ? 'n/c' : '-'),
      s.targets.state === 'not-checkable' ? 'n/c' : s.targets.state === 'none' ? '-' : s.targets.state, s.since ?? '-',
    ]);
  }
  const lines = [
    `Status of ${r.environment} (cluster ${r.cluster})`,
    `last successful release: ${r.lastSuccessful ? `${r.lastSuccessful.release} (${r.lastSuccessful.kind} ${r.lastSuccessful.id}, finished ${r.lastSuccessful.finishedAt ?? '?'})` : 'none'}`,
    ...(r.latest && r.latest.id !== r.lastSuccessful?.id ? [`newest ledger entry: ${r.latest.kind} ${r.latest.release} ${r.latest.outcome}${r.latest.failedStep ? ` at ${r.latest.failedStep}` : ''} (${r.latest.id})`] : []),
    ...(r.lock ? [`lock: ${r.lock.stale ? 'STALE, ' : ''}held by ${r.lock.holder}${r.lock.stale ? ' (--break-lock takes it over)' : ''}`] : []),
    ...r.unreadable.map((u) => `! unreadable ledger entry ${u.name}: ${u.reason}`),
    '', table(rows), '',
    ...r.services.filter((s) => s.drift).map((s) => `! ${s.name}: ${s.drift}`),
    ...(r.emulator ? [`n/c: not checkable here (emulator mode: ${r.emulator}); rollout state and target health cannot be read here`] : []),
    `${r.ok ? 'OK' : 'NOT OK'} (exit ${r.exitCode}): ${r.verdict}; ${r.awsCalls} AWS API calls`,
  ];
  return lines.join('\n');
}
