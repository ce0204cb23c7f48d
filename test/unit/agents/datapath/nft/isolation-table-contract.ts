// The IsolationTable port's contract, written once and run against
// FakeIsolationTable (fake-firewall.test.ts, here) and NftIsolationTable on a real kernel
// (test/kernel/datapath/nft/isolation.test.ts), so the fake cannot drift from
// the truth. It lives beside the nft unit tests only because test/contract/
// was outside this change's reach; it belongs in test/contract/.
import type { IsolationTable } from '../../../../../agents/datapath/isolation-table-port.js';
import { DatapathError } from '../../../../../agents/datapath/errors.js';

export interface FirewallWorld {
  firewall: IsolationTable;
  /** What is in force: the isolated bridges (sorted), or undefined when isolation is off. */
  observe(): Promise<string[] | undefined>;
}

export interface FirewallContractSetup {
  /** A fresh world with isolation off. */
  setUp(): Promise<FirewallWorld>;
  /** Remove what the test made; runs after every test, also a failed one. */
  tearDown(world: FirewallWorld): Promise<void>;
}

export function runFirewallContract(name: string, setup: FirewallContractSetup): void {
  describe(`${name}: isolation table contract`, () => {
    let w: FirewallWorld;

    beforeEach(async () => {
      w = await setup.setUp();
    });

    afterEach(async () => {
      await setup.tearDown(w);
    });

    it('isolates nothing before the first apply', async () => {
      expect(await w.observe()).toBeUndefined();
    });

    it('applyIsolation puts exactly the given bridges in force, sorted, duplicates once', async () => {
      await w.firewall.applyIsolation(['wb-000002', 'wb-000001', 'wb-000002']);
      expect(await w.observe()).toEqual(['wb-000001', 'wb-000002']);
    });

    it('a later apply replaces the whole set: bridges are added and removed', async () => {
      await w.firewall.applyIsolation(['wb-000001', 'wb-000002']);
      await w.firewall.applyIsolation(['wb-000002', 'wb-000003']);
      expect(await w.observe()).toEqual(['wb-000002', 'wb-000003']);
    });

    it('applying the same set again changes nothing', async () => {
      await w.firewall.applyIsolation(['wb-000001']);
      await w.firewall.applyIsolation(['wb-000001']);
      expect(await w.observe()).toEqual(['wb-000001']);
    });

    it('an empty list keeps isolation on with no bridge exempt', async () => {
      await w.firewall.applyIsolation(['wb-000001']);
      await w.firewall.applyIsolation([]);
      expect(await w.observe()).toEqual([]);
    });

    it('removeIsolation turns it off, and tolerates being repeated or called first', async () => {
      await w.firewall.removeIsolation();
      await w.firewall.applyIsolation(['wb-000001']);
      await w.firewall.removeIsolation();
      await w.firewall.removeIsolation();
      expect(await w.observe()).toBeUndefined();
    });

    it('apply after remove puts isolation back (nothing cached survives removal)', async () => {
      await w.firewall.applyIsolation(['wb-000001']);
      await w.firewall.removeIsolation();
      await w.firewall.applyIsolation(['wb-000001']);
      expect(await w.observe()).toEqual(['wb-000001']);
    });

    it.each(['eth0', 'wb-0123456789abc', 'wb-a*'])('a bad bridge name %j is rejected with EINVAL and changes nothing', async (bad) => {
      await w.firewall.applyIsolation(['wb-000001']);
      const p = w.firewall.applyIsolation(['wb-000002', bad]);
      await expect(p).rejects.toBeInstanceOf(DatapathError);
      await expect(p).rejects.toMatchObject({ errno: 'EINVAL', object: `bridge ${JSON.stringify(bad)}` });
      expect(await w.observe()).toEqual(['wb-000001']);
    });
  });
}
