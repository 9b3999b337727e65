// The rollout plan as data (pure: no I/O). Steps have explicit dependencies; tier steps hold "waves" of
// services that start together, each wave gated on the previous one being stable and, for services that
// mount /data, on the EFS mount targets being available.
import { InputError } from './errors.mjs';
import { checkCatalog, waveLevels } from './catalog.mjs';

/**
 * @typedef {{ kind: 'stable', services: string[] } | { kind: 'efs', fileSystemId: string, services: string[] }} Gate
 * @typedef {{ index: number, services: string[], gates: Gate[] }} Wave
 * @typedef {{ service: string, family: string, container: string, image: string }} FamilyPlan
 * @typedef {{ name: string, reason: string }} SkippedService
 * @typedef {{ step: string, name: string }} SecretUser a container (service, migration) or check that needs a secret
 * @typedef {{ key: string, arn: string, usedBy: SecretUser[] }} SecretNeed a stack secret and who needs its value
 */

/** @typedef {'preflight'|'images'|'task-definitions'|'migration'|'tier'|'smoke'|'rollback-targets'} StepKind */

/**
 * @typedef {object} PlanStep
 * @property {string} id
 * @property {string} title
 * @property {StepKind} kind the key of the module that runs it in the step registry (runner/steps/index.mjs)
 * @property {string[]} dependsOn
 * @property {string} [tier]
 * @property {Wave[]} [waves] tier steps
 * @property {SkippedService[]} [skippedServices] tier steps: disabled / not needed
 * @property {FamilyPlan[]} [families] task-definitions step (migration family last)
 * @property {string[]} [imageKeys] images step
 * @property {SecretNeed[]} [secrets] preflight step: the secrets the containers of this plan list (config order)
 * @property {boolean} [guard] a read-only check of what later steps need (preflight): --only and --from leave it
 *   selected, only --skip deselects it
 * @property {boolean} selected
 * @property {string|null} skipReason why a step is not selected
 */

/**
 * @typedef {object} Plan
 * @property {string} release
 * @property {string} environment
 * @property {string} cluster
 * @property {string[]} tiers
 * @property {import('./catalog.mjs').Service[]} services dependency order, disabled flags propagated
 * @property {PlanStep[]} steps
 * @property {RollbackInfo} [rollback] rollback plans only (buildRollbackPlan)
 */

/**
 * What a rollback plan needs of a release-ledger entry (runner/ledger LedgerEntry has these fields).
 * @typedef {object} RollbackEntry
 * @property {string} id
 * @property {string} release
 * @property {Record<string, string>} images image key -> digest
 * @property {Record<string, string>} taskDefinitions catalog service name -> task definition ARN
 */

/**
 * @typedef {object} RollbackInfo
 * @property {{ id: string, release: string }} from the entry current when the rollback started
 * @property {{ id: string, release: string }} to the entry rolled back to
 * @property {Record<string, string>} taskDefinitions service -> the target entry's task definition ARN (services
 *   the rollback points back, dependency order)
 * @property {string[]} warnings e.g. the migration head differs (the schema stays as it is)
 */

export const MIGRATION_KEY = '(migration)';

/**
 * @param {{ outputs: import('./outputs.mjs').Outputs, config: import('./config.mjs').RunnerConfig, release: string, source?: string }} input
 * @returns {Plan}
 */
