import { plainIPv4 } from '../../../../agents/overlay/underlay.js';
import { makeHarness, type Harness } from '../support/harness.js';

describe('plainIPv4', () => {
  test.each<[string | undefined, string | undefined]>([
    ['198.18.0.11', '198.18.0.11'],
    ['::ffff:198.18.0.11', '198.18.0.11'],
    ['fd00::1', undefined],
    ['::1', undefined],
    [undefined, undefined],
  ])('%s -> %s', (input, out) => expect(plainIPv4(input)).toBe(out));
});

describe('Underlay', () => {
  const open: Harness[] = [];
  afterEach(() => {
    for (const h of open.splice(0)) h.cleanup();
  });

  test('a configured address wins over the connection address; device and MTU come from the interface holding it', async () => {
    const h = makeHarness({ underlayAddress: '198.18.0.11' });
    open.push(h);
    const ul = await h.dp.host().addBridge({ name: 'ul0', mtu: 9000, alias: '' });
    await h.dp.host().addrAdd(ul.index, '198.18.0.11', 24);
    expect(await h.underlay.init()).toEqual({ address: '198.18.0.11', index: ul.index, mtu: 9000 });
    expect(await h.underlay.learn('127.0.0.1')).toEqual({ address: '198.18.0.11', index: ul.index, mtu: 9000 });
    expect(h.store.getMeta('underlayAddress')).toBeUndefined();
  });

  test('a learned address is remembered across restarts; changes are announced once', async () => {
    const h = makeHarness({ underlayAddress: null });
    open.push(h);
    expect(await h.underlay.init()).toBeUndefined();
    const seen: string[] = [];
    h.underlay.onChange((v) => seen.push(`${v.address}/${v.mtu ?? '-'}`));
    await h.underlay.learn('::ffff:127.0.0.1');
    await h.underlay.learn('127.0.0.1');
    expect(seen).toEqual(['127.0.0.1/-']); // loopback: no lower device, no MTU (lo's 64 KiB is no underlay's)
    await h.underlay.learn('fd00::1'); // not IPv4: kept as it was
    expect(h.underlay.current()).toEqual({ address: '127.0.0.1' });

    const again = h.restart();
    open.splice(0, 1, again);
    expect(await again.underlay.init()).toEqual({ address: '127.0.0.1' });
  });

  test('an address no interface holds is still used, without a lower device', async () => {
    const h = makeHarness({ underlayAddress: '198.18.0.99' });
    open.push(h);
    expect(await h.underlay.init()).toEqual({ address: '198.18.0.99' });
  });
});
