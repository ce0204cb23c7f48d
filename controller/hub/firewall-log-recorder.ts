// firewallLog messages -> events on the FirewallPolicy that logged them
// (`weft describe firewallpolicy X` shows the recent ones). A token bucket
// per host bounds how many one host adds, so a flood of new connections
// past a `log` rule cannot push every other event out of the log; what
// the bucket refuses is counted and reported on the Host, at most once
// per interval.
import type { FirewallLogEntry } from '../../model/agent-protocol.js';
import type { EventLog } from '../events/event-log.js';

/** Log entries per second one host may turn into events (and its burst). */
export const FIREWALL_LOG_EVENTS_PER_SECOND = 20;
/** How often a host's refused entries are reported. */
const DROPPED_REPORT_INTERVAL_MS = 10_000;

export interface FirewallLogOutcome {
  recorded: number;
  /** over the host's rate */
  dropped: number;
  /** naming no FirewallPolicy (deleted since, or a perimeter firewall's) */
  ignored: number;
}

interface Bucket {
  tokens: number;
  at: number;
  /** refused since the last report */
  dropped: number;
  reportedAt: number;
}

const hostPort = (ip: string, port: number | undefined) => (port === undefined ? ip : `${ip}:${port}`);

/** `egress rule allow-dns: udp 10.0.0.5:40000 -> 10.0.0.2:53 (h1)` */
export function firewallLogMessage(host: string, e: FirewallLogEntry): string {
  return `${e.direction} rule ${e.rule}: ${e.protocol} ${hostPort(e.src, e.sport)} -> ${hostPort(e.dst, e.dport)} (${host})`;
}

export class FirewallLogRecorder {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly events: EventLog,
    /** Does a FirewallPolicy of this name exist? Asked once per distinct name of a message. */
    private readonly policyExists: (name: string) => boolean,
    private readonly perSecond = FIREWALL_LOG_EVENTS_PER_SECOND,
  ) {}

  record(host: string, entries: readonly FirewallLogEntry[], now: number): FirewallLogOutcome {
    const out: FirewallLogOutcome = { recorded: 0, dropped: 0, ignored: 0 };
    const bucket = this.refill(host, now);
    const exists = new Map<string, boolean>();
    for (const e of entries) {
      // Perimeter firewalls (forward) are not FirewallPolicies.
      let known = e.direction !== 'forward' ? exists.get(e.policy) : false;
      if (known === undefined) exists.set(e.policy, (known = this.policyExists(e.policy)));
      if (!known) {
        out.ignored += 1;
        continue;
      }
      if (bucket.tokens < 1) {
        out.dropped += 1;
        continue;
      }
      bucket.tokens -= 1;
      const t = Date.parse(e.time);
      this.events.record({
        type: 'Normal',
        reason: 'Logged',
        message: firewallLogMessage(host, e),
        involved: { kind: 'FirewallPolicy', name: e.policy },
        time: Number.isFinite(t) ? t : now,
      });
      out.recorded += 1;
    }
    bucket.dropped += out.dropped;
    if (bucket.dropped > 0 && now - bucket.reportedAt >= DROPPED_REPORT_INTERVAL_MS) {
      this.events.record({
        type: 'Warning',
        reason: 'FirewallLogDropped',
        message: `${bucket.dropped} firewall log entr${bucket.dropped === 1 ? 'y' : 'ies'} not recorded: more than ${this.perSecond} a second from this host`,
        involved: { kind: 'Host', name: host },
        time: now,
      });
      bucket.dropped = 0;
      bucket.reportedAt = now;
    }
    return out;
  }

  private refill(host: string, now: number): Bucket {
    let b = this.buckets.get(host);
    if (!b) {
      b = { tokens: this.perSecond, at: now, dropped: 0, reportedAt: -Infinity };
      this.buckets.set(host, b);
      return b;
    }
    b.tokens = Math.min(this.perSecond, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    return b;
  }
}
