// An in-memory kernel behind the datapath port, for unit tests of the agent.
// It answers like the real one (the same contract suite runs against both):
// EEXIST on a taken name, ENODEV on a missing link, ERANGE on a 16-byte
// name, veth peers appear in the target namespace, deleting one end deletes
// the other, a macvlan goes with the link it sits on, a namespace lives while it is named or a handle holds it, and
// addresses / routes are per namespace, and a VXLAN device has its own
// forwarding table (several remotes per group MAC, one per unicast MAC) and
// neighbour entries. failNext() injects a kernel refusal so rollback paths
// can be tested.
import ipaddr from 'ipaddr.js';
import type {
  AddrInfo,
  BridgeSpec,
  DatapathFactory,
  FdbEntry,
  LinkInfo,
  MacvlanSpec,
  NeighEntry,
  NetnsHandle,
  RouteInfo,
  VethSpec,
  VxlanSpec,
} from './port.js';
import { DatapathError, kernelObject } from './errors.js';

const NETNS_RUN_DIR_PATH = '/run/netns';
const IFNAMSIZ_MAX = 15;
const IFALIAS_MAX = 255;
const MIN_MTU = 68;
const MAX_MTU = 65535;
const LOOPBACK_MTU = 65536;
const VXLAN_N_VID = 1 << 24;
/** VXLAN_HEADROOM / VXLAN6_HEADROOM: outer Ethernet + IP + UDP + VXLAN headers */
const VXLAN_OVERHEAD = { 4: 50, 6: 70 } as const;
const ZERO_MAC = '00:00:00:00:00:00';

export interface FakeKernelOptions {
  /**
   * Whether bridge ports accept neigh_suppress. Off by default, like the
   * test machines' kernel: setBridgePortNeighSuppress then rejects with
   * EOPNOTSUPP.
   */
  bridgePortNeighSuppress?: boolean;
}

/** Everything a test can make fail: a handle verb or a factory verb. */
export type FakeOp =
  | Exclude<keyof NetnsHandle, 'ns' | 'netnsId' | 'close'>
  | Exclude<keyof DatapathFactory, 'host'>;

export interface FakeCall {
  /** 'host', or the namespace path the handle was opened at */
  ns: string;
  op: FakeOp;
  args: unknown[];
}

interface FakeLink {
  index: number;
  name: string;
  kind?: string;
  alias?: string;
  master?: number;
  up: boolean;
  mtu: number;
  mac: string;
  peer?: { ns: FakeNetns; index: number };
  /** a macvlan's lower link */
  lower?: { ns: FakeNetns; index: number };
  vxlan?: { vni: number; port: number; family: 4 | 6; dev?: number };
  neighSuppress?: boolean;
}

/** One MAC in a VXLAN device's table: its remotes share the entry's state, as in the driver. */
interface FakeFdb {
  index: number;
  mac: string;
  dsts: string[];
  permanent: boolean;
}

let namespaceSerial = 0;

class FakeNetns {
  readonly links = new Map<number, FakeLink>();
  addrs: AddrInfo[] = [];
  routes: RouteInfo[] = [];
  fdb: FakeFdb[] = [];
  neigh: NeighEntry[] = [];
  /** sysctls set through setSysctl (what was written; no defaults) */
  readonly sysctls = new Map<string, string>();
  /** open handles; the namespace outlives its name while one is open, like a socket's reference */
  handles = 0;
  named = false;
  alive = true;
  private nextIndex = 1;
  /** like an nsfs inode: a namespace made anew at the same path has another */
  readonly id = `fake:${++namespaceSerial}`;

  constructor(readonly label: string) {
    this.add({ name: 'lo', up: false, mtu: LOOPBACK_MTU, mac: '00:00:00:00:00:00' });
  }

  add(link: Omit<FakeLink, 'index'>): FakeLink {
    const full: FakeLink = { ...link, index: this.nextIndex++ };
    this.links.set(full.index, full);
    return full;
  }

  byName(name: string): FakeLink | undefined {
    for (const l of this.links.values()) if (l.name === name) return l;
    return undefined;
  }
}

