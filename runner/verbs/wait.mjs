// `wait`: read-only; wait until every enabled catalog service is stable on one deployment (runner/aws/service-state.mjs
// steadyState: ACTIVE, one deployment and it PRIMARY, rolloutState COMPLETED where ECS reports one, running ==
// desired), whatever revision it runs. Polls with the rollout's batched DescribeServices (runner/aws/ecs.mjs, 10
// services a call) on runner/aws/poll.mjs, printing a service's line when it changes and the tier step's heartbeat
// while it waits. Calls: DescribeServices only (ceil(services / 10) per poll). Exit 0 stable, 1 not stable within
// --timeout (each such service named with why) or AWS could not be read, 2 bad input.
import { defineCommand, seconds } from '../lib/cli-options.mjs';
import { stackInputFlags, jsonFlag, helpFlag, emulatorFlags, waitFlags } from '../lib/args.mjs';
import { EXIT, InterruptedError } from '../lib/errors.mjs';
import { fmtMs } from '../lib/runtime.mjs';
import { checkCatalog } from '../lib/catalog.mjs';
import { skippedServiceReasons } from '../lib/plan.mjs';
import { detectCapabilities } from '../lib/emulator.mjs';
import { describeServices } from '../aws/ecs.mjs';
import { poll } from '../aws/poll.mjs';
import { serviceLine, waitingLine, steadyState } from '../aws/service-state.mjs';
import { runVerb } from './setup.mjs';
import { usage } from './index.mjs';

/**
 * @typedef {{ outputs: string|null, stackDir: string, config: string|null, json: boolean, emulator: boolean|null,
 *   timeoutMs: number, pollIntervalMs: number, help: boolean }} WaitOptions
 * @typedef {{ name: string, ecsName: string, stable: boolean, why: string|null, line: string }} Waited
 */

export const DEFAULT_TIMEOUT_S = 600;

/**
 * The rollout's own `--poll-interval` (runner/lib/args.mjs waitFlags), for a command that polls without its
 * `--service-timeout`.
 * @template {{ pollIntervalMs: number }} T
 * @returns {import('../lib/cli-options.mjs').Flag<T>[]}
 */
export function pollIntervalFlag() {
  return /** @type {import('../lib/cli-options.mjs').Flag<T>[]} */ (/** @type {unknown} */ (waitFlags().filter((f) => f.flag === '--poll-interval')));
}
const ID = 'wait';

const COMMAND = defineCommand(/** @type {import('../lib/cli-options.mjs').CommandSpec<WaitOptions>} */ ({
  head: `${usage('wait', '[--timeout SEC] [flags]')}

Waits until every enabled service is stable on one deployment: one PRIMARY deployment, running == desired,
rolloutState COMPLETED where ECS reports one (whatever revision it runs). Changes nothing.`,
  column: 23,
  sections: [
    { title: 'Inputs', flags: stackInputFlags() },
    { title: 'Behaviour', flags: [
      { flag: '--timeout', value: 'SEC', key: 'timeoutMs', default: DEFAULT_TIMEOUT_S * 1000, parse: seconds, help: [
        `give up after this long (default ${DEFAULT_TIMEOUT_S}; 0: look once)`] },
      ...pollIntervalFlag(),
      ...emulatorFlags()] },
    { title: 'Output', flags: [...jsonFlag(), ...helpFlag()] },
  ],
  tail: `Exit codes
  0    every enabled service is stable
  1    not stable within --timeout (each such service named, and why), a service is not found, or AWS could
       not be read
  2    bad input (flags, config, outputs)
  130  interrupted (Ctrl-C)`,
}));

export const HELP = COMMAND.help;

/**
 * @param {string[]} argv @param {import('../main.mjs').MainDeps} deps
 * @returns {Promise<import('./index.mjs').VerbResult>}
 */
