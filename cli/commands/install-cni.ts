// weft install-cni --bin-dir DIR [--conf-dir DIR --network NET]: see
// runtime/cni/install.ts.
import { isAbsolute, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_AGENT_SOCKET } from '../../model/agent-rpc.js';
import { CHAINABLE_PLUGINS, DEFAULT_CONFLIST_VERSION, type ChainablePlugin, type ConflistOptions } from '../../model/cni/cni-conflist.js';
import { CNI_VERSIONS, isSupportedCniVersion, type CniVersion } from '../../model/cni/cni-types.js';
import { usageError } from '../cli-error.js';
import { parseDnsLabel } from '../flags.js';

interface InstallCniFlags {
  binDir: string;
  confDir?: string;
  network?: string;
  socket: string;
  cniVersion: CniVersion;
  chain: ChainablePlugin[];
  shim?: string;
}

export function parseCniVersion(value: string): CniVersion {
  if (!isSupportedCniVersion(value)) throw new InvalidArgumentError(`weft speaks CNI ${CNI_VERSIONS.join(', ')}; e.g. --cni-version ${DEFAULT_CONFLIST_VERSION}`);
  return value;
}

export function parseChain(value: string): ChainablePlugin[] {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const known = Object.keys(CHAINABLE_PLUGINS);
  const bad = names.filter((n) => !known.includes(n));
  if (bad.length > 0) throw new InvalidArgumentError(`unknown plugin ${bad.join(', ')}: weft can chain ${known.join(', ')} (comma-separated, e.g. --chain portmap,bandwidth)`);
  if (new Set(names).size !== names.length) throw new InvalidArgumentError('each plugin may appear once in --chain');
  return names as ChainablePlugin[];
}

function parseAbsolutePath(what: string) {
  return (value: string): string => {
    if (value === '' || value.includes('\0')) throw new InvalidArgumentError(`${what} needs a path`);
    if (!isAbsolute(value)) throw new InvalidArgumentError(`${what} must be an absolute path (the runtime reads it from anywhere), e.g. ${DEFAULT_AGENT_SOCKET}`);
    return value;
  };
}

export function registerInstallCni(program: Command): void {
  program
    .command('install-cni')
    .description('install the weft CNI plugin for container runtimes, and optionally a conflist for one weft network')
    .requiredOption('--bin-dir <dir>', 'CNI plugin directory to install the `weft` executable into (e.g. /opt/cni/bin)')
    .option('--conf-dir <dir>', 'CNI config directory to write weft-NET.conflist into (e.g. /etc/cni/net.d); needs --network')
    .option('--network <net>', 'weft network the conflist attaches to (also the runtime network name); needs --conf-dir', parseDnsLabel('--network'))
    .option('--socket <path>', 'agent socket the plugin talks to', parseAbsolutePath('--socket'), DEFAULT_AGENT_SOCKET)
    .option('--cni-version <v>', `CNI spec version of the conflist (${CNI_VERSIONS.join(', ')})`, parseCniVersion, DEFAULT_CONFLIST_VERSION)
    .option('--chain <plugins>', `reference plugins to chain after weft, comma-separated (${Object.keys(CHAINABLE_PLUGINS).join(', ')})`, parseChain, [])
    .option('--shim <path>', 'the built shim to install (default: dist/bin/weft-cni of this install)')
    .action(async (flags: InstallCniFlags) => {
      if ((flags.confDir === undefined) !== (flags.network === undefined)) {
        throw usageError('--conf-dir and --network go together: the conflist needs a directory and the weft network it attaches to');
      }
      // The installer hashes and copies files: loaded when the command runs, not at start.
      const { installConflist, installShim } = await import('../../runtime/cni/install.js');
      const shim = await installShim(resolve(flags.binDir), flags.shim === undefined ? undefined : resolve(flags.shim));
      process.stdout.write(`${shim.changed ? 'installed' : 'unchanged'} ${shim.path}\n`);
      if (flags.confDir === undefined || flags.network === undefined) return;
      const opts: ConflistOptions = { network: flags.network, cniVersion: flags.cniVersion, socket: flags.socket, chain: flags.chain };
      const conf = await installConflist(resolve(flags.confDir), opts);
      const plugins = ['weft', ...flags.chain].join(', ');
      process.stdout.write(`${conf.changed ? 'wrote' : 'unchanged'} ${conf.path} (network ${flags.network}, CNI ${flags.cniVersion}, plugins: ${plugins})\n`);
    });
}
