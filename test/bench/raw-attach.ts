// The kernel's floor for one attach: the netlink sequence an attach cannot
// do without, issued from the bench process with the same netlink library
// the agent uses, on a bridge of its own in the same host namespace. No
// address management, no records, no RPC: what is left between this and the
// agent's attach is the agent's own bookkeeping.
import { NetlinkDatapath } from '../../agents/datapath/netlink/netlink-datapath.js';
import { LOOPBACK_IFINDEX, type NetnsHandle } from '../../agents/datapath/port.js';

export interface RawAttacher {
  /** Attach the namespace at `netns` as container number `i`: veth into it, address, links up, default route. */
  attach(i: number, netns: string): Promise<void>;
  /** Remove container `i`'s veth (its peer goes with it). */
  detach(i: number): Promise<void>;
  close(): Promise<void>;
}

const GATEWAY = '100.66.0.1';

/** Addresses of 100.66.0.0/16 from .2 on: the raw sequence's own subnet, apart from the agent's. */
function address(i: number): string {
  const n = i + 2;
  return `100.66.${(n >> 8) & 255}.${n & 255}`;
}

function mac(i: number): string {
  const b = (v: number) => (v & 255).toString(16).padStart(2, '0');
  return `02:42:64:42:${b(i >> 8)}:${b(i)}`;
}

/** A raw attacher working in the host namespace at hostNsPath, on a bridge named `bridge` it creates. */
export async function rawAttacher(hostNsPath: string, bridge: string, vethPrefix: string, mtu = 1450): Promise<RawAttacher> {
  const dp = new NetlinkDatapath();
  const host: NetnsHandle = await dp.at(hostNsPath);
  const br = await host.addBridge({ name: bridge, mtu, alias: `bench:${bridge}` });
  await host.setLinkUp(br.index);
  await host.addrAdd(br.index, GATEWAY, 16);
  const veths = new Map<number, number>();
  return {
    async attach(i, netns) {
      const ns = await dp.at(netns);
      try {
        const veth = await host.addVeth({ name: `${vethPrefix}${i}`, mtu, master: br.index, up: true, peer: { name: 'eth0', netns, mac: mac(i), up: false } });
        veths.set(i, veth.index);
        const eth0 = veth.peerIndex ?? -1;
        // The same overlap the agent uses: requests back to back on each socket.
        await Promise.all([
          host.setLinkAlias(veth.index, `bench:${i}`),
          ns.setLinkUp(LOOPBACK_IFINDEX),
          ns.setLinkUp(eth0),
          ns.addrAdd(eth0, address(i), 16),
          ns.routeReplace({ dst: 'default', gateway: GATEWAY, oif: eth0, family: 4 }),
        ]);
      } finally {
        ns.close();
      }
    },
    async detach(i) {
      const index = veths.get(i);
      if (index === undefined) return;
      veths.delete(i);
      await host.removeLink(index);
    },
    async close() {
      try {
        for (const index of veths.values()) await host.removeLink(index).catch(() => undefined);
        await host.removeLink(br.index).catch(() => undefined);
      } finally {
        host.close();
        dp.close();
      }
    },
  };
}
