// Which document a VNF's nft table was loaded from, kept in the table
// itself: a named counter `weft-doc-<hash>` added in the same transaction.
// A restarted agent finds the marker of the document it would load and
// adopts the table as it is (its counters, and nothing reloaded) instead of
// replacing it; any other document replaces it. nft 1.0.6 keeps no table
// comment in JSON, so a named counter (which costs nothing per packet)
// carries the mark. Pure: the agent's VNF host applies and lists.
import { createHash } from 'node:crypto';
import type { NftDocument, NftFamily } from '../model/nft-json.js';

const MARKER_PREFIX = 'weft-doc-';

/** The marker name of a document (a hash of its JSON). */
export function tableMarker(doc: NftDocument): string {
  return `${MARKER_PREFIX}${createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 16)}`;
}

/** The document with its marker added at the end (the document replaces the table whole, so it holds one marker). */
export function withTableMarker(doc: NftDocument, family: NftFamily, table: string, marker: string): NftDocument {
  return { nftables: [...doc.nftables, { add: { counter: { family, table, name: marker } } }] };
}

/** Does a listing of the table carry `marker`? */
export function hasTableMarker(listing: readonly unknown[], marker: string): boolean {
  return listing.some((o) => isObject(o) && isObject(o.counter) && o.counter.name === marker);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
