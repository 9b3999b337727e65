// One table per command line: each flag is declared once (name, value name, default, help lines, how its value
// is read) and both the `node:util.parseArgs` options and the `--help` text come from that table. Used by the
// runner (runner/lib/args.mjs), the images CLI, `npm run local` and `npm run bench`. Pure: no I/O.
// Bad flags throw InputError (exit 2) with a message naming the flag.
import { parseArgs } from 'node:util';
import { InputError } from './errors.mjs';

/** @typedef {NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>} ParseArgsOptions */

/**
 * One flag. A flag with `value` takes a value (a string option), one without is a switch (boolean option).
 * Either `key` (the value is stored there: the raw string, or `parse(raw, flag)`; a switch stores `set`, default
 * true) or `apply` (for flags that accumulate or must check the other flags).
 * @template T
 * @typedef {object} Flag
 * @property {string} flag          e.g. `--outputs`
 * @property {string} [short]       one letter, e.g. `h` for `-h`
 * @property {string} [value]       value name in the help, e.g. `FILE`; absent: a switch
 * @property {string[]} help        help lines: the first beside the flag, the others below it
 * @property {keyof T & string} [key]
 * @property {unknown} [default]    the value of `key` when the flag is not given
 * @property {unknown} [set]        a switch: the value stored in `key` (default true)
 * @property {(raw: string, flag: string) => unknown} [parse] checks and converts a value; throws InputError
 * @property {(target: T, raw: string, flag: string) => void} [apply]
 */

/**
 * @template T
 * @typedef {object} CommandSpec
 * @property {string} head           text before the first section (usage, description), without trailing newline
 * @property {{ title?: string, flags: Flag<T>[] }[]} sections
 * @property {string} [tail]         text after the last section (exit codes), without trailing newline
 * @property {number} column         width of the flag column (the help text starts at column + 3)
 * @property {() => Partial<T>} [initial] defaults of properties no flag sets by `key` (e.g. filled by `apply`)
 * @property {Operand<T>} [positional] one argument that is not a flag (e.g. `run SERVICE`), stored as a string
 *   (default null); absent: every such argument is refused
 * @property {Operand<T>} [rest] everything after `--`, stored as a string[] (default []); absent: `--` is refused
 */

/**
 * An argument that is not a flag: the positional one, or the words after `--`. `required` is checked unless
 * --help was given (the help needs no operands).
 * @template T
 * @typedef {{ key: keyof T & string, value: string, required?: boolean }} Operand
 */

/**
 * @template T
 * @typedef {object} Command
 * @property {string} help                       the generated --help text (ends with a newline)
 * @property {() => T} defaults                  a fresh object with every flag's default
 * @property {(argv: string[]) => T} parse       throws InputError naming the flag
 * @property {ParseArgsOptions} parseArgsOptions the same flags as `node:util.parseArgs` options
 */

/**
 * @template T
 * @param {CommandSpec<T>} spec
 * @returns {Command<T>}
 */
