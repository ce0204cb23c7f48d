// The agent side of CNI over the fake kernel: the shim's relayed call in,
// the exit status and the JSON the shim prints out.
import { parseCniCallParams } from '../../../../agents/cni/cni-service.js';
import { WeftError } from '../../../../model/errors.js';
import { makeHarness, type Harness } from '../support/harness.js';

const conf = (extra: Record<string, unknown> = {}) => JSON.stringify({ cniVersion: '1.0.0', name: 'blue', type: 'weft', ...extra });
const env = (command: string, over: Record<string, string> = {}) => ({ CNI_COMMAND: command, CNI_IFNAME: 'eth0', ...over });

describe('CniService', () => {
  let h: Harness;
  afterEach(() => h.cleanup());

  test('ADD attaches through the endpoint service and renders the spec result', async () => {
    h = makeHarness();
    const netns = await h.netns('c1');
    const r = await h.cni.call({ env: env('ADD', { CNI_CONTAINERID: 'c1', CNI_NETNS: netns }), stdin: conf() });
    expect(r.exitCode).toBe(0);
    const veth = h.store.get('c1.eth0');
    const hostLink = await h.dp.link('host', veth?.hostIfname ?? '');
    expect(r.output).toEqual({
      cniVersion: '1.0.0',
      interfaces: [
        { name: 'wb-000010', mac: h.plan.network('blue')?.gatewayMac },
        { name: veth?.hostIfname, mac: hostLink?.mac },
        { name: 'eth0', mac: veth?.mac, sandbox: netns },
      ],
      ips: [{ address: '100.64.0.2/24', gateway: '100.64.0.1', interface: 2 }],
      routes: [{ dst: '0.0.0.0/0', gw: '100.64.0.1' }],
      dns: {},
    });
    expect(veth?.origin).toBe('cni:blue');
  });

  test('ADD without a plan is "try again later" (11), in the request\'s version', async () => {
    h = makeHarness({ plan: null });
    const netns = await h.netns('c1');
    const r = await h.cni.call({ env: env('ADD', { CNI_CONTAINERID: 'c1', CNI_NETNS: netns }), stdin: conf({ cniVersion: '0.4.0' }) });
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatchObject({ cniVersion: '0.4.0', code: 11 });
  });

  test('DEL of something never added succeeds and prints nothing', async () => {
    h = makeHarness();
    expect(await h.cni.call({ env: env('DEL', { CNI_CONTAINERID: 'nobody' }), stdin: conf() })).toEqual({ exitCode: 0, output: null });
  });

  test('DEL leaves an attachment of the same container on another network alone', async () => {
    h = makeHarness();
    const netns = await h.netns('c1');
    await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns });
    await h.cni.call({ env: env('DEL', { CNI_CONTAINERID: 'c1' }), stdin: conf({ name: 'other', network: 'red' }) });
    expect(h.store.get('c1.eth0')?.state).toBe('attached');
  });

  test('GC collects only its own config\'s attachments missing from the valid list', async () => {
    h = makeHarness();
    const [a, b, c] = [await h.netns('a'), await h.netns('b'), await h.netns('c')];
    for (const [id, ns] of [['a', a], ['b', b]] as const) {
      expect((await h.cni.call({ env: env('ADD', { CNI_CONTAINERID: id, CNI_NETNS: ns }), stdin: conf({ cniVersion: '1.1.0' }) })).exitCode).toBe(0);
    }
    await h.endpoints.attach({ network: 'blue', containerId: 'c', netns: c }); // weft run's, origin ''
    const r = await h.cni.call({ env: { CNI_COMMAND: 'GC' }, stdin: conf({ cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'eth0' }] }) });
    expect(r).toEqual({ exitCode: 0, output: null });
    expect(h.store.get('a.eth0')?.state).toBe('attached');
    expect(h.store.get('b.eth0')?.state ?? 'gone').not.toBe('attached');
    expect(h.store.get('c.eth0')?.state).toBe('attached');
    await h.endpoints.drain();
  });

  test('STATUS: ready with the network in the plan, 50 without a plan', async () => {
    h = makeHarness();
    expect(await h.cni.call({ env: { CNI_COMMAND: 'STATUS' }, stdin: conf({ cniVersion: '1.1.0' }) })).toEqual({ exitCode: 0, output: null });
    h.cleanup();
    h = makeHarness({ plan: null });
    const r = await h.cni.call({ env: { CNI_COMMAND: 'STATUS' }, stdin: conf({ cniVersion: '1.1.0' }) });
    expect(r.output).toMatchObject({ cniVersion: '1.1.0', code: 50 });
  });

  test('CHECK finds the attachment intact, then reports a removed address as drift (103)', async () => {
    h = makeHarness();
    const netns = await h.netns('c1');
    const e = env('ADD', { CNI_CONTAINERID: 'c1', CNI_NETNS: netns });
    const added = await h.cni.call({ env: e, stdin: conf() });
    const check = { env: { ...e, CNI_COMMAND: 'CHECK' }, stdin: conf({ prevResult: added.output }) };
    expect(await h.cni.call(check)).toEqual({ exitCode: 0, output: null });
    const ns = await h.dp.at(netns);
    const link = await ns.getLink('eth0');
    await ns.addrDel(link?.index ?? 0, '100.64.0.2', 24);
    ns.close();
    const drift = await h.cni.call(check);
    expect(drift.exitCode).toBe(1);
    expect(drift.output).toMatchObject({ code: 103 });
    expect(JSON.stringify(drift.output)).toContain('lacks address 100.64.0.2/24');
  });

  test('a config that is not JSON is a decode failure (6) in the newest version', async () => {
    h = makeHarness();
    const r = await h.cni.call({ env: env('ADD'), stdin: '{"cniVersion":' });
    expect(r).toMatchObject({ exitCode: 1, output: { cniVersion: '1.1.0', code: 6 } });
  });
});

