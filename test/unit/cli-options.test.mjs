// The one flag table per command (runner/lib/cli-options.mjs): parser and --help from the same declaration,
// bad flags as InputError naming the flag; every verb of the registry has its generated --help, and the
// runner's help lists every verb.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { defineCommand, seconds, positiveInt } from '../../runner/lib/cli-options.mjs';
import { InputError } from '../../runner/lib/errors.mjs';
import { VERBS, ENTRY } from '../../runner/verbs/index.mjs';
import { main } from '../../runner/main.mjs';
import { ROOT } from '../support/fake-aws.mjs';

const cmd = defineCommand({
  head: 'Usage: x [flags]',
  column: 12,
  sections: [
    { title: 'Inputs', flags: [
      { flag: '--file', value: 'FILE', key: 'file', default: 'a.json', help: ['the file', 'second line'] },
      { flag: '--wait', value: 'SEC', key: 'waitMs', default: 0, parse: seconds, help: ['wait'] },
      { flag: '--tag', value: 'T', key: 'tags', default: [], apply: (o, raw) => { o.tags.push(raw); }, help: ['repeatable'] },
    ] },
    { flags: [
      { flag: '--quiet', key: 'loud', default: true, set: false, help: ['no output'] },
      { flag: '--help', short: 'h', key: 'help', default: false, help: ['this text'] },
    ] },
  ],
  tail: 'Exit codes: 0, 2',
});

