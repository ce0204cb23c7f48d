// The watch stream: every resource as GET returns it (status included),
// pushed over a WebSocket as it changes, with resume. Used by the web
// console; any client may use it (`Authorization: Bearer <admin token>` on
// the upgrade, or an `auth` message first, which is what a browser can do).
//
// Positions: a watch position is "<epoch>.<seq>". The epoch names one run
// of the controller (a restart starts a new one); seq counts the changes the
// controller has sent since. A client that reconnects with the last position
// it saw gets exactly the changes after it. When that is no longer possible
// (another epoch, or older than the controller keeps) it gets `resync`: the
// whole state again, to replace what it holds, then `synced`. Nothing is
// missed either way (Kubernetes clients do the same on "410 Gone").
//
// Status is computed from live agent state (connections, reports, time), not
// stored: a change of status is a change of the object like any other, with
// its own seq, though the store's revision may not move.
import type { WeftEvent } from './events.js';
import type { AnyResource, Kind } from './kinds.js';

export const WATCH_PATH = '/api/v1/watch';

/**
 * A text frame from the controller holds one WatchMessage (a JSON object),
 * or several sent together (a JSON array of them, in order): a batch of
 * changes goes out as one frame. The messages of a frame, in order.
 */
export function parseWatchFrame(frame: string): WatchMessage[] {
  const parsed = JSON.parse(frame) as WatchMessage | WatchMessage[];
  return Array.isArray(parsed) ? parsed : [parsed];
}

/** Kinds the stream carries, in the order a full state is sent. */
export const WATCH_KINDS: readonly Kind[] = ['Host', 'Network', 'Endpoint', 'FirewallPolicy', 'Firewall', 'Router'];

/** Client -> controller. */
export type WatchRequest =
  /** first message when the upgrade carried no Authorization header (browsers); within AUTH_TIMEOUT_MS */
  | { type: 'auth'; token: string; since?: string }
  /** keep-alive; answered with `pong` */
  | { type: 'ping' };

export const WATCH_AUTH_TIMEOUT_MS = 5_000;

/** Controller -> client. */
export type WatchMessage =
  /** a resource appeared (also every resource of a full state) */
  | { type: 'added'; position: string; object: AnyResource }
  /** a resource changed: spec, labels or status */
  | { type: 'modified'; position: string; object: AnyResource }
  /** a resource is gone; the object as it last was */
  | { type: 'deleted'; position: string; object: AnyResource }
  /** the client's position cannot be resumed from: drop everything held; the whole state follows as `added`, then `synced` */
  | { type: 'resync'; reason: string }
  /** the client holds the whole state as of `position` (after a full state, or after catching up on a resume) */
  | { type: 'synced'; position: string; revision: number }
  /**
   * a controller event (as GET /api/v1/events lists them), sent with the next batch of changes after it is
   * recorded (within about a quarter second), after them; the recent ones follow `synced` on connect, so one
   * recorded just then may come twice (same firstTime, involved object, type, reason and message: the same event)
   */
  | { type: 'event'; event: WeftEvent }
  | { type: 'pong' }
  /**
   * why the controller is about to close the socket: `code` is an error code of the catalogue
   * (Unauthorized, BadJSON, Invalid, TooLarge, Internal) or TooSlow (with WATCH_CLOSE.tooSlow)
   */
  | { type: 'error'; code: string; message: string };

/** WebSocket close codes the stream uses (4000-4999: application). */
export const WATCH_CLOSE = {
  /** no or wrong token */
  unauthorized: 4401,
  /** the client did not read fast enough; reconnect with the last position */
  tooSlow: 4408,
  /** a message the controller cannot read */
  badRequest: 4400,
} as const;

/** "Kind/name": how the stream and the console key objects. */
export function watchKey(o: { kind: string; metadata: { name: string } }): string {
  return `${o.kind}/${o.metadata.name}`;
}

/** Parse "<epoch>.<seq>"; undefined when it is not one. */
export function parsePosition(p: string): { epoch: string; seq: number } | undefined {
  const m = /^([0-9a-z]{1,32})\.(\d{1,15})$/.exec(p);
  if (!m) return undefined;
  return { epoch: m[1] as string, seq: Number(m[2]) };
}

export function formatPosition(epoch: string, seq: number): string {
  return `${epoch}.${seq}`;
}