export function buildPlan({ outputs, config, release, source = 'outputs' }) {
  const tiers = config.tiers;
  const services = checkCatalog(outputs.catalog, tiers, source);
  const byName = new Map(services.map((s) => [s.name, s]));

  const skipped = skippedServiceReasons(services);
  const active = services.filter((s) => !skipped.has(s.name));

  const migrationImage = config.migration.image;
  if (!(migrationImage in outputs.repositoryUrls)) {
    throw new InputError(`config migration.image "${migrationImage}" has no entry in output repository_urls (${Object.keys(outputs.repositoryUrls).join(', ')})`);
  }
  /** @type {FamilyPlan[]} */
  const families = active.map((s) => ({
    service: s.name,
    family: /** @type {string} */ (s.taskFamily),
    container: /** @type {string} */ (s.containerName),
    image: s.image,
  }));
  families.push({ service: MIGRATION_KEY, family: outputs.migrationTaskFamily, container: outputs.migrationContainerName, image: migrationImage });

  const imageKeys = [...new Set([...active.map((s) => s.image), migrationImage])];
  const secrets = secretNeeds(outputs, config, active);

  /** @type {PlanStep[]} */
  const steps = [
    // before any change: every secret a container of this rollout lists has a value (runner/steps/preflight.mjs)
    { id: 'preflight', title: 'Secrets preflight', kind: 'preflight', dependsOn: [], guard: true, secrets, selected: true, skipReason: null },
    { id: 'images', title: 'Images', kind: 'images', dependsOn: ['preflight'], imageKeys, selected: true, skipReason: null },
    { id: 'task-definitions', title: 'Task definitions', kind: 'task-definitions', dependsOn: ['images'], families, selected: true, skipReason: null },
    { id: 'migration', title: 'Database migration', kind: 'migration', dependsOn: ['task-definitions'], selected: true, skipReason: null },
  ];
  const previous = tierSteps(steps, { tiers, services, skipped, byName, efsFileSystemId: outputs.efsFileSystemId, after: 'migration', reverse: false });
  steps.push({ id: 'smoke', title: 'Smoke tests', kind: 'smoke', dependsOn: [previous], selected: true, skipReason: null });
  return { release, environment: outputs.environment, cluster: outputs.clusterName, tiers, services, steps };
}

/** The rollback's migration step: never selected (what the plan, the report and the summary say). */
export const SCHEMA_UNCHANGED = 'schema unchanged: rollback runs no migration';

/**
 * The rollback plan: verify the target entry's revisions and images (`rollback-targets`), the migration step
 * skipped (a rollback never runs one), then the tiers in reverse order with reverse waves; the tier steps are
 * the rollout's (same waits, gates, timeouts, failure rules), the targets step fills their task definitions.
 * Refuses (InputError, exit 2) when the catalog's enabled services are not the target entry's services.
 * @param {{ outputs: import('./outputs.mjs').Outputs, config: import('./config.mjs').RunnerConfig,
 *   current: RollbackEntry, target: RollbackEntry, source?: string }} input
 * @returns {Plan}
 */
export function buildRollbackPlan({ outputs, config, current, target, source = 'outputs' }) {
  const tiers = config.tiers;
  const services = checkCatalog(outputs.catalog, tiers, source);
  const byName = new Map(services.map((s) => [s.name, s]));
  const skipped = skippedServiceReasons(services);
  const active = services.filter((s) => !skipped.has(s.name)).map((s) => s.name);
  const recorded = Object.keys(target.taskDefinitions).filter((n) => n !== MIGRATION_KEY);
  const added = active.filter((n) => !recorded.includes(n));
  const removed = recorded.filter((n) => !active.includes(n));
  if (added.length || removed.length) {
    throw new InputError([
      `rollback refused: the catalog has changed since release ${target.release} (ledger entry ${target.id})`,
      ...(added.length ? [`enabled now, not in that release: ${added.join(', ')}`] : []),
      ...(removed.length ? [`in that release, not enabled now: ${removed.join(', ')}`] : []),
      'a rollback only points existing services back; roll out a release instead. Nothing was changed.',
    ].join('; '));
  }
  /** @type {PlanStep[]} */
  const steps = [
    { id: 'rollback-targets', title: 'Rollback targets', kind: 'rollback-targets', dependsOn: [], selected: true, skipReason: null },
    { id: 'migration', title: 'Database migration', kind: 'migration', dependsOn: ['rollback-targets'], selected: false, skipReason: SCHEMA_UNCHANGED },
  ];
  tierSteps(steps, { tiers, services, skipped, byName, efsFileSystemId: outputs.efsFileSystemId, after: 'rollback-targets', reverse: true });
  return {
    release: target.release, environment: outputs.environment, cluster: outputs.clusterName, tiers, services, steps,
    rollback: {
      from: { id: current.id, release: current.release },
      to: { id: target.id, release: target.release },
      taskDefinitions: Object.fromEntries(active.map((n) => [n, target.taskDefinitions[n]])),
      warnings: migrationWarnings(config.migration.image, current, target),
    },
  };
}

