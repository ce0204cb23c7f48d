// NetnsHandle over a real rtnetlink socket (node_netlink). One socket per
// namespace: it is created while the thread is switched into the namespace
// and stays bound to it, like vishvananda/netlink's NewHandleAt. Nothing here
// touches attribute bytes: that is link-codec's job.
import { closeSync } from 'node:fs';
import netlink from 'netlink';
import type { RtNetlinkSocket, rt } from 'netlink';
import type { AddrInfo, BridgeSpec, FdbEntry, LinkInfo, MacvlanSpec, NeighEntry, NetnsHandle, RouteInfo, VethSpec, VxlanSpec } from '../port.js';
import { DatapathError, fromNetlink, kernelObject } from '../errors.js';
import {
  AF_BRIDGE,
  decodeIp,
  decodeLinkInfo,
  decodeMac,
  decodeU32,
  encodeBridgePortSetLink,
  encodeIp,
  encodeLinkInfo,
  encodeMac,
  encodeU32,
} from './link-codec.js';
import { netnsIdentityOfFd, openNetns, withNetnsFd } from './netns.js';
import { LinkReaper } from './link-reaper.js';
import { RequestWindow } from './request-window.js';
import { writeSysctl } from './sysctl.js';

const { createRtNetlink, FlagsNew, rt: rtValues } = netlink;

export const DEFAULT_TIMEOUT_MS = 5000;
/**
 * Ordinary requests outstanding on one socket at most (see request-window.ts):
 * their replies must fit the receive buffer even when none is read until the
 * last has been sent. The default 208 KiB held ~250 delete acks here; 32
 * replies stay far below that, and 32 is what node_netlink reads per turn.
 */
const DEFAULT_MAX_INFLIGHT = 32;

const AF_INET = 2;
const AF_INET6 = 10;
const RT_TABLE_MAIN = 254;
/** RTEXT_FILTER_SKIP_STATS: link replies without the (large, unused) counters. */
const EXT_MASK = encodeU32(1 << 3);
const CREATE_EXCL = FlagsNew.CREATE | FlagsNew.EXCL;
const CREATE_REPLACE = FlagsNew.CREATE | FlagsNew.REPLACE;
const ZERO_MAC = '00:00:00:00:00:00';

/**
 * FDB entry state. The VXLAN driver refuses entries that are neither
 * NUD_PERMANENT nor NUD_REACHABLE (EINVAL), so "not permanent" means
 * reachable: an entry the device ages out after its ageing time (300 s).
 * Permanent is what `bridge fdb append ... permanent` sends.
 */
function fdbState(permanent: boolean): rt.NeighborState {
  return permanent ? { permanent: true, noarp: true } : { reachable: true };
}

/**
 * A group MAC (all-zero default, or multicast bit set) is the only kind the
 * VXLAN driver keeps several remotes for; for a unicast one NLM_F_APPEND is
 * silently ignored when the MAC already has a remote.
 */
