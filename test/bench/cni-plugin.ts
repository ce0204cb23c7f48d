// Benchmark: the installed weft CNI plugin exec'd end to end as a runtime
// does it (a vfork-style spawn of BIN_DIR/weft, as Go runtimes do, with
// CNI_* variables and the config on stdin, inside the host's namespace),
// next to the reference bridge plugin with host-local IPAM exec'd the same
// way. Both take turns container by container, so they see the same number
// of namespaces and bridge ports. The caller's view: spawn to exit.
import { join } from 'node:path';
import { installShim } from '../../runtime/cni/install.js';
import { createNetns, deleteNetns } from '../../sys/netns.js';
import { SingleHostLab, waitFor } from '../support/test-lab.js';
import { CNI_BIN_DIR, cniPeerAvailable, makeCniPeer, type CniExec } from './cni-bridge-peer.js';
import { printVersus, summarize, type Summary } from './stats.js';
import { vforkExec } from './vfork-exec.js';

/** One exec; a failed call ends the benchmark with the plugin's own words. */
const exec: CniExec = async (ns, executable, env, stdin) => {
  const r = vforkExec(ns, executable, { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', CNI_PATH: CNI_BIN_DIR, ...env }, stdin);
  if (r.exitCode !== 0) throw new Error(`${executable} ${env.CNI_COMMAND} exited ${r.exitCode}: ${r.output.slice(0, 500)}`);
  return r.ms;
};

export interface CniRound {
  weftAdd: Summary;
  weftDel: Summary;
  peerAdd?: Summary;
  peerDel?: Summary;
}

/**
 * Two orders, both printed. Turns: weft and the peer alternate container by
 * container (same kernel state, same moment). Phases: each plugin's ADDs,
 * then each one's DELs, in blocks — each then runs under its own kernel
 * aftermath only (the peer's ADD leaves asynchronous kernel work behind,
 * e.g. the RCU grace period of moving its veth, that lands on the next call).
 */
export interface CniBenchResult {
  turns: CniRound;
  phases: CniRound;
}

interface Plugin {
  add(id: string, ns: string): Promise<number>;
  del(id: string, ns: string): Promise<number>;
}

async function round(weft: Plugin, peer: Plugin | undefined, weftNs: string[], peerNs: string[], tag: string, phased: boolean): Promise<CniRound> {
  const add: number[] = [];
  const peerAdd: number[] = [];
  const del: number[] = [];
  const peerDel: number[] = [];
  const n = weftNs.length;
  if (phased) {
    for (let i = 0; i < n; i++) add.push(await weft.add(`${tag}c${i}`, weftNs[i] as string));
    if (peer) for (let i = 0; i < n; i++) peerAdd.push(await peer.add(`${tag}q${i}`, peerNs[i] as string));
    for (let i = 0; i < n; i++) del.push(await weft.del(`${tag}c${i}`, weftNs[i] as string));
    if (peer) for (let i = 0; i < n; i++) peerDel.push(await peer.del(`${tag}q${i}`, peerNs[i] as string));
  } else {
    for (let i = 0; i < n; i++) {
      add.push(await weft.add(`${tag}c${i}`, weftNs[i] as string));
      if (peer) peerAdd.push(await peer.add(`${tag}q${i}`, peerNs[i] as string));
    }
    for (let i = 0; i < n; i++) {
      del.push(await weft.del(`${tag}c${i}`, weftNs[i] as string));
      if (peer) peerDel.push(await peer.del(`${tag}q${i}`, peerNs[i] as string));
    }
  }
  const r: CniRound = { weftAdd: summarize(add), weftDel: summarize(del) };
  if (peer) {
    r.peerAdd = summarize(peerAdd);
    r.peerDel = summarize(peerDel);
  }
  return r;
}

export async function benchCniPlugin(count = 200): Promise<CniBenchResult> {
  const lab = new SingleHostLab('p');
  const made = new Set<string>();
  const mkns = (name: string) => {
    const path = createNetns(name);
    made.add(name);
    return path;
  };
  try {
    await lab.start();
    await lab.createNetwork('cnibench', '100.65.8.0/21');
    const hostNs = `/run/netns/${lab.hostNs}`;
    const { path: plugin } = await installShim(join(lab.dir, 'cni-bin'));
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'cnibench', type: 'weft', agentSocket: lab.socket });
    const env = (command: string, containerId: string, netns: string) => ({ CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: netns, CNI_IFNAME: 'eth0' });
    const weft: Plugin = {
      add: (id, ns) => exec(hostNs, plugin, env('ADD', id, ns), conf),
      del: (id, ns) => exec(hostNs, plugin, env('DEL', id, ns), conf),
    };
    const peer = cniPeerAvailable() ? makeCniPeer(hostNs, `${lab.prefix}br`, '100.64.0.0/16', exec) : undefined;

    // warm-up: bridge creation and first-use costs are not what we measure
    const warm = mkns(`${lab.prefix}warm`);
    await weft.add('warm', warm);
    await weft.del('warm', warm);
    if (peer) {
      await peer.add('warm', warm);
      await peer.del('warm', warm);
    }

    // the same namespaces serve both rounds: the count stays 2 x count + 1 throughout
    const weftNs = Array.from({ length: count }, (_, i) => mkns(`${lab.prefix}w${i}`));
    const peerNs = peer ? Array.from({ length: count }, (_, i) => mkns(`${lab.prefix}q${i}`)) : [];
    const vethsGone = () => waitFor('veths gone', async () => (await lab.hostLinks()).filter((l) => l.ifname.startsWith('wv-')).length === 0, 60_000, 100);
    const turns = await round(weft, peer, weftNs, peerNs, 't', false);
    await vethsGone();
    const phases = await round(weft, peer, weftNs, peerNs, 'p', true);
    await vethsGone();
    peer?.cleanup();
    return { turns, phases };
  } finally {
    for (const name of made) {
      try {
        deleteNetns(name);
      } catch {
        // the lab sweep below removes what is left
      }
    }
    await lab.stop();
  }
}

function printRound(title: string, r: CniRound): void {
  console.log(title);
  printVersus('command', 'cni bridge', [
    { label: 'ADD', weft: r.weftAdd, peer: r.peerAdd },
    { label: 'DEL', weft: r.weftDel, peer: r.peerDel },
  ]);
}

export function printCniPlugin(r: CniBenchResult, count: number): void {
  console.log(`\n# CNI plugin exec end to end, ${count} containers each, sequential: weft (installed shim -> agent) and the reference bridge + host-local,`);
  console.log('# both exec\'d with a vfork-style spawn as Go runtimes do, the caller\'s view (spawn to exit)');
  printRound('taking turns container by container:', r.turns);
  printRound('in separate phases (all of one plugin\'s ADDs, then the other\'s; the same for DEL):', r.phases);
  console.log('targets: ADD p50 >= 4x faster than the reference; DEL >= 8x');
}
