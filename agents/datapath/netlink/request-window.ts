// How many requests one netlink socket may have outstanding at once.
//
// The kernel answers every request (ack or reply) into the socket's receive
// buffer (208 KiB by default, ~250 acks). node_netlink sends everything queued
// in one loop and reads at most 32 messages per turn of the event loop, and a
// veth delete keeps the sending thread in the kernel for ~15-20 ms, so a burst
// of requests (500 detaches in a row) fills the buffer before anything is
// read. The kernel then drops the replies and sets ENOBUFS on the socket;
// node_netlink turns that (POLLERR) into a C++ exception inside a libuv
// callback, which aborts the whole process. A window keeps the replies that
// can be waiting well below what the buffer holds.
//
// First come, first served: a request that must wait gets its turn in the
// order it asked, so requests issued back to back still reach the kernel in
// that order (the attach path relies on it).
export class RequestWindow {
  private active = 0;
  private readonly queue: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`request window size must be a positive integer, not ${size}`);
  }

  /** Requests holding a slot now. */
  get inflight(): number {
    return this.active;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Take a slot. Undefined when one was free: the caller holds it now and
   * may send in this same tick. Otherwise a promise that resolves once a
   * slot has been handed to the caller. Every slot taken is given back with
   * leave(), also when the request fails.
   */
  enter(): Promise<void> | undefined {
    if (this.active < this.size && this.queue.length === 0) {
      this.active++;
      return undefined;
    }
    return new Promise<void>((resolve) => this.queue.push(resolve));
  }

  /** Give a slot back: to the first in line, or free it. */
  leave(): void {
    const next = this.queue.shift();
    if (next) {
      next(); // the slot passes on; `active` stays as it is
      return;
    }
    if (this.active === 0) throw new Error('RequestWindow.leave() without enter()');
    if (--this.active === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Resolves once no request holds a slot and none waits for one. */
  async idle(): Promise<void> {
    while (this.active > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
