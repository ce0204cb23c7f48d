// Resolved controller settings, bound once in the composition root.

export interface ControllerConfig {
  dataDir: string;
  /** A connected host that sends nothing for this long is cut off and becomes NotReady. */
  heartbeatTimeoutMs: number;
  /**
   * A host without an agent connection for this long (counted from when the
   * connection closed or was cut for silence) is Gone: its endpoints are
   * withdrawn from every other host's plan. Until then (NotReady) they stay,
   * so a partitioned host's workloads stay reachable from the others.
   */
  hostGoneAfterMs: number;
  /** A host without an agent connection for this long (and Gone) has its empty blocks reclaimed. */
  blockReclaimGraceMs: number;
  /** When this controller process started (ms since epoch): grace periods never start earlier. */
  startedAt: number;
}
/** inversify token for ControllerConfig. */
export const ControllerConfig = Symbol('ControllerConfig');

export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 15_000;
export const DEFAULT_HOST_GONE_AFTER_MS = 60_000;
export const DEFAULT_BLOCK_RECLAIM_GRACE_MS = 10 * 60_000;
/** Longest timeout or grace period accepted: beyond a week it is a typo, not a policy. */
const MAX_DURATION_MS = 7 * 24 * 3_600_000;

/** Parse HOST:PORT ("[::1]:0" for IPv6); port 0 asks the kernel for a free one. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new Error(`--listen ${JSON.stringify(listen)}: expected HOST:PORT, e.g. 127.0.0.1:7443 or [::1]:7443`);
  }
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * A duration as Go and systemd users write it: "500ms", "15s", "2m",
 * "1h30m" (units ms, s, m, h; decimals allowed). Returns milliseconds; throws
 * an Error saying what is wrong and how to write it.
 */
export function parseDurationMs(text: string): number {
  const t = text.trim();
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < t.length) {
    part.lastIndex = pos;
    const m = part.exec(t);
    if (!m) break;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    pos = part.lastIndex;
  }
  if (t === '' || pos !== t.length) {
    const bare = /^\d+(\.\d+)?$/.test(t) ? ` (a bare number has no unit: did you mean ${t}s?)` : '';
    throw new Error(`${JSON.stringify(text)} is not a duration${bare}; write a number and a unit (ms, s, m, h), e.g. 15s, 2m or 1m30s`);
  }
  const ms = Math.round(total);
  if (ms <= 0) throw new Error(`${JSON.stringify(text)} is zero; give a positive duration, e.g. 15s`);
  if (ms > MAX_DURATION_MS) throw new Error(`${JSON.stringify(text)} is longer than a week; give at most 168h`);
  return ms;
}

/**
 * Range-check the liveness timings. They need no order between them: the
 * host grace period starts when the host turns NotReady (its connection
 * closed or was cut for silence), so Gone always comes after NotReady.
 */
export function checkTimings(t: { heartbeatTimeoutMs: number; hostGoneAfterMs: number; blockReclaimGraceMs: number }): void {
  for (const [name, v] of Object.entries(t)) {
    if (!Number.isFinite(v) || v <= 0 || v > MAX_DURATION_MS) throw new Error(`${name} must be between 1 ms and one week, got ${v}`);
  }
}

/** 90000 -> "1m30s", for messages. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1_000], ['ms', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
