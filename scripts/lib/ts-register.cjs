// Minimal TypeScript require hook: `node -r ./scripts/lib/ts-register.cjs main.ts` runs the CDKTF app from
// source (transpile only, no type check; `npm run build` type-checks). Uses the project's pinned `typescript`.
'use strict';
const fs = require('node:fs');
const ts = require('typescript');

const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  resolveJsonModule: true,
  sourceMap: false,
  inlineSourceMap: true,
};

/** @param {NodeJS.Module} module @param {string} filename */
require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
  // Module#_compile: node's own loader step, not in @types/node
  /** @type {NodeJS.Module & { _compile(code: string, filename: string): void }} */ (module)._compile(outputText, filename);
};

// cdktf 0.21.0, archived upstream and its last release, calls util.isArray, deprecated on Node 22+ (DEP0044): on
// Node 24 every synth printed that warning for code that will never change (docs/toolchain.md). That one code
// is dropped here, for the app only; every other warning still shows.
const emitWarning = process.emitWarning;
/** @type {typeof process.emitWarning} */
const withoutCdktfDeprecation = function (warning, ...rest) {
  const [typeOrOptions, code] = rest;
  const c = typeof typeOrOptions === 'object' && typeOrOptions !== null ? typeOrOptions.code : code;
  if (c === 'DEP0044') return;
  return /** @type {any} */ (emitWarning).call(process, warning, ...rest);
};
process.emitWarning = withoutCdktfDeprecation;