/**
 * The migration head of an entry is the migration image's digest it recorded (and its migration task
 * definition when it recorded one); a warning naming both when the target's differs from the current one's.
 * @param {string} image the config's migration image key @param {RollbackEntry} current @param {RollbackEntry} target
 * @returns {string[]}
 */
function migrationWarnings(image, current, target) {
  /** @param {RollbackEntry} e */
  const head = (e) => [e.images[image], e.taskDefinitions[MIGRATION_KEY]].filter(Boolean).join(', ') || 'not recorded';
  const [now, then] = [head(current), head(target)];
  if (now === then) return [];
  return [`the migration head differs: current release ${current.release} has ${now}, target release ${target.release} has ${then}; ` +
    `the schema stays at ${current.release}'s (a rollback runs no migration): check that ${target.release} works with it`];
}

/**
 * Append one `tier:<tier>` step per tier, chained after `after`. Forward (a rollout): tiers in config order, a
 * service in the wave after its same-tier dependencies. Reverse (a rollback): tiers in reverse order, a service
 * in the wave after its same-tier dependents. Returns the id of the last step appended.
 * @param {PlanStep[]} steps
 * @param {{ tiers: string[], services: import('./catalog.mjs').Service[], skipped: Map<string, string>,
 *   byName: Map<string, import('./catalog.mjs').Service>, efsFileSystemId: string, after: string, reverse: boolean }} o
 */
function tierSteps(steps, { tiers, services, skipped, byName, efsFileSystemId, after, reverse }) {
  let previous = after;
  for (const tier of reverse ? [...tiers].reverse() : tiers) {
    const inTier = services.filter((s) => s.tier === tier);
    const activeInTier = inTier.filter((s) => !skipped.has(s.name));
    steps.push({
      id: `tier:${tier}`,
      title: `${tier[0].toUpperCase()}${tier.slice(1)} tier`,
      kind: 'tier',
      tier,
      dependsOn: [previous],
      waves: waves(activeInTier, byName, efsFileSystemId, reverse),
      skippedServices: inTier.filter((s) => skipped.has(s.name)).map((s) => ({ name: s.name, reason: /** @type {string} */ (skipped.get(s.name)) })),
      selected: true,
      skipReason: null,
    });
    previous = `tier:${tier}`;
  }
  return previous;
}

/**
 * Which stack secrets the containers of a rollout list (services' `secrets`, the migration's `secrets`) and the
 * smoke user the login check reads; each with its ARN from the outputs (a missing one is bad input).
 * @param {import('./outputs.mjs').Outputs} outputs @param {import('./config.mjs').RunnerConfig} config
 * @param {import('./catalog.mjs').Service[]} active services the plan starts
 * @returns {SecretNeed[]}
 */
function secretNeeds(outputs, config, active) {
  /** @type {Map<string, SecretUser[]>} */
  const users = new Map();
  /** @param {string} key @param {SecretUser} user */
  const add = (key, user) => users.set(key, [...(users.get(key) ?? []), user]);
  /** @type {Record<string, { secrets?: string[] }>} */
  const declared = config.services ?? {};
  for (const s of active) for (const key of declared[s.name]?.secrets ?? []) add(key, { step: `tier:${s.tier}`, name: s.name });
  for (const key of config.migration.secrets ?? []) add(key, { step: 'migration', name: 'migration' });
  add('smoke_user', { step: 'smoke', name: 'the smoke login check' });
  return [...users].map(([key, usedBy]) => {
    const arn = outputs.secretArns[key];
    if (!arn) throw new InputError(`output secret_arns has no "${key}" (needed by ${usedBy.map((u) => u.name).join(', ')}); secrets: ${Object.keys(outputs.secretArns).join(', ') || 'none'}`);
    return { key, arn, usedBy };
  });
}

