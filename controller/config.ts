// Resolved controller settings, bound once in the composition root.

export interface ControllerConfig {
  dataDir: string;
  /** A connected host that sends nothing for this long is cut off and becomes NotReady. */
  heartbeatTimeoutMs: number;
  /** A host without an agent connection for this long is Gone; its empty blocks are reclaimed. */
  blockReclaimGraceMs: number;
  /** When this controller process started (ms since epoch): grace periods never start earlier. */
  startedAt: number;
}
/** inversify token for ControllerConfig. */
export const ControllerConfig = Symbol('ControllerConfig');

export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 15_000;
export const DEFAULT_BLOCK_RECLAIM_GRACE_MS = 10 * 60_000;

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
