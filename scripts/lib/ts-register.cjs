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
