// Benchmark: the installed weft CNI plugin exec'd end to end as a runtime
// does it, next to the reference bridge plugin with host-local IPAM, from a
// shell loop that reads the clock around each exec (cni-loop.sh): nothing of
// Node is in the measured path. Both take turns container by container, so
// they see the same number of namespaces and bridge ports; the floors
// (`/bin/true`, and the shim's VERSION, which execs it without calling the
// agent) are measured in the same loop. Run at several container counts.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installShim } from '../../runtime/cni/install.js';
import { createNetns, deleteNetns } from '../../sys/netns.js';
import { REPO, SingleHostLab, waitFor } from '../support/test-lab.js';
import { CNI_BIN_DIR, bridgePeerConfig, cniPeerAvailable } from './cni-bridge-peer.js';
import { fmtMs, printVersus, summarize, type Summary } from './stats.js';

const LOOP_SCRIPT = join(REPO, 'test/bench/cni-loop.sh');

export interface CniRound {
  count: number;
  weftAdd: Summary;
  weftDel: Summary;
  peerAdd?: Summary;
  peerDel?: Summary;
  /** exec of /bin/true from the same loop */
  floorTrue: Summary;
  /** exec of the weft shim's VERSION (no agent call) */
  floorVersion: Summary;
}

/** Run the loop inside the host namespace; samples (ms) by label. */
function runLoop(hostNs: string, args: string[]): Promise<Map<string, number[]>> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=/run/netns/${hostNs}`, 'bash', LOOP_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`cni-loop.sh exited ${code}: ${err.slice(0, 2000)}`));
        return;
      }
      const samples = new Map<string, number[]>();
      for (const line of out.split('\n')) {
        const [label, , micros] = line.split(' ');
        if (!label || micros === undefined) continue;
        let list = samples.get(label);
        if (!list) samples.set(label, (list = []));
        list.push(Number(micros) / 1000);
      }
      resolve(samples);
    });
  });
}

export async function benchCniPlugin(counts: number[]): Promise<CniRound[]> {
  const lab = new SingleHostLab('p');
  const made = new Set<string>();
  const mkns = (name: string) => {
    const path = createNetns(name);
    made.add(name);
    return path;
  };
  const rmns = (name: string) => {
    deleteNetns(name);
    made.delete(name);
  };
  const peerConfig = cniPeerAvailable() ? bridgePeerConfig(`${lab.prefix}br`, '100.64.0.0/16') : undefined;
  try {
    await lab.start();
    await lab.createNetwork('cnibench', '100.65.8.0/21');
    const { path: plugin } = await installShim(join(lab.dir, 'cni-bin'));
    const weftConf = join(lab.dir, 'weft.conf');
    writeFileSync(weftConf, JSON.stringify({ cniVersion: '1.0.0', name: 'cnibench', type: 'weft', agentSocket: lab.socket }));
    const peerConf = join(lab.dir, 'peer.conf');
    if (peerConfig) writeFileSync(peerConf, peerConfig.conf);
    const peerArgs = (nsPrefix: string) => (peerConfig ? [join(CNI_BIN_DIR, 'bridge'), peerConf, nsPrefix] : []);
    const vethsGone = () => waitFor('veths gone', async () => (await lab.hostLinks()).filter((l) => l.ifname.startsWith('wv-')).length === 0, 120_000, 100);

    // warm-up: bridge creation and first-use costs are not what we measure
    mkns(`${lab.prefix}warmw0`);
    mkns(`${lab.prefix}warmq0`);
    await runLoop(lab.hostNs, ['1', 'warm', plugin, weftConf, `${lab.prefix}warmw`, ...peerArgs(`${lab.prefix}warmq`)]);
    await vethsGone();

    const rounds: CniRound[] = [];
    for (const [r, count] of counts.entries()) {
      const weftNs = `${lab.prefix}w${r}x`;
      const peerNs = `${lab.prefix}q${r}x`;
      for (let i = 0; i < count; i++) {
        mkns(`${weftNs}${i}`);
        if (peerConfig) mkns(`${peerNs}${i}`);
      }
      const s = await runLoop(lab.hostNs, [String(count), `r${r}`, plugin, weftConf, weftNs, ...peerArgs(peerNs)]);
      const get = (label: string) => summarize(s.get(label) ?? []);
      const round: CniRound = { count, weftAdd: get('weft-add'), weftDel: get('weft-del'), floorTrue: get('floor-true'), floorVersion: get('floor-version') };
      if (peerConfig) {
        round.peerAdd = get('peer-add');
        round.peerDel = get('peer-del');
      }
      rounds.push(round);
      await vethsGone();
      for (let i = 0; i < count; i++) {
        rmns(`${weftNs}${i}`);
        if (peerConfig) rmns(`${peerNs}${i}`);
      }
    }
    return rounds;
  } finally {
    for (const name of made) {
      try {
        deleteNetns(name);
      } catch {
        // the lab sweep below removes what is left
      }
    }
    peerConfig?.cleanup();
    await lab.stop();
  }
}

export function printCniPlugin(rounds: CniRound[]): void {
  console.log('\n# CNI plugin exec end to end: weft (installed shim -> agent) and the reference bridge + host-local,');
  console.log('# exec\'d from a shell loop that reads the clock around each exec, taking turns container by container');
  for (const r of rounds) {
    console.log(`${r.count} containers, sequential:`);
    printVersus('command', 'cni bridge', [
      { label: 'ADD', weft: r.weftAdd, peer: r.peerAdd },
      { label: 'DEL', weft: r.weftDel, peer: r.peerDel },
    ]);
    console.log(
      `floor from the same loop: exec of /bin/true p50 ${fmtMs(r.floorTrue.p50)}, weft shim VERSION (no agent call) p50 ${fmtMs(r.floorVersion.p50)}; ` +
        `weft above the VERSION floor: ADD ${fmtMs(r.weftAdd.p50 - r.floorVersion.p50)}, DEL ${fmtMs(r.weftDel.p50 - r.floorVersion.p50)}`,
    );
  }
  console.log('targets: ADD p50 >= 4x faster than the reference; DEL >= 8x; at 100 and at 500 containers');
}
