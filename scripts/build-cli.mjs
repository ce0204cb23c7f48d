// Bundles what every `weft` command loads before it knows which one runs
// (dist/cli/main.js and everything it reaches through static imports,
// commander included) into one file, written over dist/cli/main.js. Node
// then reads, resolves and links one module at start instead of ~50.
//
// `weft run`'s runtime (runtime/weft-run.js), which it imports when it runs,
// is bundled too, as a chunk of its own under dist/cli/bundle/ with the
// modules it shares with the start path in another: its time to the
// workload's exec is a goal. Everything else a command loads when it runs
// (`await import(...)`: the controller, the agent, the lab, schemas, YAML)
// is not bundled: those imports are rewritten to the same modules in
// dist/, which keep their place and so everything that resolves files next
// to itself (the link-reaper worker, the console directory, the CNI shim).
// A module can thus exist twice in one process, bundled and in dist/;
// errors are told apart by isWeftError / isCliError, never instanceof, for
// that reason.
//
// Part of `npm run build`, after tsc.
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const entry = join(dist, 'cli', 'main.js');
const chunks = join(dist, 'cli', 'bundle');
/** Loaded on demand, yet bundled (see above). */
const BUNDLED_ON_DEMAND = [join(dist, 'runtime', 'weft-run.js')];
const MARK = '// weft CLI bundle (scripts/build-cli.mjs)';

if (readFileSync(entry, 'utf8').includes(MARK)) {
  console.error('dist/cli/main.js is a bundle already: run tsc -p tsconfig.build.json first (npm run build does)');
  process.exit(1);
}

/** import('./x.js') stays an import of dist/x.js, relative to the bundle; import('pkg') stays as is. */
const loadedOnDemand = {
  name: 'loaded-on-demand',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      if (!args.path.startsWith('.')) return { path: args.path, external: true };
      const abs = resolve(args.resolveDir, args.path);
      if (BUNDLED_ON_DEMAND.includes(abs)) return undefined;
      const target = relative(dirname(entry), abs);
      return { path: target.startsWith('.') ? target : `./${target}`, external: true };
    });
  },
};

const result = await build({
  entryPoints: [entry],
  outdir: dirname(entry),
  splitting: true,
  chunkNames: 'bundle/[name]-[hash]',
  bundle: true,
  write: false,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Native modules never go into a bundle (none is on the start path today).
  external: ['better-sqlite3', 'koffi', 'netlink'],
  // commander is CommonJS and requires Node's built-ins; an ESM bundle has no require of its own.
  banner: { js: `${MARK}\nimport { createRequire as weftCreateRequire } from 'node:module';\nconst require = weftCreateRequire(import.meta.url);` },
  plugins: [loadedOnDemand],
  metafile: true,
  logLevel: 'warning',
});

// import.meta.url means "next to this module": in the bundle that is
// dist/cli/, wherever the module came from. Only the entry (which is there)
// may use it, and createRequire(import.meta.url), which resolves packages
// the same from anywhere in weft.
const moved = Object.keys(result.metafile.inputs).filter((input) => {
  const abs = resolve(input);
  return abs !== entry && abs.startsWith(dist) && readFileSync(abs, 'utf8').replaceAll('createRequire(import.meta.url)', '').includes('import.meta');
});
if (moved.length > 0) {
  console.error(`these modules use import.meta and would resolve files from dist/cli/ once bundled; load them with await import(): ${moved.join(', ')}`);
  process.exit(1);
}

// Start clean: chunks of an earlier build would stay behind.
rmSync(chunks, { recursive: true, force: true });
mkdirSync(chunks, { recursive: true });
for (const out of result.outputFiles) writeFileSync(out.path, out.contents);
chmodSync(entry, 0o755);
const modules = Object.keys(result.metafile.inputs).length;
const kib = (path) => (result.outputFiles.find((o) => o.path === path).contents.length / 1024).toFixed(0);
console.log(`cli: dist/cli/main.js ${kib(entry)} KiB + ${result.outputFiles.length - 1} chunks in dist/cli/bundle/ (${modules} modules bundled)`);
