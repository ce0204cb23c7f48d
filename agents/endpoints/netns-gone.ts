// When is an endpoint's network namespace gone? The agent records, at
// attach, the path it was given (/run/netns/NAME from `weft run` or a
// runtime, /proc/PID/ns/net from some CNI runtimes) and the identity of the
// namespace it opened there (nsfs device:inode). The namespace is gone when
// the path no longer exists (the name was removed, the process exited), or
// when it names another namespace than the one attached to: a name made
// anew, a pid reused, or a mount point left without its mount. Comparing
// identities, not just paths, is what keeps a reused path from passing for
// the old namespace. A namespace handed over as a descriptor is looked for
// where its caller has it (EndpointRecord.netnsCheckAt), so it is gone with
// the caller too: `weft run` holds its sandbox for as long as it runs.
import type { EndpointRecord } from '../state/endpoint-store.js';

/** Where the agent looks for the namespace of `r`. */
export function netnsCheckPath(r: Pick<EndpointRecord, 'netns' | 'netnsCheckAt'>): string {
  return r.netnsCheckAt ?? r.netns;
}

/**
 * Why the namespace of `r` is gone, given the identity its check path
 * (netnsCheckPath) has now (undefined: no such path); undefined while it is there. Without a
 * recorded identity only a missing path counts.
 */
export function netnsGoneReason(r: Pick<EndpointRecord, 'netns' | 'netnsId' | 'netnsCheckAt'>, current: string | undefined): string | undefined {
  if (current === undefined && r.netnsCheckAt !== undefined) return `${r.netns} does not exist any more where its caller had it (${r.netnsCheckAt}: the caller is gone, or removed it)`;
  if (current === undefined) return `${r.netns} does not exist any more`;
  if (r.netnsId !== undefined && current !== r.netnsId) return `${r.netns} names another namespace now (nsfs ${current}, attached to ${r.netnsId})`;
  return undefined;
}