export async function run(argv, deps) {
  return runVerb(COMMAND, argv, deps, async (options, ctx) => {
    const capabilities = detectCapabilities({ emulator: options.emulator, env: ctx.env });
    const deployments = !capabilities.lacks('ecs-deployments');
    // progress goes to stderr with --json (stdout is the report)
    const say = options.json ? ctx.writeErr : ctx.write;
    const skipped = skippedServiceReasons(checkCatalog(ctx.outputs.catalog, ctx.config.tiers, ctx.source));
    /** @type {Waited[]} */
    const services = ctx.outputs.catalog.filter((s) => !skipped.has(s.name) && s.ecsServiceName)
      .map((s) => ({ name: s.name, ecsName: /** @type {string} */ (s.ecsServiceName), stable: false, why: 'not described yet', line: '' }));
    const start = ctx.clock.now();
    const call = { signal: ctx.signal, log: ctx.log };
    const pending = () => services.filter((s) => !s.stable);
    /** @type {boolean | 'interrupted'} */
    const settled = await poll({
      clock: ctx.clock, signal: ctx.signal, intervalMs: options.pollIntervalMs, timeoutMs: options.timeoutMs,
      heartbeat: (waited) => say(waitingLine(ID, waited, options.timeoutMs, pending())),
      onTimeout: () => false,
    }, async () => {
      const { services: found } = await describeServices(call, ctx.aws.ecs, ctx.outputs.clusterName, pending().map((s) => s.ecsName));
      const byName = new Map(found.map((v) => [v.serviceName, v]));
      for (const s of pending()) {
        const svc = byName.get(s.ecsName);
        if (!svc) Object.assign(s, { why: `ECS service ${s.ecsName} not found in cluster ${ctx.outputs.clusterName}`, line: 'not found' });
        else {
          const line = serviceLine(svc, { desired: svc.desiredCount ?? 0, deployments });
          if (line !== s.line) say(`[${ID}] ${s.name} ${fmtMs(ctx.clock.now() - start)}: ${line}`);
          Object.assign(s, steadyState(svc, { deployments }), { line });
          if (s.stable) say(`[${ID}] ${s.name}: stable`);
        }
      }
      return pending().length ? undefined : true;
    }).catch((e) => {
      if (e instanceof InterruptedError || ctx.signal.aborted) return /** @type {const} */ ('interrupted');
      throw e;
    });
    const waitedMs = ctx.clock.now() - start;
    const notStable = pending().map((s) => ({ name: s.name, why: s.why }));
    const verdict = settled === 'interrupted' ? `interrupted after ${fmtMs(waitedMs)}; not stable yet: ${notStable.map((s) => `${s.name} (${s.why})`).join('; ') || 'none'}`
      : settled
      ? `every enabled service (${services.length}) is stable${deployments ? '' : ` (emulator: only ACTIVE is observable: ${capabilities.reason('ecs-deployments')})`}`
      : `${notStable.length} service(s) not stable after ${fmtMs(options.timeoutMs)}: ${notStable.map((s) => `${s.name} (${s.why})`).join('; ')}`;
    const ok = settled === true;
    const exitCode = settled === 'interrupted' ? EXIT.INTERRUPTED : ok ? EXIT.OK : EXIT.FAILED;
    const report = {
      schemaVersion: 1, environment: ctx.outputs.environment, cluster: ctx.outputs.clusterName, ok, exitCode, verdict,
      waitedMs, timeoutMs: options.timeoutMs, services: services.map((s) => ({ name: s.name, stable: s.stable, why: s.stable ? null : s.why })),
      notStable, emulator: capabilities.emulator ? capabilities.source : null, awsCalls: ctx.counter.total,
    };
    if (options.json) ctx.write(JSON.stringify(report, null, 2));
    else ctx.write(`${ok ? 'OK' : 'NOT OK'} (exit ${exitCode}): ${verdict}; waited ${fmtMs(waitedMs)}, ${ctx.counter.total} AWS API calls`);
    return { exitCode, report };
  });
}
