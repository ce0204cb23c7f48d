// The kernel port. Everything the agent does to the kernel goes through a
// NetnsHandle: one handle per network namespace (like vishvananda/netlink's
// NewHandleAt). Implementations: NetlinkHandle (real kernel, only module that
// imports `netlink`) and FakeKernel (unit tests). Verbs are named like
// iproute2. `ensureX` creates or adopts; `removeX` tolerates absence.

/** The loopback device is the first registered in every network namespace. */
export const LOOPBACK_IFINDEX = 1;

export interface LinkInfo {
  index: number;
  name: string;
  /** IFLA_INFO_KIND: 'veth' | 'bridge' | 'vxlan' | ... ; undefined for plain devices */
  kind?: string;
  alias?: string;
  /** ifindex of the master (bridge) if enslaved */
  master?: number;
  up: boolean;
  mtu: number;
  mac: string;
  /** for a veth: the peer's ifindex (in the peer's namespace) */
  peerIndex?: number;
  /** for a macvlan: the ifindex of the link it sits on (in that link's namespace) */
  lowerIndex?: number;
}

export interface AddrInfo {
  index: number;
  /** address without prefix, e.g. 10.0.0.5 or fd00::5 */
  address: string;
  prefixLength: number;
  family: 4 | 6;
}

export interface RouteInfo {
  /** 'default' or a CIDR */
  dst: string;
  gateway?: string;
  oif?: number;
  family: 4 | 6;
}

/** Where a new veth peer goes: a namespace given by path (opened as fd). */
export interface VethPeerSpec {
  name: string;
  /** path of the target namespace (/run/netns/x, /proc/PID/ns/net) */
  netns: string;
  mac?: string;
  /**
   * Bring the peer up. Not in the creating RTM_NEWLINK: the kernel opens the
   * peer before the pair is linked and fails the whole request with
   * ENOTCONN, so NetlinkHandle sets it up right after, from inside the
   * target namespace. A caller holding a handle there can pass false and
   * call setLinkUp(peerIndex) itself (saves one socket, ~0.2 ms).
   */
  up: boolean;
}

export interface VethSpec {
  /** host-side name */
  name: string;
  mtu: number;
  /** ifindex of the bridge to enslave the host side to, in the same request */
  master?: number;
  up: boolean;
  peer: VethPeerSpec;
}

/** A macvlan in bridge mode: its own MAC on the segment of link `parent`, answering there like another host. */
export interface MacvlanSpec {
  name: string;
  /** ifindex of the link it sits on, in the handle's namespace */
  parent: number;
  /** path of the namespace to create it in (/run/netns/x); absent: the handle's own */
  netns?: string;
  mac?: string;
}

export interface BridgeSpec {
  name: string;
  mtu: number;
  alias: string;
  mac?: string;
}

export interface VxlanSpec {
  name: string;
  vni: number;
  /** local VTEP address (underlay) */
  local: string;
  /** UDP destination port (4789) */
  port: number;
  mtu: number;
  /** ifindex of the underlay device, optional */
  dev?: number;
  /** MAC learning: weft programs the FDB itself, so false */
  learning: boolean;
  /** ARP/ND proxy: the driver answers from its neighbour table (true) */
  proxy: boolean;
}

/** A bridge forwarding entry on a VXLAN device (NTF_SELF): mac -> remote VTEP. */
export interface FdbEntry {
  /** ifindex of the VXLAN device */
  index: number;
  /** 00:00:00:00:00:00 for a head-end replication (flood) entry */
  mac: string;
  /** remote VTEP address */
  dst: string;
  permanent: boolean;
}

/** A neighbour (ARP/ND) entry: ip -> mac on a device. */
export interface NeighEntry {
  index: number;
  ip: string;
  mac: string;
  /** NUD_PERMANENT */
  permanent: boolean;
}

export interface NetnsHandle {
  /** namespace path this handle operates in, or 'host' for the agent's own */
  readonly ns: string;
  /**
   * Identity of the namespace a handle opened by path is in (nsfs
   * device:inode, as DatapathFactory.netnsId reports it), read from the very
   * file descriptor it was opened with; undefined for the agent's own.
   */
  readonly netnsId?: string;

  listLinks(): Promise<LinkInfo[]>;
  /** undefined when no such link (ENODEV) */
  getLink(name: string): Promise<LinkInfo | undefined>;
  /** Create a bridge (not up); fails with isAlreadyExists if the name is taken. */
  addBridge(spec: BridgeSpec): Promise<LinkInfo>;
  /**
   * Create a veth pair in one RTM_NEWLINK: host side here (with master and up),
   * peer directly inside spec.peer.netns with its final name, MTU and MAC
   * (peer.up: see VethPeerSpec). Returns the host side; peerIndex is the
   * peer's ifindex inside its namespace.
   */
  addVeth(spec: VethSpec): Promise<LinkInfo>;
  /**
   * Create a macvlan (bridge mode, down) on link spec.parent of this
   * namespace, in one RTM_NEWLINK directly inside spec.netns when given
   * (IFLA_NET_NS_FD: no move afterwards). Fails with isAlreadyExists if the
   * name is taken there, isNotFound if the parent or the namespace does not
   * exist. Read it back through a handle on its namespace. Deleting the
   * parent, or the namespace it is in, deletes it.
   */
  addMacvlan(spec: MacvlanSpec): Promise<void>;
  setLinkUp(index: number): Promise<void>;
  setLinkAlias(index: number, alias: string): Promise<void>;
  setLinkMtu(index: number, mtu: number): Promise<void>;
  setLinkMaster(index: number, master: number): Promise<void>;
  /** Delete by index; resolves once the kernel has removed it. Tolerates absence. */
  removeLink(index: number): Promise<void>;

