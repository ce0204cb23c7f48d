// Serialise async work per key (a container ID) while different keys run
// concurrently. Entries vanish when their queue drains.
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let done = () => {};
    const mine = new Promise<void>((resolve) => (done = resolve));
    const tail = before.then(() => mine);
    this.tails.set(key, tail);
    await before;
    try {
      return await fn();
    } finally {
      done();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /**
   * Run `fn` only if nothing holds or awaits `key` now; undefined (without
   * waiting) otherwise. For work that must never queue behind, or wait for,
   * what holds the key.
   */
  async tryRun<T>(key: string, fn: () => Promise<T>): Promise<T | undefined> {
    // Checked and taken in one synchronous step: nothing can slip in between.
    if (this.isLocked(key)) return undefined;
    return this.run(key, fn);
  }

  isLocked(key: string): boolean {
    return this.tails.has(key);
  }
}
