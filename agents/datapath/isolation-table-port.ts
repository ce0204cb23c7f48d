// The agent's port for host-level network isolation. Implementations:
// NftIsolationTable (nft/nft-isolation-table.ts, the real kernel) and
// FakeIsolationTable (fake-isolation-table.ts, unit tests). Both validate bridge names the same way
// (parseBridgeSet) and reject a bad list with DatapathError EINVAL, changing
// nothing.

export interface IsolationTable {
  /**
   * Isolate weft networks from each other: forwarded traffic between two
   * different bridges in `bridges` (or any `wb-*` bridge) is dropped; traffic
   * within one listed bridge passes. `bridges` is the complete desired set
   * (order and duplicates do not matter), replaced atomically. A bridge not
   * listed is isolated from itself too, so list a bridge before or while it
   * is created and drop it only after it is deleted.
   */
  applyIsolation(bridges: string[]): Promise<void>;
  /** Remove isolation entirely; tolerates it being absent. */
  removeIsolation(): Promise<void>;
}

export const ISOLATION_TABLE = Symbol.for('weft.IsolationTable');
