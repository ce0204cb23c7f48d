// What `weft` loads before it knows which command runs: the modules that
// cli/main.ts reaches through static imports (type-only imports and
// dynamic import() excluded), which scripts/build-cli.mjs bundles into
// dist/cli/main.js. Each command loads its heavy parts (schemas, YAML, the
// agent, the controller, the Node built-ins only it uses) when it runs;
// none of them may creep back onto the path every command pays for. The
// figures are in `npm run bench` (stage cli); this checks the structure
// that makes them.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');

/** Packages every command would pay for if they were reached statically. */
const HEAVY = ['@sinclair/typebox', 'ajv', 'ajv-formats', 'yaml', 'express', 'better-sqlite3', 'pino', 'inversify', 'reflect-metadata', 'ws', 'netlink', 'ip-cidr', 'ipaddr.js', 'koffi'];

/**
 * Node built-ins that take milliseconds to load and that only some commands
 * use (node:http only once a request is sent). commander requires
 * node:child_process itself; the start path adds nothing of these.
 */
const LATE_BUILTINS = ['node:http', 'node:https', 'node:net', 'node:child_process', 'node:crypto', 'node:fs/promises', 'node:util'];

/** Static value imports and re-exports of a TypeScript source: [specifier]. */
function staticImports(source: string): string[] {
  const out: string[] = [];
  const re = /^(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*'([^']+)'|^import\s+'([^']+)'/gm;
  for (const m of source.matchAll(re)) {
    if (m[5] !== undefined) {
      out.push(m[5]);
      continue;
    }
    if (m[2] !== undefined) continue; // import type / export type
    const names = m[3] ?? '';
    // `import { type A, type B } from` is type-only as well
    const braces = /^\{([^}]*)\}$/.exec(names.trim());
    if (braces && braces[1]?.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
    out.push(m[4] as string);
  }
  return out;
}

/** Every module and package cli/main.ts reaches statically. */
function startPath(): { modules: Set<string>; packages: Set<string>; builtins: Set<string> } {
  const modules = new Set<string>();
  const packages = new Set<string>();
  const builtins = new Set<string>();
  const todo = [join(ROOT, 'cli/main.ts')];
  while (todo.length > 0) {
    const file = todo.pop() as string;
    if (modules.has(file)) continue;
    modules.add(file);
    for (const spec of staticImports(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('node:')) {
        builtins.add(spec);
        continue;
      }
      if (spec.startsWith('.')) todo.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string));
    }
  }
  return { modules, packages, builtins };
}

describe('the start path of the weft command', () => {
  const { modules, packages, builtins } = startPath();

  it('reaches no heavy package statically', () => {
    expect([...packages].filter((p) => HEAVY.includes(p))).toEqual([]);
    expect(packages).toContain('commander');
  });

  it('reaches no schema module, no agent and no controller code but its config', () => {
    const rel = [...modules].map((m) => m.slice(ROOT.length + 1));
    expect(rel).toContain('cli/commands/get.ts');
    expect(rel.filter((m) => /^(agents|vnf)\//.test(m) || (m.startsWith('controller/') && m !== 'controller/config.ts'))).toEqual([]);
    expect(rel.filter((m) => ['model/kinds.ts', 'model/meta.ts', 'model/validate.ts', 'model/schema-export.ts', 'model/resource-text.ts', 'model/ip.ts'].includes(m))).toEqual([]);
  });

  it('imports no Node built-in that only some commands use', () => {
    expect([...builtins].filter((b) => LATE_BUILTINS.includes(b))).toEqual([]);
  });

  it('has no module but the entry that resolves files next to itself (the bundle moves them to dist/cli/)', () => {
    const rel = [...modules].filter((m) => readFileSync(m, 'utf8').includes('import.meta')).map((m) => m.slice(ROOT.length + 1));
    expect(rel).toEqual(['cli/main.ts']);
  });

  it('sees through type-only imports and follows re-exports', () => {
    expect(staticImports("import type { A } from './a.js';\nimport { type B } from './b.js';\nexport type { C } from './c.js';")).toEqual([]);
    expect(staticImports("import { x, type Y } from './x.js';\nexport { z } from './z.js';\nimport 'side';")).toEqual(['./x.js', './z.js', 'side']);
  });
});
