// Connections as conntrack tracks them, read from the kernel over ctnetlink
// (agents/datapath/netlink/conntrack-dump.ts) for drivers that list live
// connections (a router's port forwards). Pure types and names.

/** One direction of a connection: addresses, and ports for TCP and UDP. */
export interface ConntrackTuple {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
}

export interface ConntrackEntry {
  /** IP protocol number (6 tcp, 17 udp, 1 icmp) */
  protocol: number;
  /** as the first packet came in */
  orig: ConntrackTuple;
  /** as the replies go back: after NAT, the translated addresses */
  reply: ConntrackTuple;
  /** IPS_* bits (linux/netfilter/nf_conntrack_common.h) */
  status: number;
  /** TCP only: TCP_CONNTRACK_* (linux/netfilter/nf_conntrack_tcp.h) */
  tcpState?: number;
  /** seconds until the entry expires */
  timeout?: number;
}

/** Which entries a dump returns: those whose conntrack mark, masked, equals `mark` (the kernel filters: a busy table is not copied whole). */
export interface ConntrackFilter {
  mark: number;
  mask: number;
}

/** IPS_DST_NAT: the connection's destination was translated. */
export const CT_STATUS_DST_NAT = 1 << 5;

const TCP_STATES = ['none', 'syn-sent', 'syn-recv', 'established', 'fin-wait', 'close-wait', 'last-ack', 'time-wait', 'close', 'syn-sent2'];

/** The TCP state as `conntrack -L` names it, lower case; undefined for a number it does not know. */
export function tcpStateName(state: number | undefined): string | undefined {
  return state === undefined ? undefined : TCP_STATES[state];
}

/** "ip:port", or the address alone without a port. */
export const endpointText = (ip: string, port: number | undefined): string => (port === undefined ? ip : `${ip}:${port}`);