function isGroupMac(mac: string): boolean {
  return mac.toLowerCase() === ZERO_MAC || (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

export interface NetlinkHandleOptions {
  /** per request; node_netlink waits forever without one */
  timeoutMs?: number;
  /**
   * Delete links from a worker thread (LinkReaper) so the ~20 ms the kernel
   * spends in a veth delete does not stall this thread. For long-lived
   * handles in the compiled agent; needs the compiled worker file.
   */
  offloadDeletes?: boolean;
  /** ordinary requests outstanding at once (default DEFAULT_MAX_INFLIGHT); 1 sends each after the previous one's answer */
  maxInflight?: number;
}

function familyCode(family: 4 | 6): number {
  return family === 4 ? AF_INET : AF_INET6;
}

function familyOf(code: number | undefined): 4 | 6 | undefined {
  if (code === AF_INET) return 4;
  if (code === AF_INET6) return 6;
  return undefined;
}

function toLinkInfo(m: rt.LinkMessage): LinkInfo {
  const { data, attrs } = m;
  const info = attrs.linkinfo ? decodeLinkInfo(attrs.linkinfo) : undefined;
  const link: LinkInfo = {
    index: data.index ?? 0,
    name: attrs.ifname ?? '',
    up: data.flags?.up === true,
    mtu: attrs.mtu ?? 0,
    mac: decodeMac(attrs.address),
  };
  if (info?.kind !== undefined) link.kind = info.kind;
  if (attrs.ifalias !== undefined && attrs.ifalias !== '') link.alias = attrs.ifalias;
  if (attrs.master !== undefined && attrs.master !== 0) link.master = attrs.master;
  // A veth reports its peer's ifindex (in the peer's namespace) as IFLA_LINK;
  // the kernel does not echo VETH_INFO_PEER back.
  if (info?.kind === 'veth') {
    const peer = decodeU32(attrs.link);
    if (peer !== undefined && peer !== 0) link.peerIndex = peer;
  }
  // A macvlan reports the link it sits on the same way.
  if (info?.kind === 'macvlan') {
    const lower = decodeU32(attrs.link);
    if (lower !== undefined && lower !== 0) link.lowerIndex = lower;
  }
  return link;
}

function parseDst(dst: string, family: 4 | 6): { dstLen: number; bytes?: Buffer } {
  if (dst === 'default') return { dstLen: 0 };
  const slash = dst.indexOf('/');
  const ip = encodeIp(slash < 0 ? dst : dst.slice(0, slash));
  const max = ip.family === 4 ? 32 : 128;
  const len = slash < 0 ? max : Number(dst.slice(slash + 1));
  if (ip.family !== family || !Number.isInteger(len) || len < 0 || len > max) {
    throw new RangeError(`invalid route destination ${JSON.stringify(dst)} for IPv${family}`);
  }
  return { dstLen: len, bytes: ip.bytes };
}

export class NetlinkHandle implements NetnsHandle {
  readonly ns: string;
  readonly netnsId?: string;
  private readonly sock: RtNetlinkSocket;
  private readonly timeoutMs: number;
  private closed = false;
  /** A receive/send failure on the socket itself (e.g. ENOBUFS): the handle is unusable after it. */
  private broken: unknown;

  private readonly reaper: LinkReaper | undefined;
  /** tail of the queue of dump requests (see dump()) */
  private dumping: Promise<void> = Promise.resolve();
  /** set while a dump owns the socket (see dump()) */
  private activeDump: Promise<void> | undefined;
  /** ordinary requests in flight (bounded), and dumps waiting for them to finish */
  private readonly window: RequestWindow;

  private constructor(ns: string, sock: RtNetlinkSocket, opts: NetlinkHandleOptions, netnsId?: string) {
    this.ns = ns;
    if (netnsId !== undefined) this.netnsId = netnsId;
    this.sock = sock;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.window = new RequestWindow(opts.maxInflight ?? DEFAULT_MAX_INFLIGHT);
    this.reaper = opts.offloadDeletes ? new LinkReaper(ns, this.timeoutMs) : undefined;
    // node_netlink emits socket failures as 'error' events; unheard, one
    // would crash the agent. Pending requests still end by their timeout.
    sock.socket.on('error', (err) => {
      this.broken = err;
    });
  }

  /** A handle on the namespace this thread is in (the agent's own). */
  static openHost(opts: NetlinkHandleOptions = {}): NetlinkHandle {
    return new NetlinkHandle('host', createRtNetlink(), opts);
  }

  /** A handle whose socket lives in the namespace at `path`. */
  static openAt(path: string, opts: NetlinkHandleOptions = {}): NetlinkHandle {
    const fd = openNetns(path);
    try {
      const id = netnsIdentityOfFd(fd, kernelObject.netns(path));
      const sock = withNetnsFd(fd, () => createRtNetlink(), kernelObject.netns(path));
      return new NetlinkHandle(path, sock, opts, id);
    } catch (err: unknown) {
      throw fromNetlink('open', kernelObject.netns(path), err);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * A dump request (NLM_F_DUMP). The kernel runs one dump per socket at a
   * time and refuses a second with EBUSY, so dumps on this handle queue
   * behind each other (e.g. a reconcile pass beside an attach).
   */
  private dump<T>(op: string, object: string, fn: (s: RtNetlinkSocket, timeout: number) => Promise<T>): Promise<T> {
    const run = this.dumping.then(async () => {
      // A dump's reply spans several messages; node_netlink cannot take an
      // ordinary reply in the middle of one (it ends the multipart reply
      // with an error), so the dump waits for requests in flight to finish
      // and new ones wait for the dump.
      let release = () => {};
      this.activeDump = new Promise<void>((r) => (release = r));
      try {
        await this.window.idle();
        return await this.call(op, object, fn, true);
      } finally {
        this.activeDump = undefined;
        release();
      }
    });
    this.dumping = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Run one request with the timeout, turning any failure into a
   * DatapathError. Ordinary requests take a slot of the window first (when
   * one is free, in this same tick, so requests issued back to back still
   * reach the kernel in order); the timeout starts once the request has its
   * slot, not while it waits for one.
   */
  private async call<T>(op: string, object: string, fn: (s: RtNetlinkSocket, timeout: number) => Promise<T>, isDump = false): Promise<T> {
    if (!isDump) {
      while (this.activeDump) await this.activeDump;
      const turn = this.window.enter();
      if (turn) await turn;
    }
    try {
      if (this.closed) throw new DatapathError(op, object, 'EBADF');
      if (this.broken !== undefined) throw fromNetlink(op, object, this.broken);
      try {
        return await fn(this.sock, this.timeoutMs);
      } catch (err: unknown) {
        throw fromNetlink(op, object, err);
      }
    } finally {
      if (!isDump) this.window.leave();
    }
  }

  async listLinks(): Promise<LinkInfo[]> {
    const msgs = await this.dump('list', 'links', (s, timeout) => s.getLinks({}, { extMask: EXT_MASK }, { timeout }));
    return msgs.map(toLinkInfo);
  }

  async getLink(name: string): Promise<LinkInfo | undefined> {
    try {
      const msgs = await this.call('get', kernelObject.linkName(name), (s, timeout) =>
        s.getLink({}, { ifname: name, extMask: EXT_MASK }, { timeout }),
      );
      const first = msgs[0];
      return first === undefined ? undefined : toLinkInfo(first);
    } catch (err: unknown) {
      if (err instanceof DatapathError && err.errno === 'ENODEV') return undefined;
      throw err;
    }
  }

  private async mustGetLink(name: string, op: string, object: string): Promise<LinkInfo> {
    const link = await this.getLink(name);
    // Someone deleted it between our create and this read.
    if (link === undefined) throw new DatapathError(op, object, 'ENODEV');
    return link;
  }

  async addBridge(spec: BridgeSpec): Promise<LinkInfo> {
    const object = kernelObject.bridge(spec.name);
    await this.call('create', object, (s, timeout) =>
      s.newLink(
        {},
        {
          ifname: spec.name,
          mtu: spec.mtu,
          ...(spec.mac === undefined ? {} : { address: encodeMac(spec.mac) }),
          // STP off: ports forward as soon as they are up (no 30 s listening/learning).
          linkinfo: encodeLinkInfo({ kind: 'bridge', bridge: { stpState: false } }),
        },
        { flags: CREATE_EXCL, timeout },
      ),
    );
    const link = await this.mustGetLink(spec.name, 'create', object);
    // IFLA_IFALIAS is ignored by RTM_NEWLINK's create path: set it now. An
    // unlabelled bridge would look foreign to a restarted agent, so undo the
    // create if labelling fails.
    try {
      await this.setLinkAlias(link.index, spec.alias);
    } catch (err: unknown) {
      await this.removeLink(link.index).catch(() => undefined); // the alias error is the one to report
      throw err;
    }
    return { ...link, alias: spec.alias };
  }

  async addVeth(spec: VethSpec): Promise<LinkInfo> {
    const object = kernelObject.veth(spec.name);
    let fd: number;
    try {
      fd = openNetns(spec.peer.netns);
    } catch (err: unknown) {
      throw fromNetlink('create', object, err);
    }
    try {
      const flags = spec.up ? { up: true as const } : {};
      // Not NLM_F_ECHO: node_netlink settles a request on its first reply,
      // and the kernel echoes the new link before a later failure (e.g. a
      // master that is not a bridge) undoes it, so the error would be lost.
      await this.call('create', object, (s, timeout) =>
        s.newLink(
          { flags, change: flags },
          {
            ifname: spec.name,
            mtu: spec.mtu,
            ...(spec.master === undefined ? {} : { master: spec.master }),
            linkinfo: encodeLinkInfo({
              kind: 'veth',
              // The peer is created down whatever spec.peer.up says: the
              // kernel opens the peer before the pair is linked, so IFF_UP
              // in VETH_INFO_PEER fails the whole request with ENOTCONN
              // (veth_open: no peer yet). The host side may be up: it is
              // configured after the pair is linked.
              peer: {
                name: spec.peer.name,
                mtu: spec.mtu,
                ...(spec.peer.mac === undefined ? {} : { mac: spec.peer.mac }),
                netnsFd: fd,
              },
            }),
          },
          { flags: CREATE_EXCL, timeout },
        ),
      );
      // The read back also gives the peer's ifindex (IFLA_LINK).
      const link = await this.mustGetLink(spec.name, 'create', object);
      if (spec.peer.up) await this.peerUp(link, fd, spec.name);
      return link;
    } finally {
      // The kernel took its own reference to the namespace during the request.
      closeSync(fd);
    }
  }

  async addMacvlan(spec: MacvlanSpec): Promise<void> {
    const object = kernelObject.macvlan(spec.name);
    let fd: number | undefined;
    try {
      if (spec.netns !== undefined) fd = openNetns(spec.netns);
    } catch (err: unknown) {
      throw fromNetlink('create', object, err);
    }
    try {
      await this.call('create', object, (s, timeout) =>
        s.newLink(
          {},
          {
            ifname: spec.name,
            // The parent is looked up in this socket's namespace, the new link made in fd's.
            link: encodeU32(spec.parent),
            ...(fd === undefined ? {} : { netNsFd: fd }),
            ...(spec.mac === undefined ? {} : { address: encodeMac(spec.mac) }),
            linkinfo: encodeLinkInfo({ kind: 'macvlan', mode: 'bridge' }),
          },
          { flags: CREATE_EXCL, timeout },
        ),
      );
    } finally {
      // The kernel took its own reference to the namespace during the request.
      if (fd !== undefined) closeSync(fd);
    }
  }

  /**
   * Bring a new veth's peer up from inside its namespace (RTM_SETLINK has
   * no way to address a link in another namespace: IFLA_TARGET_NETNSID is
   * refused with EINVAL). A transient socket costs ~0.2 ms; callers that
   * hold a handle on the target namespace anyway can pass peer.up = false
   * and call setLinkUp(peerIndex) there instead. On failure the pair is
   * removed so the caller sees all or nothing.
   */
  private async peerUp(link: LinkInfo, nsFd: number, name: string): Promise<void> {
    const object = kernelObject.peerOf(name);
    try {
      if (link.peerIndex === undefined) throw new DatapathError('set up', object, 'ENODEV');
      const peerIndex = link.peerIndex;
      const sock = withNetnsFd(nsFd, () => createRtNetlink(), `netns of ${object}`);
      // A socket error fails the request below by its timeout; the event must not go unheard.
      sock.socket.on('error', () => undefined);
      try {
        await sock.setLink({ index: peerIndex, flags: { up: true }, change: { up: true } }, {}, { timeout: this.timeoutMs });
      } finally {
        sock.socket.close();
      }
    } catch (err: unknown) {
      await this.removeLink(link.index).catch(() => undefined); // report the original failure
      throw fromNetlink('set up', object, err);
    }
  }

  async setLinkUp(index: number): Promise<void> {
    await this.call('set up', kernelObject.link(index), (s, timeout) =>
      s.setLink({ index, flags: { up: true }, change: { up: true } }, {}, { timeout }),
    );
  }

  async setLinkAlias(index: number, alias: string): Promise<void> {
    await this.call('set alias', kernelObject.link(index), (s, timeout) => s.setLink({ index }, { ifalias: alias }, { timeout }));
  }

  async setLinkMtu(index: number, mtu: number): Promise<void> {
    await this.call('set mtu', kernelObject.link(index), (s, timeout) => s.setLink({ index }, { mtu }, { timeout }));
  }

  async setLinkMaster(index: number, master: number): Promise<void> {
    await this.call('set master', kernelObject.link(index), (s, timeout) => s.setLink({ index }, { master }, { timeout }));
  }

  async removeLink(index: number): Promise<void> {
    try {
      if (this.reaper) return await this.reaper.remove(index);
      await this.call('delete', kernelObject.link(index), (s, timeout) => s.delLink({ index }, {}, { timeout }));
    } catch (err: unknown) {
      if (err instanceof DatapathError && err.errno === 'ENODEV') return;
      throw err;
    }
  }

  async listAddrs(index?: number): Promise<AddrInfo[]> {
    const msgs = await this.dump('list', 'addresses', (s, timeout) => s.getAddresses({}, {}, { timeout }));
    const out: AddrInfo[] = [];
    for (const m of msgs) {
      const family = familyOf(m.data.family);
      if (family === undefined || m.data.index === undefined) continue;
      if (index !== undefined && m.data.index !== index) continue;
      // IPv4: IFA_LOCAL is the interface's own address (IFA_ADDRESS is the
      // peer on point-to-point links); IPv6 only has IFA_ADDRESS.
      const address = decodeIp(m.attrs.local ?? m.attrs.address);
      if (address === undefined) continue;
      out.push({ index: m.data.index, address, prefixLength: m.data.prefixlen ?? 0, family });
    }
    return out;
  }

  async addrAdd(index: number, address: string, prefixLength: number): Promise<void> {
    const object = kernelObject.address(address, prefixLength, index);
    try {
      await this.call('add', object, (s, timeout) => {
        const ip = encodeIp(address);
        // IPv6 without duplicate address detection (see NetnsHandle.addrAdd).
        const attrs = ip.family === 4 ? { local: ip.bytes, address: ip.bytes } : { address: ip.bytes, flags: { nodad: true as const } };
        return s.newAddress({ family: familyCode(ip.family), prefixlen: prefixLength, index }, attrs, {
          flags: CREATE_EXCL,
          timeout,
        });
      });
    } catch (err: unknown) {
      if (!(err instanceof DatapathError && err.isAlreadyExists)) throw err;
      // Identical address already there: done. Same address, other prefix: a real conflict.
      const existing = await this.listAddrs(index);
      if (!existing.some((a) => a.address === encodeIpText(address) && a.prefixLength === prefixLength)) throw err;
    }
  }

  /** Remove an address; tolerates its absence (and the link's). */
  async addrDel(index: number, address: string, prefixLength: number): Promise<void> {
    try {
      await this.call('delete', kernelObject.address(address, prefixLength, index), (s, timeout) => {
        const ip = encodeIp(address);
        const attrs = ip.family === 4 ? { local: ip.bytes, address: ip.bytes } : { address: ip.bytes };
        return s.delAddress({ family: familyCode(ip.family), prefixlen: prefixLength, index }, attrs, { timeout });
      });
    } catch (err: unknown) {
      if (err instanceof DatapathError && err.isNotFound) return;
      throw err;
    }
  }

  async listRoutes(family?: 4 | 6): Promise<RouteInfo[]> {
    const msgs = await this.dump('list', 'routes', (s, timeout) =>
      s.getRoutes({ family: family === undefined ? 0 : familyCode(family) }, {}, { timeout }),
    );
    const out: RouteInfo[] = [];
    for (const m of msgs) {
      const fam = familyOf(m.data.family);
      if (fam === undefined || (family !== undefined && fam !== family)) continue;
      const table = m.attrs.table ?? m.data.table;
      // The main table's unicast routes: what `ip route` shows. Local,
      // broadcast and multicast entries are the kernel's business.
      if (table !== RT_TABLE_MAIN || (m.data.type !== 'UNICAST' && m.data.type !== 1)) continue;
      const dstLen = m.data.dstLen ?? 0;
      const dstIp = decodeIp(m.attrs.dst);
      const route: RouteInfo = { dst: dstLen === 0 ? 'default' : `${dstIp ?? '?'}/${dstLen}`, family: fam };
      const gateway = decodeIp(m.attrs.gateway);
      if (gateway !== undefined) route.gateway = gateway;
      if (m.attrs.oif !== undefined) route.oif = m.attrs.oif;
      out.push(route);
    }
    return out;
  }

  async routeReplace(route: RouteInfo): Promise<void> {
    await this.call('replace', kernelObject.route(route), (s, timeout) => {
      const dst = parseDst(route.dst, route.family);
      const gw = route.gateway === undefined ? undefined : encodeIp(route.gateway);
      if (gw !== undefined && gw.family !== route.family) throw new RangeError(`gateway family differs from route family`);
      const attrs: rt.RouteAttrs = {};
      if (dst.bytes !== undefined) attrs.dst = dst.bytes;
      if (gw !== undefined) attrs.gateway = gw.bytes;
      if (route.oif !== undefined) attrs.oif = route.oif;
      return s.newRoute(
        {
          family: familyCode(route.family),
          dstLen: dst.dstLen,
          table: RT_TABLE_MAIN,
          protocol: 'STATIC',
          // No gateway: the destination is on the link itself.
          scope: gw === undefined ? 'LINK' : 'UNIVERSE',
          type: 'UNICAST',
        },
        attrs,
        { flags: CREATE_REPLACE, timeout },
      );
    });
  }

  async routeDel(route: RouteInfo): Promise<void> {
    try {
      await this.call('delete', kernelObject.route(route), (s, timeout) => {
        const dst = parseDst(route.dst, route.family);
        const attrs: rt.RouteAttrs = {};
        if (dst.bytes !== undefined) attrs.dst = dst.bytes;
        if (route.gateway !== undefined) attrs.gateway = encodeIp(route.gateway).bytes;
        if (route.oif !== undefined) attrs.oif = route.oif;
        return s.delRoute({ family: familyCode(route.family), dstLen: dst.dstLen, table: RT_TABLE_MAIN }, attrs, { timeout });
      });
    } catch (err: unknown) {
      if (err instanceof DatapathError && err.isNotFound) return;
      throw err;
    }
  }

  async setSysctl(key: string, value: string): Promise<void> {
    writeSysctl(this.ns, key, value);
  }

  // ------------------------------------------------------------ overlay

  async addVxlan(spec: VxlanSpec): Promise<LinkInfo> {
    const object = kernelObject.vxlan(spec.name);
    await this.call('create', object, (s, timeout) =>
      s.newLink(
        {},
        {
          ifname: spec.name,
          mtu: spec.mtu,
          linkinfo: encodeLinkInfo({
            kind: 'vxlan',
            vxlan: {
              vni: spec.vni,
              local: spec.local,
              port: spec.port,
              learning: spec.learning,
              proxy: spec.proxy,
              ...(spec.dev === undefined ? {} : { link: spec.dev }),
            },
          }),
        },
        { flags: CREATE_EXCL, timeout },
      ),
    );
    const link = await this.mustGetLink(spec.name, 'create', object);
    // With a lower device the kernel clamps a too-large MTU to the device's
    // MTU minus the VXLAN overhead at create, but refuses the same value
    // with EINVAL from RTM_SETLINK. Refuse here too, so a caller never gets
    // a device with another MTU than it asked for.
    if (link.mtu !== spec.mtu) {
      await this.removeLink(link.index).catch(() => undefined); // the MTU error is the one to report
      throw new DatapathError('create', object, 'EINVAL');
    }
    return link;
  }

  async setLinkMac(index: number, mac: string): Promise<void> {
    await this.call('set mac', kernelObject.link(index), (s, timeout) => s.setLink({ index }, { address: encodeMac(mac) }, { timeout }));
  }

  async listFdb(index: number): Promise<FdbEntry[]> {
    // An fdb dump request with a struct ndmsg header cannot be filtered by
    // device (the kernel only filters when given a struct ifinfomsg), so
    // the whole namespace's table comes back and is filtered here.
    const msgs = await this.dump('list', 'fdb', (s, timeout) => s.getNeighbors({ family: AF_BRIDGE }, {}, { timeout }));
    const out: FdbEntry[] = [];
    for (const m of msgs) {
      // NTF_SELF entries are the device's own table (the VXLAN remotes);
      // NTF_MASTER ones are the bridge's and carry no VTEP.
      if (m.data.ifindex !== index || m.data.flags?.self !== true) continue;
      const dst = decodeIp(m.attrs.dst);
      if (dst === undefined || m.attrs.lladdr === undefined) continue;
      out.push({ index, mac: decodeMac(m.attrs.lladdr), dst, permanent: m.data.state?.permanent === true });
    }
    return out;
  }

  async fdbAppend(entry: FdbEntry): Promise<void> {
    await this.call('append', kernelObject.fdb(entry), (s, timeout) => {
      // NLM_F_APPEND adds a remote to a group MAC; a unicast MAC sits behind
      // exactly one VTEP, so for it NLM_F_REPLACE moves the entry (APPEND
      // alone would silently keep the old VTEP).
      const flags = FlagsNew.CREATE | FlagsNew.APPEND | (isGroupMac(entry.mac) ? 0 : FlagsNew.REPLACE);
      return s.newNeighbor(
        { family: AF_BRIDGE, ifindex: entry.index, state: fdbState(entry.permanent), flags: { self: true } },
        { lladdr: encodeMac(entry.mac), dst: encodeIp(entry.dst).bytes },
        { flags, timeout },
      );
    });
  }

  async fdbDel(entry: FdbEntry): Promise<void> {
    try {
      await this.call('delete', kernelObject.fdb(entry), (s, timeout) =>
        s.delNeighbor(
          { family: AF_BRIDGE, ifindex: entry.index, state: fdbState(entry.permanent), flags: { self: true } },
          { lladdr: encodeMac(entry.mac), dst: encodeIp(entry.dst).bytes },
          { timeout },
        ),
      );
    } catch (err: unknown) {
      // ENOENT: no such entry (or this MAC has another VTEP); ENODEV: the device and its table are gone.
      if (err instanceof DatapathError && err.isNotFound) return;
      throw err;
    }
  }

  async listNeigh(index: number): Promise<NeighEntry[]> {
    // NDA_IFINDEX in a neighbour dump request makes the kernel filter by device.
    const msgs = await this.dump('list', 'neighbours', (s, timeout) =>
      s.getNeighbors({}, { ifindex: encodeU32(index) }, { timeout }),
    );
    const out: NeighEntry[] = [];
    for (const m of msgs) {
      if (familyOf(m.data.family) === undefined || m.data.ifindex !== index) continue;
      // NUD_NOARP alone marks the kernel's own entries for multicast and
      // broadcast destinations (e.g. ff02::16 once MLD runs); nobody
      // programmed them and `ip neigh show` hides them too.
      if (m.data.state?.noarp === true && m.data.state.permanent !== true) continue;
      const ip = decodeIp(m.attrs.dst);
      // Entries still resolving (INCOMPLETE, FAILED) have no link-layer address: nothing to report.
      if (ip === undefined || m.attrs.lladdr === undefined) continue;
      out.push({ index, ip, mac: decodeMac(m.attrs.lladdr), permanent: m.data.state?.permanent === true });
    }
    return out;
  }

  async neighReplace(entry: NeighEntry): Promise<void> {
    await this.call('replace', kernelObject.neigh(entry), (s, timeout) => {
      const ip = encodeIp(entry.ip);
      return s.newNeighbor(
        { family: familyCode(ip.family), ifindex: entry.index, state: entry.permanent ? { permanent: true } : { reachable: true } },
        { dst: ip.bytes, lladdr: encodeMac(entry.mac) },
        { flags: CREATE_REPLACE, timeout },
      );
    });
  }

  async neighDel(entry: Omit<NeighEntry, 'mac' | 'permanent'>): Promise<void> {
    try {
      await this.call('delete', kernelObject.neigh(entry), (s, timeout) => {
        const ip = encodeIp(entry.ip);
        return s.delNeighbor({ family: familyCode(ip.family), ifindex: entry.index }, { dst: ip.bytes }, { timeout });
      });
    } catch (err: unknown) {
      if (err instanceof DatapathError && err.isNotFound) return;
      throw err;
    }
  }

  async setBridgePortNeighSuppress(index: number, on: boolean): Promise<void> {
    const op = 'set neigh_suppress';
    const object = kernelObject.link(index);
    // A link that is no bridge port fails with EOPNOTSUPP (no master to
    // hand the request to), as a kernel without the feature would.
    await this.call(op, object, (s, timeout) => s.request(rtValues.MessageType.SETLINK, encodeBridgePortSetLink(index, { neighSuppress: on }), { timeout }));
    // br_setport ignores IFLA_BRPORT_* attributes it does not know, so a
    // kernel without the flag says yes and does nothing: read it back.
    const msgs = await this.call(op, object, (s, timeout) => s.getLink({ index }, { extMask: EXT_MASK }, { timeout }));
    const linkinfo = msgs[0]?.attrs.linkinfo;
    const port = linkinfo === undefined ? undefined : decodeLinkInfo(linkinfo).bridgePort;
    if (port?.neighSuppress !== on) throw new DatapathError(op, object, 'EOPNOTSUPP');
  }

  async findAddressOwner(address: string): Promise<{ index: number; name: string; mtu: number } | undefined> {
    let text: string;
    try {
      text = encodeIpText(address);
    } catch (err: unknown) {
      throw fromNetlink('find', kernelObject.addressOwner(address), err);
    }
    const owner = (await this.listAddrs()).find((a) => a.address === text);
    if (owner === undefined) return undefined;
    const link = (await this.listLinks()).find((l) => l.index === owner.index);
    // The link went away between the two reads: then nobody holds the address.
    return link === undefined ? undefined : { index: link.index, name: link.name, mtu: link.mtu };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.socket.close();
    void this.reaper?.close();
  }
}

/** Canonical text of an address as the kernel reports it (e.g. IPv6 compressed). */
function encodeIpText(address: string): string {
  return decodeIp(encodeIp(address).bytes) ?? address;
}
