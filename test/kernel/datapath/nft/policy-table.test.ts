// The FirewallPolicy table on a real kernel (nft 1.0.6): rendered from
// compiled plans, applied whole and as diffs, judged by real packets between
// workloads on one bridge (br_netfilter), counters read back per rule.
//
// Lab (namespaces wt<pid>p-*, addresses in 198.18.90.0/24):
//   host ns: bridge wb-t90 198.18.90.1/24, nf_call_iptables via the sysctl
//   a 198.18.90.11, b 198.18.90.12, c 198.18.90.13 (veths on the bridge)
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { jest } from '@jest/globals';
import { promisify } from 'node:util';
import type { PlanFirewallPolicy, PlanFirewallRule } from '../../../../model/agent-protocol.js';
import { compilePolicies } from '../../../../agents/firewall/policy-compiler.js';
import { emptyModel, type PolicyModel } from '../../../../agents/datapath/policy-model.js';
import { NftRunner } from '../../../../agents/datapath/nft/nft-runner.js';
import { POLICY_TABLE, diffPolicyTable, readPolicyCounters, renderPolicyTable } from '../../../../agents/datapath/nft/policy-ruleset.js';
import { GUARD_TABLE, renderGuard } from '../../../../agents/datapath/nft/guard-ruleset.js';
import { existsSync } from 'node:fs';
import { netnsAdd } from '../../../support/test-lab.js';

const execFileP = promisify(execFile);
const PREFIX = `wt${process.pid}p-`;
const HOST = `${PREFIX}host`;
const BR = 'wb-t90';
const IP = { a: '198.18.90.11', b: '198.18.90.12', c: '198.18.90.13' } as const;
type W = keyof typeof IP;

jest.setTimeout(60_000);

const created: string[] = [];
const servers: ChildProcess[] = [];
const nft = new NftRunner({ netns: `/run/netns/${HOST}` });

async function run(cmd: string, args: string[]): Promise<string> {
  const { stdout } = await execFileP(cmd, args);
  return stdout;
}

async function addNetns(name: string): Promise<void> {
  created.push(name); // removed in afterAll, also when what follows fails
  await netnsAdd(name);
}