/**
 * The services a rollout does not start, with the reason: disabled ones (`disabled: <reason>`), and `support`
 * services no enabled service depends on (anisette only with the fetcher). The one rule for the plan and for
 * the smoke checks (which must check exactly what the plan rolls out).
 * @param {{ name: string, enabled: boolean, disabledReason?: string | null, kind: string, dependsOn?: string[] | null }[]} services
 * @returns {Map<string, string>} name -> reason
 */
export function skippedServiceReasons(services) {
  /** @type {Map<string, string>} */
  const skipped = new Map();
  for (const s of services) {
    if (!s.enabled) skipped.set(s.name, `disabled: ${s.disabledReason ?? 'no reason given'}`);
  }
  for (const s of services) {
    if (skipped.has(s.name) || s.kind !== 'support') continue;
    const users = services.filter((o) => o.enabled && (o.dependsOn ?? []).includes(s.name));
    if (users.length === 0) skipped.set(s.name, `not needed: support service and no enabled service depends on ${s.name}`);
  }
  return skipped;
}

/**
 * The wave of each service of a tier. Forward (a rollout): lib/config's wave rule, a service goes in the wave
 * after the last of its same-tier dependencies. Reverse (a rollback): the same rule over the dependents, a
 * service goes in the wave after every same-tier service that depends on it. Used by the plan and the bench model.
 * @param {readonly { name: string, dependsOn: readonly string[] }[]} active the tier's services in dependency order
 * @param {boolean} reverse
 * @returns {Map<string, number>} name -> wave index
 */
export function tierWaveLevels(active, reverse) {
  if (!reverse) return waveLevels(active);
  // waveLevels takes services in an order where what must go first comes first, with those names in dependsOn
  return waveLevels([...active].reverse().map((s) => ({ name: s.name, dependsOn: dependentsOf(active, s.name) })));
}

/** @param {readonly { name: string, dependsOn: readonly string[] }[]} active @param {string} name */
const dependentsOf = (active, name) => active.filter((o) => o.dependsOn.includes(name)).map((o) => o.name);

/**
 * Waves of one tier (tierWaveLevels), each with its gates: `stable` names the same-tier services that must be
 * stable first (dependencies forward, dependents in reverse; earlier tiers are stable already), `efs` the
 * services that mount /data.
 * @param {import('./catalog.mjs').Service[]} active services of the tier in dependency order
 * @param {Map<string, import('./catalog.mjs').Service>} byName
 * @param {string} efsFileSystemId
 * @param {boolean} [reverse]
 * @returns {Wave[]}
 */
function waves(active, byName, efsFileSystemId, reverse = false) {
  /** @param {import('./catalog.mjs').Service} s */
  const before = (s) => (reverse ? dependentsOf(active, s.name) : s.dependsOn);
  const level = tierWaveLevels(active, reverse);
  /** @type {Wave[]} */
  const out = [];
  for (const s of active) {
    const l = /** @type {number} */ (level.get(s.name));
    while (out.length <= l) out.push({ index: out.length, services: [], gates: [] });
    out[l].services.push(s.name);
  }
  for (const w of out) {
    const members = w.services.map((n) => /** @type {import('./catalog.mjs').Service} */ (byName.get(n)));
    const deps = [...new Set(members.flatMap((s) => before(s).filter((d) => level.has(d))))];
    if (deps.length) w.gates.push({ kind: 'stable', services: deps });
    const data = members.filter((s) => s.needsData).map((s) => s.name);
    if (data.length) w.gates.push({ kind: 'efs', fileSystemId: efsFileSystemId, services: data });
  }
  return out;
}

/**
 * Apply --only / --from / --skip. Unknown step ids are bad input. A guard step (preflight) stays selected under
 * --only and --from (it checks what the selected steps need); --skip deselects it like any step.
 * @param {Plan} plan
 * @param {{ only?: string[], from?: string|null, skip?: string[], skipReasons?: Record<string, string> }} sel
 * @returns {Plan}
 */
