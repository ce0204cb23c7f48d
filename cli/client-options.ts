// --server / --token-file, accepted before the subcommand (weft --server X
// get ...) and after it (weft get ... --server X); the later one wins.
import type { Command } from 'commander';
import { ApiClient } from './api-client.js';
import { resolveClientConfig, type ClientFlags } from './client-config.js';
import { parseServerUrl } from './flags.js';

export function addClientOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'controller URL (env WEFT_SERVER; default http://127.0.0.1:7400)', parseServerUrl)
    .option('--token-file <file>', 'admin token file (env WEFT_TOKEN holds the token itself; default ./.weft/admin.token, then /var/lib/weft/admin.token)');
}

function clientFlags(cmd: Command): ClientFlags {
  const flags: ClientFlags = {};
  for (const c of [...ancestors(cmd)].reverse()) {
    const o = c.opts<ClientFlags>();
    if (o.server !== undefined) flags.server = o.server;
    if (o.tokenFile !== undefined) flags.tokenFile = o.tokenFile;
  }
  return flags;
}

function* ancestors(cmd: Command): Generator<Command> {
  for (let c: Command | null = cmd; c; c = c.parent) yield c;
}

export function apiClientFor(cmd: Command): ApiClient {
  return new ApiClient(resolveClientConfig(clientFlags(cmd)));
}