async function addWorkload(w: W): Promise<void> {
  const ns = `${PREFIX}${w}`;
  await addNetns(ns);
  const host = `wv-t90${w}`;
  await run('ip', ['-n', HOST, 'link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await run('ip', ['-n', HOST, 'link', 'set', host, 'master', BR, 'up']);
  await run('ip', ['-n', ns, 'addr', 'add', `${IP[w]}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
}

/** A TCP listener on `port` in workload `w` that answers every connection with "ok". */
function listen(w: W, port: number): void {
  const p = spawn('ip', ['netns', 'exec', `${PREFIX}${w}`, 'busybox', 'nc', '-ll', '-p', String(port), '-e', 'echo', 'ok'], { stdio: 'ignore' });
  servers.push(p);
}

/** true when a TCP connection from `from` to `to`:port gets the answer within 1 s. */
async function tcp(from: W, to: W, port: number): Promise<boolean> {
  try {
    const out = await run('ip', ['netns', 'exec', `${PREFIX}${from}`, 'busybox', 'nc', '-w', '1', IP[to], String(port)]);
    return out.includes('ok');
  } catch {
    return false;
  }
}

async function ping(from: W, to: W): Promise<boolean> {
  try {
    await run('ip', ['netns', 'exec', `${PREFIX}${from}`, 'ping', '-c', '1', '-W', '1', IP[to]]);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  await addNetns(HOST);
  await run('ip', ['netns', 'exec', HOST, 'sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']);
  await run('ip', ['-n', HOST, 'link', 'add', BR, 'type', 'bridge']);
  await run('ip', ['-n', HOST, 'addr', 'add', '198.18.90.1/24', 'dev', BR]);
  await run('ip', ['-n', HOST, 'link', 'set', BR, 'up']);
  for (const w of ['a', 'b', 'c'] as const) await addWorkload(w);
  for (const w of ['a', 'b', 'c'] as const) for (const port of [80, 81, 443]) listen(w, port);
  await new Promise((r) => setTimeout(r, 300));
});

afterAll(async () => {
  for (const s of servers) s.kill('SIGKILL');
  for (const ns of created.reverse()) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
});

const rule = (r: Partial<PlanFirewallRule> & Pick<PlanFirewallRule, 'name' | 'action'>): PlanFirewallRule => ({ protocol: 'any', ...r });

function model(policies: PlanFirewallPolicy[], sets: Record<string, string[]>): PolicyModel {
  return compilePolicies(policies, new Map(Object.entries(sets)));
}

const webPolicy = (ports: Array<[number, number]>): PlanFirewallPolicy => ({
  name: 'web',
  priority: 100,
  generation: 1,
  appliesTo: 'applies:web',
  ingress: {
    defaultAction: 'deny',
    rules: [rule({ name: 'from-a', action: 'allow', protocol: 'tcp', ports, peers: [{ set: 'peer:a' }] }), rule({ name: 'ping', action: 'allow', protocol: 'icmp' })],
  },
});

describe('policy table on a real kernel', () => {
  let current: PolicyModel = emptyModel();

  async function applyWhole(next: PolicyModel): Promise<void> {
    await nft.apply(renderPolicyTable(next));
    current = next;
  }

  async function applyDiff(next: PolicyModel): Promise<void> {
    const doc = diffPolicyTable(current, next);
    if (doc) await nft.apply(doc);
    current = next;
  }

  test('no policy: everything passes', async () => {
    await applyWhole(emptyModel());
    expect(await tcp('a', 'b', 80)).toBe(true);
    expect(await tcp('c', 'b', 443)).toBe(true);
  });

  test('default deny with an allow by peer set and port: only a reaches b:80; replies pass; ping allowed', async () => {
    const sets = { 'applies:web': [IP.b], 'peer:a': [IP.a] };
    await applyDiff(model([webPolicy([[80, 80]])], sets));
    expect(await tcp('a', 'b', 80)).toBe(true);
    expect(await tcp('a', 'b', 81)).toBe(false);
    expect(await tcp('c', 'b', 80)).toBe(false);
    expect(await ping('c', 'b')).toBe(true);
    // b itself is not restricted on egress
    expect(await tcp('b', 'c', 80)).toBe(true);
    const listing = await nft.list(POLICY_TABLE);
    const counters = readPolicyCounters(listing ?? [], current);
    const byRule = Object.fromEntries(counters.map((c) => [`${c.ref.direction}/${c.ref.rule}`, c.packets]));
    expect(byRule['ingress/from-a']).toBeGreaterThan(0);
    expect(byRule['ingress/default']).toBeGreaterThan(0);
  });

  test('a one-rule change is an element diff and takes effect', async () => {
    const sets = { 'applies:web': [IP.b], 'peer:a': [IP.a] };
    const next = model([webPolicy([[81, 81]])], sets);
    const doc = diffPolicyTable(current, next);
    const kinds = (doc?.nftables ?? []).map((c) => Object.keys(c)[0] + ':' + Object.keys(Object.values(c)[0] as object)[0]);
    expect(kinds.filter((k) => !k.startsWith('metainfo'))).toEqual(['delete:element', 'add:element']);
    await applyDiff(next);
    expect(await tcp('a', 'b', 80)).toBe(false);
    expect(await tcp('a', 'b', 81)).toBe(true);
  });

  test('a label change (set membership) lets c in without touching chains', async () => {
    const next = model([webPolicy([[81, 81]])], { 'applies:web': [IP.b], 'peer:a': [IP.a, IP.c] });
    await applyDiff(next);
    expect(await tcp('c', 'b', 81)).toBe(true);
  });

  test('egress deny with reject, overlapping rules in order', async () => {
    const p: PlanFirewallPolicy = {
      name: 'out',
      priority: 10,
      generation: 1,
      appliesTo: 'applies:out',
      egress: {
        rules: [
          rule({ name: 'no-443-to-c', action: 'reject', protocol: 'tcp', ports: [[443, 443]], peers: [{ cidr: IP.c + '/32' }] }),
          rule({ name: 'all-tcp', action: 'allow', protocol: 'tcp', peers: [{ cidr: '198.18.90.0/24', except: ['198.18.90.12/32'] }] }),
        ],
        defaultAction: 'deny',
      },
    };
    await applyDiff(model([p], { 'applies:out': [IP.a] }));
    expect(current.maps.size).toBe(2); // the two rules overlap: two blocks
    expect(await tcp('a', 'c', 443)).toBe(false);
    expect(await tcp('a', 'c', 80)).toBe(true);
    expect(await tcp('a', 'b', 80)).toBe(false); // excepted, default deny
  });

  test('back to no policy through a diff, then a whole render again', async () => {
    await applyDiff(emptyModel());
    expect(await tcp('a', 'b', 80)).toBe(true);
    const listing = await nft.list(POLICY_TABLE);
    expect((listing ?? []).filter((o) => 'chain' in o).map((o) => (o as { chain: { name: string } }).chain.name).sort()).toEqual(['forward', 'reject']);
    await applyWhole(model([webPolicy([[80, 80]])], { 'applies:web': [IP.b], 'peer:a': [IP.a] }));
    expect(await tcp('c', 'b', 80)).toBe(false);
    await nft.deleteTable(POLICY_TABLE, 'inet');
  });
});

/** Send one UDP datagram to the subnet broadcast from `from`; true per workload that received it. */
async function broadcastReaches(from: W, to: W[]): Promise<Record<string, boolean>> {
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const listen = (w: W) =>
    run('ip', [
      'netns', 'exec', `${PREFIX}${w}`, python, '-c',
      'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("0.0.0.0",9999));s.settimeout(1.5)\ntry:\n  s.recvfrom(100);print("got")\nexcept OSError:\n  print("none")',
    ]).then((out) => out.includes('got'));
  const results = to.map(listen);
  await new Promise((r) => setTimeout(r, 300));
  await run('ip', [
    'netns', 'exec', `${PREFIX}${from}`, python, '-c',
    'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.setsockopt(socket.SOL_SOCKET,socket.SO_BROADCAST,1);s.sendto(b"x",("198.18.90.255",9999))',
  ]);
  const got = await Promise.all(results);
  return Object.fromEntries(to.map((w, i) => [w, got[i] === true]));
}

describe('guard table: IPv4 broadcast and policed ports', () => {
  test('a port with an ingress policy gets no IPv4 broadcast; others still do', async () => {
    const ports = [];
    for (const w of ['a', 'b', 'c'] as const) {
      const [link] = JSON.parse(await run('ip', ['-n', `${PREFIX}${w}`, '-j', 'link', 'show', 'eth0'])) as [{ address: string }];
      ports.push({ ifname: `wv-t90${w}`, mac: link.address, ip: IP[w] });
    }
    await nft.apply(renderGuard(ports, ['wv-t90b']));
    try {
      expect(await broadcastReaches('a', ['b', 'c'])).toEqual({ b: false, c: true });
      await nft.apply(renderGuard(ports, []));
      expect(await broadcastReaches('a', ['b', 'c'])).toEqual({ b: true, c: true });
    } finally {
      await nft.deleteTable(GUARD_TABLE, 'bridge');
    }
  });
});
