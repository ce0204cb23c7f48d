// Link deletion off the main thread. rtnetlink requests run inside the
// sendmsg() that carries them, and deleting a veth keeps the sending thread
// in the kernel for ~20 ms (it waits for the device's last references). On
// the agent's main thread that would stall every other request for as long,
// so deletions go to a worker thread with a netlink socket of its own in the
// same namespace (setns there switches only that thread). The worker deletes
// one link at a time (see link-reaper-worker.ts).
//
// A lost thread (an uncaught error there) fails only the deletions it had
// been given; the next deletion starts a new thread, so one failure never
// stops every later detach.
import { Worker } from 'node:worker_threads';
import { DatapathError, kernelObject } from '../errors.js';

export interface ReapRequest {
  id: number;
  index: number;
}

export type ReapReply = { id: number; ok: true } | { id: number; ok: false; op: string; object: string; errno: string };

const WORKER_SCRIPT = new URL('./link-reaper-worker.js', import.meta.url);

interface Pending {
  index: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class LinkReaper {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  /**
   * ns: a namespace path, or 'host' for the namespace the process started in.
   * script: the worker's code (tests substitute their own).
   */
  constructor(
    private readonly ns: string,
    private readonly timeoutMs: number,
    private readonly script: URL = WORKER_SCRIPT,
  ) {
    this.start(); // now, so the first deletion does not wait for a thread to start
  }

  remove(index: number): Promise<void> {
    if (this.closed) return Promise.reject(new DatapathError('delete', kernelObject.link(index), 'EBADF'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { index, resolve, reject });
      worker.ref(); // while a deletion is in flight
      worker.postMessage({ id, index } satisfies ReapRequest);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    const worker = new Worker(this.script, { workerData: { ns: this.ns, timeoutMs: this.timeoutMs } });
    worker.unref(); // never keep the agent alive by itself
    worker.on('message', (reply: ReapReply) => this.settle(reply));
    worker.on('error', (err) => this.lost(worker, err));
    worker.on('exit', (code) => this.lost(worker, new Error(`link reaper thread exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private settle(reply: ReapReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (reply.ok) p.resolve();
    else p.reject(new DatapathError(reply.op, reply.object, reply.errno));
  }

  /** The thread is gone ('error' then 'exit' both come here; the first one counts). */
  private lost(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined; // the next remove() starts a fresh one
    // Whatever it was given may or may not have happened: the caller reads the kernel again.
    for (const p of this.pending.values()) p.reject(new DatapathError('delete', kernelObject.link(p.index), 'EIO', { cause: err }));
    this.pending.clear();
  }
}
