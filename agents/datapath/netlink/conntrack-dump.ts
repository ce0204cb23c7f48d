// The connections conntrack tracks in a namespace, over ctnetlink (what
// `conntrack -L` reads; /proc/net/nf_conntrack is a deprecated option that
// kernels may lack). A socket per dump, opened inside the namespace: a
// dump is rare (a VNF's status, every few seconds at most), and filtered
// by the kernel where the caller can say which entries it wants.
import netlink from 'netlink';
import type { ConntrackEntry, ConntrackFilter } from '../../../model/conntrack.js';
import { fromNetlink, kernelObject } from '../errors.js';
import { CT_GET, CT_NEW, ctDumpRequest, NETLINK_NETFILTER, parseCtEntry } from './conntrack-codec.js';
import { withNetns } from './netns.js';

const { createNetlink, FlagsGet } = netlink;
const DUMP_TIMEOUT_MS = 5_000;

/** The IPv4 connections conntrack tracks in the namespace at nsPath: all, or those the filter picks (in the kernel). */
export async function dumpConntrack(nsPath: string, filter?: ConntrackFilter): Promise<ConntrackEntry[]> {
  const sock = withNetns(nsPath, () => createNetlink(NETLINK_NETFILTER));
  try {
    const [msgs] = await sock.request(CT_GET, ctDumpRequest(undefined, filter), { flags: FlagsGet.DUMP, timeout: DUMP_TIMEOUT_MS });
    const out: ConntrackEntry[] = [];
    for (const m of msgs) {
      if (m.type !== CT_NEW) continue;
      const entry = parseCtEntry(m.data);
      if (entry) out.push(entry);
    }
    return out;
  } catch (err: unknown) {
    throw fromNetlink('list', `conntrack of ${kernelObject.netns(nsPath)}`, err);
  } finally {
    sock.close();
  }
}
