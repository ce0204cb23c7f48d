// NflogReader on a real kernel: nft `log group 7` rules in a throwaway
// namespace, packets on that namespace's loopback only, and the reader
// (its socket opened inside the namespace) turning them into entries.
//
// Lab: namespace wt<pid>-nflog (lo up, nothing else), table inet
// wt<pid>-log in it. afterAll stops every reader, deletes the table and the
// namespace, also after a failure.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { DatapathError } from '../../../agents/datapath/errors.js';
import { NflogReader } from '../../../agents/datapath/nflog/nflog-reader.js';
import type { NflogPacket } from '../../../agents/datapath/packet-log-port.js';

const execFileP = promisify(execFile);
const NS = `wt${process.pid}-nflog`;
const NS_PATH = `/run/netns/${NS}`;
const TABLE = `wt${process.pid}-log`;
const GROUP = 7;
const OUT_PREFIX = 'wl-0000abcd';
const IN_PREFIX = 'wl-0000beef';
const UDP_PORT = 5353;

jest.setTimeout(30_000);

let nsCreated = false;
const readers: NflogReader[] = [];

async function inNs(...args: string[]): Promise<string> {
  const { stdout } = await execFileP('ip', ['netns', 'exec', NS, ...args]);
  return stdout;
}

/** `nft -f -` reads /dev/stdin by path: spawnSync's input (a real pipe) can be reopened, an async spawn's socketpair cannot. */
function nftInNs(ruleset: string): void {
  const r = spawnSync('ip', ['netns', 'exec', NS, 'nft', '-f', '-'], { input: ruleset, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nft -f - in ${NS} failed (${r.status}): ${r.stderr}`);
}

function startReader(options: ConstructorParameters<typeof NflogReader>[0]): NflogReader {
  const reader = new NflogReader(options);
  readers.push(reader);
  reader.start({ group: GROUP, netns: NS_PATH });
  return reader;
}

async function waitFor(what: string, done: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function udpTo127(port: number): Promise<string> {
  // bash's /dev/udp: one datagram from an ephemeral port, nothing listens (an ICMP port unreachable comes back).
  return inNs('bash', '-c', `echo x > /dev/udp/127.0.0.1/${port}`);
}

beforeAll(async () => {
  await execFileP('ip', ['netns', 'add', NS]);
  nsCreated = true;
  await execFileP('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  nftInNs(`table inet ${TABLE} {
  chain out {
    type filter hook output priority 0; policy accept;
    meta l4proto { icmp, ipv6-icmp, udp } log prefix "${OUT_PREFIX}" group ${GROUP}
  }
  chain in {
    type filter hook input priority 0; policy accept;
    udp dport ${UDP_PORT} log prefix "${IN_PREFIX}" group ${GROUP}
  }
}
`);
});

afterEach(() => {
  for (const r of readers.splice(0)) r.stop();
});

afterAll(async () => {
  for (const r of readers.splice(0)) r.stop();
  if (!nsCreated) return;
  try {
    await inNs('nft', 'delete', 'table', 'inet', TABLE);
  } finally {
    // Deleting the namespace would take the table with it; it goes last either way.
    await execFileP('ip', ['netns', 'del', NS]);
  }
});

describe('NflogReader (nfnetlink_log in a throwaway namespace)', () => {
  it('turns logged ICMP, ICMPv6 and UDP packets into entries with prefix, protocol, addresses, ports and devices', async () => {
    const entries: NflogPacket[] = [];
    const reader = startReader({ onPacket: (p) => entries.push(p) });

    await inNs('ping', '-n', '-q', '-c', '3', '-i', '0.2', '-W', '1', '127.0.0.1');
    await inNs('ping', '-6', '-n', '-q', '-c', '1', '-W', '1', '::1');
    await udpTo127(UDP_PORT);

    const echoRequests = (): NflogPacket[] => entries.filter((p) => p.protocol === 'icmp' && p.icmpType === 8);
    const udpOut = (): NflogPacket | undefined => entries.find((p) => p.protocol === 'udp' && p.prefix === OUT_PREFIX);
    const udpIn = (): NflogPacket | undefined => entries.find((p) => p.protocol === 'udp' && p.prefix === IN_PREFIX);
    const echo6 = (): NflogPacket | undefined => entries.find((p) => p.protocol === 'icmpv6' && p.icmpType === 128);
    await waitFor('all entries', () => echoRequests().length >= 3 && !!udpOut() && !!udpIn() && !!echo6());

    for (const p of echoRequests()) {
      expect(p).toMatchObject({ prefix: OUT_PREFIX, family: 4, src: '127.0.0.1', dst: '127.0.0.1', outdev: 1 });
      expect(Math.abs(p.time.getTime() - Date.now())).toBeLessThan(10_000);
    }
    expect(udpOut()).toMatchObject({ prefix: OUT_PREFIX, family: 4, src: '127.0.0.1', dst: '127.0.0.1', dport: UDP_PORT, outdev: 1 });
    expect(udpOut()?.sport).toEqual(expect.any(Number));
    // The same datagram on the input hook: the in device, and the kernel's timestamp.
    expect(udpIn()).toMatchObject({ prefix: IN_PREFIX, family: 4, dport: UDP_PORT, sport: udpOut()?.sport, indev: 1 });
    expect(echo6()).toMatchObject({ prefix: OUT_PREFIX, family: 6, src: '::1', dst: '::1', outdev: 1 });
    expect(reader.stats()).toMatchObject({ lost: 0, overruns: 0, rateLimited: 0 });
  });

  it('refuses a second reader of the same group in the namespace with EBUSY naming the group', () => {
    startReader({ onPacket: () => undefined });
    let error: unknown;
    try {
      startReader({ onPacket: () => undefined });
    } catch (err: unknown) {
      error = err;
    }
    expect(error).toBeInstanceOf(DatapathError);
    expect(error).toMatchObject({ op: 'bind', object: `nflog group ${GROUP}`, errno: 'EBUSY' });
  });

  it('binds the group again once the previous reader stopped', () => {
    startReader({ onPacket: () => undefined }).stop();
    expect(startReader({ onPacket: () => undefined }).running).toBe(true);
  });

  it('delivers at most maxPerSecond entries and counts the rest as rate limited', async () => {
    const entries: NflogPacket[] = [];
    const reader = startReader({ onPacket: (p) => entries.push(p), maxPerSecond: 5 });
    // 10 echo requests + 10 replies, all logged on output, within about 0.1 s.
    await inNs('ping', '-n', '-q', '-c', '10', '-i', '0.01', '-W', '1', '127.0.0.1');
    await waitFor('20 packets read', () => reader.stats().received >= 20);
    const stats = reader.stats();
    expect(stats.delivered + stats.rateLimited).toBe(stats.received);
    // The packets span at most two wall-clock seconds of draining.
    expect(stats.delivered).toBeLessThanOrEqual(10);
    expect(stats.rateLimited).toBeGreaterThan(0);
    expect(entries).toHaveLength(stats.delivered);
  });
});