export function defineCommand(spec) {
  const flags = spec.sections.flatMap((s) => s.flags);
  /** @type {Map<string, Flag<T>>} */
  const byName = new Map();
  /** @type {ParseArgsOptions} */
  const parseArgsOptions = {};
  for (const f of flags) {
    const name = f.flag.replace(/^--/, '');
    if (byName.has(name)) throw new Error(`flag ${f.flag} declared twice`);
    if (!f.key && !f.apply) throw new Error(`flag ${f.flag} has neither key nor apply`);
    byName.set(name, f);
    parseArgsOptions[name] = { type: f.value ? 'string' : 'boolean', multiple: Boolean(f.apply), ...(f.short ? { short: f.short } : {}) };
  }

  const defaults = () => {
    /** @type {Record<string, unknown>} */
    const o = { ...spec.initial?.() };
    if (spec.positional) o[spec.positional.key] = null;
    if (spec.rest) o[spec.rest.key] = [];
    for (const f of flags) {
      if (f.key && !(f.key in o)) o[f.key] = structuredClone(f.default ?? null);
    }
    return /** @type {T} */ (o);
  };

  /** @param {string[]} argv */
  const parse = (argv) => {
    const target = defaults();
    const out = /** @type {Record<string, unknown>} */ (target);
    const { tokens } = parseArgs({ args: argv, options: parseArgsOptions, strict: false, allowPositionals: true, tokens: true });
    const { positional, rest } = spec;
    let afterTerminator = false;
    for (const t of tokens) {
      if (t.kind === 'option-terminator') {
        if (!rest) throw new InputError('unexpected argument "--" (see --help)');
        afterTerminator = true;
        continue;
      }
      if (t.kind === 'positional') {
        if (afterTerminator && rest) /** @type {string[]} */ (out[rest.key]).push(t.value);
        else if (positional && out[positional.key] === null) out[positional.key] = t.value;
        else if (positional) {
          throw new InputError(`unexpected argument "${t.value}": one ${positional.value} only (got "${out[positional.key]}")${rest ? `; a command goes after "--", e.g. -- ${rest.value}` : ''} (see --help)`);
        } else throw new InputError(`unexpected argument "${t.value}" (see --help)`);
        continue;
      }
      const f = byName.get(t.name);
      if (!f || (t.rawName.length === 2 && t.rawName !== `-${f.short}`)) throw new InputError(`unknown flag ${t.rawName} (see --help)`);
      /** @type {string} */
      let raw;
      if (!f.value) {
        if (t.value !== undefined) throw new InputError(`${f.flag} takes no value, got "${f.flag}=${t.value}"`);
        raw = 'true';
      } else {
        if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) throw new InputError(`${f.flag} needs a value`);
        if (t.value === '') throw new InputError(`${f.flag} needs a non-empty value`);
        raw = t.value;
      }
      if (f.apply) f.apply(target, raw, f.flag);
      else if (f.key) out[f.key] = !f.value ? f.set ?? true : f.parse ? f.parse(raw, f.flag) : raw;
    }
    if (!out.help) {
      if (positional?.required && out[positional.key] === null) throw new InputError(`missing ${positional.value} (see --help)`);
      if (rest?.required && !(/** @type {string[]} */ (out[rest.key])).length) throw new InputError(`missing the command: put it after "--", e.g. -- ${rest.value} (see --help)`);
    }
    return target;
  };

  return { help: formatHelp(spec), defaults, parse, parseArgsOptions };
}

/**
 * @template T
 * @param {CommandSpec<T>} spec
 */
function formatHelp(spec) {
  const pad = ' '.repeat(spec.column + 3);
  const sections = spec.sections.map((s) => {
    const lines = s.title ? [s.title] : [];
    for (const f of s.flags) {
      const label = `${f.flag}${f.short ? `, -${f.short}` : ''}${f.value ? ` ${f.value}` : ''}`;
      const [first, ...rest] = f.help;
      lines.push(`  ${label.padEnd(spec.column)} ${first}`.trimEnd(), ...rest.map((l) => `${pad}${l}`));
    }
    return lines.join('\n');
  });
  return `${[spec.head, ...sections, ...(spec.tail ? [spec.tail] : [])].join('\n\n')}\n`;
}

/** A number of seconds >= 0 (fractions allowed), as milliseconds. @param {string} raw @param {string} flag */
export function seconds(raw, flag) {
  if (!/^\d+(\.\d+)?$/.test(raw)) throw new InputError(`${flag}: must be a number of seconds >= 0, got "${raw}"`);
  return Math.round(Number(raw) * 1000);
}

/** An integer >= 1. @param {string} raw @param {string} flag */
export function positiveInt(raw, flag) {
  if (!/^[1-9]\d*$/.test(raw)) throw new InputError(`${flag}: must be an integer >= 1, got "${raw}"`);
  return Number(raw);
}

/**
 * The start of a command-line script: parse argv; with --help print the help, with a bad flag print the error.
 * @template {{ help: boolean }} T
 * @param {Command<T>} command
 * @param {string[]} argv
 * @param {{ prefix: string, stdout?: (s: string) => void, stderr?: (s: string) => void }} io prefix of the error line,
 *   e.g. `error: `
 * @returns {{ options: T } | { exitCode: 0 | 2 }} exitCode: stop there (0 after --help, 2 after a bad flag)
 */
export function readFlags(command, argv, io) {
  const stdout = io.stdout ?? ((/** @type {string} */ s) => void process.stdout.write(s));
  const stderr = io.stderr ?? ((/** @type {string} */ s) => void process.stderr.write(s));
  let options;
  try {
    options = command.parse(argv);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    stderr(`${io.prefix}${e.message}\n`);
    return { exitCode: 2 };
  }
  if (options.help) {
    stdout(command.help);
    return { exitCode: 0 };
  }
  return { options };
}
