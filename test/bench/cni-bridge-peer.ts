// The peer: the CNI reference bridge plugin with host-local IPAM (Debian
// containernetworking-plugins), exec'd the way a runtime does it, once per
// container, inside the bench's private host namespace (so its bridge is
// never created in the machine's root namespace).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnInNetns } from '../../sys/netns.js';

export const CNI_BIN_DIR = '/usr/lib/cni';

export function cniPeerAvailable(): boolean {
  return existsSync(join(CNI_BIN_DIR, 'bridge')) && existsSync(join(CNI_BIN_DIR, 'host-local'));
}

export interface CniPeer {
  add(containerId: string, netnsPath: string): Promise<number>;
  del(containerId: string, netnsPath: string): Promise<number>;
  cleanup(): void;
}

/** One exec of a CNI plugin inside hostNsPath; resolves to the wall time the caller saw (ms). */
export function execCniPlugin(hostNsPath: string, executable: string, env: Record<string, string>, stdin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawnInNetns(hostNsPath, executable, [], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', CNI_PATH: CNI_BIN_DIR, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${executable} ${env.CNI_COMMAND} exited ${code}: ${out.slice(0, 500)}`));
    });
    child.stdin?.end(stdin);
  });
}

/** How a plugin is exec'd: (namespace, executable, env, stdin) -> wall time in ms. */
export type CniExec = (hostNsPath: string, executable: string, env: Record<string, string>, stdin: string) => Promise<number>;

/** The peer's network configuration: the bridge plugin with host-local IPAM keeping its leases in a directory of its own. */
export function bridgePeerConfig(bridge: string, subnet: string): { conf: string; cleanup(): void } {
  const dataDir = mkdtempSync(join(tmpdir(), 'wtbench-hostlocal-'));
  const conf = JSON.stringify({
    cniVersion: '1.0.0',
    name: 'wtbench',
    type: 'bridge',
    bridge,
    isGateway: true,
    ipMasq: false,
    ipam: { type: 'host-local', subnet, dataDir, routes: [{ dst: '0.0.0.0/0' }] },
  });
  return { conf, cleanup: () => rmSync(dataDir, { recursive: true, force: true }) };
}

export function makeCniPeer(hostNsPath: string, bridge: string, subnet: string, exec: CniExec = execCniPlugin): CniPeer {
  const { conf, cleanup } = bridgePeerConfig(bridge, subnet);
  const env = (command: string, containerId: string, netns: string) => ({ CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: netns, CNI_IFNAME: 'eth0' });
  return {
    add: (id, ns) => exec(hostNsPath, join(CNI_BIN_DIR, 'bridge'), env('ADD', id, ns), conf),
    del: (id, ns) => exec(hostNsPath, join(CNI_BIN_DIR, 'bridge'), env('DEL', id, ns), conf),
    cleanup,
  };
}