  listAddrs(index?: number): Promise<AddrInfo[]>;
  /**
   * Add an address (with prefix); tolerates an identical existing one. An
   * IPv6 address is added without duplicate address detection (nodad):
   * weft's IPAM makes it unique, it is usable at once (no ~1 s tentative
   * state), and the anycast gateway6 sits on every host's bridge by design.
   */
  addrAdd(index: number, address: string, prefixLength: number): Promise<void>;
  addrDel(index: number, address: string, prefixLength: number): Promise<void>;

  listRoutes(family?: 4 | 6): Promise<RouteInfo[]>;
  /** Create or replace a route (NLM_F_REPLACE). */
  routeReplace(route: RouteInfo): Promise<void>;
  /** Delete a route of the main table (dst, and gateway/oif when given); tolerates absence. */
  routeDel(route: RouteInfo): Promise<void>;
  /**
   * Set a sysctl of this namespace (`net.ipv4.ip_forward`): the net.* keys
   * are per namespace. Keys are dotted names of files under /proc/sys.
   */
  setSysctl(key: string, value: string): Promise<void>;

  // --- overlay (VXLAN) -------------------------------------------------
  /**
   * Create a VXLAN device (down); fails with isAlreadyExists if the name is
   * taken or another device has the same VNI and port. With `dev`, an MTU
   * above dev's MTU minus 50 (70 for IPv6) fails with EINVAL (the kernel
   * would silently clamp it at create).
   */
  addVxlan(spec: VxlanSpec): Promise<LinkInfo>;
  /** Set a link's MAC address (the bridge's anycast gateway MAC). */
  setLinkMac(index: number, mac: string): Promise<void>;
  /** FDB entries on a VXLAN device (NTF_SELF entries with a remote VTEP). */
  listFdb(index: number): Promise<FdbEntry[]>;
  /**
   * Add an FDB entry. NLM_F_APPEND semantics so several all-zero (flood)
   * entries with different VTEPs coexist; an identical entry is tolerated.
   * A unicast MAC has one VTEP: appending it with another dst moves it. The
   * VTEPs of one MAC share its `permanent` (the driver keeps state per MAC);
   * not permanent = reachable, aged out by the device (300 s).
   */
  fdbAppend(entry: FdbEntry): Promise<void>;
  /** Remove one FDB entry (mac + dst); tolerates absence (of the entry or the device). */
  fdbDel(entry: FdbEntry): Promise<void>;
  /**
   * Neighbour entries with a link-layer address on a link. Leaves out the
   * kernel's own NOARP entries for multicast/broadcast destinations. The
   * kernel drops every entry, permanent ones too, when the link goes down.
   */
  listNeigh(index: number): Promise<NeighEntry[]>;
  /** Create or replace a neighbour entry (NLM_F_REPLACE). */
  neighReplace(entry: NeighEntry): Promise<void>;
  /** Remove a neighbour entry; tolerates absence. */
  neighDel(entry: Omit<NeighEntry, 'mac' | 'permanent'>): Promise<void>;
  /**
   * Bridge-port ARP/ND suppression (IFLA_BRPORT_NEIGH_SUPPRESS) on an
   * enslaved port. Rejects with isUnsupported where the kernel lacks it
   * (as on the test machines): callers probe once and go on without it.
   * Also EOPNOTSUPP on a link that is no bridge port: probe on an enslaved one.
   */
  setBridgePortNeighSuppress(index: number, on: boolean): Promise<void>;
  /** Address (first IPv4) and MTU of the link holding `address`, if any. */
  findAddressOwner(address: string): Promise<{ index: number; name: string; mtu: number } | undefined>;

  close(): void;
}

export interface DatapathFactory {
  /** Handle on the agent's own namespace (shared, do not close). */
  host(): NetnsHandle;
  /** Open a handle inside the namespace at `path` (fails with isNotFound if absent). */
  at(path: string): Promise<NetnsHandle>;
  /**
   * Identity of the namespace at `path` now (nsfs device:inode): a path that
   * has come to name another namespace, or an unmounted mount point, gives
   * another one. Undefined when the path does not exist.
   */
  netnsId(path: string): Promise<string | undefined>;
  /** Create a named namespace (/run/netns/NAME); returns its path. */
  createNamedNetns(name: string): Promise<string>;
  /** Delete a named namespace; tolerates absence. */
  deleteNamedNetns(name: string): Promise<void>;
  listNamedNetns(): Promise<string[]>;
}

export const DATAPATH_FACTORY = Symbol.for('weft.DatapathFactory');
