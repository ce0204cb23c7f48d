// A small in-memory kernel for the agent's unit tests: namespaces of links,
// addresses and routes, veth pairs across namespaces, bridges with ports,
// and failure injection per operation. Errors are DatapathErrors, like the
// real datapath's. (Stand-in until agents/datapath/fake-kernel.ts exists.)
import { DatapathError } from '../../../../agents/datapath/errors.js';
import type {
  AddrInfo, BridgeSpec, DatapathFactory, LinkInfo, NetnsHandle, RouteInfo, VethSpec,
} from '../../../../agents/datapath/port.js';

export type FakeOp =
  | 'at' | 'listLinks' | 'getLink' | 'addBridge' | 'addVeth' | 'setLinkUp' | 'setLinkAlias' | 'setLinkMtu'
  | 'setLinkMaster' | 'removeLink' | 'listAddrs' | 'addrAdd' | 'addrDel' | 'listRoutes' | 'routeReplace';

interface Failure {
  op: FakeOp;
  ns?: string;
  /** matching calls to let through first */
  skip: number;
  times: number;
  errno: string;
}

interface FakeLink extends LinkInfo {
  ns: string;
  peer?: { ns: string; index: number };
}

class FakeNs {
  readonly links = new Map<number, FakeLink>();
  addrs: AddrInfo[] = [];
  routes: RouteInfo[] = [];
  constructor(readonly path: string) {}
  byName(name: string): FakeLink | undefined {
    for (const l of this.links.values()) if (l.name === name) return l;
    return undefined;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const copy = (l: FakeLink): LinkInfo => {
  const { ns: _ns, peer: _peer, ...info } = l;
  return { ...info };
};

let macCounter = 0;
function nextMac(): string {
  macCounter++;
  return `02:fa:00:00:${((macCounter >> 8) & 255).toString(16).padStart(2, '0')}:${(macCounter & 255).toString(16).padStart(2, '0')}`;
}

export class FakeDatapath implements DatapathFactory {
  readonly namespaces = new Map<string, FakeNs>();
  private nextIndex = 2; // 1 is every namespace's lo
  private failures: Failure[] = [];
  /** How long removeLink takes (the real kernel: ~20 ms per veth). */
  deleteDelayMs = 0;
  openHandles = 0;
  private readonly hostHandle: FakeHandle;

  constructor() {
    this.addNetns('host');
    this.hostHandle = new FakeHandle(this, 'host', true);
  }

  addNetns(path: string): string {
    const ns = new FakeNs(path);
    ns.links.set(1, { index: 1, name: 'lo', kind: undefined, up: false, mtu: 65536, mac: '00:00:00:00:00:00', ns: path });
    this.namespaces.set(path, ns);
    return path;
  }

  ns(path: string): FakeNs {
    const ns = this.namespaces.get(path);
    if (!ns) throw new DatapathError('open', `netns "${path}"`, 'ENOENT');
    return ns;
  }

  /** Make the next `times` calls of `op` (optionally in one namespace) fail with `errno`. */
  failOn(op: FakeOp, opts: { ns?: string; skip?: number; times?: number; errno?: string } = {}): void {
    const f: Failure = { op, skip: opts.skip ?? 0, times: opts.times ?? 1, errno: opts.errno ?? 'EIO' };
    if (opts.ns !== undefined) f.ns = opts.ns;
    this.failures.push(f);
  }

  clearFailures(): void {
    this.failures = [];
  }

  check(op: FakeOp, ns: string, object: string): void {
    const f = this.failures.find((x) => x.op === op && (x.ns === undefined || x.ns === ns) && x.times > 0);
    if (!f) return;
    if (f.skip > 0) {
      f.skip--;
      return;
    }
    f.times--;
    throw new DatapathError(op, object, f.errno);
  }

  allocIndex(): number {
    return this.nextIndex++;
  }

  host(): NetnsHandle {
    return this.hostHandle;
  }

  async at(path: string): Promise<NetnsHandle> {
    this.check('at', path, `netns "${path}"`);
    this.ns(path);
    this.openHandles++;
    return new FakeHandle(this, path, false);
  }

  async createNamedNetns(name: string): Promise<string> {
    const path = `/run/netns/${name}`;
    if (this.namespaces.has(path)) throw new DatapathError('create', `netns "${name}"`, 'EEXIST');
    return this.addNetns(path);
  }

  async deleteNamedNetns(name: string): Promise<void> {
    this.namespaces.delete(`/run/netns/${name}`);
  }

  async listNamedNetns(): Promise<string[]> {
    return [...this.namespaces.keys()].filter((p) => p.startsWith('/run/netns/')).map((p) => p.slice('/run/netns/'.length));
  }

  // ---- test inspection ----
  links(ns = 'host'): LinkInfo[] {
    return [...this.ns(ns).links.values()].map(copy);
  }

  link(ns: string, name: string): LinkInfo | undefined {
    const l = this.ns(ns).byName(name);
    return l ? copy(l) : undefined;
  }

  addrsOf(ns: string, name: string): AddrInfo[] {
    const l = this.ns(ns).byName(name);
    return l ? this.ns(ns).addrs.filter((a) => a.index === l.index) : [];
  }

  routes(ns: string): RouteInfo[] {
    return [...this.ns(ns).routes];
  }

  /** Links weft would own in the host namespace (wb-/wv-). */
  weftLinks(): string[] {
    return this.links('host')
      .map((l) => l.name)
      .filter((n) => n.startsWith('wb-') || n.startsWith('wv-'))
      .sort();
  }

  // ---- kernel behaviour ----
  removeNow(nsPath: string, index: number): void {
    const ns = this.namespaces.get(nsPath);
    const l = ns?.links.get(index);
    if (!ns || !l) return;
    ns.links.delete(index);
    ns.addrs = ns.addrs.filter((a) => a.index !== index);
    ns.routes = ns.routes.filter((r) => r.oif !== index);
    if (l.kind === 'bridge') for (const p of ns.links.values()) if (p.master === index) delete p.master;
    if (l.peer) this.removeNow(l.peer.ns, l.peer.index);
  }
}

class FakeHandle implements NetnsHandle {
  private closed = false;

  constructor(
    private readonly dp: FakeDatapath,
    readonly ns: string,
    private readonly shared: boolean,
  ) {}

  private space(): FakeNs {
    if (this.closed) throw new Error(`handle on ${this.ns} used after close`);
    return this.dp.ns(this.ns);
  }

  private linkAt(index: number, op: string): FakeLink {
    const l = this.space().links.get(index);
    if (!l) throw new DatapathError(op, `link #${index}`, 'ENODEV');
    return l;
  }

  async listLinks(): Promise<LinkInfo[]> {
    this.dp.check('listLinks', this.ns, 'links');
    return [...this.space().links.values()].map(copy);
  }

  async getLink(name: string): Promise<LinkInfo | undefined> {
    this.dp.check('getLink', this.ns, `link "${name}"`);
    const l = this.space().byName(name);
    return l ? copy(l) : undefined;
  }

  async addBridge(spec: BridgeSpec): Promise<LinkInfo> {
    this.dp.check('addBridge', this.ns, `bridge "${spec.name}"`);
    const ns = this.space();
    if (ns.byName(spec.name)) throw new DatapathError('create', `bridge "${spec.name}"`, 'EEXIST');
    const l: FakeLink = { index: this.dp.allocIndex(), name: spec.name, kind: 'bridge', up: false, mtu: spec.mtu, mac: spec.mac ?? nextMac(), ns: this.ns };
    ns.links.set(l.index, l); // alias ignored at create, like the kernel
    return copy(l);
  }

  async addVeth(spec: VethSpec): Promise<LinkInfo> {
    this.dp.check('addVeth', this.ns, `veth "${spec.name}"`);
    const ns = this.space();
    const peerNs = this.dp.ns(spec.peer.netns);
    if (ns.byName(spec.name)) throw new DatapathError('create', `veth "${spec.name}"`, 'EEXIST');
    if (peerNs.byName(spec.peer.name)) throw new DatapathError('create', `veth "${spec.name}"`, 'EEXIST');
    if (spec.master !== undefined && ns.links.get(spec.master)?.kind !== 'bridge') {
      throw new DatapathError('create', `veth "${spec.name}"`, 'ENODEV');
    }
    const hostIndex = this.dp.allocIndex();
    const peerIndex = this.dp.allocIndex();
    const host: FakeLink = {
      index: hostIndex, name: spec.name, kind: 'veth', up: spec.up, mtu: spec.mtu, mac: nextMac(), ns: this.ns,
      peerIndex, peer: { ns: spec.peer.netns, index: peerIndex },
    };
    if (spec.master !== undefined) host.master = spec.master;
    const peer: FakeLink = {
      index: peerIndex, name: spec.peer.name, kind: 'veth', up: spec.peer.up, mtu: spec.mtu, mac: spec.peer.mac ?? nextMac(),
      ns: spec.peer.netns, peerIndex: hostIndex, peer: { ns: this.ns, index: hostIndex },
    };
    ns.links.set(hostIndex, host);
    peerNs.links.set(peerIndex, peer);
    return copy(host);
  }

  async setLinkUp(index: number): Promise<void> {
    this.dp.check('setLinkUp', this.ns, `link #${index}`);
    this.linkAt(index, 'set up').up = true;
  }

  async setLinkAlias(index: number, alias: string): Promise<void> {
    this.dp.check('setLinkAlias', this.ns, `link #${index}`);
    this.linkAt(index, 'set alias').alias = alias;
  }

  async setLinkMtu(index: number, mtu: number): Promise<void> {
    this.dp.check('setLinkMtu', this.ns, `link #${index}`);
    this.linkAt(index, 'set mtu').mtu = mtu;
  }

  async setLinkMaster(index: number, master: number): Promise<void> {
    this.dp.check('setLinkMaster', this.ns, `link #${index}`);
    if (this.space().links.get(master)?.kind !== 'bridge') throw new DatapathError('set master', `link #${index}`, 'EINVAL');
    this.linkAt(index, 'set master').master = master;
  }

  async removeLink(index: number): Promise<void> {
    this.dp.check('removeLink', this.ns, `link #${index}`);
    if (!this.space().links.has(index)) return;
    if (this.dp.deleteDelayMs > 0) await sleep(this.dp.deleteDelayMs);
    this.dp.removeNow(this.ns, index);
  }

  async listAddrs(index?: number): Promise<AddrInfo[]> {
    this.dp.check('listAddrs', this.ns, 'addresses');
    return this.space().addrs.filter((a) => index === undefined || a.index === index).map((a) => ({ ...a }));
  }

  async addrAdd(index: number, address: string, prefixLength: number): Promise<void> {
    this.dp.check('addrAdd', this.ns, `address ${address}/${prefixLength}`);
    this.linkAt(index, 'add address');
    const ns = this.space();
    const same = ns.addrs.find((a) => a.index === index && a.address === address);
    if (same) {
      if (same.prefixLength === prefixLength) return;
      throw new DatapathError('add address', `${address}/${prefixLength}`, 'EEXIST');
    }
    ns.addrs.push({ index, address, prefixLength, family: address.includes(':') ? 6 : 4 });
  }

  async addrDel(index: number, address: string, prefixLength: number): Promise<void> {
    this.dp.check('addrDel', this.ns, `address ${address}/${prefixLength}`);
    const ns = this.space();
    const before = ns.addrs.length;
    ns.addrs = ns.addrs.filter((a) => !(a.index === index && a.address === address && a.prefixLength === prefixLength));
    if (ns.addrs.length === before) throw new DatapathError('delete address', `${address}/${prefixLength}`, 'EADDRNOTAVAIL');
  }

  async listRoutes(family?: 4 | 6): Promise<RouteInfo[]> {
    this.dp.check('listRoutes', this.ns, 'routes');
    return this.space().routes.filter((r) => family === undefined || r.family === family).map((r) => ({ ...r }));
  }

  async routeReplace(route: RouteInfo): Promise<void> {
    this.dp.check('routeReplace', this.ns, `route ${route.dst}`);
    const ns = this.space();
    if (route.oif !== undefined) this.linkAt(route.oif, 'replace route');
    ns.routes = ns.routes.filter((r) => !(r.dst === route.dst && r.family === route.family));
    ns.routes.push({ ...route });
  }

  close(): void {
    if (this.shared || this.closed) return;
    this.closed = true;
    this.dp.openHandles--;
  }
}
