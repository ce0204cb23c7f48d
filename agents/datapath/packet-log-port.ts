// The agent's port for logged packets: the kernel hands over the first
// packet of a connection a `log` rule saw (nflog), and the firewall log
// (agents/firewall/firewall-log.ts) turns it into an event. Implementation:
// NflogReader (nflog/, the real kernel).

/** The addresses and ports of a logged packet. */
export interface IpSummary {
  family: 4 | 6;
  /** 'tcp' | 'udp' | 'icmp' | 'icmpv6', else the protocol number as a string */
  protocol: string;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  icmpType?: number;
}

/** One logged packet. */
export interface NflogPacket extends IpSummary {
  /** the rule's log prefix (`wl-<16 hex>` for weft's rules) */
  prefix: string;
  /** the kernel's timestamp of the packet (NFULA_TIMESTAMP) or, when it sent none, the time weft read it */
  time: Date;
  indev?: number;
  outdev?: number;
  /** the bridge port a bridged packet came in on / goes out of (br_netfilter) */
  physIndev?: number;
  physOutdev?: number;
  /** the source MAC address of a received packet (NFULA_HWADDR), aa:bb:cc:dd:ee:ff */
  hwaddr?: string;
}

export interface PacketLogReader {
  /** Bind `group` (in `netns`) and start draining; throws when the group is taken there. */
  start(options: { group: number; netns?: string }): void;
  /** Stop draining and release the group; safe to call twice. */
  stop(): void;
}
