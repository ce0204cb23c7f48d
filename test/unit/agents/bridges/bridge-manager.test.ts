import { BridgeManager } from '../../../../agents/bridges/bridge-manager.js';
import { DatapathError } from '../../../../agents/datapath/errors.js';
import type { WeftError } from '../../../../model/errors.js';
import { bridgeAlias, gatewayMac } from '../../../../model/kernel-names.js';
import { planNetwork } from '../support/harness.js';
import { TestKernel } from '../support/test-kernel.js';

const blue = planNetwork('blue', 0x10);

describe('BridgeManager', () => {
  test('creates the bridge once for many concurrent callers', async () => {
    const k = new TestKernel();
    const m = new BridgeManager(k.host());
    const indexes = await Promise.all(Array.from({ length: 20 }, () => m.ensureBridge(blue)));
    expect(new Set(indexes).size).toBe(1);
    expect(k.calls.filter((c) => c.op === 'addBridge')).toHaveLength(1);
    expect(await k.link('host', 'wb-000010')).toMatchObject({ alias: bridgeAlias('blue'), up: true, mtu: 1450, mac: gatewayMac(0x10) });
  });

  test('adopts a half-made bridge (no alias, down, wrong mtu, stale address) and fixes it', async () => {
    const k = new TestKernel();
    const l = await k.host().addBridge({ name: 'wb-000010', mtu: 1500, alias: '' });
    await k.host().addrAdd(l.index, '100.64.9.1', 24);
    const m = new BridgeManager(k.host());
    expect(await m.ensureBridge(blue)).toBe(l.index);
    expect(await k.link('host', 'wb-000010')).toMatchObject({ alias: bridgeAlias('blue'), up: true, mtu: 1450, mac: gatewayMac(0x10) });
    expect((await k.addrsOf('host', 'wb-000010')).map((a) => `${a.address}/${a.prefixLength}`)).toEqual(['100.64.0.1/24']);
  });

  test('a dual-stack network on a host with IPv6 disabled: an error that says so and how to fix it', async () => {
    const k = new TestKernel();
    const host = k.host();
    const refusing = Object.assign(Object.create(host) as typeof host, {
      addrAdd: async (index: number, address: string, prefixLength: number) => {
        if (address.includes(':')) throw new DatapathError('add', `address ${address}`, 'EACCES');
        return host.addrAdd(index, address, prefixLength);
      },
    });
    const dual = { ...blue, subnet6: 'fd00:10::/64', gateway6: 'fd00:10::1' };
    const e = await new BridgeManager(refusing).ensureBridge(dual).catch((x: unknown) => x as WeftError);
    expect(e).toMatchObject({ code: 'Invalid' });
    expect((e as WeftError).message).toContain('IPv6 is disabled on this host; enable it (sysctl net.ipv6.conf.all.disable_ipv6=0');
  });

  test('refuses a link with that name that is not a weft bridge of this network', async () => {
    const k = new TestKernel();
    await k.host().addBridge({ name: 'wb-000010', mtu: 1500, alias: 'someone else' });
    await expect(new BridgeManager(k.host()).ensureBridge(blue)).rejects.toMatchObject({ code: 'Conflict' });
  });

  test('a failed ensure is not cached; a changed network is ensured again', async () => {
    const k = new TestKernel();
    const m = new BridgeManager(k.host());
    k.failOn('addBridge');
    await expect(m.ensureBridge(blue)).rejects.toMatchObject({ code: 'Datapath' });
    await m.ensureBridge(blue);
    await m.ensureBridge({ ...blue, mtu: 1400 });
    expect((await k.link('host', 'wb-000010'))?.mtu).toBe(1400);
    await m.ensureBridge({ ...blue, mtu: 1400, gatewayMac: '02:77:66:00:00:99' });
    expect((await k.link('host', 'wb-000010'))?.mac).toBe('02:77:66:00:00:99');
  });
});