/** The verb each operation reports in its DatapathError (as the netlink path does). */
const VERB: Record<FakeOp, string> = {
  listLinks: 'list',
  getLink: 'get',
  addBridge: 'create',
  addVeth: 'create',
  addMacvlan: 'create',
  setLinkUp: 'set up',
  setLinkAlias: 'set alias',
  setLinkMtu: 'set mtu',
  setLinkMaster: 'set master',
  removeLink: 'delete',
  listAddrs: 'list',
  addrAdd: 'add',
  addrDel: 'delete',
  listRoutes: 'list',
  routeReplace: 'replace',
  routeDel: 'delete',
  setSysctl: 'set',
  addVxlan: 'create',
  setLinkMac: 'set mac',
  listFdb: 'list',
  fdbAppend: 'append',
  fdbDel: 'delete',
  listNeigh: 'list',
  neighReplace: 'replace',
  neighDel: 'delete',
  setBridgePortNeighSuppress: 'set neigh_suppress',
  findAddressOwner: 'find',
  at: 'open',
  netnsId: 'stat',
  createNamedNetns: 'create',
  deleteNamedNetns: 'delete',
  listNamedNetns: 'list',
};

interface Failure {
  op: FakeOp;
  errno: string;
  ns: string | undefined;
}

function fail(op: string, object: string, errno: string): never {
  throw new DatapathError(op, object, errno);
}

function checkIfname(op: string, object: string, name: string): void {
  if (Buffer.byteLength(name) > IFNAMSIZ_MAX) fail(op, object, 'ERANGE');
  // dev_valid_name(): what the kernel refuses outright.
  if (name === '' || name === '.' || name === '..' || /[/:\s]/.test(name)) fail(op, object, 'EINVAL');
}

function checkMtu(op: string, object: string, mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU) fail(op, object, 'EINVAL');
}

function checkMac(op: string, object: string, mac: string): string {
  const norm = mac.toLowerCase();
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(norm)) fail(op, object, 'EINVAL');
  const first = parseInt(norm.slice(0, 2), 16);
  // is_valid_ether_addr(): not multicast, not all zeros
  if ((first & 1) === 1 || norm === '00:00:00:00:00:00') fail(op, object, 'EADDRNOTAVAIL');
  return norm;
}

/** A MAC as a forwarding or neighbour entry takes it: any syntactically valid one. */
function parseMac(op: string, object: string, mac: string): string {
  const norm = mac.toLowerCase();
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(norm)) fail(op, object, 'EINVAL');
  return norm;
}

