// Hand-made frames and listeners for the anti-spoofing tests, each a child
// process inside a workload namespace (NsProcess: owned by PID, bounded in
// time). Raw Ethernet frames (ARP, IPv6, an unknown ethertype) are sent and
// sniffed with Python's AF_PACKET sockets: this machine has no arping or
// tcpdump, and Node has no raw packet sockets. UDP goes through Node's dgram.
import { existsSync } from 'node:fs';
import { NsProcess } from './firewall-probe.js';

/** Debian's python3 when present (a fresh Debian 12 has it), else whatever PATH finds. */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export type Frame =
  | { kind: 'arp'; dst: string; src: string; op: 1 | 2; sha: string; spa: string; tha: string; tpa: string }
  | { kind: 'raw'; dst: string; src: string; ethertype: number; payloadHex: string };

const SEND_PY = `
import json, socket, struct, sys, time
cfg = json.loads(sys.argv[1])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((cfg['ifname'], 0))
mac = lambda m: bytes.fromhex(m.replace(':', ''))
ip4 = lambda a: socket.inet_aton(a)
n = 0
for f in cfg['frames']:
    eth = mac(f['dst']) + mac(f['src'])
    if f['kind'] == 'arp':
        body = struct.pack('!HHBBH', 1, 0x0800, 6, 4, f['op']) + mac(f['sha']) + ip4(f['spa']) + mac(f['tha']) + ip4(f['tpa'])
        frame = eth + struct.pack('!H', 0x0806) + body
    else:
        frame = eth + struct.pack('!H', f['ethertype']) + bytes.fromhex(f['payloadHex'])
    frame = frame.ljust(60, b'\\0')
    for i in range(cfg['count']):
        s.send(frame)
        n += 1
        time.sleep(cfg['gap'])
print('sent', n, flush=True)
`;

/** Send each frame `count` times out of `ifname` in `ns` (gapMs apart); resolves with the number sent. */
export async function sendFrames(ns: string, ifname: string, frames: readonly Frame[], count = 1, gapMs = 50): Promise<number> {
  const p = new NsProcess(ns, [PYTHON, '-c', SEND_PY, JSON.stringify({ ifname, frames, count, gap: gapMs / 1000 })]);
  await p.waitForOutput('sent', 30_000);
  await p.stop();
  const m = /sent (\d+)/.exec(p.output());
  return Number(m?.[1] ?? 0);
}

const SNIFF_PY = `
import json, socket, sys, time
cfg = json.loads(sys.argv[1])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind((cfg['ifname'], 0))
s.settimeout(0.2)
end = time.time() + cfg['maxS']
print('sniffing', flush=True)
while time.time() < end:
    try:
        d = s.recv(2048)
    except socket.timeout:
        continue
    if len(d) < 42:
        continue
    op = int.from_bytes(d[20:22], 'big')
    print('arp', op, d[22:28].hex(':'), socket.inet_ntoa(d[28:32]), socket.inet_ntoa(d[38:42]), flush=True)
`;

export interface SeenArp {
  op: number;
  sha: string;
  spa: string;
  tpa: string;
}

/** Every ARP frame that reaches `ifname` in `ns`, while it runs (at most maxS seconds). */
export class ArpSniffer {
  private readonly proc: NsProcess;
  readonly seen: SeenArp[] = [];

  private constructor(ns: string, ifname: string, maxS: number) {
    this.proc = new NsProcess(ns, [PYTHON, '-c', SNIFF_PY, JSON.stringify({ ifname, maxS })]);
    this.proc.onLine((line) => {
      const m = /^arp (\d+) (\S+) (\S+) (\S+)$/.exec(line);
      if (m) this.seen.push({ op: Number(m[1]), sha: m[2]!, spa: m[3]!, tpa: m[4]! });
    });
  }

  static async start(ns: string, ifname = 'eth0', maxS = 120): Promise<ArpSniffer> {
    const s = new ArpSniffer(ns, ifname, maxS);
    await s.proc.waitForOutput('sniffing');
    return s;
  }

  stop(): Promise<void> {
    return this.proc.stop();
  }
}

const UDP_LISTEN_JS = `
const [port, maxMs] = JSON.parse(process.argv[1]);
const d = require('dgram').createSocket('udp4');
d.on('message', (m, r) => console.log('u ' + r.address + ' ' + m.toString()));
d.bind(port, () => console.log('listening'));
setTimeout(() => process.exit(0), maxMs).unref();
process.on('SIGTERM', () => process.exit(0));
`;

/** Every UDP datagram that reaches `port` in `ns`: source address and payload. */
export class UdpListener {
  private readonly proc: NsProcess;
  readonly got: { from: string; text: string }[] = [];

  private constructor(ns: string, port: number, maxMs: number) {
    this.proc = new NsProcess(ns, [process.execPath, '-e', UDP_LISTEN_JS, JSON.stringify([port, maxMs])]);
    this.proc.onLine((line) => {
      const m = /^u (\S+) (.*)$/.exec(line);
      if (m) this.got.push({ from: m[1]!, text: m[2]! });
    });
  }

  static async start(ns: string, port: number, maxMs = 120_000): Promise<UdpListener> {
    const l = new UdpListener(ns, port, maxMs);
    await l.proc.waitForOutput('listening');
    return l;
  }

  /** Datagrams whose payload starts with `tag`. */
  tagged(tag: string): { from: string; text: string }[] {
    return this.got.filter((g) => g.text.startsWith(tag));
  }

  stop(): Promise<void> {
    return this.proc.stop();
  }
}

const UDP_SEND_JS = `
const { from, to, port, tag, count, gapMs } = JSON.parse(process.argv[1]);
const d = require('dgram').createSocket('udp4');
d.on('error', (e) => { console.log('error ' + e.code); process.exit(1); });
d.bind({ address: from }, async () => {
  for (let i = 0; i < count; i++) {
    await new Promise((r) => d.send(tag + '-' + i, port, to, r));
    await new Promise((r) => setTimeout(r, gapMs));
  }
  console.log('sent ' + count);
  d.close();
});
`;

/** Send `count` datagrams "<tag>-<i>" from address `from` (must be on an interface in `ns`) to to:port. */
export async function sendUdp(ns: string, from: string, to: string, port: number, tag: string, count = 5, gapMs = 20): Promise<void> {
  const p = new NsProcess(ns, [process.execPath, '-e', UDP_SEND_JS, JSON.stringify({ from, to, port, tag, count, gapMs })]);
  await p.waitForOutput('sent', 20_000);
  await p.stop();
}
