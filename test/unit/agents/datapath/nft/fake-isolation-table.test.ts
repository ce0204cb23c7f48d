// FakeIsolationTable against the IsolationTable contract (the same suite
// NftIsolationTable passes on a real kernel), plus what only the fake has: the call
// log and failure injection. Here rather than beside fake-kernel.test.ts
// because this change was limited to the nft test folders.
import { FakeIsolationTable } from '../../../../../agents/datapath/fake-isolation-table.js';
import { DatapathError } from '../../../../../agents/datapath/errors.js';
import { runFirewallContract } from './isolation-table-contract.js';

runFirewallContract('FakeIsolationTable', {
  setUp: async () => {
    const firewall = new FakeIsolationTable();
    return { firewall, observe: async () => firewall.bridges };
  },
  tearDown: async () => {},
});

describe('FakeIsolationTable extras', () => {
  it('records every call with the bridges as given', async () => {
    const f = new FakeIsolationTable();
    await f.applyIsolation(['wb-2', 'wb-1']);
    await f.removeIsolation();
    expect(f.calls).toEqual([{ op: 'applyIsolation', bridges: ['wb-2', 'wb-1'] }, { op: 'removeIsolation' }]);
  });

  it('failNext fails the next matching call once, with the errno given, and changes nothing', async () => {
    const f = new FakeIsolationTable();
    await f.applyIsolation(['wb-1']);
    f.failNext('applyIsolation', 'ENOBUFS');
    await expect(f.applyIsolation(['wb-2'])).rejects.toThrow(new DatapathError('apply', 'nft table inet weft-isolation', 'ENOBUFS'));
    expect(f.bridges).toEqual(['wb-1']);
    await f.applyIsolation(['wb-2']);
    expect(f.bridges).toEqual(['wb-2']);
  });

  it('failNext for one op leaves the other alone', async () => {
    const f = new FakeIsolationTable();
    await f.applyIsolation(['wb-1']);
    f.failNext('applyIsolation');
    await expect(f.removeIsolation()).resolves.toBeUndefined();
    expect(f.bridges).toBeUndefined();
  });

  it('failNext without an op fails whichever call comes next', async () => {
    const f = new FakeIsolationTable();
    await f.applyIsolation(['wb-1']);
    f.failNext();
    await expect(f.removeIsolation()).rejects.toMatchObject({ errno: 'EIO' });
    expect(f.bridges).toEqual(['wb-1']);
  });
});