/** The all-zero default or a multicast MAC: the VXLAN driver keeps a list of remotes for these. */
function isGroupMac(mac: string): boolean {
  return mac === ZERO_MAC || (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

function randomMac(): string {
  const bytes = Array.from({ length: 6 }, () => Math.floor(Math.random() * 256));
  bytes[0] = ((bytes[0] ?? 0) & 0xfe) | 0x02; // unicast, locally administered (eth_random_addr)
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

function parseIp(op: string, object: string, text: string): ipaddr.IPv4 | ipaddr.IPv6 {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (text.includes(':') && ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  return fail(op, object, 'EINVAL');
}

function familyOf(ip: ipaddr.IPv4 | ipaddr.IPv6): 4 | 6 {
  return ip.kind() === 'ipv4' ? 4 : 6;
}

function networkOf(ip: ipaddr.IPv4 | ipaddr.IPv6, len: number): string {
  const bytes = ip.toByteArray();
  for (let bit = len; bit < bytes.length * 8; bit++) {
    const i = Math.floor(bit / 8);
    bytes[i] = (bytes[i] ?? 0) & ~(0x80 >> (bit % 8));
  }
  return `${ipaddr.fromByteArray(bytes).toString()}/${len}`;
}

function toInfo(l: FakeLink): LinkInfo {
  const info: LinkInfo = { index: l.index, name: l.name, up: l.up, mtu: l.mtu, mac: l.mac };
  if (l.kind !== undefined) info.kind = l.kind;
  if (l.alias !== undefined) info.alias = l.alias;
  if (l.master !== undefined) info.master = l.master;
  if (l.peer !== undefined) info.peerIndex = l.peer.index;
  if (l.lower !== undefined) info.lowerIndex = l.lower.index;
  return info;
}

export class FakeKernel implements DatapathFactory {
  /** Every call that reached the fake, in order (for asserting what the agent did). */
  readonly calls: FakeCall[] = [];
  /** @internal read by handles */
  readonly options: Readonly<FakeKernelOptions>;
  private readonly hostNs = new FakeNetns('host');
  private readonly byPath = new Map<string, FakeNetns>();
  private readonly failures: Failure[] = [];
  private hostHandle: FakeHandle | undefined;

  constructor(options: FakeKernelOptions = {}) {
    this.options = { ...options };
    const lo = this.hostNs.byName('lo');
    if (lo) this.setUp(this.hostNs, lo);
  }

  /**
   * Make the next `op` (optionally only in namespace `ns`: 'host' or a path)
   * fail with `errno` before it changes anything, as a kernel refusal would.
   */
  failNext(op: FakeOp, errno = 'EIO', ns?: string): void {
    this.failures.push({ op, errno, ns });
  }

  /** A namespace reachable by path only, like a container's /proc/PID/ns/net. */
  addNetns(path: string): void {
    if (this.byPath.has(path)) fail('create', kernelObject.netns(path), 'EEXIST');
    this.byPath.set(path, new FakeNetns(path));
  }

  /** The container exited: its namespace goes once no handle holds it. */
  removeNetns(path: string): void {
    const ns = this.byPath.get(path);
    if (!ns) return;
    this.byPath.delete(path);
    ns.named = false;
    this.release(ns);
  }

  /** @internal used by handles */
  record(ns: string, op: FakeOp, object: string, args: unknown[]): void {
    this.calls.push({ ns, op, args });
    const i = this.failures.findIndex((f) => f.op === op && (f.ns === undefined || f.ns === ns));
    if (i < 0) return;
    const [f] = this.failures.splice(i, 1);
    if (f) throw new DatapathError(VERB[op], object, f.errno);
  }

  host(): NetnsHandle {
    this.hostHandle ??= new FakeHandle(this, this.hostNs, 'host');
    return this.hostHandle;
  }

  async at(path: string): Promise<NetnsHandle> {
    this.record(path, 'at', kernelObject.netns(path), [path]);
    const ns = this.resolve(path);
    if (!ns) fail('open', kernelObject.netns(path), 'ENOENT');
    ns.handles++;
    return new FakeHandle(this, ns, path);
  }

  async netnsId(path: string): Promise<string | undefined> {
    this.record(path, 'netnsId', kernelObject.netns(path), [path]);
    return this.resolve(path)?.id;
  }

  async createNamedNetns(name: string): Promise<string> {
    const object = kernelObject.netns(name);
    this.record('host', 'createNamedNetns', object, [name]);
    if (name === '' || name === '.' || name === '..' || name.includes('/')) fail('create', object, 'EINVAL');
    const path = `${NETNS_RUN_DIR_PATH}/${name}`;
    if (this.byPath.has(path)) fail('create', object, 'EEXIST');
    const ns = new FakeNetns(path);
    ns.named = true;
    this.byPath.set(path, ns);
    return path;
  }

  async deleteNamedNetns(name: string): Promise<void> {
    this.record('host', 'deleteNamedNetns', kernelObject.netns(name), [name]);
    const path = `${NETNS_RUN_DIR_PATH}/${name}`;
    const ns = this.byPath.get(path);
    if (!ns?.named) return;
    this.byPath.delete(path);
    ns.named = false;
    this.release(ns);
  }

  async listNamedNetns(): Promise<string[]> {
    this.record('host', 'listNamedNetns', kernelObject.netns(NETNS_RUN_DIR_PATH), []);
    const prefix = `${NETNS_RUN_DIR_PATH}/`;
    return [...this.byPath.entries()]
      .filter(([path, ns]) => ns.named && path.startsWith(prefix))
      .map(([path]) => path.slice(prefix.length))
      .sort();
  }

  /** @internal */
  resolve(path: string): FakeNetns | undefined {
    const ns = this.byPath.get(path);
    return ns?.alive ? ns : undefined;
  }

  /** @internal a handle closed or a name went away: destroy the namespace if nothing holds it */
  release(ns: FakeNetns): void {
    if (ns === this.hostNs || ns.named || ns.handles > 0 || !ns.alive) return;
    ns.alive = false;
    // Namespace teardown deletes its devices; veth peers elsewhere go too.
    for (const link of [...ns.links.values()]) this.deleteLink(ns, link);
  }

  /** @internal */
  deleteLink(ns: FakeNetns, link: FakeLink): void {
    ns.links.delete(link.index);
    ns.addrs = ns.addrs.filter((a) => a.index !== link.index);
    ns.routes = ns.routes.filter((r) => r.oif !== link.index);
    ns.fdb = ns.fdb.filter((f) => f.index !== link.index);
    ns.neigh = ns.neigh.filter((n) => n.index !== link.index);
    for (const other of ns.links.values()) if (other.master === link.index) delete other.master;
    // Unregistering a VXLAN device's lower device deletes the VXLAN device
    // (vxlan_handle_lowerdev_unregister).
    for (const other of [...ns.links.values()]) if (other.vxlan?.dev === link.index) this.deleteLink(ns, other);
    // Unregistering a macvlan's lower device deletes the macvlan, in whatever namespace it is (macvlan_device_event).
    for (const other of [this.hostNs, ...this.byPath.values()]) {
      for (const m of [...other.links.values()]) if (m.lower?.ns === ns && m.lower.index === link.index) this.deleteLink(other, m);
    }
    if (link.peer) {
      const { ns: peerNs, index } = link.peer;
      const peer = peerNs.links.get(index);
      delete link.peer;
      if (peer) {
        delete peer.peer;
        this.deleteLink(peerNs, peer);
      }
    }
  }

  /** @internal bringing lo up gives it its loopback addresses, as the kernel does */
  setUp(ns: FakeNetns, link: FakeLink): void {
    link.up = true;
    if (link.name === 'lo' && link.kind === undefined) {
      for (const [address, prefixLength, family] of [['127.0.0.1', 8, 4], ['::1', 128, 6]] as const) {
        if (!ns.addrs.some((a) => a.index === link.index && a.address === address)) {
          ns.addrs.push({ index: link.index, address, prefixLength, family });
        }
      }
    }
  }
}

class FakeHandle implements NetnsHandle {
  private closed = false;
  readonly netnsId?: string;

  constructor(
    private readonly kernel: FakeKernel,
    private readonly nsState: FakeNetns,
    readonly ns: string,
  ) {
    if (ns !== 'host') this.netnsId = nsState.id;
  }

  private enter(op: FakeOp, object: string, args: unknown[]): FakeNetns {
    if (this.closed) fail(VERB[op], object, 'EBADF');
    this.kernel.record(this.ns, op, object, args);
    return this.nsState;
  }

  private link(ns: FakeNetns, op: string, object: string, index: number): FakeLink {
    const link = ns.links.get(index);
    if (!link) fail(op, object, 'ENODEV');
    return link;
  }

  async listLinks(): Promise<LinkInfo[]> {
    const ns = this.enter('listLinks', 'links', []);
    return [...ns.links.values()].map(toInfo);
  }

  async getLink(name: string): Promise<LinkInfo | undefined> {
    const object = kernelObject.linkName(name);
    const ns = this.enter('getLink', object, [name]);
    if (Buffer.byteLength(name) > IFNAMSIZ_MAX) fail('get', object, 'ERANGE');
    const link = ns.byName(name);
    return link ? toInfo(link) : undefined;
  }

  async addBridge(spec: BridgeSpec): Promise<LinkInfo> {
    const object = kernelObject.bridge(spec.name);
    const ns = this.enter('addBridge', object, [spec]);
    checkIfname('create', object, spec.name);
    checkMtu('create', object, spec.mtu);
    const mac = spec.mac === undefined ? randomMac() : checkMac('create', object, spec.mac);
    if (ns.byName(spec.name)) fail('create', object, 'EEXIST');
    if (Buffer.byteLength(spec.alias) > IFALIAS_MAX) fail('set alias', object, 'ERANGE');
    const link = ns.add({ name: spec.name, kind: 'bridge', up: false, mtu: spec.mtu, mac });
    if (spec.alias !== '') link.alias = spec.alias;
    return toInfo(link);
  }

  async addVeth(spec: VethSpec): Promise<LinkInfo> {
    const object = kernelObject.veth(spec.name);
    const ns = this.enter('addVeth', object, [spec]);
    // Same order of refusals as the kernel path: the namespace fd is opened
    // first, then the request is validated, then names are claimed.
    const target = this.kernel.resolve(spec.peer.netns);
    if (!target) fail('create', object, 'ENOENT');
    checkIfname('create', object, spec.name);
    checkIfname('create', object, spec.peer.name);
    checkMtu('create', object, spec.mtu);
    const peerMac = spec.peer.mac === undefined ? randomMac() : checkMac('create', object, spec.peer.mac);
    if (ns.byName(spec.name)) fail('create', object, 'EEXIST');
    if (target.byName(spec.peer.name) || (target === ns && spec.peer.name === spec.name)) fail('create', object, 'EEXIST');
    if (spec.master !== undefined && spec.master !== 0) {
      const master = ns.links.get(spec.master);
      if (!master) fail('create', object, 'EINVAL');
      if (master.kind !== 'bridge') fail('create', object, 'EOPNOTSUPP');
    }
    const peer = target.add({ name: spec.peer.name, kind: 'veth', up: false, mtu: spec.mtu, mac: peerMac });
    const host = ns.add({ name: spec.name, kind: 'veth', up: spec.up, mtu: spec.mtu, mac: randomMac() });
    if (spec.master !== undefined && spec.master !== 0) host.master = spec.master;
    host.peer = { ns: target, index: peer.index };
    peer.peer = { ns, index: host.index };
    peer.up = spec.peer.up;
    return toInfo(host);
  }

  async addMacvlan(spec: MacvlanSpec): Promise<void> {
    const object = kernelObject.macvlan(spec.name);
    const ns = this.enter('addMacvlan', object, [spec]);
    const target = spec.netns === undefined ? ns : this.kernel.resolve(spec.netns);
    if (!target) fail('create', object, 'ENOENT');
    checkIfname('create', object, spec.name);
    const mac = spec.mac === undefined ? randomMac() : checkMac('create', object, spec.mac);
    const lower = ns.links.get(spec.parent);
    if (!lower) fail('create', object, 'ENODEV');
    // macvlan_port_create refuses a loopback lower device (EINVAL).
    if (lower.kind === undefined && lower.name === 'lo') fail('create', object, 'EINVAL');
    if (target.byName(spec.name)) fail('create', object, 'EEXIST');
    const link = target.add({ name: spec.name, kind: 'macvlan', up: false, mtu: lower.mtu, mac });
    link.lower = { ns, index: lower.index };
  }

  async setLinkUp(index: number): Promise<void> {
    const object = kernelObject.link(index);
    const ns = this.enter('setLinkUp', object, [index]);
    this.kernel.setUp(ns, this.link(ns, 'set up', object, index));
  }

  async setLinkAlias(index: number, alias: string): Promise<void> {
    const object = kernelObject.link(index);
    const ns = this.enter('setLinkAlias', object, [index, alias]);
    const link = this.link(ns, 'set alias', object, index);
    if (Buffer.byteLength(alias) > IFALIAS_MAX) fail('set alias', object, 'ERANGE');
    if (alias === '') delete link.alias;
    else link.alias = alias;
  }

  async setLinkMtu(index: number, mtu: number): Promise<void> {
    const object = kernelObject.link(index);
    const ns = this.enter('setLinkMtu', object, [index, mtu]);
    const link = this.link(ns, 'set mtu', object, index);
    checkMtu('set mtu', object, mtu);
    if (mtu > this.maxVxlanMtu(ns, link)) fail('set mtu', object, 'EINVAL');
    link.mtu = mtu;
  }

  async setLinkMaster(index: number, master: number): Promise<void> {
    const object = kernelObject.link(index);
    const ns = this.enter('setLinkMaster', object, [index, master]);
    const link = this.link(ns, 'set master', object, index);
    if (master === 0) {
      delete link.master;
      return;
    }
    const m = ns.links.get(master);
    if (!m) fail('set master', object, 'EINVAL');
    if (m.kind !== 'bridge') fail('set master', object, 'EOPNOTSUPP');
    link.master = master;
  }

  async removeLink(index: number): Promise<void> {
    const object = kernelObject.link(index);
    const ns = this.enter('removeLink', object, [index]);
    const link = ns.links.get(index);
    if (!link) return;
    // Devices without rtnl_link_ops (lo) cannot be deleted.
    if (link.kind === undefined) fail('delete', object, 'EOPNOTSUPP');
    this.kernel.deleteLink(ns, link);
  }

  async listAddrs(index?: number): Promise<AddrInfo[]> {
    const ns = this.enter('listAddrs', 'addresses', [index]);
    return ns.addrs.filter((a) => index === undefined || a.index === index).map((a) => ({ ...a }));
  }

  async addrAdd(index: number, address: string, prefixLength: number): Promise<void> {
    const object = kernelObject.address(address, prefixLength, index);
    const ns = this.enter('addrAdd', object, [index, address, prefixLength]);
    const ip = parseIp('add', object, address);
    const family = familyOf(ip);
    if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > (family === 4 ? 32 : 128)) {
      fail('add', object, 'EINVAL');
    }
    this.link(ns, 'add', object, index);
    const text = ip.toString();
    const same = ns.addrs.filter((a) => a.index === index && a.address === text);
    if (same.some((a) => a.prefixLength === prefixLength)) return;
    // IPv6 keys an address by itself; IPv4 by address and prefix.
    if (family === 6 && same.length > 0) fail('add', object, 'EEXIST');
    ns.addrs.push({ index, address: text, prefixLength, family });
  }

  async addrDel(index: number, address: string, prefixLength: number): Promise<void> {
    const object = kernelObject.address(address, prefixLength, index);
    const ns = this.enter('addrDel', object, [index, address, prefixLength]);
    const text = parseIp('delete', object, address).toString();
    ns.addrs = ns.addrs.filter((a) => !(a.index === index && a.address === text && a.prefixLength === prefixLength));
  }

  /** Connected routes the kernel derives from addresses on up links. */
  private connected(ns: FakeNetns): RouteInfo[] {
    const out: RouteInfo[] = [];
    for (const a of ns.addrs) {
      const link = ns.links.get(a.index);
      const max = a.family === 4 ? 32 : 128;
      if (!link?.up || link.kind === undefined || a.prefixLength >= max) continue;
      const dst = networkOf(ipaddr.parse(a.address), a.prefixLength);
      if (!out.some((r) => r.dst === dst && r.oif === a.index)) out.push({ dst, family: a.family, oif: a.index });
    }
    return out;
  }

  async listRoutes(family?: 4 | 6): Promise<RouteInfo[]> {
    const ns = this.enter('listRoutes', 'routes', [family]);
    return [...ns.routes.map((r) => ({ ...r })), ...this.connected(ns)].filter(
      (r) => family === undefined || r.family === family,
    );
  }

  async routeReplace(route: RouteInfo): Promise<void> {
    const object = kernelObject.route(route);
    const ns = this.enter('routeReplace', object, [route]);
    let dst = 'default';
    if (route.dst !== 'default') {
      const [addr, len] = route.dst.split('/');
      const ip = parseIp('replace', object, addr ?? '');
      const max = familyOf(ip) === 4 ? 32 : 128;
      const n = len === undefined ? max : Number(len);
      if (familyOf(ip) !== route.family || !Number.isInteger(n) || n < 0 || n > max) fail('replace', object, 'EINVAL');
      dst = networkOf(ip, n);
      // host bits set: "Invalid prefix for given prefix length"
      if (dst !== `${ip.toString()}/${n}`) fail('replace', object, 'EINVAL');
    }
    if (route.oif !== undefined) this.link(ns, 'replace', object, route.oif);
    let oif = route.oif;
    let gateway: string | undefined;
    if (route.gateway !== undefined) {
      const gw = parseIp('replace', object, route.gateway);
      if (familyOf(gw) !== route.family) fail('replace', object, 'EINVAL');
      gateway = gw.toString();
      const onLink = this.connected(ns).find(
        (r) => r.family === route.family && (oif === undefined || r.oif === oif) && gw.match(ipaddr.parseCIDR(r.dst)),
      );
      const linkLocal = gw.kind() === 'ipv6' && gw.range() === 'linkLocal' && oif !== undefined;
      if (!onLink && !linkLocal) fail('replace', object, 'ENETUNREACH');
      oif ??= onLink?.oif;
    } else if (oif === undefined) {
      fail('replace', object, 'EINVAL');
    }
    const stored: RouteInfo = { dst, family: route.family };
    if (gateway !== undefined) stored.gateway = gateway;
    if (oif !== undefined) stored.oif = oif;
    ns.routes = ns.routes.filter((r) => !(r.dst === dst && r.family === route.family));
    ns.routes.push(stored);
  }

  async routeDel(route: RouteInfo): Promise<void> {
    const object = kernelObject.route(route);
    const ns = this.enter('routeDel', object, [route]);
    const match = (r: RouteInfo) =>
      r.family === route.family && r.dst === route.dst && (route.gateway === undefined || r.gateway === route.gateway) && (route.oif === undefined || r.oif === route.oif);
    ns.routes = ns.routes.filter((r) => !match(r));
  }

  async setSysctl(key: string, value: string): Promise<void> {
    const ns = this.enter('setSysctl', `sysctl ${key}`, [key, value]);
    ns.sysctls.set(key, value);
  }

  /** A VXLAN device on a lower device carries at most that device's MTU minus the encapsulation. */
  private maxVxlanMtu(ns: FakeNetns, link: FakeLink): number {
    const dev = link.vxlan?.dev === undefined ? undefined : ns.links.get(link.vxlan.dev);
    if (link.vxlan === undefined || dev === undefined) return MAX_MTU;
    return dev.mtu - VXLAN_OVERHEAD[link.vxlan.family];
  }

  async addVxlan(spec: VxlanSpec): Promise<LinkInfo> {
    const object = kernelObject.vxlan(spec.name);
    const ns = this.enter('addVxlan', object, [spec]);
    // The kernel validates the request before it looks at names.
    checkIfname('create', object, spec.name);
    checkMtu('create', object, spec.mtu);
    if (!Number.isInteger(spec.vni) || spec.vni < 0 || spec.vni >= VXLAN_N_VID) fail('create', object, 'EINVAL');
    if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 0xffff) fail('create', object, 'EINVAL');
    const family = familyOf(parseIp('create', object, spec.local));
    if (ns.byName(spec.name)) fail('create', object, 'EEXIST');
    if (spec.dev !== undefined) {
      const dev = ns.links.get(spec.dev);
      if (!dev) fail('create', object, 'ENODEV');
      // The real kernel clamps instead; NetlinkHandle turns that into this EINVAL.
      if (spec.mtu > dev.mtu - VXLAN_OVERHEAD[family]) fail('create', object, 'EINVAL');
    }
    // vxlan_config_validate: one device per VNI and UDP port (and address family) in a namespace.
    for (const l of ns.links.values()) {
      if (l.vxlan?.vni === spec.vni && l.vxlan.port === spec.port && l.vxlan.family === family) fail('create', object, 'EEXIST');
    }
    const vxlan: NonNullable<FakeLink['vxlan']> = { vni: spec.vni, port: spec.port, family };
    if (spec.dev !== undefined) vxlan.dev = spec.dev;
    const link = ns.add({ name: spec.name, kind: 'vxlan', up: false, mtu: spec.mtu, mac: randomMac(), vxlan });
    return toInfo(link);
  }

  async setLinkMac(index: number, mac: string): Promise<void> {
    const object = kernelObject.link(index);
    const ns = this.enter('setLinkMac', object, [index, mac]);
    const link = this.link(ns, 'set mac', object, index);
    const norm = checkMac('set mac', object, mac);
    // Devices without ndo_set_mac_address (lo) refuse.
    if (link.kind === undefined) fail('set mac', object, 'EOPNOTSUPP');
    link.mac = norm;
  }

  async listFdb(index: number): Promise<FdbEntry[]> {
    const ns = this.enter('listFdb', 'fdb', [index]);
    return ns.fdb
      .filter((f) => f.index === index)
      .flatMap((f) => f.dsts.map((dst) => ({ index, mac: f.mac, dst, permanent: f.permanent })));
  }

  async fdbAppend(entry: FdbEntry): Promise<void> {
    const object = kernelObject.fdb(entry);
    const ns = this.enter('fdbAppend', object, [entry]);
    const mac = parseMac('append', object, entry.mac);
    const dst = parseIp('append', object, entry.dst);
    const link = this.link(ns, 'append', object, entry.index);
    // Only VXLAN forwarding tables are modelled (bridges and veths have
    // their own, which weft does not program).
    if (link.vxlan === undefined) fail('append', object, 'EOPNOTSUPP');
    if (familyOf(dst) !== link.vxlan.family) fail('append', object, 'EAFNOSUPPORT');
    const text = dst.toString();
    const existing = ns.fdb.find((f) => f.index === entry.index && f.mac === mac);
    if (!existing) {
      ns.fdb.push({ index: entry.index, mac, dsts: [text], permanent: entry.permanent });
      return;
    }
    existing.permanent = entry.permanent;
    // A group MAC collects remotes; a unicast one moves to the new VTEP.
    if (!isGroupMac(mac)) existing.dsts = [text];
    else if (!existing.dsts.includes(text)) existing.dsts.push(text);
  }

  async fdbDel(entry: FdbEntry): Promise<void> {
    const object = kernelObject.fdb(entry);
    const ns = this.enter('fdbDel', object, [entry]);
    const mac = parseMac('delete', object, entry.mac);
    const text = parseIp('delete', object, entry.dst).toString();
    const existing = ns.fdb.find((f) => f.index === entry.index && f.mac === mac);
    if (!existing) return;
    existing.dsts = existing.dsts.filter((d) => d !== text);
    if (existing.dsts.length === 0) ns.fdb = ns.fdb.filter((f) => f !== existing);
  }

  async listNeigh(index: number): Promise<NeighEntry[]> {
    const ns = this.enter('listNeigh', 'neighbours', [index]);
    return ns.neigh.filter((n) => n.index === index).map((n) => ({ ...n }));
  }

  async neighReplace(entry: NeighEntry): Promise<void> {
    const object = kernelObject.neigh(entry);
    const ns = this.enter('neighReplace', object, [entry]);
    const ip = parseIp('replace', object, entry.ip).toString();
    const mac = parseMac('replace', object, entry.mac);
    this.link(ns, 'replace', object, entry.index);
    ns.neigh = ns.neigh.filter((n) => !(n.index === entry.index && n.ip === ip));
    ns.neigh.push({ index: entry.index, ip, mac, permanent: entry.permanent });
  }

  async neighDel(entry: Omit<NeighEntry, 'mac' | 'permanent'>): Promise<void> {
    const object = kernelObject.neigh(entry);
    const ns = this.enter('neighDel', object, [entry]);
    const ip = parseIp('delete', object, entry.ip).toString();
    ns.neigh = ns.neigh.filter((n) => !(n.index === entry.index && n.ip === ip));
  }

  async setBridgePortNeighSuppress(index: number, on: boolean): Promise<void> {
    const object = kernelObject.link(index);
    const ns = this.enter('setBridgePortNeighSuppress', object, [index, on]);
    const link = this.link(ns, 'set neigh_suppress', object, index);
    // Not a bridge port: no master to take the request (EOPNOTSUPP, like a kernel without the flag).
    if (link.master === undefined || !this.kernel.options.bridgePortNeighSuppress) fail('set neigh_suppress', object, 'EOPNOTSUPP');
    link.neighSuppress = on;
  }

  async findAddressOwner(address: string): Promise<{ index: number; name: string; mtu: number } | undefined> {
    const object = kernelObject.addressOwner(address);
    const ns = this.enter('findAddressOwner', object, [address]);
    const text = parseIp('find', object, address).toString();
    const owner = ns.addrs.find((a) => a.address === text);
    const link = owner === undefined ? undefined : ns.links.get(owner.index);
    return link === undefined ? undefined : { index: link.index, name: link.name, mtu: link.mtu };
  }

  close(): void {
    if (this.closed || this.ns === 'host') return; // the shared host handle stays open
    this.closed = true;
    this.nsState.handles--;
    this.kernel.release(this.nsState);
  }
}
