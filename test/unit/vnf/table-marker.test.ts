// The mark a VNF's table carries of the document it was loaded from.
import type { NftDocument } from '../../../model/nft-json.js';
import { hasTableMarker, tableMarker, withTableMarker } from '../../../vnf/table-marker.js';

const doc = (name: string): NftDocument => ({ nftables: [{ metainfo: { json_schema_version: 1 } }, { add: { table: { family: 'inet', name } } }] });

describe('table marker', () => {
  test('one document, one marker; another document, another', () => {
    expect(tableMarker(doc('t'))).toBe(tableMarker(doc('t')));
    expect(tableMarker(doc('t'))).not.toBe(tableMarker(doc('u')));
    expect(tableMarker(doc('t'))).toMatch(/^weft-doc-[0-9a-f]{16}$/);
  });

  test('the marker is a named counter added last, in the same transaction', () => {
    const m = tableMarker(doc('t'));
    const marked = withTableMarker(doc('t'), 'inet', 't', m);
    expect(marked.nftables.at(-1)).toEqual({ add: { counter: { family: 'inet', table: 't', name: m } } });
    expect(marked.nftables.slice(0, -1)).toEqual(doc('t').nftables);
  });

  test('a listing carries the marker only when it lists that named counter', () => {
    const m = tableMarker(doc('t'));
    expect(hasTableMarker([{ table: { family: 'inet', name: 't' } }, { counter: { family: 'inet', table: 't', name: m, packets: 0, bytes: 0 } }], m)).toBe(true);
    expect(hasTableMarker([{ counter: { family: 'inet', table: 't', name: tableMarker(doc('u')) } }], m)).toBe(false);
    expect(hasTableMarker([{ rule: { comment: m } }, null, 'x'], m)).toBe(false);
  });
});