describe('parseCniCallParams', () => {
  test.each([
    [{ env: {}, stdin: '{}', extra: 1 }, '/extra'],
    [{ stdin: '{}' }, '/env'],
    [{ env: { CNI_COMMAND: 1 }, stdin: '{}' }, '/env/CNI_COMMAND'],
    [{ env: {} }, '/stdin'],
  ])('refuses %j at %s', (params, path) => {
    let err: unknown;
    try {
      parseCniCallParams(params);
    } catch (e: unknown) {
      err = e;
    }
    expect(err).toBeInstanceOf(WeftError);
    expect((err as WeftError).details?.map((d) => d.path)).toContain(path);
  });
});

describe('CniService DEL is best effort', () => {
  let h: Harness;
  afterEach(() => h.cleanup());

  test('a config weft refuses still detaches the named attachment and succeeds', async () => {
    h = makeHarness();
    const netns = await h.netns('c1');
    expect((await h.cni.call({ env: env('ADD', { CNI_CONTAINERID: 'c1', CNI_NETNS: netns }), stdin: conf() })).exitCode).toBe(0);
    // e.g. the config was edited after ADD to something weft refuses
    const r = await h.cni.call({ env: env('DEL', { CNI_CONTAINERID: 'c1', CNI_ARGS: 'FOO=bar' }), stdin: conf({ ipam: { type: 'host-local' } }) });
    expect(r).toEqual({ exitCode: 0, output: null });
    expect(h.store.get('c1.eth0')?.state ?? 'gone').not.toBe('attached');
    await h.endpoints.drain();
  });

  test('without CNI_IFNAME it does not guess: the refusal stands', async () => {
    h = makeHarness();
    const r = await h.cni.call({ env: { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1' }, stdin: conf() });
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatchObject({ code: 4 });
  });
});

describe('CniService ADD and DEL edge cases', () => {
  let h: Harness;
  afterEach(() => h.cleanup());

  test('a second ADD of the same container and interface in another namespace is a conflict (104), not the old result', async () => {
    h = makeHarness();
    const [a, b] = [await h.netns('a1'), await h.netns('b1')];
    expect((await h.cni.call({ env: env('ADD', { CNI_CONTAINERID: 'c1', CNI_NETNS: a }), stdin: conf() })).exitCode).toBe(0);
    const again = await h.cni.call({ env: env('ADD', { CNI_CONTAINERID: 'c1', CNI_NETNS: b }), stdin: conf() });
    expect(again.output).toMatchObject({ code: 104 });
    expect(JSON.stringify(again.output)).toContain(a);
  });

  test('a DEL with an ID weft would refuse succeeds (nothing of weft\'s can have it)', async () => {
    h = makeHarness();
    const r = await h.cni.call({ env: env('DEL', { CNI_CONTAINERID: 'a'.repeat(129) }), stdin: conf() });
    expect(r).toEqual({ exitCode: 0, output: null });
  });

  test('a DEL with a refused config leaves an endpoint `weft run` attached alone', async () => {
    h = makeHarness();
    const netns = await h.netns('w1');
    await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns });
    const r = await h.cni.call({ env: env('DEL', { CNI_CONTAINERID: 'c1' }), stdin: conf({ ipam: {} }) });
    expect(r).toEqual({ exitCode: 0, output: null });
    expect(h.store.get('c1.eth0')?.state).toBe('attached');
  });
});
