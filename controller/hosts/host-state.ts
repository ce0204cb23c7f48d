// A host's state from its liveness facts. Ready: connected and heard from
// within the heartbeat timeout. Gone: no connection for the grace period
// (hostGoneAfterMs; counted from this controller's start at the earliest, so
// a controller restart does not make every host Gone at once). Else
// NotReady. A NotReady host keeps its endpoints in every plan; a Gone one
// has them withdrawn (GoneHostSweeper).
import type { LiveHost } from './live-hosts.js';

export type HostState = 'Ready' | 'NotReady' | 'Gone';

export interface HostStateInput {
  live: LiveHost | undefined;
  /** Last sign of life persisted in the Host resource (status.lastHeartbeat), ms since epoch. */
  persistedLastSeen: number | undefined;
  now: number;
  heartbeatTimeoutMs: number;
  graceMs: number;
  startedAt: number;
}

function lastSeenOf(i: Omit<HostStateInput, 'now' | 'heartbeatTimeoutMs' | 'graceMs'>): number {
  return Math.max(i.live?.lastSeen ?? 0, i.live?.disconnectedAt ?? 0, i.persistedLastSeen ?? 0, i.startedAt);
}

export function hostState(i: HostStateInput): HostState {
  if (i.live?.connected) return i.now - i.live.lastSeen > i.heartbeatTimeoutMs ? 'NotReady' : 'Ready';
  return i.now - lastSeenOf(i) >= i.graceMs ? 'Gone' : 'NotReady';
}

export function parseTime(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
}
