// The conflist that puts a runtime network on a weft network: weft's plugin
// first, then the reference plugins it can chain. Pure, so the CLI can
// describe its flags without loading the installer (runtime/cni/install.ts).
import { DEFAULT_AGENT_SOCKET } from '../agent-rpc.js';
import type { CniVersion } from './cni-types.js';

/** The conflist `type`, hence the executable's file name in the bin dir. */
export const CNI_PLUGIN_TYPE = 'weft';
/**
 * 1.0.0 by default: what the runtimes and reference plugins in Debian 12
 * (libcni 1.1, plugins 1.1.1) speak. 1.1.0 adds STATUS and GC.
 */
export const DEFAULT_CONFLIST_VERSION: CniVersion = '1.0.0';

/** Reference plugins weft's conflist can chain after itself, with the capabilities they need. */
export const CHAINABLE_PLUGINS = {
  portmap: { type: 'portmap', capabilities: { portMappings: true }, snat: true },
  bandwidth: { type: 'bandwidth', capabilities: { bandwidth: true } },
  tuning: { type: 'tuning' },
} as const;
export type ChainablePlugin = keyof typeof CHAINABLE_PLUGINS;

export interface ConflistOptions {
  network: string;
  cniVersion?: CniVersion;
  /** Agent socket; left out of the file when it is the default. */
  socket?: string;
  chain?: ChainablePlugin[];
}

export function renderConflist(o: ConflistOptions): Record<string, unknown> {
  const weft: Record<string, unknown> = { type: CNI_PLUGIN_TYPE, network: o.network, capabilities: { ips: true, mac: true } };
  if (o.socket !== undefined && o.socket !== DEFAULT_AGENT_SOCKET) weft.agentSocket = o.socket;
  return {
    cniVersion: o.cniVersion ?? DEFAULT_CONFLIST_VERSION,
    name: o.network,
    plugins: [weft, ...(o.chain ?? []).map((p) => CHAINABLE_PLUGINS[p])],
  };
}
