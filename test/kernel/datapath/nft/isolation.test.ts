// Network isolation on a real kernel with nft 1.0.6: real packets through a
// forwarding "host" namespace, before and after the weft-isolation table.
//
// Lab (all namespaces named wt<pid>n-*, never the root namespace; addresses
// in 198.18.0.0/15):
//
//   host ns: ip_forward=1, br_netfilter on (bridge-nf-call-iptables=1)
//     wb-t81 198.18.81.1/24 -- a1 198.18.81.11, a2 198.18.81.12
//     wb-t82 198.18.82.1/24 -- b1 198.18.82.11, b2 198.18.82.12
//     wb-t83 198.18.83.1/24    (no workloads; added to show re-apply)
//
// Links are made with `ip` (argv arrays, no shell): what is under test is
// nft, not the netlink datapath. afterAll deletes every namespace this file
// made, also after a failure; deleting the host namespace takes its bridges,
// veths and nft tables with it.
import { execFile } from 'node:child_process';
import { jest } from '@jest/globals';
import { promisify } from 'node:util';
import { NftIsolationTable } from '../../../../agents/datapath/nft/nft-isolation-table.js';
import { NftRunner } from '../../../../agents/datapath/nft/nft-runner.js';
import { NftError } from '../../../../agents/datapath/nft/nft-error.js';
import { ISOLATION_TABLE, parseIsolation, renderIsolation, type IsolationState } from '../../../../agents/datapath/nft/isolation-ruleset.js';
import type { NftDocument, NftListObject } from '../../../../model/nft-json.js';
import { runFirewallContract } from '../../../unit/agents/datapath/nft/isolation-table-contract.js';

const execFileP = promisify(execFile);
const PREFIX = `wt${process.pid}n-`;
const HOST = `${PREFIX}host`;
const HOST_PATH = `/run/netns/${HOST}`;
const BR_A = 'wb-t81';
const BR_B = 'wb-t82';
const BR_C = 'wb-t83';
const GW = { [BR_A]: '198.18.81.1', [BR_B]: '198.18.82.1', [BR_C]: '198.18.83.1' } as const;
const IP = { a1: '198.18.81.11', a2: '198.18.81.12', b1: '198.18.82.11', b2: '198.18.82.12' } as const;
/** Our own probe table (not weft's): counts bridged a1<->a2 packets on the inet forward hook. */
const PROBE_TABLE = 'wt-probe';

jest.setTimeout(60_000);

const created: string[] = [];

async function run(cmd: string, args: string[]): Promise<string> {
  const { stdout } = await execFileP(cmd, args);
  return stdout;
}

async function addNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'add', name]);
  created.push(name);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

async function addBridge(name: keyof typeof GW): Promise<void> {
  await run('ip', ['-n', HOST, 'link', 'add', name, 'type', 'bridge']);
  await run('ip', ['-n', HOST, 'addr', 'add', `${GW[name]}/24`, 'dev', name]);
  await run('ip', ['-n', HOST, 'link', 'set', name, 'up']);
}

