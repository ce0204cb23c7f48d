// DatapathFactory on the real kernel: handles are rtnetlink sockets bound to
// their namespace; named namespaces are made the iproute2 way (unshare + bind
// mount) without running `ip`.
import type { DatapathFactory, NetnsHandle } from '../port.js';
import { NetlinkHandle, type NetlinkHandleOptions } from './netlink-handle.js';
import { createNamedNetns, deleteNamedNetns, listNamedNetns, netnsIdentity } from './netns.js';

export class NetlinkDatapath implements DatapathFactory {
  private hostHandle: NetlinkHandle | undefined;
  private readonly opts: NetlinkHandleOptions;

  constructor(opts: NetlinkHandleOptions = {}) {
    this.opts = opts;
  }

  host(): NetnsHandle {
    // Lazily: constructing the factory (e.g. in a DI container) opens nothing.
    this.hostHandle ??= NetlinkHandle.openHost(this.opts);
    return this.hostHandle;
  }

  async at(path: string): Promise<NetnsHandle> {
    return NetlinkHandle.openAt(path, this.opts);
  }

  async netnsId(path: string): Promise<string | undefined> {
    return netnsIdentity(path);
  }

  async createNamedNetns(name: string): Promise<string> {
    return createNamedNetns(name);
  }

  async deleteNamedNetns(name: string): Promise<void> {
    deleteNamedNetns(name);
  }

  async listNamedNetns(): Promise<string[]> {
    return listNamedNetns();
  }

  /**
   * A long-lived handle for the agent's bridge namespace (`path`, or the
   * process's own): its link deletions run on a worker thread so they never
   * stall the agent's event loop. The caller closes it.
   */
  openAgentHandle(path?: string): NetnsHandle {
    const opts = { ...this.opts, offloadDeletes: true };
    return path === undefined ? NetlinkHandle.openHost(opts) : NetlinkHandle.openAt(path, opts);
  }

  /** Close the shared host handle (process shutdown, tests). */
  close(): void {
    this.hostHandle?.close();
    this.hostHandle = undefined;
  }
}
