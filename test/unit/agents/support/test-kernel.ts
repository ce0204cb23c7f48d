// The datapath team's FakeKernel plus what the agent's tests need on top:
// failing the Nth matching call (not only the next), a kernel that takes its
// time to delete a link (the real one: ~20 ms per veth), a count of the
// namespace handles the agent left open, and async read-back helpers.
import { FakeKernel, type FakeOp } from '../../../../agents/datapath/fake-kernel.js';
import type { AddrInfo, FdbEntry, LinkInfo, NeighEntry, NetnsHandle, RouteInfo, VxlanSpec } from '../../../../agents/datapath/port.js';

export type { FakeOp };

interface DelayedFailure {
  op: FakeOp;
  ns: string | undefined;
  skip: number;
  times: number;
  errno: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Delegates to a handle; removeLink waits first, like the kernel's RCU grace period. */
class SlowDeleteHandle implements NetnsHandle {
  constructor(
    private readonly inner: NetnsHandle,
    private readonly kernel: TestKernel,
    private readonly onClose: () => void,
  ) {}
  get ns() { return this.inner.ns; }
  get netnsId() { return this.inner.netnsId; }
  listLinks() { return this.inner.listLinks(); }
  getLink(name: string) { return this.inner.getLink(name); }
  addBridge(...a: Parameters<NetnsHandle['addBridge']>) { return this.inner.addBridge(...a); }
  addVeth(...a: Parameters<NetnsHandle['addVeth']>) { return this.inner.addVeth(...a); }
  addMacvlan(...a: Parameters<NetnsHandle['addMacvlan']>) { return this.inner.addMacvlan(...a); }
  setLinkUp(index: number) { return this.inner.setLinkUp(index); }
  setLinkAlias(index: number, alias: string) { return this.inner.setLinkAlias(index, alias); }
  setLinkMtu(index: number, mtu: number) { return this.inner.setLinkMtu(index, mtu); }
  setLinkMaster(index: number, master: number) { return this.inner.setLinkMaster(index, master); }
  async removeLink(index: number) {
    if (this.kernel.deleteDelayMs > 0) await sleep(this.kernel.deleteDelayMs);
    return this.inner.removeLink(index);
  }
  listAddrs(index?: number) { return this.inner.listAddrs(index); }
  addrAdd(index: number, address: string, prefixLength: number) { return this.inner.addrAdd(index, address, prefixLength); }
  addrDel(index: number, address: string, prefixLength: number) { return this.inner.addrDel(index, address, prefixLength); }
  listRoutes(family?: 4 | 6) { return this.inner.listRoutes(family); }
  routeReplace(route: RouteInfo) { return this.inner.routeReplace(route); }
  routeDel(route: RouteInfo) { return this.inner.routeDel(route); }
  setSysctl(key: string, value: string) { return this.inner.setSysctl(key, value); }
  addVxlan(spec: VxlanSpec) { return this.inner.addVxlan(spec); }
  setLinkMac(index: number, mac: string) { return this.inner.setLinkMac(index, mac); }
  listFdb(index: number) { return this.inner.listFdb(index); }
  fdbAppend(entry: FdbEntry) { return this.inner.fdbAppend(entry); }
  fdbDel(entry: FdbEntry) { return this.inner.fdbDel(entry); }
  listNeigh(index: number) { return this.inner.listNeigh(index); }
  neighReplace(entry: NeighEntry) { return this.inner.neighReplace(entry); }
  neighDel(entry: Omit<NeighEntry, 'mac' | 'permanent'>) { return this.inner.neighDel(entry); }
  setBridgePortNeighSuppress(index: number, on: boolean) { return this.inner.setBridgePortNeighSuppress(index, on); }
  findAddressOwner(address: string) { return this.inner.findAddressOwner(address); }
  close() {
    this.onClose();
    this.inner.close();
  }
}

export class TestKernel extends FakeKernel {
  deleteDelayMs = 0;
  /** Handles opened with at() and not closed yet. */
  openHandles = 0;
  private readonly delayed: DelayedFailure[] = [];
  private hostWrapper: NetnsHandle | undefined;
  private inspecting = 0;

