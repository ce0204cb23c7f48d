// The checks every VNF kind's attachment list gets ([{network, ip?}], under
// the field the kind names): each network once, addresses that are IPv4.
import type { FieldIssue } from './errors.js';
import { isIPv4, isIPv6 } from './ip.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `path`: the pointer of the list (`/spec/networks`); `what`: the kind in words ("firewall"). */
export function checkVnfAttachments(list: unknown, path: string, what: string, issues: FieldIssue[]): void {
  if (!Array.isArray(list)) return; // the schema reports it
  const seen = new Map<string, number>();
  list.forEach((n: unknown, i: number) => {
    if (!isObject(n)) return;
    if (typeof n.network === 'string') {
      const first = seen.get(n.network);
      if (first !== undefined) {
        issues.push({
          path: `${path}/${i}/network`,
          message: `network "${n.network}" is listed twice (also ${path}/${first}): the ${what} has one interface per network; remove one`,
          value: n.network,
        });
      } else {
        seen.set(n.network, i);
      }
    }
    if (typeof n.ip === 'string' && !isIPv4(n.ip)) {
      const v6 = isIPv6(n.ip) ? ` (IPv6 on ${what} interfaces is not supported yet)` : '';
      issues.push({ path: `${path}/${i}/ip`, message: `${JSON.stringify(n.ip)} is not an IPv4 address${v6}; leave ip out to have one allocated`, value: n.ip });
    }
  });
}
