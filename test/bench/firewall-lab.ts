// The lab of the firewall benchmarks, the shape of
// test/kernel/datapath/nft/policy-table.test.ts: a host namespace with a
// bridge (br_netfilter on inside it, so bridged IPv4 reaches the inet forward
// hook) and two workloads on veths. The policy table is applied inside the
// host namespace. Everything carries the per-run prefix wt<pid>f-.
//
//   <prefix>host: bridge wb-fwbench, ports wv-fwcli, wv-fwsrv
//   <prefix>cli   eth0 100.127.250.11/24   (iperf3 client)
//   <prefix>srv   eth0 100.127.250.12/24   (iperf3 server, selected by the policies)
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { NftRunner } from '../../agents/datapath/nft/nft-runner.js';
import { NETNS_RUN_DIR } from '../../model/kernel-names.js';
import { labPrefix } from '../lab/index.js';
import { CLIENT_IP, IPERF_PORT, SERVER_IP, WORKLOAD_PREFIX_LEN } from './firewall-rules.js';
import { sleep, spawnIn, type LabChild } from './overlay-lab.js';

const run = promisify(execFile);
const BRIDGE = 'wb-fwbench';

export interface FirewallLab {
  prefix: string;
  host: string;
  client: string;
  server: string;
  /** nft inside the host namespace; a whole 10,000-rule load takes seconds, hence the longer timeout */
  nft: NftRunner;
  /** namespaces made, in order */
  made: string[];
  /** iperf3 processes still running */
  children: Set<LabChild>;
}

async function ip(args: string[]): Promise<void> {
  await run('ip', args);
}

async function addNetns(lab: FirewallLab, name: string): Promise<void> {
  await ip(['netns', 'add', name]);
  lab.made.push(name);
  await ip(['-n', name, 'link', 'set', 'lo', 'up']);
}

async function addWorkload(lab: FirewallLab, ns: string, port: string, address: string): Promise<void> {
  await addNetns(lab, ns);
  await ip(['-n', lab.host, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await ip(['-n', lab.host, 'link', 'set', port, 'master', BRIDGE, 'up']);
  await ip(['-n', ns, 'addr', 'add', `${address}/${WORKLOAD_PREFIX_LEN}`, 'dev', 'eth0']);
  await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
}

/** The lab while it is up, so a signal can take it down (synchronously) too. */
let live: FirewallLab | undefined;

export async function startFirewallLab(): Promise<FirewallLab> {
  const prefix = labPrefix('f');
  const host = `${prefix}host`;
  const lab: FirewallLab = {
    prefix,
    host,
    client: `${prefix}cli`,
    server: `${prefix}srv`,
    nft: new NftRunner({ netns: `${NETNS_RUN_DIR}/${host}`, timeoutMs: 60_000 }),
    made: [],
    children: new Set(),
  };
  live = lab;
  try {
    await addNetns(lab, host);
    // per-namespace sysctl (br_netfilter): nothing changes outside the lab
    await run('ip', ['netns', 'exec', host, 'sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']);
    await ip(['-n', host, 'link', 'add', BRIDGE, 'type', 'bridge']);
    await ip(['-n', host, 'link', 'set', BRIDGE, 'up']);
    await addWorkload(lab, lab.client, 'wv-fwcli', CLIENT_IP);
    await addWorkload(lab, lab.server, 'wv-fwsrv', SERVER_IP);
  } catch (e) {
    stopFirewallLabNow();
    throw e;
  }
  return lab;
}

/**
 * Kill every iperf3 of the lab by PID, then delete its namespaces (the
 * bridge, veths and nft tables go with them). Synchronous, so a signal
 * handler can call it; tolerates a half-built lab and a second call.
 */
export function stopFirewallLabNow(): void {
  const lab = live;
  live = undefined;
  if (!lab) return;
  for (const c of lab.children) c.kill();
  lab.children.clear();
  for (const ns of [...lab.made].reverse()) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
  lab.made.length = 0;
}

interface IperfJson {
  error?: string;
  end?: { sum_received?: { bits_per_second?: number } };
}

function track(lab: FirewallLab, c: LabChild): LabChild {
  lab.children.add(c);
  void c.exited.then(() => lab.children.delete(c));
  return c;
}

/**
 * One iperf3 test client -> server:IPERF_PORT, one stream, `seconds` long
 * after `omit` seconds of warm-up. Returns bits/s received. Both ends are
 * bounded: the server serves one test (-1), the client has -t and a guard.
 */
export async function iperf(lab: FirewallLab, seconds: number, omit: number): Promise<number> {
  const path = (ns: string) => `${NETNS_RUN_DIR}/${ns}`;
  const server = track(lab, spawnIn(path(lab.server), ['iperf3', '-s', '-1', '-B', SERVER_IP, '-p', String(IPERF_PORT)]));
  let client: LabChild | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      const argv = ['iperf3', '-c', SERVER_IP, '-p', String(IPERF_PORT), '-P', '1', '-t', String(seconds), ...(omit > 0 ? ['-O', String(omit)] : []), '-J'];
      client = track(lab, spawnIn(path(lab.client), argv));
      const guard = setTimeout(() => client?.kill(), (seconds + omit + 15) * 1000);
      const end = await client.exited;
      await client.closed;
      clearTimeout(guard);
      let doc: IperfJson;
      try {
        doc = JSON.parse(client.output()) as IperfJson;
      } catch {
        throw new Error(`iperf3 client exited ${end.code ?? end.signal} without JSON: ${client.output().slice(0, 300)}`);
      }
      if (doc.error !== undefined) {
        // the server not listening yet: try again a few times
        if (/connect/i.test(doc.error) && attempt < 20) {
          await sleep(100);
          continue;
        }
        throw new Error(`iperf3 client: ${doc.error}`);
      }
      const bps = doc.end?.sum_received?.bits_per_second;
      if (typeof bps !== 'number') throw new Error('iperf3 client: no end.sum_received.bits_per_second in its JSON');
      const stop = setTimeout(() => server.kill(), 5_000);
      await server.exited;
      clearTimeout(stop);
      return bps;
    }
  } finally {
    client?.kill();
    server.kill();
    await server.exited;
  }
}

