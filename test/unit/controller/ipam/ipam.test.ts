import { Ipam } from '../../../../controller/ipam/ipam.js';
import { planHost } from '../../../../controller/planner/host-planner.js';
import { readPlanInput } from '../../../../controller/planner/plan-input.js';
import { assignVni } from '../../../../controller/ipam/vni-allocator.js';
import { SqliteStore } from '../../../../controller/store/sqlite-store.js';
import type { BlockRow } from '../../../../controller/store/store.js';
import type { EndpointReport } from '../../../../model/agent-protocol.js';
import { WeftError } from '../../../../model/errors.js';
import { caught } from '../support/caught.js';
import { ipv4ToInt, parsePrefix4, prefixContains, prefixesOverlap, type Prefix4 } from '../../../../model/ip.js';
import type { Network } from '../../../../model/kinds.js';
import { network } from '../support/harness.js';

const prefix = (cidr: string): Prefix4 => {
  const r = parsePrefix4(cidr);
  if ('problem' in r) throw new Error(cidr);
  return r.prefix;
};

function report(name: string, ip: string, network = 'n'): EndpointReport {
  return { name, network, containerId: name, ifname: 'eth0', ip, mac: '02:00:00:00:00:01', hostIfname: 'wv-1', netns: '/run/netns/x', labels: {} };
}

