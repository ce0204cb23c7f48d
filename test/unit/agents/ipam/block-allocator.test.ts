import { WeftError } from '../../../../model/errors.js';
import { makeHarness, planNetwork, testPlan, type Harness } from '../support/harness.js';

const blue = planNetwork('blue', 0x10);

function record(h: Harness, name: string, ip: string) {
  h.store.put({
    name, network: 'blue', containerId: name, ifname: 'eth0', ip, mac: '02:00:00:00:00:01', hostIfname: `wv-${name}`,
    netns: '/run/netns/x', labels: {}, state: 'attached', prefixLength: 24, gateway: '100.64.0.1', mtu: 1450,
  });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e: unknown) {
    return e instanceof WeftError ? e.code : `non-weft: ${String(e)}`;
  }
}

describe('BlockAllocator', () => {
  let h: Harness;
  afterEach(() => h.cleanup());

  test('hands out every usable address of the block once, skipping network address and gateway', async () => {
    h = makeHarness();
    const ips: string[] = [];
    for (let i = 0; i < 62; i++) ips.push((await h.allocator.allocate(blue, `ep${i}`)).ip);
    expect(new Set(ips).size).toBe(62);
    expect(ips).not.toContain('100.64.0.0');
    expect(ips).not.toContain('100.64.0.1');
    expect(ips[0]).toBe('100.64.0.2');
    expect(await codeOf(h.allocator.allocate(blue, 'one-more'))).toBe('Exhausted');
  });

  test('skips the broadcast address of the subnet when the block holds it', async () => {
    const net = planNetwork('blue', 0x10, '100.64.0.0/29', '100.64.0.1');
    h = makeHarness({ plan: testPlan({ networks: [net], blocks: [{ network: 'blue', cidr: '100.64.0.0/29' }] }) });
    const ips: string[] = [];
    for (let i = 0; i < 5; i++) ips.push((await h.allocator.allocate(net, `ep${i}`)).ip);
    expect(ips).toEqual(['100.64.0.2', '100.64.0.3', '100.64.0.4', '100.64.0.5', '100.64.0.6']);
    expect(await codeOf(h.allocator.allocate(net, 'x'))).toBe('Exhausted');
  });

  test('on a dual-stack network, skips (and refuses as static) the address whose IPv6 image is gateway6', async () => {
    const dual = { ...blue, subnet6: 'fd00:10::/64', gateway6: 'fd00:10::3' };
    h = makeHarness({ plan: testPlan({ networks: [dual] }) });
    const ips: string[] = [];
    for (let i = 0; i < 3; i++) ips.push((await h.allocator.allocate(dual, `ep${i}`)).ip);
    expect(ips).toEqual(['100.64.0.2', '100.64.0.4', '100.64.0.5']);
    await expect(h.allocator.allocate(dual, 'static', '100.64.0.3')).rejects.toThrow(/ip 100\.64\.0\.3 on network "blue" is in use by the IPv6 gateway \(fd00:10::3 is this address's IPv6 image\)/);
  });

  test('skips plan reservations and addresses held by records', async () => {
    h = makeHarness({ plan: testPlan({ reservations: [{ network: 'blue', ip: '100.64.0.2', owner: 'static-a' }] }) });
    record(h, 'existing', '100.64.0.3');
    expect((await h.allocator.allocate(blue, 'a')).ip).toBe('100.64.0.4');
  });

  test('does not hand out a quarantined address until it is released', async () => {
    h = makeHarness();
    h.allocator.quarantine('blue', '100.64.0.2', 'old');
    expect((await h.allocator.allocate(blue, 'a')).ip).toBe('100.64.0.3');
    h.allocator.unquarantine('blue', '100.64.0.2');
    expect(h.allocator.isQuarantined('blue', '100.64.0.2')).toBe(false);
  });

  test('next-fit: a just-released address is not the next one handed out', async () => {
    h = makeHarness();
    const a = await h.allocator.allocate(blue, 'a');
    h.allocator.release('blue', a.ip);
    const b = await h.allocator.allocate(blue, 'b');
    expect(b.ip).not.toBe(a.ip);
  });

  test('concurrent allocations never return the same address', async () => {
    h = makeHarness();
    const got = await Promise.all(Array.from({ length: 40 }, (_, i) => h.allocator.allocate(blue, `ep${i}`)));
    expect(new Set(got.map((g) => g.ip)).size).toBe(40);
  });

  test('asks the controller for one more block when full, shared by concurrent callers', async () => {
    h = makeHarness({ plan: testPlan({ blocks: [{ network: 'blue', cidr: '100.64.0.0/30' }] }) });
    h.uplink.grantable = [{ network: 'blue', cidr: '100.64.0.64/26' }];
    expect((await h.allocator.allocate(blue, 'a')).ip).toBe('100.64.0.2');
    expect((await h.allocator.allocate(blue, 'b')).ip).toBe('100.64.0.3');
    const more = await Promise.all([h.allocator.allocate(blue, 'c'), h.allocator.allocate(blue, 'd'), h.allocator.allocate(blue, 'e')]);
    expect(h.uplink.blockRequests).toBe(1);
    expect(more.map((m) => m.ip).sort()).toEqual(['100.64.0.64', '100.64.0.65', '100.64.0.66']);
    expect(h.plan.blocksOf('blue').map((b) => b.cidr)).toContain('100.64.0.64/26');
    expect(h.store.blocks().map((b) => b.cidr)).toContain('100.64.0.64/26'); // persisted with the plan
  });

  test('full blocks and no controller: NotReady (retriable), not a silent duplicate', async () => {
    h = makeHarness({ plan: testPlan({ blocks: [{ network: 'blue', cidr: '100.64.0.0/30' }] }) });
    h.uplink.connected = false;
    await h.allocator.allocate(blue, 'a');
    await h.allocator.allocate(blue, 'b');
    const e = await h.allocator.allocate(blue, 'c').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WeftError);
    expect((e as WeftError).code).toBe('NotReady');
    expect((e as WeftError).retriable).toBe(true);
  });

  describe('static addresses', () => {
    test('inside our block and free: taken, no controller round trip', async () => {
      h = makeHarness();
      expect(await h.allocator.allocate(blue, 'a', '100.64.0.20')).toEqual({ ip: '100.64.0.20', remote: false });
      expect(h.uplink.staticRequests).toHaveLength(0);
      expect((await h.allocator.allocate(blue, 'b')).ip).toBe('100.64.0.2');
    });

    test('in use by a record: AddressInUse naming the owner', async () => {
      h = makeHarness();
      record(h, 'owner-ep', '100.64.0.20');
      const e = (await h.allocator.allocate(blue, 'a', '100.64.0.20').catch((x: unknown) => x)) as WeftError;
      expect(e.code).toBe('AddressInUse');
      expect(e.message).toContain('owner-ep');
    });

    test('held by an attach in flight or reserved for someone else: AddressInUse', async () => {
      h = makeHarness({ plan: testPlan({ reservations: [{ network: 'blue', ip: '100.64.0.30', owner: 'declared' }] }) });
      await h.allocator.allocate(blue, 'first', '100.64.0.20');
      expect(await codeOf(h.allocator.allocate(blue, 'second', '100.64.0.20'))).toBe('AddressInUse');
      const e = (await h.allocator.allocate(blue, 'x', '100.64.0.30').catch((x: unknown) => x)) as WeftError;
      expect(e.code).toBe('AddressInUse');
      expect(e.message).toContain('declared');
      expect(await h.allocator.allocate(blue, 'declared', '100.64.0.30')).toEqual({ ip: '100.64.0.30', remote: false });
    });

    test('the gateway, network and broadcast addresses and addresses outside the subnet are refused', async () => {
      h = makeHarness();
      expect(await codeOf(h.allocator.allocate(blue, 'a', '100.64.0.1'))).toBe('Invalid');
      expect(await codeOf(h.allocator.allocate(blue, 'a', '100.64.0.0'))).toBe('Invalid');
      expect(await codeOf(h.allocator.allocate(blue, 'a', '100.64.0.255'))).toBe('Invalid');
      expect(await codeOf(h.allocator.allocate(blue, 'a', '100.65.0.9'))).toBe('Invalid');
    });

    test('outside our blocks: reserved through the controller', async () => {
      h = makeHarness();
      expect(await h.allocator.allocate(blue, 'a', '100.64.0.200')).toEqual({ ip: '100.64.0.200', remote: true });
      expect(h.uplink.staticRequests).toEqual([{ network: 'blue', ip: '100.64.0.200', owner: 'a' }]);
    });

    test('outside our blocks, controller refuses: its error; disconnected: NotReady', async () => {
      h = makeHarness();
      h.uplink.staticAnswer = async () => {
        throw new WeftError('AddressInUse', 'controller: 100.64.0.200 belongs to h2/ep');
      };
      expect(await codeOf(h.allocator.allocate(blue, 'a', '100.64.0.200'))).toBe('AddressInUse');
      h.uplink.connected = false;
      expect(await codeOf(h.allocator.allocate(blue, 'a', '100.64.0.201'))).toBe('NotReady');
      // a failed round trip does not leave the address held
      h.uplink.connected = true;
      h.uplink.staticAnswer = async (network, ip, owner) => ({ network, ip, owner });
      expect((await h.allocator.allocate(blue, 'b', '100.64.0.200')).ip).toBe('100.64.0.200');
    });

    test('a quarantined address is waited for, then taken', async () => {
      h = makeHarness();
      h.allocator.quarantine('blue', '100.64.0.20', 'old');
      let done = false;
      const p = h.allocator.allocate(blue, 'new', '100.64.0.20').then((a) => ((done = true), a));
      await new Promise((r) => setTimeout(r, 10));
      expect(done).toBe(false);
      h.allocator.unquarantine('blue', '100.64.0.20');
      expect((await p).ip).toBe('100.64.0.20');
    });
  });
});
