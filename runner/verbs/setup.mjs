// What every verb does before its own work, in one place: read its flags (--help, bad flags exit 2), read the
// config and the stack outputs exactly as a rollout does, create the AWS clients (deps.createAws, else
// runner/aws/clients.mjs) with a call counter, and map errors to exit codes: InputError 2, Ctrl-C (deps.signal
// aborted) 130, anything else 1.
import { readFlags } from '../lib/cli-options.mjs';
import { InputError, EXIT } from '../lib/errors.mjs';
import { createAwsClients } from '../aws/clients.mjs';
import { runIo, readRunInputs } from '../lib/run-io.mjs';

/**
 * @typedef {object} VerbContext
 * @property {import('../lib/config.mjs').RunnerConfig} config
 * @property {string} configPath the config file read (relative paths in it are relative to it)
 * @property {string} cwd
 * @property {import('../lib/types.mjs').Exec} exec
 * @property {import('../lib/outputs.mjs').Outputs} outputs
 * @property {string} source where the outputs came from, for messages
 * @property {import('../aws/clients.mjs').AwsClients} aws
 * @property {import('../aws/clients.mjs').CallCounter} counter
 * @property {Record<string, string|undefined>} env
 * @property {AbortSignal} signal
 * @property {import('../lib/types.mjs').Clock} clock
 * @property {(line: string) => void} write
 * @property {(line: string) => void} writeErr
 * @property {{ warn: (msg: string) => void }} log warnings go to stderr (stdout may be JSON)
 */

/**
 * @template {{ help: boolean, outputs: string|null, stackDir: string, config: string|null }} T
 * @param {import('../lib/cli-options.mjs').Command<T>} command
 * @param {string[]} argv
 * @param {import('../main.mjs').MainDeps} deps
 * @param {(options: T, ctx: VerbContext) => Promise<{ exitCode: number, report: object|null }>} body
 * @param {{ catalog?: boolean }} [check] catalog: compare the config's catalog with the deployed one and use the
 *   config's desired counts, as a rollout does (default false: a verb that changes no service)
 * @returns {Promise<import('./index.mjs').VerbResult>}
 */
export async function runVerb(command, argv, deps, body, check = {}) {
  const { cwd, env, exec, write, writeErr, signal, counter, clock } = runIo(deps);
  const flags = readFlags(command, argv, { prefix: 'error: ', stdout: (s) => write(s.replace(/\n$/, '')), stderr: (s) => writeErr(s.replace(/\n$/, '')) });
  if ('exitCode' in flags) return { exitCode: flags.exitCode, report: null, awsCalls: 0 };
  const { options } = flags;
  try {
    const { config, outputs, source, loaded } = await readRunInputs(options, { cwd, env, exec }, { catalog: check.catalog ?? false });
    const aws = deps.createAws ? deps.createAws(counter, outputs.region) : createAwsClients({ region: outputs.region, counter });
    const res = await body(options, {
      config, configPath: loaded.path, cwd, exec, outputs, source, aws, counter, env, signal, clock,
      write, writeErr, log: { warn: (m) => writeErr(`warning: ${m}`) },
    });
    return { ...res, awsCalls: counter.total };
  } catch (e) {
    if (signal.aborted) {
      writeErr('interrupted');
      return { exitCode: EXIT.INTERRUPTED, report: null, awsCalls: counter.total };
    }
    writeErr(`error: ${/** @type {Error} */ (e).message}`);
    return { exitCode: e instanceof InputError ? EXIT.BAD_INPUT : EXIT.FAILED, report: null, awsCalls: counter.total };
  }
}

/**
 * Rows as an aligned text table (the first row is the header).
 * @param {string[][]} rows
 */
export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
}
