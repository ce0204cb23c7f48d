// NftIsolationTable's own logic with a recording transport instead of nft: what it
// sends, when it skips, how it orders concurrent calls and recovers from a
// failure. The kernel test checks the same class against nft.
import { NftIsolationTable, type NftTransport } from '../../../../../agents/datapath/nft/nft-isolation-table.js';
import { renderIsolation } from '../../../../../agents/datapath/nft/isolation-ruleset.js';
import { DatapathError } from '../../../../../agents/datapath/errors.js';
import type { NftDocument } from '../../../../../model/nft-json.js';

type Sent = { apply: NftDocument } | { deleteTable: [string, string | undefined] };

class RecordingNft implements NftTransport {
  readonly sent: Sent[] = [];
  /** pending outcomes, consumed in order; default: success at once */
  next: Array<() => Promise<void>> = [];

  async apply(doc: NftDocument): Promise<void> {
    this.sent.push({ apply: doc });
    await this.outcome();
  }

  async deleteTable(table: string, family?: string): Promise<void> {
    this.sent.push({ deleteTable: [table, family] });
    await this.outcome();
  }

  private outcome(): Promise<void> {
    return this.next.shift()?.() ?? Promise.resolve();
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('NftIsolationTable', () => {
  it('applies the rendered isolation document', async () => {
    const nft = new RecordingNft();
    await new NftIsolationTable(undefined, nft).applyIsolation(['wb-2', 'wb-1']);
    expect(nft.sent).toEqual([{ apply: renderIsolation(['wb-1', 'wb-2']) }]);
  });

  it('skips nft when the bridge set did not change (order and duplicates aside)', async () => {
    const nft = new RecordingNft();
    const fw = new NftIsolationTable(undefined, nft);
    await fw.applyIsolation(['wb-1', 'wb-2']);
    await fw.applyIsolation(['wb-2', 'wb-1', 'wb-1']);
    expect(nft.sent).toHaveLength(1);
    await fw.applyIsolation(['wb-1']);
    expect(nft.sent).toHaveLength(2);
  });

  it('an empty set is a change from no table, and is applied', async () => {
    const nft = new RecordingNft();
    await new NftIsolationTable(undefined, nft).applyIsolation([]);
    expect(nft.sent).toEqual([{ apply: renderIsolation([]) }]);
  });

  it('after a failed apply, the same set is applied again', async () => {
    const nft = new RecordingNft();
    const fw = new NftIsolationTable(undefined, nft);
    await fw.applyIsolation(['wb-1']);
    nft.next.push(() => Promise.reject(new DatapathError('apply', 'nft table inet weft-isolation', 'ENOBUFS')));
    await expect(fw.applyIsolation(['wb-2'])).rejects.toMatchObject({ errno: 'ENOBUFS' });
    // Unknown state now: even the previously applied set is sent again.
    await fw.applyIsolation(['wb-1']);
    expect(nft.sent).toHaveLength(3);
  });

  it('removeIsolation deletes the inet weft-isolation table and forgets the applied set', async () => {
    const nft = new RecordingNft();
    const fw = new NftIsolationTable(undefined, nft);
    await fw.applyIsolation(['wb-1']);
    await fw.removeIsolation();
    await fw.applyIsolation(['wb-1']);
    expect(nft.sent).toEqual([
      { apply: renderIsolation(['wb-1']) },
      { deleteTable: ['weft-isolation', 'inet'] },
      { apply: renderIsolation(['wb-1']) },
    ]);
  });

  it('rejects bad bridge names without running nft', async () => {
    const nft = new RecordingNft();
    await expect(new NftIsolationTable(undefined, nft).applyIsolation(['eth0'])).rejects.toBeInstanceOf(DatapathError);
    expect(nft.sent).toEqual([]);
  });

  it('runs concurrent calls one at a time, in call order, so the last call wins', async () => {
    const nft = new RecordingNft();
    const fw = new NftIsolationTable(undefined, nft);
    const slow = deferred();
    nft.next.push(() => slow.promise);
    const first = fw.applyIsolation(['wb-1']);
    const second = fw.applyIsolation(['wb-2']);
    const third = fw.removeIsolation();
    await new Promise((r) => setImmediate(r));
    expect(nft.sent).toHaveLength(1); // the others wait for the first
    slow.resolve();
    await Promise.all([first, second, third]);
    expect(nft.sent).toEqual([
      { apply: renderIsolation(['wb-1']) },
      { apply: renderIsolation(['wb-2']) },
      { deleteTable: ['weft-isolation', 'inet'] },
    ]);
  });

  it('a failed call does not stop the calls queued behind it', async () => {
    const nft = new RecordingNft();
    const fw = new NftIsolationTable(undefined, nft);
    nft.next.push(() => Promise.reject(new DatapathError('apply', 'x', 'EIO')));
    const first = fw.applyIsolation(['wb-1']);
    const second = fw.applyIsolation(['wb-2']);
    await expect(first).rejects.toMatchObject({ errno: 'EIO' });
    await expect(second).resolves.toBeUndefined();
  });
});