/** A workload namespace with eth0 on `bridge` and a default route via its gateway. */
async function addWorkload(w: keyof typeof IP, bridge: keyof typeof GW): Promise<void> {
  const ns = `${PREFIX}${w}`;
  await addNetns(ns);
  await run('ip', ['-n', HOST, 'link', 'add', `wv-${w}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await run('ip', ['-n', HOST, 'link', 'set', `wv-${w}`, 'master', bridge, 'up']);
  await run('ip', ['-n', ns, 'addr', 'add', `${IP[w]}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  await run('ip', ['-n', ns, 'route', 'add', 'default', 'via', GW[bridge]]);
}

/** ping from workload `w`: true when any echo is answered, false when none is. */
async function reaches(w: keyof typeof IP, dst: string, count = 3): Promise<boolean> {
  try {
    await execFileP('ip', ['netns', 'exec', `${PREFIX}${w}`, 'ping', '-n', '-q', '-c', String(count), '-i', '0.2', '-W', '1', dst]);
    return true;
  } catch (err: unknown) {
    // Exit 1: no reply. Anything else (2: ping itself failed) is a broken test, not a result.
    if ((err as { code?: unknown }).code === 1) return false;
    throw err;
  }
}

const runner = new NftRunner({ netns: HOST_PATH });

async function isolation(): Promise<IsolationState | undefined> {
  const listing = await runner.list(ISOLATION_TABLE);
  return listing && parseIsolation(listing);
}

function tableHandle(listing: NftListObject[] | undefined): number | undefined {
  for (const o of listing ?? []) if ('table' in o) return o.table.handle;
  return undefined;
}

async function probePackets(): Promise<number> {
  const listing = (await runner.list(PROBE_TABLE)) ?? [];
  for (const o of listing) {
    if (!('rule' in o)) continue;
    for (const s of o.rule.expr) if ('counter' in s && typeof s.counter === 'object' && s.counter) return s.counter.packets;
  }
  throw new Error('probe counter not found');
}

async function deleteOurNamespaces(): Promise<void> {
  for (const name of created.splice(0).reverse()) {
    try {
      await run('ip', ['netns', 'del', name]);
    } catch (err: unknown) {
      // Already gone is fine; anything else must be seen.
      if (!String((err as { stderr?: unknown }).stderr).includes('No such file')) throw err;
    }
  }
}

beforeAll(async () => {
  await addNetns(HOST);
  // Only inside the lab's host namespace: the machine's own settings are untouched.
  await run('ip', ['netns', 'exec', HOST, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  // Bridged packets then traverse the inet forward hook with iifname == oifname == the bridge.
  await run('ip', ['netns', 'exec', HOST, 'sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']);
  for (const br of [BR_A, BR_B, BR_C] as const) await addBridge(br);
  await addWorkload('a1', BR_A);
  await addWorkload('a2', BR_A);
  await addWorkload('b1', BR_B);
  await addWorkload('b2', BR_B);
  await runner.apply({
    nftables: [
      { add: { table: { family: 'inet', name: PROBE_TABLE } } },
      { add: { chain: { family: 'inet', table: PROBE_TABLE, name: 'forward', type: 'filter', hook: 'forward', prio: 100, policy: 'accept' } } },
      {
        add: {
          rule: {
            family: 'inet',
            table: PROBE_TABLE,
            chain: 'forward',
            expr: [
              { match: { op: '==', left: { meta: { key: 'iifname' } }, right: BR_A } },
              { match: { op: '==', left: { meta: { key: 'oifname' } }, right: BR_A } },
              { counter: null },
            ],
          },
        },
      },
    ],
  });
});

afterAll(async () => {
  await deleteOurNamespaces();
});

describe('weft-isolation in a forwarding host namespace', () => {
  const firewall = new NftIsolationTable(HOST_PATH);

  it('without the table, a workload reaches the other network through the host (the lab forwards)', async () => {
    await firewall.removeIsolation();
    expect(await reaches('a1', IP.b1)).toBe(true);
    expect(await reaches('b2', IP.a2)).toBe(true);
  });

  it('with isolation, cross-network pings fail in both directions and the drop counter counts them', async () => {
    await firewall.applyIsolation([BR_A, BR_B]);
    const before = (await isolation())?.drops?.packets ?? 0;
    expect(await reaches('a1', IP.b1, 2)).toBe(false);
    expect(await reaches('b2', IP.a2, 2)).toBe(false);
    expect((await isolation())?.drops?.packets).toBeGreaterThanOrEqual(before + 4);
  });

  it('with isolation, workloads on one bridge still reach each other through the forward hook', async () => {
    await firewall.applyIsolation([BR_A, BR_B]);
    const probed = await probePackets();
    expect(await reaches('a1', IP.a2)).toBe(true);
    expect(await reaches('b1', IP.b2)).toBe(true);
    // The a1<->a2 echoes crossed the inet forward hook (iif == oif == wb-t81),
    // so passing them is the set's doing, not a hook that never ran.
    expect(await probePackets()).toBeGreaterThan(probed);
  });

  it('the kernel holds what was rendered: the bridges in @same-bridge, the chain at priority -10', async () => {
    await firewall.applyIsolation([BR_B, BR_A]);
    expect(await isolation()).toMatchObject({ bridges: [BR_A, BR_B], priority: -10 });
  });

  it('re-applying with a third bridge swaps the set atomically: a continuous cross-network ping never gets through', async () => {
    await firewall.applyIsolation([BR_A, BR_B]);
    // ~300 echoes over 3 s while the table is replaced 20 times; any
    // intermediate state without the drop rule would let some through.
    // (iputils wants whole seconds for -w.)
    const flood = execFileP('ip', ['netns', 'exec', `${PREFIX}a1`, 'ping', '-n', '-q', '-i', '0.01', '-w', '3', '-W', '1', IP.b1]).then(
      (r) => r.stdout,
      (err: unknown) => `${String((err as { stdout?: unknown }).stdout)}${String((err as { stderr?: unknown }).stderr)}`,
    );
    for (let i = 0; i < 20; i++) await firewall.applyIsolation(i % 2 === 0 ? [BR_A, BR_B, BR_C] : [BR_A, BR_B]);
    await firewall.applyIsolation([BR_A, BR_B, BR_C]);
    const summary = await flood;
    expect(summary).toMatch(/(\d+) packets transmitted, 0 received/);
    expect(Number(/(\d+) packets transmitted/.exec(summary)?.[1])).toBeGreaterThan(50);
    expect((await isolation())?.bridges).toEqual([BR_A, BR_B, BR_C]);
    expect(await reaches('a1', IP.a2)).toBe(true);
  });

  it('applying the same set twice through nft leaves one chain, one set and one rule', async () => {
    await runner.apply(renderIsolation([BR_A, BR_B, BR_C]));
    await runner.apply(renderIsolation([BR_A, BR_B, BR_C]));
    const listing = (await runner.list(ISOLATION_TABLE)) ?? [];
    const kinds = listing.map((o) => Object.keys(o)[0]).sort();
    expect(kinds).toEqual(['chain', 'rule', 'set', 'table']);
    expect(parseIsolation(listing)?.bridges).toEqual([BR_A, BR_B, BR_C]);
  });

  it('NftIsolationTable does not run nft for an unchanged set (the table is not recreated)', async () => {
    await firewall.applyIsolation([BR_A, BR_B]);
    const handle = tableHandle(await runner.list(ISOLATION_TABLE));
    await firewall.applyIsolation([BR_B, BR_A]);
    expect(tableHandle(await runner.list(ISOLATION_TABLE))).toBe(handle);
  });

  it('a failing transaction changes nothing: the old set and the drops stay in force, and stderr is in the error', async () => {
    await firewall.applyIsolation([BR_A, BR_B]);
    const bad: NftDocument = {
      nftables: [
        ...renderIsolation([BR_A, BR_B, BR_C]).nftables,
        // `create` of a table that exists: the kernel refuses it (EEXIST) in
        // the same batch as the replacement, so the whole batch is aborted.
        { create: { table: { family: 'inet', name: PROBE_TABLE } } },
      ],
    };
    const err = await runner.apply(bad).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NftError);
    expect(err).toMatchObject({ op: 'apply', errno: 'EEXIST' });
    expect((err as NftError).message).toContain('Could not process rule: File exists');
    expect((await isolation())?.bridges).toEqual([BR_A, BR_B]);
    expect(await reaches('a1', IP.b1, 2)).toBe(false);
  });

  it('removeIsolation deletes the table, forwarding between networks works again, and a second remove is fine', async () => {
    await firewall.applyIsolation([BR_A, BR_B]);
    await firewall.removeIsolation();
    await firewall.removeIsolation();
    expect(await runner.list(ISOLATION_TABLE)).toBeUndefined();
    expect(await reaches('a1', IP.b1)).toBe(true);
  });
});

describe('NftRunner on nft 1.0.6', () => {
  it('list of a missing table is undefined and deleteTable of it succeeds', async () => {
    await expect(runner.list('weft-no-such-table')).resolves.toBeUndefined();
    await expect(runner.deleteTable('weft-no-such-table')).resolves.toBeUndefined();
  });

  it('nft\'s refusal of a bad statement is EINVAL with its message', async () => {
    const doc = { nftables: [{ add: { rule: { family: 'inet', table: PROBE_TABLE, chain: 'forward', expr: [{ bogus: 1 }] } } }] } as unknown as NftDocument;
    const err = await runner.apply(doc).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ errno: 'EINVAL' });
    expect((err as NftError).message).toContain("Unknown statement object 'bogus'");
  });
});

describe('NftRunner: libnftables in process and the nft process agree', () => {
  const TABLE = 'weft-lnft-probe';
  const viaProcess = new NftRunner({ netns: HOST_PATH, inProcessMaxBytes: 0 });
  const doc = (elements: string[]): NftDocument =>
    ({
      nftables: [
        { add: { table: { family: 'inet', name: TABLE } } },
        { add: { set: { family: 'inet', table: TABLE, name: 's', type: 'ipv4_addr', flags: ['interval'] } } },
        ...(elements.length > 0 ? [{ add: { element: { family: 'inet', table: TABLE, name: 's', elem: elements.map((a) => ({ prefix: { addr: a, len: 32 } })) } } }] : []),
      ],
    }) as unknown as NftDocument;

  afterEach(async () => {
    await viaProcess.deleteTable(TABLE);
  });

  it('the same document leaves the same table, in the lab namespace and not the test\'s own', async () => {
    await runner.apply(doc(['100.64.0.1', '100.64.0.2']));
    const inProcess = await viaProcess.list(TABLE);
    await viaProcess.deleteTable(TABLE);
    await viaProcess.apply(doc(['100.64.0.1', '100.64.0.2']));
    const spawned = await viaProcess.list(TABLE);
    const strip = (l: NftListObject[] | undefined) => JSON.stringify(l).replace(/"handle":\d+,?/g, '');
    expect(strip(inProcess)).toBe(strip(spawned));
    expect(JSON.stringify(inProcess)).toContain('100.64.0.2');
    // Read-only look at the namespace the test itself runs in.
    await expect(new NftRunner().list(TABLE)).resolves.toBeUndefined();
  });

  it('a refusal is the same NftError either way, and the failed batch changed nothing', async () => {
    await runner.apply(doc(['100.64.0.1']));
    const clash: NftDocument = {
      nftables: [
        { add: { element: { family: 'inet', table: TABLE, name: 's', elem: [{ prefix: { addr: '100.64.0.9', len: 32 } }] } } },
        { create: { element: { family: 'inet', table: TABLE, name: 's', elem: [{ prefix: { addr: '100.64.0.1', len: 32 } }] } } },
      ],
    } as unknown as NftDocument;
    const errors: unknown[] = [];
    for (const r of [runner, viaProcess]) errors.push(await r.apply(clash).then(() => undefined, (e: unknown) => e));
    for (const err of errors) {
      expect(err).toBeInstanceOf(NftError);
      expect(err).toMatchObject({ op: 'apply', object: `nft table inet ${TABLE} in netns "${HOST_PATH}"`, errno: 'EEXIST' });
      expect((err as NftError).message).toContain('Could not process rule: File exists');
    }
    expect(JSON.stringify(await viaProcess.list(TABLE))).not.toContain('100.64.0.9');
  });

  it('a kept context sees what others changed in between, refuses as a fresh one does, and works on after a refusal', async () => {
    const kept = new NftRunner({ netns: HOST_PATH, keepContext: true });
    await kept.apply(doc(['100.64.0.1']));
    expect(JSON.stringify(await kept.list(TABLE))).toContain('100.64.0.1');
    // Changed by another process: the kept context's next listing and document see it.
    await viaProcess.apply(doc(['100.64.0.7']));
    expect(JSON.stringify(await kept.list(TABLE))).toContain('100.64.0.7');
    await viaProcess.deleteTable(TABLE);
    expect(await kept.list(TABLE)).toBeUndefined();
    await kept.apply(doc(['100.64.0.3']));
    const listing = JSON.stringify(await viaProcess.list(TABLE));
    expect(listing).toContain('100.64.0.3');
    expect(listing).not.toContain('100.64.0.7');
    // A refusal does not stick to the context: the next document applies.
    const clash = { nftables: [{ create: { element: { family: 'inet', table: TABLE, name: 's', elem: [{ prefix: { addr: '100.64.0.3', len: 32 } }] } } }] } as unknown as NftDocument;
    await expect(kept.apply(clash)).rejects.toMatchObject({ errno: 'EEXIST' });
    await kept.apply(doc(['100.64.0.4']));
    expect(JSON.stringify(await kept.list(TABLE))).toContain('100.64.0.4');
  });

  it('a namespace that is gone fails as not found in process too', async () => {
    const gone = new NftRunner({ netns: '/run/netns/weft-no-such-netns' });
    await expect(gone.apply(doc([]))).rejects.toMatchObject({ errno: 'ENOENT' });
  });
});

runFirewallContract('NftIsolationTable (real kernel, nft 1.0.6)', {
  setUp: async () => {
    // A fresh firewall each test, but the same lab host namespace: start from no table.
    await runner.deleteTable(ISOLATION_TABLE);
    return { firewall: new NftIsolationTable(HOST_PATH), observe: async () => (await isolation())?.bridges };
  },
  tearDown: async () => {
    await runner.deleteTable(ISOLATION_TABLE);
  },
});
