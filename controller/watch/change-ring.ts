// The last N changes of the watch stream, numbered without gaps, so a
// client that reconnects with the seq it last saw can be given exactly the
// ones after it, or told that this is no longer possible.

export class ChangeRing<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private count = 0;
  private lastSeq = 0;
  /** Changes after this seq are all held (see floor). */
  private base = 0;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`change ring capacity must be a positive integer, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  /** Seq of the newest change (or of the restart, when none came since). */
  get last(): number {
    return this.lastSeq;
  }

  /** The oldest seq a client may resume from: every change after it is held. */
  get floor(): number {
    return this.base;
  }

  get size(): number {
    return this.count;
  }

  /** Hold the next change; make(seq) builds it. The oldest one is dropped when full. */
  append(make: (seq: number) => T): T {
    const seq = ++this.lastSeq;
    const item = make(seq);
    this.items[(this.start + this.count) % this.capacity] = item;
    if (this.count < this.capacity) {
      this.count += 1;
    } else {
      this.start = (this.start + 1) % this.capacity;
      this.base += 1;
    }
    return item;
  }

  /** The changes after seq, oldest first; undefined when they are not all held (too old) or seq was never reached. */
  after(seq: number): T[] | undefined {
    if (!Number.isInteger(seq) || seq < this.base || seq > this.lastSeq) return undefined;
    const out: T[] = [];
    for (let i = seq - this.base; i < this.count; i++) out.push(this.items[(this.start + i) % this.capacity] as T);
    return out;
  }

  /**
   * Forget every change (nothing was tracked for a while, so the gap cannot
   * be replayed) and skip one seq: no position from before can resume.
   */
  restart(): void {
    this.items.fill(undefined);
    this.start = 0;
    this.count = 0;
    this.lastSeq += 1;
    this.base = this.lastSeq;
  }
}
