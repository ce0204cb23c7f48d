#!/usr/bin/env node
// Entry point of the `weft` executable (bin in package.json).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './program.js';

/** The package version, found by walking up from dist/cli/ to weft's package.json. */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'weft' && pkg.version) return pkg.version;
    } catch {
      // not here: look one level up
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}

const code = await runCli(process.argv.slice(2), packageVersion());
// Exit explicitly once output is flushed: a long-running command's
// dependencies may leave handles open after a clean stop.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