describe('defineCommand', () => {
  test('--help is generated from the table: sections, value names, aligned continuation lines', () => {
    expect(cmd.help).toBe([
      'Usage: x [flags]', '', 'Inputs',
      '  --file FILE  the file', '               second line',
      '  --wait SEC   wait',
      '  --tag T      repeatable', '',
      '  --quiet      no output',
      '  --help, -h   this text', '', 'Exit codes: 0, 2', '',
    ].join('\n'));
  });

  test('defaults, values (inline or not), parse, apply and switches', () => {
    expect(cmd.parse([])).toEqual({ file: 'a.json', waitMs: 0, tags: [], loud: true, help: false });
    expect(cmd.parse(['--file=b.json', '--wait', '1.5', '--tag', 'x', '--tag=y', '--quiet', '-h']))
      .toEqual({ file: 'b.json', waitMs: 1500, tags: ['x', 'y'], loud: false, help: true });
    expect(cmd.defaults().tags).not.toBe(cmd.defaults().tags);
  });

  test('the parseArgs options come from the same table', () => {
    expect(cmd.parseArgsOptions).toMatchObject({ file: { type: 'string' }, quiet: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  });

  test.each([
    [['--fast'], 'unknown flag --fast (see --help)'],
    [['-x'], 'unknown flag -x (see --help)'],
    [['stray'], 'unexpected argument "stray" (see --help)'],
    [['--file'], '--file needs a value'],
    [['--file', '--quiet'], '--file needs a value'],
    [['--file='], '--file needs a non-empty value'],
    [['--quiet=1'], '--quiet takes no value, got "--quiet=1"'],
    [['--wait', 'soon'], '--wait: must be a number of seconds >= 0, got "soon"'],
  ])('%j: InputError "%s"', (argv, message) => {
    expect(() => cmd.parse(argv)).toThrow(InputError);
    expect(() => cmd.parse(argv)).toThrow(message);
  });

  test('a flag declared twice is a programming error', () => {
    const flag = { flag: '--a', key: 'a', help: ['a'] };
    expect(() => defineCommand({ head: 'x', column: 4, sections: [{ flags: [flag, flag] }] })).toThrow('flag --a declared twice');
  });

  describe('operands: one positional and the command after "--" (spec positional, rest)', () => {
    const op = defineCommand({
      head: 'Usage: x SERVICE [flags] -- COMMAND...',
      column: 12,
      sections: [{ flags: [
        { flag: '--release', value: 'R', key: 'release', help: ['a release'] },
        { flag: '--help', short: 'h', key: 'help', default: false, help: ['this text'] },
      ] }],
      positional: { key: 'service', value: 'SERVICE', required: true },
      rest: { key: 'command', value: 'COMMAND...', required: true },
    });

    test('the positional anywhere before "--"; everything after "--" verbatim, flags and "-1" included', () => {
      expect(op.parse(['api', '--', 'alembic', 'downgrade', '-1'])).toEqual({ release: null, help: false, service: 'api', command: ['alembic', 'downgrade', '-1'] });
      expect(op.parse(['--release', 'r1', 'api', '--', 'ls', '--release', '--', 'x']))
        .toEqual({ release: 'r1', help: false, service: 'api', command: ['ls', '--release', '--', 'x'] });
      expect(op.parse(['api', '--release=r2', '--', 'true'])).toMatchObject({ release: 'r2', service: 'api' });
    });

    test('--help needs no operands', () => {
      expect(op.parse(['--help'])).toMatchObject({ help: true, service: null, command: [] });
    });

    test.each([
      [['--', 'ls'], 'missing SERVICE (see --help)'],
      [['api'], 'missing the command: put it after "--", e.g. -- COMMAND... (see --help)'],
      [['api', '--'], 'missing the command: put it after "--", e.g. -- COMMAND... (see --help)'],
      [['api', 'ls', '--', 'x'], 'unexpected argument "ls": one SERVICE only (got "api"); a command goes after "--", e.g. -- COMMAND... (see --help)'],
      [['api', '--fast', '--', 'x'], 'unknown flag --fast (see --help)'],
      [['api', '--release', '--', 'x'], '--release needs a value'],
    ])('%j: InputError "%s"', (argv, message) => {
      expect(() => op.parse(argv)).toThrow(InputError);
      expect(() => op.parse(argv)).toThrow(message);
    });

    test('optional operands default to null and []; without the spec options both stay refused', () => {
      const loose = defineCommand({ head: 'x', column: 8, sections: [{ flags: [{ flag: '--help', key: 'help', default: false, help: ['h'] }] }],
        positional: { key: 'service', value: 'SERVICE' }, rest: { key: 'command', value: 'COMMAND...' } });
      expect(loose.parse([])).toEqual({ help: false, service: null, command: [] });
      expect(() => cmd.parse(['--', 'x'])).toThrow('unexpected argument "--" (see --help)');
    });
  });

  test('positiveInt', () => {
    expect(positiveInt('3', '--n')).toBe(3);
    expect(() => positiveInt('0', '--n')).toThrow('--n: must be an integer >= 1, got "0"');
  });
});

describe('every verb of the registry: generated --help, a bad flag exits 2 naming it, nothing called', () => {
  /** main() with its output captured and no AWS: any AWS client asked for fails the test */
  const cli = async (argv) => {
    const out = [];
    const err = [];
    const res = await main(argv, {
      write: (l) => out.push(l), writeErr: (l) => err.push(l),
      createAws: () => { throw new Error('--help and bad flags must not create AWS clients'); },
    });
    return { ...res, out: out.join('\n'), err: err.join('\n') };
  };

  test.each(Object.keys(VERBS))('%s', async (name) => {
    const verb = await VERBS[name].load();
    expect(verb.HELP.split('\n')[0]).toEqual(name === 'rollout' ? `Usage: ${ENTRY} [rollout] [flags]` : expect.stringMatching(new RegExp(`^Usage: ${ENTRY} ${name}( |$)`)));
    expect(verb.HELP).toMatch(/\n {2}--help, -h +this text\n/);
    expect(verb.HELP).toMatch(/\nExit codes\n {2}\S/);
    const help = await cli([name, '--help']);
    expect({ exit: help.exitCode, out: `${help.out}\n`, err: help.err, calls: help.awsCalls }).toEqual({ exit: 0, out: verb.HELP, err: '', calls: 0 });
    const bad = await cli([name, '--no-such-flag']);
    expect({ exit: bad.exitCode, calls: bad.awsCalls }).toEqual({ exit: 2, calls: 0 });
    expect(bad.err).toMatch(/unknown flag --no-such-flag \(see --help\)/);
  });

  test('the runner\'s help lists every verb with its summary; flags alone are the rollout', async () => {
    const rollout = await VERBS.rollout.load();
    for (const [name, v] of Object.entries(VERBS)) expect(rollout.HELP).toMatch(new RegExp(`\\n {2}${name} +${v.summary.replace(/[()]/g, '\\$&')}\\n`));
    expect((await cli(['--help'])).out).toBe(rollout.HELP.replace(/\n$/, ''));
  });

  test('a misspelt verb: exit 2, the nearest verb named, no AWS call', async () => {
    const r = await cli(['statsu']);
    expect({ exit: r.exitCode, calls: r.awsCalls }).toEqual({ exit: 2, calls: 0 });
    expect(r.err).toMatch(/^error: unknown command "statsu" \(did you mean "status"\?\) \(commands: rollout, status, /);
  });
});

describe('scripts: --help prints the help and starts nothing; a bad flag exits 2 naming it', () => {
  const run = (script, args) => spawnSync(process.execPath, [path.join(ROOT, 'scripts', script), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
  test.each(['bench.mjs', 'local.mjs'])('%s', (script) => {
    const help = run(script, ['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run (bench|local) \[-- flags\]\n/);
    expect(help.stdout).not.toMatch(/^\[(bench|local)\]/m); // no progress line: nothing was started
    const bad = run(script, ['--fast']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('error: unknown flag --fast (see --help)\n');
  });
});
