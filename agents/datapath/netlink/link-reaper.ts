// Link deletion off the main thread. rtnetlink requests run inside the
// sendmsg() that carries them, and deleting a veth keeps the sending thread
// in the kernel for ~20 ms (it waits for the device's last references). On
// the agent's main thread that would stall every other request for as long,
// so deletions go to a worker thread with a netlink socket of its own in the
// same namespace (setns there switches only that thread).
import { Worker } from 'node:worker_threads';
import { DatapathError, kernelObject } from '../errors.js';

interface ReapRequest {
  id: number;
  index: number;
}

export type ReapReply = { id: number; ok: true } | { id: number; ok: false; op: string; object: string; errno: string };

export class LinkReaper {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>();
  private nextId = 1;
  private failure: Error | undefined;

  /** ns: a namespace path, or 'host' for the namespace the process started in. */
  constructor(ns: string, timeoutMs: number) {
    this.worker = new Worker(new URL('./link-reaper-worker.js', import.meta.url), { workerData: { ns, timeoutMs } });
    this.worker.unref(); // never keep the agent alive by itself
    this.worker.on('message', (reply: ReapReply) => this.settle(reply));
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => this.failAll(new Error(`link reaper thread exited with code ${code}`)));
  }

  remove(index: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref(); // while a deletion is in flight
      this.worker.postMessage({ id, index } satisfies ReapRequest);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private settle(reply: ReapReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.ok) p.resolve();
    else p.reject(new DatapathError(reply.op, reply.object, reply.errno));
  }

  private failAll(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(new DatapathError('delete', kernelObject.link(0), 'EIO', { cause: err }));
    this.pending.clear();
  }
}