describe('Ipam', () => {
  let store: SqliteStore;
  const ipam = new Ipam();
  const addNetwork = (net: Network) =>
    store.write((tx) => {
      tx.putResource(net);
      assignVni(tx, net.metadata.name, undefined);
    });
  const grant = (host: string, net = 'n') => store.write((tx) => ipam.grantBlock(tx, net, host) as BlockRow);
  const reserve = (ip: string, host: string, owner = 'c1') =>
    store.write((tx) => ipam.reserveStatic(tx, { network: 'n', ip, owner, host, source: 'agent' }));

  beforeEach(() => {
    store = new SqliteStore(':memory:');
    addNetwork(network('n', { subnet: '10.0.0.0/24' }));
  });
  afterEach(() => store.close());

  test('hosts get disjoint /26 blocks until the subnet is used up, then Exhausted', () => {
    expect(grant('h1').cidr).toBe('10.0.0.0/26');
    expect(grant('h2').cidr).toBe('10.0.0.64/26');
    expect(grant('h1').cidr).toBe('10.0.0.128/26');
    expect(grant('h3').cidr).toBe('10.0.0.192/26');
    const e = caught(() => grant('h4'));
    expect(e.code).toBe('Exhausted');
    expect(e.message).toContain('10.0.0.0/24');
    expect(store.read((r) => r.listBlocks())).toHaveLength(4);
  });

  test('a subnet smaller than the block size is one block', () => {
    addNetwork(network('small', { subnet: '10.9.0.0/28' }));
    expect(grant('h1', 'small').cidr).toBe('10.9.0.0/28');
    expect(caught(() => grant('h2', 'small')).code).toBe('Exhausted');
  });

  test('a pre-grant never takes the last free block', () => {
    addNetwork(network('small', { subnet: '10.9.0.0/28' }));
    const granted = store.write((tx) => ipam.ensurePregrants(tx, 'h1'));
    expect(granted.map((b) => b.network)).toEqual(['n']);
    expect(store.read((r) => r.listBlocks({ network: 'small' }))).toEqual([]);
    // Asked for explicitly, the last block is given.
    expect(grant('h1', 'small').cidr).toBe('10.9.0.0/28');
  });

  test('static addresses: free ones are granted, idempotently for the same owner', () => {
    expect(reserve('10.0.0.10', 'h1')).toMatchObject({ ip: '10.0.0.10', owner: 'c1', host: 'h1' });
    expect(reserve('10.0.0.10', 'h1')).toMatchObject({ ip: '10.0.0.10', owner: 'c1' });
  });

  test('static addresses: taken -> AddressInUse naming the owner', () => {
    reserve('10.0.0.10', 'h1', 'c1');
    const e = caught(() => reserve('10.0.0.10', 'h1', 'c2'));
    expect(e.code).toBe('AddressInUse');
    expect(e.message).toContain('c1');
  });

  test.each([
    ['10.0.0.0', 'network address'],
    ['10.0.0.1', 'gateway'],
    ['10.0.0.255', 'broadcast'],
    ['10.0.1.5', 'outside'],
    ['not-an-ip', 'not an IPv4'],
  ])('static %s is refused as Invalid (%s) with the allowed range', (ip, why) => {
    const e = caught(() => reserve(ip, 'h1'));
    expect(e.code).toBe('Invalid');
    expect(e.message).toContain(why);
    if (ip !== 'not-an-ip') expect(e.details[0]?.allowed).toBe('10.0.0.2 - 10.0.0.254');
  });

  test("static inside another host's block is a loan: pending until that host confirms, then the borrower's", () => {
    grant('h1'); // 10.0.0.0/26
    expect(reserve('10.0.0.20', 'h2')).toMatchObject({ ip: '10.0.0.20', host: 'h2', pending: true });
    let input = store.read(readPlanInput);
    // The block's owner excludes it at once and is asked to confirm; the borrower does not have it yet.
    expect(planHost(input, 'h1').reservations).toContainEqual({ network: 'n', ip: '10.0.0.20', owner: 'c1', pending: true });
    expect(planHost(input, 'h2').reservations.map((r) => r.ip)).not.toContain('10.0.0.20');
    expect(store.write((tx) => ipam.confirmLoan(tx, 'h1', 'n', '10.0.0.20'))).toBe(true);
    input = store.read(readPlanInput);
    expect(planHost(input, 'h1').reservations).toContainEqual({ network: 'n', ip: '10.0.0.20', owner: 'c1' });
    expect(planHost(input, 'h2').reservations).toContainEqual({ network: 'n', ip: '10.0.0.20', owner: 'c1' });
    // Asked again by its holder: stays confirmed. Inside its own block: no loan.
    expect(reserve('10.0.0.20', 'h2').pending).toBeUndefined();
    expect(reserve('10.0.0.30', 'h1', 'c3').pending).toBeUndefined();
  });

  test('a second host asking for a lent address gets AddressInUse naming the holder and the lending host', () => {
    grant('h1');
    reserve('10.0.0.20', 'h2', 'c2');
    const e = caught(() => reserve('10.0.0.20', 'h3', 'c3'));
    expect(e.code).toBe('AddressInUse');
    expect(e.message).toContain('10.0.0.20');
    expect(e.message).toContain('c2 on host "h2"');
    expect(e.message).toContain('borrowed from host "h1"');
    expect(store.read((r) => r.listReservations())).toEqual([expect.objectContaining({ ip: '10.0.0.20', owner: 'c2', host: 'h2', pending: true })]);
  });

  test("only the block's owner confirms a loan, and not while an endpoint of its own has the address", () => {
    grant('h1');
    grant('h3');
    reserve('10.0.0.20', 'h2', 'c2');
    expect(caught(() => store.write((tx) => ipam.confirmLoan(tx, 'h3', 'n', '10.0.0.20'))).code).toBe('Invalid');
    // h1 gave the address to one of its endpoints before it saw the loan: that endpoint is accepted, the loan stays unconfirmed.
    store.write((tx) => {
      ipam.checkEndpointAddress(tx, 'h1', report('mine', '10.0.0.20'));
      tx.putEndpointRecord({ apiVersion: 'weft.dev/v1', kind: 'Endpoint', metadata: { name: 'mine' }, spec: { network: 'n', host: 'h1', containerId: 'mine', ifname: 'eth0', ip: '10.0.0.20' } });
    });
    expect(store.write((tx) => ipam.confirmLoan(tx, 'h1', 'n', '10.0.0.20'))).toBe(false);
    expect(store.read((r) => r.getReservation('n', '10.0.0.20'))?.pending).toBe(true);
    // Another host may not report it, pending or not.
    expect(caught(() => store.write((tx) => ipam.checkEndpointAddress(tx, 'h3', report('x', '10.0.0.20')))).code).toBe('AddressInUse');
    // Nothing to confirm: no reservation, or one that is not pending.
    expect(store.write((tx) => ipam.confirmLoan(tx, 'h1', 'n', '10.0.0.21'))).toBe(false);
  });

  test('once confirmed, the lending host cannot report the address for an endpoint of its own', () => {
    grant('h1');
    reserve('10.0.0.20', 'h2', 'c2');
    store.write((tx) => ipam.confirmLoan(tx, 'h1', 'n', '10.0.0.20'));
    const e = caught(() => store.write((tx) => ipam.checkEndpointAddress(tx, 'h1', report('mine', '10.0.0.20'))));
    expect(e.code).toBe('AddressInUse');
    expect(e.message).toContain('reserved for c2 on host "h2"');
    // The borrower may.
    expect(() => store.write((tx) => ipam.checkEndpointAddress(tx, 'h2', { ...report('theirs', '10.0.0.20'), containerId: 'c2' }))).not.toThrow();
  });

  test('freeing the endpoint returns a borrowed address to the block', () => {
    grant('h1');
    reserve('10.0.0.20', 'h2', 'c2');
    store.write((tx) => ipam.confirmLoan(tx, 'h1', 'n', '10.0.0.20'));
    const rec = { apiVersion: 'weft.dev/v1' as const, kind: 'Endpoint' as const, metadata: { name: 'theirs' }, spec: { network: 'n', host: 'h2', containerId: 'c2', ifname: 'eth0', ip: '10.0.0.20' } };
    store.write((tx) => ipam.freeEndpointAddress(tx, rec));
    expect(store.read((r) => r.listReservations())).toEqual([]);
    expect(planHost(store.read(readPlanInput), 'h1').reservations.map((r) => r.ip)).not.toContain('10.0.0.20');
    expect(() => store.write((tx) => ipam.checkEndpointAddress(tx, 'h1', report('mine', '10.0.0.20')))).not.toThrow();
  });

  test('reclaiming a block confirms the loans in it: nobody is left to confirm them', () => {
    grant('h1');
    reserve('10.0.0.20', 'h2', 'c2');
    const gone = store.write((tx) => ipam.reclaimBlocks(tx, 'h1'));
    expect(gone.map((b) => b.cidr)).toEqual(['10.0.0.0/26']);
    expect(store.read((r) => r.getReservation('n', '10.0.0.20'))).toEqual({ network: 'n', ip: '10.0.0.20', owner: 'c2', host: 'h2', source: 'agent' });
    expect(planHost(store.read(readPlanInput), 'h2').reservations).toContainEqual({ network: 'n', ip: '10.0.0.20', owner: 'c2' });
    // The block's next owner excludes the address from the start: no loan to confirm, it was never that host's.
    store.write((tx) => tx.addBlock({ network: 'n', cidr: '10.0.0.0/26', host: 'h3' }));
    expect(planHost(store.read(readPlanInput), 'h3').reservations).toContainEqual({ network: 'n', ip: '10.0.0.20', owner: 'c2' });
  });

  test("new blocks avoid other hosts' reserved addresses when they can", () => {
    reserve('10.0.0.5', 'h2');
    expect(grant('h1').cidr).toBe('10.0.0.64/26');
    expect(grant('h2').cidr).toBe('10.0.0.0/26');
  });

  test('on a dual-stack network an endpoint\'s IPv6 address, when it has one, must be its IPv4 address\'s image; on an IPv4-only one there is none', () => {
    addNetwork(network('d', { subnet: '10.9.0.0/24', subnet6: 'fd00:9::/64' }));
    grant('h1', 'd');
    const check = (rep: EndpointReport) => store.write((tx) => ipam.checkEndpointAddress(tx, 'h1', rep));
    expect(() => check({ ...report('a', '10.9.0.9', 'd'), ip6: 'fd00:9::9' })).not.toThrow();
    expect(() => check({ ...report('a', '10.9.0.9', 'd'), ip6: 'FD00:9:0:0::9' })).not.toThrow();
    expect(caught(() => check({ ...report('a', '10.9.0.9', 'd'), ip6: 'fd00:9::8' })).message).toBe('endpoint "a" claims IPv6 address fd00:9::8; on network "d" the address of 10.9.0.9 is fd00:9::9');
    // an endpoint made IPv4-only (before its network had subnet6, or by an agent without IPv6) stays as it was made
    expect(() => check(report('a', '10.9.0.9', 'd'))).not.toThrow();
    grant('h1');
    expect(caught(() => store.write((tx) => ipam.checkEndpointAddress(tx, 'h1', { ...report('b', '10.0.0.9'), ip6: 'fd00:9::9' }))).message).toContain('network "n" gives its endpoints no IPv6 addresses');
    // a subnet6 stored before it had to hold the subnet: the network is IPv4-only
    addNetwork(network('small', { subnet: '10.8.0.0/16', subnet6: 'fd00:8::/120' }));
    grant('h1', 'small');
    expect(caught(() => store.write((tx) => ipam.checkEndpointAddress(tx, 'h1', { ...report('c', '10.8.1.5', 'small'), ip6: 'fd00:8::105' }))).message).toContain('one too small for its subnet');
  });

  test('endpoint addresses must lie in the host blocks or its statics, and be unrecorded', () => {
    grant('h1');
    const check = (host: string, rep: EndpointReport) => store.write((tx) => ipam.checkEndpointAddress(tx, host, rep));
    expect(() => check('h1', report('a', '10.0.0.9'))).not.toThrow();
    store.write((tx) => tx.putEndpointRecord({ apiVersion: 'weft.dev/v1', kind: 'Endpoint', metadata: { name: 'a' }, spec: { network: 'n', host: 'h1', containerId: 'a', ifname: 'eth0', ip: '10.0.0.9' } }));
    expect(caught(() => check('h1', report('b', '10.0.0.9'))).code).toBe('AddressInUse');
    expect(caught(() => check('h1', report('c', '10.0.0.100'))).code).toBe('Invalid');
    expect(caught(() => check('h2', report('d', '10.0.0.10'))).code).toBe('AddressInUse');
    reserve('10.0.0.100', 'h1', 'e');
    expect(() => check('h1', report('e', '10.0.0.100'))).not.toThrow();
  });

  test('with adopt, an address in an unowned block brings the block back to the host', () => {
    store.write((tx) => ipam.checkEndpointAddress(tx, 'h1', report('a', '10.0.0.70'), { adopt: true }));
    expect(store.read((r) => r.listBlocks())).toEqual([{ network: 'n', cidr: '10.0.0.64/26', host: 'h1' }]);
  });

  test('reclaim drops only blocks with nothing inside', () => {
    grant('h1'); // .0/26
    grant('h1'); // .64/26
    grant('h1'); // .128/26
    store.write((tx) => tx.putEndpointRecord({ apiVersion: 'weft.dev/v1', kind: 'Endpoint', metadata: { name: 'a' }, spec: { network: 'n', host: 'h1', containerId: 'a', ifname: 'eth0', ip: '10.0.0.9' } }));
    reserve('10.0.0.130', 'h1');
    const gone = store.write((tx) => ipam.reclaimBlocks(tx, 'h1'));
    expect(gone.map((b) => b.cidr)).toEqual(['10.0.0.64/26']);
    expect(store.read((r) => r.listBlocks().map((b) => b.cidr))).toEqual(['10.0.0.0/26', '10.0.0.128/26']);
  });

  test('property: random grants, statics and endpoints never overlap or duplicate', () => {
    // A small deterministic PRNG: the same sequence every run, so a failure reproduces.
    let seed = 0x2545f491;
    const rnd = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    addNetwork(network('big', { subnet: '10.1.0.0/22', blockSize: 28 }));
    const hosts = ['h1', 'h2', 'h3', 'h4', 'h5'];
    const handed = new Map<string, string>(); // ip -> who
    const lent = new Map<string, string>(); // ip -> who, a loan not confirmed yet: the block owner's endpoint may still take it
    let exhausted = 0;
    let loans = 0;
    for (let step = 0; step < 900; step++) {
      const host = hosts[rnd(hosts.length)] as string;
      const op = rnd(4);
      try {
        if (op === 0) {
          store.write((tx) => ipam.grantBlock(tx, 'big', host));
        } else if (op === 1) {
          const ip = `10.1.${rnd(4)}.${rnd(256)}`;
          const owner = `c${rnd(40)}`;
          const r = store.write((tx) => ipam.reserveStatic(tx, { network: 'big', ip, owner, host, source: 'agent' }));
          const prev = handed.get(r.ip) ?? lent.get(r.ip);
          if (prev !== undefined) expect(prev).toBe(`${owner}@${host}`);
          if (r.pending) {
            loans++;
            lent.set(r.ip, `${owner}@${host}`);
          } else handed.set(r.ip, `${owner}@${host}`);
        } else if (op === 3) {
          // The owner of a block confirms one of its pending loans.
          const pending = store.read((r) => r.listReservations({ network: 'big' }).filter((x) => x.pending));
          const loan = pending[rnd(Math.max(pending.length, 1))];
          if (!loan) continue;
          const lender = store.read((r) => ipam.blockOf(r, 'big', ipv4ToInt(loan.ip)))?.host as string;
          const ok = store.write((tx) => ipam.confirmLoan(tx, lender, 'big', loan.ip));
          expect(ok).toBe(!handed.has(loan.ip));
          if (ok) {
            handed.set(loan.ip, lent.get(loan.ip) as string);
            lent.delete(loan.ip);
          }
        } else {
          const blocks = store.read((r) => r.listBlocks({ network: 'big', host }));
          const b = blocks[rnd(Math.max(blocks.length, 1))];
          if (!b) continue;
          const base = prefix(b.cidr).base;
          const ip = `10.1.${(base >>> 8) & 255}.${(base & 255) + rnd(16)}`;
          const name = `e${step}`;
          store.write((tx) => {
            ipam.checkEndpointAddress(tx, host, { ...report(name, ip, 'big'), containerId: name });
            tx.putEndpointRecord({ apiVersion: 'weft.dev/v1', kind: 'Endpoint', metadata: { name }, spec: { network: 'big', host, containerId: name, ifname: 'eth0', ip } });
          });
          expect(handed.has(ip)).toBe(false);
          handed.set(ip, name);
        }
      } catch (e: unknown) {
        if (!(e instanceof WeftError)) throw e;
        if (e.code === 'Exhausted') exhausted++;
        expect(['Exhausted', 'AddressInUse', 'Invalid']).toContain(e.code);
      }
    }
    const blocks = store.read((r) => r.listBlocks({ network: 'big' })).map((b) => ({ ...b, p: prefix(b.cidr) }));
    for (let i = 0; i < blocks.length; i++) {
      for (let j = i + 1; j < blocks.length; j++) expect(prefixesOverlap((blocks[i] as { p: Prefix4 }).p, (blocks[j] as { p: Prefix4 }).p)).toBe(false);
    }
    expect(blocks.length).toBe(64);
    expect(exhausted).toBeGreaterThan(0);
    expect(loans).toBeGreaterThan(0);
    const reserved = store.read((r) => r.listReservations({ network: 'big' }));
    const records = store.read((r) => r.listEndpointRecords({ network: 'big' }));
    // Usable addresses: records and confirmed reservations. A pending loan is nobody's yet (the block owner's endpoint may hold it).
    const usable = [...reserved.filter((r) => !r.pending).map((r) => r.ip), ...records.map((r) => r.spec.ip as string)];
    expect(new Set(usable).size).toBe(usable.length);
    for (const ip of usable) expect(['10.1.0.0', '10.1.0.1', '10.1.3.255']).not.toContain(ip);
    // A static inside some host's block is in that host's plan, so its agent never hands it out.
    const input = store.read(readPlanInput);
    for (const r of reserved) {
      const owner = blocks.find((b) => prefixContains(b.p, ipv4ToInt(r.ip)));
      const pending = r.pending && owner?.host !== r.host ? { pending: true } : {};
      if (owner) expect(planHost(input, owner.host).reservations).toContainEqual({ network: 'big', ip: r.ip, owner: r.owner, ...pending });
      // The borrower has it only once it is confirmed.
      const forBorrower = planHost(input, r.host as string).reservations.some((x) => x.ip === r.ip && !x.pending);
      expect(forBorrower).toBe(!r.pending || owner?.host === r.host);
    }
    for (const e of records) {
      const owner = blocks.find((b) => prefixContains(b.p, ipv4ToInt(e.spec.ip as string)));
      expect(owner?.host).toBe(e.spec.host);
    }
  });
});
