// The two bearer tokens: admin (REST) and agent (WebSocket). Written once to
// DIR/admin.token and DIR/agent.token (32 random bytes, hex, mode 0600) and
// reused on every later start, so agents and the CLI keep working across
// controller restarts.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AuthTokens {
  admin: string;
  agent: string;
}
/** inversify token for AuthTokens. */
export const AuthTokens = Symbol('AuthTokens');

const TOKEN_PATTERN = /^[0-9a-f]{64}$/;

export function ensureDataDir(dir: string): void {
  // mode applies only to directories this call creates; an existing directory keeps its owner's choice.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

export function ensureTokens(dir: string): AuthTokens {
  ensureDataDir(dir);
  return { admin: ensureToken(join(dir, 'admin.token')), agent: ensureToken(join(dir, 'agent.token')) };
}

function ensureToken(path: string): string {
  try {
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  // Someone may have copied the file in with looser permissions: a token others can read is no secret.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const token = readFileSync(path, 'utf8').trim();
  if (!TOKEN_PATTERN.test(token)) {
    throw new Error(`${path} does not hold a weft token (64 hex characters); remove it to have a new one generated`);
  }
  return token;
}
