// The GitHub environments this repository's workflows use (`jobs.<id>.environment`, as a name or as
// `{ name: ... }`): the deploy role trusts `repo:OWNER/REPO:environment:<ci.environment>`, so a name no job uses
// would make a role nobody can assume. Read with a line scan (no YAML dependency at synth time).
import * as fs from 'fs';
import * as path from 'path';

/** Environment names of the workflows in `dir` (empty when the directory does not exist). */
export function workflowEnvironments(dir: string): string[] {
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  } catch {
    return [];
  }
  const out = new Set<string>();
  for (const f of files) {
    const lines = fs.readFileSync(path.join(dir, f), 'utf8').split('\n');
    lines.forEach((line, i) => {
      const m = /^(\s+)environment:\s*(.*?)\s*(#.*)?$/.exec(line);
      if (!m) return;
      const unquote = (v: string) => v.replace(/^(['"])(.*)\1$/, '$2');
      if (m[2] && !m[2].startsWith('{')) out.add(unquote(m[2]));
      else if (m[2].startsWith('{')) {
        const n = /name:\s*([^,}]+)/.exec(m[2]);
        if (n) out.add(unquote(n[1].trim()));
      } else {
        for (const next of lines.slice(i + 1)) {
          const ind = /^(\s*)/.exec(next)![1].length;
          if (next.trim() === '' || next.trim().startsWith('#')) continue;
          if (ind <= m[1].length) break;
          const n = /^\s+name:\s*(\S+)/.exec(next);
          if (n) out.add(unquote(n[1]));
        }
      }
    });
  }
  return [...out].filter((e) => !e.includes('${{'));
}
