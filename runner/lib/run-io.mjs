// A run's side effects and its inputs, shared by every verb (runner/verbs; the dispatcher is runner/main.mjs):
// the real defaults of the injectable ones, and what a run leaves behind once its plan was executed (the --report
// JSON, the summary and timeline by runner/report, the dry run's notes per step).
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { systemClock, zxExec } from './runtime.mjs';
import { createCallCounter } from './call-counter.mjs';
import { configFileFrom } from './args.mjs';
import { loadRunnerConfig } from './config.mjs';
import { loadOutputs } from './outputs.mjs';
import { compareDeployed } from './deployed.mjs';
import { EXIT } from './errors.mjs';

/**
 * The injected side effects, each defaulting to the real one, and what every run starts with: a call counter,
 * its start time, and its identity as far as known (filled in as the input is read; an input report names it).
 * @param {import('../main.mjs').MainDeps} deps
 */
export function runIo(deps) {
  const clock = deps.clock ?? systemClock();
  return {
    counter: createCallCounter(),
    startedAt: clock.now(),
    ident: { release: 'unknown', environment: 'unknown' },
    cwd: deps.cwd ?? process.cwd(),
    env: deps.env ?? process.env,
    exec: deps.exec ?? zxExec(),
    clock,
    write: deps.write ?? ((/** @type {string} */ l) => process.stdout.write(`${l}\n`)),
    writeErr: deps.writeErr ?? ((/** @type {string} */ l) => process.stderr.write(`${l}\n`)),
    signal: deps.signal ?? new AbortController().signal,
  };
}

/**
 * @typedef {object} OutputIo
 * @property {string} cwd
 * @property {Record<string, string|undefined>} env
 * @property {(l: string) => void} write
 * @property {(l: string) => void} writeErr
 * @property {typeof import('../report/index.mjs').writeArtifacts} writeArtifacts
 */

/**
 * What every run reads before it touches AWS, the same way for each verb: the config (--config, else
 * $STAGING_ROLLOUT_CONFIG, else the default) and the stack outputs (--outputs FILE, else `terraform output`),
 * compared (runner/lib/deployed.mjs): another environment's outputs are refused; with `catalog` (verbs that
 * change services) so is a catalog not deployed yet, and the config's desired counts replace the deployed ones.
 * Bad input throws InputError (exit 2).
 * @param {{ config: string|null, outputs: string|null, stackDir: string }} options
 * @param {{ cwd: string, env: Record<string, string|undefined>, exec: import('./types.mjs').Exec }} io
 * @param {{ catalog?: boolean }} [check]
 */
export async function readRunInputs(options, io, check = {}) {
  const configPath = configFileFrom(options.config, io.env);
  const loaded = await loadRunnerConfig(configPath, io.cwd);
  const deployed = await loadOutputs({ file: options.outputs, stackDir: options.stackDir, cwd: io.cwd, exec: io.exec });
  const source = options.outputs ?? 'terraform output';
  const { outputs, countChanges } = compareDeployed({ config: loaded.config, outputs: deployed, configFile: configPath, source, catalog: check.catalog ?? true });
  return { configPath, loaded, config: loaded.config, outputs, source, countChanges };
}

/** @param {import('./execute.mjs').Report} report @returns {Record<string, string[]>} */
export function dryRunNotes(report) {
  /** @type {Record<string, string[]>} */
  const notes = {};
  for (const s of report.steps) {
    notes[s.id] = [`-> ${s.status}${s.reason ? `: ${s.reason.split('\n')[0]}` : ''}`];
    for (const v of s.services) {
      if (v.reason) notes[s.id].push(`   ${v.name}: ${v.reason}`);
      for (const c of v.changes ?? []) notes[s.id].push(`     ${c}`);
    }
  }
  return notes;
}

/** @param {string} file @param {unknown} data */
export async function writeJson(file, data) {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
}

/**
 * Write --report, then the report's artifacts (runner/report): the timeline beside --report, the Markdown summary
 * to --summary and/or $GITHUB_STEP_SUMMARY.
 * @param {import('./execute.mjs').Report} report
 * @param {import('./args.mjs').Options} options
 * @param {OutputIo} io
 */
export async function writeOutputs(report, options, io) {
  const reportPath = options.report ? path.resolve(io.cwd, options.report) : undefined;
  if (reportPath) {
    await writeJson(reportPath, report);
    io.write(`report: ${reportPath}`);
  }
  const summaryPath = options.summary ? path.resolve(io.cwd, options.summary) : io.env.GITHUB_STEP_SUMMARY || undefined;
  if (!reportPath && !summaryPath) return;
  try {
    await io.writeArtifacts(report, { reportPath: reportPath ?? null, summaryPath: summaryPath ?? null, env: io.env });
  } catch (e) {
    io.writeErr(`report artifacts failed: ${/** @type {Error} */ (e).message}`);
  }
}

/**
 * The report of a run refused before its plan ran, nothing changed: what --report holds then. `step` is `input`
 * for bad input (exit 2) and `lock` when another command holds the environment's lock (exit 3) or Ctrl-C came
 * while it was being taken (exit 130, status interrupted).
 * @param {{ release: string, environment: string, message: string, startedAt: number, finishedAt: number, awsCalls: number, step?: 'input'|'lock', exitCode?: number }} r
 * @returns {import('./execute.mjs').Report}
 */
export function refusalReport(r) {
  return {
    schemaVersion: 1, release: r.release, environment: r.environment, status: r.exitCode === EXIT.INTERRUPTED ? 'interrupted' : 'failed', exitCode: r.exitCode ?? 2,
    failure: { step: r.step ?? 'input', message: r.message }, startedAt: new Date(r.startedAt).toISOString(),
    finishedAt: new Date(r.finishedAt).toISOString(), durationMs: r.finishedAt - r.startedAt, awsCalls: r.awsCalls, images: {}, steps: [],
  };
}

/**
 * A refusal (bad input, the lock held or interrupted while taken) in the --report file, when one was asked for.
 * @param {ReturnType<typeof runIo>} io
 * @param {{ report?: string|null } | null} options the parsed flags (null: not parsed yet, no report)
 * @param {{ message: string, step?: 'input'|'lock', exitCode?: number }} refusal
 */
export async function writeRefusal(io, options, refusal) {
  if (!options?.report) return;
  const report = refusalReport({ ...io.ident, ...refusal, startedAt: io.startedAt, finishedAt: io.clock.now(), awsCalls: io.counter.total });
  await writeJson(path.resolve(io.cwd, options.report), report).catch(() => {});
}
