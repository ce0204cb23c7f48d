// IsolationTable in memory, for the agent's unit tests. Behaves like
// NftIsolationTable as far as callers can tell (the same contract suite runs
// against both): the same validation, a whole-set replacement that either
// happens or not, removal that tolerates absence. failNext() injects a
// refusal so callers' error paths can be tested; `calls` records what was
// asked.
import type { IsolationTable } from './isolation-table-port.js';
import { DatapathError } from './errors.js';
import { ISOLATION_FAMILY, ISOLATION_TABLE, parseBridgeSet } from './nft/isolation-ruleset.js';

export type FakeIsolationCall = { op: 'applyIsolation'; bridges: string[] } | { op: 'removeIsolation' };

export class FakeIsolationTable implements IsolationTable {
  /** sorted, deduplicated bridges being isolated; undefined when isolation is off */
  bridges: string[] | undefined;
  readonly calls: FakeIsolationCall[] = [];
  private failures: Array<{ op: FakeIsolationCall['op'] | undefined; errno: string }> = [];

  /** The next call (of `op`, or any) fails with `errno` and changes nothing. */
  failNext(op?: FakeIsolationCall['op'], errno = 'EIO'): void {
    this.failures.push({ op, errno });
  }

  async applyIsolation(bridges: string[]): Promise<void> {
    this.calls.push({ op: 'applyIsolation', bridges: [...bridges] });
    const wanted = parseBridgeSet(bridges);
    this.maybeFail('applyIsolation', 'apply');
    this.bridges = wanted;
  }

  async removeIsolation(): Promise<void> {
    this.calls.push({ op: 'removeIsolation' });
    this.maybeFail('removeIsolation', 'apply');
    this.bridges = undefined;
  }

  private maybeFail(op: FakeIsolationCall['op'], verb: string): void {
    const i = this.failures.findIndex((f) => f.op === undefined || f.op === op);
    if (i < 0) return;
    const [f] = this.failures.splice(i, 1);
    // Worded like NftRunner's errors, so tests matching on op/object hold for both.
    throw new DatapathError(verb, `nft table ${ISOLATION_FAMILY} ${ISOLATION_TABLE}`, f?.errno ?? 'EIO');
  }
}
