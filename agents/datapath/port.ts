// The kernel port. Everything the agent does to the kernel goes through a
// NetnsHandle: one handle per network namespace (like vishvananda/netlink's
// NewHandleAt). Implementations: NetlinkHandle (real kernel, only module that
// imports `netlink`) and FakeKernel (unit tests). Verbs are named like
// iproute2. `ensureX` creates or adopts; `removeX` tolerates absence.

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

export interface BridgeSpec {
  name: string;
  mtu: number;
  alias: string;
  mac?: string;
}

export interface NetnsHandle {
  /** namespace path this handle operates in, or 'host' for the agent's own */
  readonly ns: string;

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
  setLinkUp(index: number): Promise<void>;
  setLinkAlias(index: number, alias: string): Promise<void>;
  setLinkMtu(index: number, mtu: number): Promise<void>;
  setLinkMaster(index: number, master: number): Promise<void>;
  /** Delete by index; resolves once the kernel has removed it. Tolerates absence. */
  removeLink(index: number): Promise<void>;

  listAddrs(index?: number): Promise<AddrInfo[]>;
  /** Add an address (with prefix); tolerates an identical existing one. */
  addrAdd(index: number, address: string, prefixLength: number): Promise<void>;
  addrDel(index: number, address: string, prefixLength: number): Promise<void>;

  listRoutes(family?: 4 | 6): Promise<RouteInfo[]>;
  /** Create or replace a route (NLM_F_REPLACE). */
  routeReplace(route: RouteInfo): Promise<void>;

  close(): void;
}

export interface DatapathFactory {
  /** Handle on the agent's own namespace (shared, do not close). */
  host(): NetnsHandle;
  /** Open a handle inside the namespace at `path` (fails with isNotFound if absent). */
  at(path: string): Promise<NetnsHandle>;
  /** Create a named namespace (/run/netns/NAME); returns its path. */
  createNamedNetns(name: string): Promise<string>;
  /** Delete a named namespace; tolerates absence. */
  deleteNamedNetns(name: string): Promise<void>;
  listNamedNetns(): Promise<string[]>;
}

export const DATAPATH_FACTORY = Symbol.for('weft.DatapathFactory');
