// The step registry: plan step kind (runner/lib/plan.mjs PlanStep.kind) -> the module that runs it. Static
// imports, so every step is loaded (and type-checked) with the runner; tests hand execute() a map of their own.
import * as preflight from './preflight.mjs';
import * as images from './images.mjs';
import * as taskDefinitions from './task-definitions.mjs';
import * as migration from './migration.mjs';
import * as tier from './tier.mjs';
import * as smoke from './smoke.mjs';
import * as rollbackTargets from './rollback-targets.mjs';

/**
 * @typedef {object} StepModule
 * @property {(ctx: import('../lib/types.mjs').StepContext) => Promise<unknown>} run resolves to a StepResult
 *   (runner/lib/types.mjs); execute() checks it and reports anything else as a failed step
 * @property {(input: StepInput) => void} [checkInputs] the step's own input checks, on this machine only (no AWS
 *   call): the runner calls it for every selected step before its first AWS call; throws InputError (exit 2)
 */

/**
 * What a step's checkInputs sees: the run's inputs, before any AWS client exists.
 * @typedef {object} StepInput
 * @property {import('../lib/types.mjs').StepContext['config']} config
 * @property {string} configPath
 * @property {import('../lib/types.mjs').StepContext['catalog']} catalog
 * @property {import('../lib/types.mjs').StepContext['outputs']} outputs
 * @property {import('../lib/args.mjs').Options} options the parsed flags
 * @property {Record<string, string|undefined>} env
 */

/** @typedef {Partial<Record<import('../lib/plan.mjs').StepKind, StepModule | null>>} StepRegistry */

/** @type {Readonly<Record<import('../lib/plan.mjs').StepKind, StepModule>>} */
export const STEPS = Object.freeze({
  preflight,
  images,
  'task-definitions': taskDefinitions,
  migration,
  tier,
  smoke,
  'rollback-targets': rollbackTargets,
});
