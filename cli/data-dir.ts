// Where `weft up` and `weft controller` keep their state and write the
// tokens, and where the other commands look for the admin token.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { ADMIN_TOKEN_FILE, AGENT_TOKEN_FILE, LOCAL_DATA_DIR, SYSTEM_DATA_DIR } from './client-config.js';

/** ./.weft inside a weft checkout (or when it exists already), else /var/lib/weft. */
export function defaultDataDir(cwd = process.cwd()): string {
  const local = join(cwd, LOCAL_DATA_DIR);
  if (existsSync(local)) return local;
  try {
    const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as { name?: unknown };
    if (pkg.name === 'weft') return local;
  } catch {
    // not a checkout: fall through to the system location
  }
  return SYSTEM_DATA_DIR;
}

export function ensureDataDir(dir: string): string {
  const abs = resolve(dir);
  mkdirSync(abs, { recursive: true, mode: 0o700 });
  return abs;
}

/** Write a secret readable by root only; leave the file alone when it already holds the value. */
function writeSecret(path: string, value: string): void {
  try {
    if (readFileSync(path, 'utf8').trim() === value) return;
  } catch {
    // absent: write it
  }
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  chmodSync(path, 0o600); // mode applies on create only
}

export interface TokenFiles {
  admin: string;
  agent: string;
}

export function writeTokenFiles(dataDir: string, tokens: { adminToken: string; agentToken: string }): TokenFiles {
  const files = { admin: join(dataDir, ADMIN_TOKEN_FILE), agent: join(dataDir, AGENT_TOKEN_FILE) };
  writeSecret(files.admin, tokens.adminToken);
  writeSecret(files.agent, tokens.agentToken);
  return files;
}

/** A URL the local process can connect to, for a controller listening on a wildcard address. */
export function localUrl(url: string): string {
  const u = new URL(url);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  if (u.hostname === '[::]') u.hostname = '[::1]';
  return u.toString().replace(/\/+$/, '');
}

/** How the user invoked us, for "what next" hints: `weft` or `node dist/cli/main.js`. */
export function invocation(argv1 = process.argv[1] ?? 'weft', cwd = process.cwd()): string {
  if (basename(argv1) === 'weft') return 'weft';
  const rel = relative(cwd, argv1);
  return `node ${rel.startsWith('..') ? argv1 : rel}`;
}