  /** Fail the matching call after letting `skip` through, `times` times. */
  failOn(op: FakeOp, opts: { ns?: string; skip?: number; times?: number; errno?: string } = {}): void {
    this.delayed.push({ op, ns: opts.ns, skip: opts.skip ?? 0, times: opts.times ?? 1, errno: opts.errno ?? 'EIO' });
  }

  override record(ns: string, op: FakeOp, object: string, args: unknown[]): void {
    const f = this.inspecting > 0 ? undefined : this.delayed.find((d) => d.op === op && (d.ns === undefined || d.ns === ns) && d.times > 0);
    if (f) {
      if (f.skip > 0) f.skip--;
      else {
        f.times--;
        this.failNext(op, f.errno, ns);
      }
    }
    super.record(ns, op, object, args);
  }

  override host(): NetnsHandle {
    this.hostWrapper ??= new SlowDeleteHandle(super.host(), this, () => {});
    return this.hostWrapper;
  }

  override async at(path: string): Promise<NetnsHandle> {
    const inner = await super.at(path);
    this.openHandles++;
    let closed = false;
    return new SlowDeleteHandle(inner, this, () => {
      if (!closed) this.openHandles--;
      closed = true;
    });
  }

  /** A workload namespace (named, so it outlives the agent's handle). */
  async workload(name: string): Promise<string> {
    return this.createNamedNetns(name);
  }

  // ---- read-back, through the port like the agent, without counting as agent handles ----
  private async inNs<T>(ns: string, fn: (h: NetnsHandle) => Promise<T>): Promise<T> {
    this.inspecting++;
    try {
      if (ns === 'host') return await fn(super.host());
      const h = await super.at(ns);
      try {
        return await fn(h);
      } finally {
        h.close();
      }
    } finally {
      this.inspecting--;
    }
  }

  links(ns = 'host'): Promise<LinkInfo[]> {
    return this.inNs(ns, (h) => h.listLinks());
  }

  link(ns: string, name: string): Promise<LinkInfo | undefined> {
    return this.inNs(ns, (h) => h.getLink(name));
  }

  /** Addresses of one family (IPv6: without the link-local ones a real kernel adds by itself). */
  async addrsOf(ns: string, name: string, family: 4 | 6 = 4): Promise<AddrInfo[]> {
    return this.inNs(ns, async (h) => {
      const l = await h.getLink(name);
      return l ? (await h.listAddrs(l.index)).filter((a) => a.family === family && !a.address.startsWith('fe80:')) : [];
    });
  }

  /** Static routes only (not the connected ones the kernel derives). */
  async routes(ns: string, family: 4 | 6 = 4): Promise<RouteInfo[]> {
    return (await this.inNs(ns, (h) => h.listRoutes(family))).filter((r) => r.dst === 'default' || r.gateway !== undefined);
  }

  /** FDB entries of a host-namespace VXLAN device as "mac dst" strings, sorted ([] when absent). */
  async fdbOf(name: string): Promise<string[]> {
    return this.inNs('host', async (h) => {
      const l = await h.getLink(name);
      return l ? (await h.listFdb(l.index)).map((e) => `${e.mac} ${e.dst}`).sort() : [];
    });
  }

  /** Neighbour entries of a host-namespace device as "ip mac" strings, sorted ([] when absent). */
  async neighOf(name: string): Promise<string[]> {
    return this.inNs('host', async (h) => {
      const l = await h.getLink(name);
      return l ? (await h.listNeigh(l.index)).map((e) => `${e.ip} ${e.mac}${e.permanent ? '' : ' (not permanent)'}`).sort() : [];
    });
  }

  /** Names of weft's links (wb-/wv-) in the host namespace, sorted. */
  async weftLinks(prefix?: 'wb-' | 'wv-'): Promise<string[]> {
    return (await this.links('host'))
      .map((l) => l.name)
      .filter((n) => (prefix ? n.startsWith(prefix) : n.startsWith('wb-') || n.startsWith('wv-')))
      .sort();
  }
}
