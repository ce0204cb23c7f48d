// IsolationTable on the real kernel: the isolation table rendered by
// renderIsolation, applied by nft in the agent's host namespace.
//
// Calls are serialised: each nft transaction is atomic, but two in flight at
// once could finish in either order and leave the older set in place.
// The last applied set is remembered so an unchanged set costs no nft
// process (~5 ms each); after a failure it is forgotten, so the next call
// applies again.
import type { IsolationTable } from '../isolation-table-port.js';
import { ISOLATION_FAMILY, ISOLATION_TABLE, parseBridgeSet, renderIsolation } from './isolation-ruleset.js';
import { NftRunner } from './nft-runner.js';

/** The runner verbs NftIsolationTable uses; unit tests pass a recording double. */
export type NftTransport = Pick<NftRunner, 'apply' | 'deleteTable'>;

export class NftIsolationTable implements IsolationTable {
  private readonly nft: NftTransport;
  /** sorted bridges last applied; null: table known absent; undefined: unknown */
  private applied: string[] | null | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * @param netns path of the agent's host namespace, or undefined for the
   *   namespace this process runs in
   */
  constructor(netns?: string, nft: NftTransport = new NftRunner({ ...(netns === undefined ? {} : { netns }), keepContext: true })) {
    this.nft = nft;
  }

  async applyIsolation(bridges: string[]): Promise<void> {
    // Validate before queueing: a bad list is the caller's bug and fails at
    // once. Queued before the first await, so call order is queue order.
    const wanted = parseBridgeSet(bridges);
    return this.serial(async () => {
      if (this.applied && sameList(this.applied, wanted)) return;
      this.applied = undefined;
      await this.nft.apply(renderIsolation(wanted));
      this.applied = wanted;
    });
  }

  async removeIsolation(): Promise<void> {
    // Always runs (no skip when known absent): it is the cleanup path, and cheap.
    return this.serial(async () => {
      this.applied = undefined;
      await this.nft.deleteTable(ISOLATION_TABLE, ISOLATION_FAMILY);
      this.applied = null;
    });
  }

  private serial(step: () => Promise<void>): Promise<void> {
    const next = this.queue.then(step, step);
    // The queue only orders; each caller gets its own outcome.
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
