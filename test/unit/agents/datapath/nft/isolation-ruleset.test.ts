// renderIsolation against golden JSON (documents nft 1.0.6 accepted in the
// kernel test), its validation table, and parseIsolation against a listing
// captured from nft 1.0.6.
import { readFileSync } from 'node:fs';
import {
  ISOLATION_COMMENT,
  ISOLATION_PRIORITY,
  ISOLATION_TABLE,
  parseBridgeSet,
  parseIsolation,
  renderIsolation,
} from '../../../../../agents/datapath/nft/isolation-ruleset.js';
import { DatapathError } from '../../../../../agents/datapath/errors.js';
import type { NftListObject } from '../../../../../model/nft-json.js';

function golden(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./golden/${name}`, import.meta.url), 'utf8'));
}

function caught(fn: () => unknown): DatapathError {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof DatapathError) return err;
    throw err;
  }
  throw new Error('expected a DatapathError');
}

describe('renderIsolation', () => {
  it('renders two bridges as the golden document', () => {
    expect(renderIsolation(['wb-000002', 'wb-000001'])).toEqual(golden('isolation-two-bridges.json'));
  });

  it('renders no bridges as a table whose set has no elements (no empty elem array)', () => {
    expect(renderIsolation([])).toEqual(golden('isolation-no-bridges.json'));
  });

  it('does not depend on order or duplicates in the input', () => {
    expect(renderIsolation(['wb-000001', 'wb-000002', 'wb-000001'])).toEqual(renderIsolation(['wb-000002', 'wb-000001']));
  });

  it('replaces the table in one transaction: add, delete, then recreate, before anything else', () => {
    const cmds = renderIsolation(['wb-1']).nftables.slice(1);
    expect(cmds.slice(0, 3)).toEqual([
      { add: { table: { family: 'inet', name: ISOLATION_TABLE } } },
      { delete: { table: { family: 'inet', name: ISOLATION_TABLE } } },
      { add: { table: { family: 'inet', name: ISOLATION_TABLE } } },
    ]);
  });

  it('touches only its own weft- prefixed inet table', () => {
    for (const c of renderIsolation(['wb-1', 'wb-2']).nftables) {
      if ('metainfo' in c) continue;
      const target = Object.values(c)[0] as object;
      const o = Object.values(target)[0] as { family: string; table?: string; name: string };
      expect(o.family).toBe('inet');
      expect('table' in target ? o.name : o.table).toBe('weft-isolation');
    }
  });

  it('hooks forward at filter - 10 with policy accept, so only the drop rule ever drops', () => {
    const chain = renderIsolation([]).nftables.find((c) => 'add' in c && 'chain' in c.add);
    expect(chain).toEqual({
      add: { chain: { family: 'inet', table: ISOLATION_TABLE, name: 'forward', type: 'filter', hook: 'forward', prio: ISOLATION_PRIORITY, policy: 'accept' } },
    });
    expect(ISOLATION_PRIORITY).toBe(-10);
  });
});

describe('parseBridgeSet (validation before rendering)', () => {
  it.each([
    ['eth0', 'not a weft bridge'],
    ['wb-', 'prefix only'],
    ['WB-1', 'wrong-case prefix'],
    ['wb-0123456789abc', '16 bytes'],
    ['wb-a*', 'a wildcard'],
    ['wb-a\\b', 'a backslash'],
    ['wb-a b', 'a space'],
    ['wb-"x', 'a quote'],
    ['wb-é', 'non-ASCII'],
  ])('rejects %j (%s) with EINVAL naming the bridge', (name) => {
    const err = caught(() => parseBridgeSet(['wb-ok', name]));
    expect(err).toMatchObject({ op: 'isolate', object: `bridge ${JSON.stringify(name)}`, errno: 'EINVAL' });
    expect(() => renderIsolation([name])).toThrow(DatapathError);
  });

  it('accepts a 15-byte name and returns the set sorted and deduplicated', () => {
    expect(parseBridgeSet(['wb-0123456789ab', 'wb-1', 'wb-1', 'wb-0'])).toEqual(['wb-0', 'wb-0123456789ab', 'wb-1']);
  });
});

describe('parseIsolation', () => {
  const listing = (golden('listing-two-bridges.nft-1.0.6.json') as { nftables: Array<Record<string, unknown>> }).nftables.filter(
    (o) => !('metainfo' in o),
  ) as unknown as NftListObject[];

  it('reads bridges, drop counter and priority from a listing nft 1.0.6 printed', () => {
    expect(parseIsolation(listing)).toEqual({ bridges: ['wb-000001', 'wb-000002'], drops: { packets: 0, bytes: 0 }, priority: -10 });
  });

  it('is undefined for a listing without the table', () => {
    expect(parseIsolation([])).toBeUndefined();
  });

  it('ignores set elements that are not a pair of one bridge, and rules that are not ours', () => {
    const odd: NftListObject[] = [
      { table: { family: 'inet', name: ISOLATION_TABLE } },
      { set: { family: 'inet', table: ISOLATION_TABLE, name: 'same-bridge', type: ['ifname', 'ifname'], elem: [{ concat: ['wb-b', 'wb-b'] }, { concat: ['wb-a', 'wb-b'] }] } },
      { rule: { family: 'inet', table: ISOLATION_TABLE, chain: 'forward', comment: 'someone else', expr: [{ counter: { packets: 9, bytes: 9 } }] } },
      { rule: { family: 'inet', table: ISOLATION_TABLE, chain: 'forward', comment: ISOLATION_COMMENT, expr: [{ counter: { packets: 3, bytes: 252 } }, { drop: null }] } },
    ];
    expect(parseIsolation(odd)).toEqual({ bridges: ['wb-b'], drops: { packets: 3, bytes: 252 } });
  });
});
