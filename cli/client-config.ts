// Where the CLI finds the controller and its admin token: flags, then
// environment, then the files `weft up` / `weft controller` write.
import { accessSync, constants as fsc, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { CliError, EXIT_USAGE } from './cli-error.js';
import { parseServerUrl } from './flags.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:7400';
export const SYSTEM_DATA_DIR = '/var/lib/weft';
export const LOCAL_DATA_DIR = '.weft';
export const ADMIN_TOKEN_FILE = 'admin.token';
export const AGENT_TOKEN_FILE = 'agent.token';

export interface ClientFlags {
  server?: string;
  tokenFile?: string;
}

export interface ClientConfig {
  server: string;
  token: string | undefined;
  /** Where the token came from, for error messages. */
  tokenSource: string;
}

type Env = Record<string, string | undefined>;

export function defaultTokenFiles(cwd: string): string[] {
  return [join(cwd, LOCAL_DATA_DIR, ADMIN_TOKEN_FILE), join(SYSTEM_DATA_DIR, ADMIN_TOKEN_FILE)];
}

export function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new CliError(`cannot read token file ${path} (${code}): pass the file the controller wrote, e.g. DATA/admin.token`);
  }
  const token = text.trim();
  if (token === '') throw new CliError(`token file ${path} is empty`);
  return token;
}

function readable(path: string): boolean {
  try {
    accessSync(path, fsc.R_OK);
    return true;
  } catch {
    return false;
  }
}

export function resolveClientConfig(flags: ClientFlags, env: Env = process.env, cwd = process.cwd()): ClientConfig {
  let server = DEFAULT_SERVER;
  const rawServer = flags.server ?? env.WEFT_SERVER;
  if (rawServer !== undefined && rawServer !== '') {
    try {
      server = parseServerUrl(rawServer);
    } catch (e) {
      const from = flags.server !== undefined ? '--server' : 'WEFT_SERVER';
      throw new CliError(`${from} ${JSON.stringify(rawServer)}: ${e instanceof InvalidArgumentError ? e.message : String(e)}`, EXIT_USAGE);
    }
  }
  if (flags.tokenFile !== undefined) {
    const path = resolve(cwd, flags.tokenFile);
    return { server, token: readTokenFile(path), tokenSource: path };
  }
  const fromEnv = env.WEFT_TOKEN?.trim();
  if (fromEnv) return { server, token: fromEnv, tokenSource: 'WEFT_TOKEN' };
  for (const path of defaultTokenFiles(cwd)) {
    if (readable(path)) return { server, token: readTokenFile(path), tokenSource: path };
  }
  return { server, token: undefined, tokenSource: 'none' };
}
