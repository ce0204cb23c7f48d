// Waits on behalf of an attaching agent until a new endpoint is in force on
// every other host whose plan it changed: that host's FDB and neighbour
// entries for it (so an ARP for it is answered at once, never dropped by the
// VXLAN proxy) and its policies' address sets (so a first SYN from it is not
// dropped). A host says so by reporting an applied revision at or past the
// endpoint's commit (its status after the reconcile pass that applied the
// delta). Bounded: past the bound, or when a waited-for host goes away, the
// answer goes out naming the hosts that are late.

export interface PropagationOutcome {
  /** the hosts that applied the endpoint */
  hosts: string[];
  /** the hosts that did not within the bound, or disconnected */
  late: string[];
}

interface Waiting {
  revision: number;
  pending: Set<string>;
  done: string[];
  late: string[];
  timer: NodeJS.Timeout;
  answer: (o: PropagationOutcome) => void;
}

export class EndpointPropagation {
  private readonly waiting = new Set<Waiting>();

  constructor(private readonly boundMs: number) {}

  /**
   * Answer once every host of `hosts` has applied `revision` (per
   * `appliedOf`, read now, then as reports come in). Answers at once when
   * none is left to wait for.
   */
  wait(revision: number, hosts: Iterable<string>, appliedOf: (host: string) => number | undefined, answer: (o: PropagationOutcome) => void): void {
    const pending = new Set<string>();
    const done: string[] = [];
    for (const h of hosts) {
      if ((appliedOf(h) ?? 0) >= revision) done.push(h);
      else pending.add(h);
    }
    if (pending.size === 0) {
      answer({ hosts: done.sort(), late: [] });
      return;
    }
    const w: Waiting = { revision, pending, done, late: [], answer, timer: setTimeout(() => this.expire(w), this.boundMs) };
    w.timer.unref();
    this.waiting.add(w);
  }

  /** A host reported the revision it has applied. */
  applied(host: string, revision: number): void {
    for (const w of this.waiting) {
      if (revision < w.revision || !w.pending.delete(host)) continue;
      w.done.push(host);
      this.settleIfDone(w);
    }
  }

  /** A host's connection ended: nobody waits for it any longer. */
  gone(host: string): void {
    for (const w of this.waiting) {
      if (!w.pending.delete(host)) continue;
      w.late.push(host);
      this.settleIfDone(w);
    }
  }

  /** Answer every wait now (shutdown), the hosts still pending as late. */
  flush(): void {
    for (const w of [...this.waiting]) this.expire(w);
  }

  get size(): number {
    return this.waiting.size;
  }

  private expire(w: Waiting): void {
    w.late.push(...w.pending);
    w.pending.clear();
    this.settleIfDone(w);
  }

  private settleIfDone(w: Waiting): void {
    if (w.pending.size > 0 || !this.waiting.delete(w)) return;
    clearTimeout(w.timer);
    w.answer({ hosts: w.done.sort(), late: w.late.sort() });
  }
}