export function selectSteps(plan, sel) {
  const ids = plan.steps.map((s) => s.id);
  /** @param {string} flag @param {string} id */
  const known = (flag, id) => {
    if (!ids.includes(id)) throw new InputError(`${flag} ${id}: unknown step (steps: ${ids.join(', ')})`);
  };
  const only = sel.only ?? [];
  const skip = sel.skip ?? [];
  only.forEach((id) => known('--only', id));
  skip.forEach((id) => known('--skip', id));
  if (sel.from) known('--from', sel.from);
  const fromIndex = sel.from ? ids.indexOf(sel.from) : 0;
  const steps = plan.steps.map((s, i) => {
    let skipReason = null;
    if (s.guard) skipReason = skip.includes(s.id) ? sel.skipReasons?.[s.id] ?? 'skipped with --skip' : null;
    else if (only.length && !only.includes(s.id)) skipReason = `not selected (--only ${only.join(', ')})`;
    else if (i < fromIndex) skipReason = `before --from ${sel.from}`;
    else if (skip.includes(s.id)) skipReason = sel.skipReasons?.[s.id] ?? 'skipped with --skip';
    return { ...s, selected: skipReason === null, skipReason };
  });
  if (!steps.some((s) => s.selected && !s.guard) && !only.some((id) => steps.find((s) => s.id === id)?.guard)) throw new InputError('the step selection leaves nothing to run');
  return { ...plan, steps };
}

/**
 * Human-readable plan; `notes` (step id -> lines) adds what a dry run found out about the current state.
 * @param {Plan} plan
 * @param {Record<string, string[]>} [notes]
 * @returns {string}
 */
export function formatPlan(plan, notes = {}) {
  const rb = plan.rollback;
  const lines = rb
    ? [`Rollback plan: ${plan.environment} (cluster ${plan.cluster}) from release ${rb.from.release} (${rb.from.id}) back to ${rb.to.release} (${rb.to.id})`, ...rb.warnings.map((w) => `warning: ${w}`)]
    : [`Rollout plan: release ${plan.release} -> ${plan.environment} (cluster ${plan.cluster})`];
  plan.steps.forEach((s, i) => {
    const head = `${i + 1}. ${s.id}${s.dependsOn.length ? ` (after ${s.dependsOn.join(', ')})` : ''}`;
    lines.push(s.selected ? head : `${head}  [skipped: ${s.skipReason}]`);
    if (s.kind === 'preflight') {
      for (const n of s.secrets ?? []) lines.push(`     secret ${n.key}: has a current value (needed by ${n.usedBy.map((u) => u.name).join(', ')})`);
    }
    if (s.kind === 'rollback-targets' && rb) {
      for (const [name, arn] of Object.entries(rb.taskDefinitions)) lines.push(`     ${name} <- ${arn.split('/').pop()} (ACTIVE, images still in ECR)`);
    }
    if (s.kind === 'images' && s.imageKeys) lines.push(`     images: ${s.imageKeys.join(', ')}`);
    if (s.kind === 'task-definitions' && s.families) {
      for (const f of s.families) lines.push(`     ${f.family} (${f.service === MIGRATION_KEY ? 'migration' : f.service}): container ${f.container} <- image ${f.image}:${plan.release}`);
    }
    if (s.kind === 'tier') {
      for (const w of s.waves ?? []) {
        const gates = w.gates.map((g) => (g.kind === 'stable' ? `after ${g.services.join(', ')} stable` : `EFS ${g.fileSystemId} mount targets available (for ${g.services.join(', ')})`));
        lines.push(`     wave ${w.index + 1}: ${w.services.join(', ')}${w.services.length > 1 ? ' in parallel' : ''}${gates.length ? `; gates: ${gates.join('; ')}` : ''}`);
      }
      if (!s.waves?.length) lines.push('     (no enabled service in this tier)');
      for (const k of s.skippedServices ?? []) lines.push(`     skip ${k.name}: ${k.reason}`);
    }
    for (const n of notes[s.id] ?? []) lines.push(`     ${n}`);
  });
  return lines.join('\n');
}
