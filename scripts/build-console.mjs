// Builds the web console: controller/console/main.ts and everything it
// imports (model/, cytoscape, CodeMirror, yaml, ajv) into one minified
// dist/console/app.js with its source map, plus index.html, app.css and
// the icon. Everything the page needs is in that directory: the console
// makes no request outside its own origin (machines may be offline).
// Part of `npm run build`; the controller serves the result at /.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'controller', 'console');
const out = join(root, 'dist', 'console');

// Start clean: a file left over from an earlier build would still be served.
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: [join(src, 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'iife',
  platform: 'browser',
  // Browsers of the last few years; the code uses nothing newer.
  target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
  tsconfig: join(src, 'tsconfig.json'),
  legalComments: 'eof',
  logLevel: 'warning',
  metafile: true,
});

await build({
  entryPoints: [join(src, 'app.css')],
  outfile: join(out, 'app.css'),
  bundle: true,
  minify: true,
  logLevel: 'warning',
});

for (const file of ['index.html', 'favicon.svg']) copyFileSync(join(src, file), join(out, file));

const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs).find((k) => k.endsWith('app.js'))].bytes;
console.log(`console: dist/console/app.js ${(bytes / 1024).toFixed(0)} KiB (+ index.html, app.css, favicon.svg)`);
