// The browser end of the watch stream (model/watch.ts): authenticate with
// the first message (a browser cannot set headers on a WebSocket), hand
// every message to the store, remember nothing itself but ask the store for
// the position to resume from, and reconnect with backoff when the socket
// closes. The socket and the timers are injected, so tests drive it
// without a browser.
import { WATCH_CLOSE, parseWatchFrame, type WatchMessage, type WatchRequest } from '../../model/watch.js';

export type ConnState = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'stopped';

/** The part of the browser's WebSocket this client uses. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export interface WatchClientOptions {
  url: string;
  token: () => string | undefined;
  /** Where to resume: the store's position (undefined: a full state). */
  position: () => string | undefined;
  createSocket: (url: string) => SocketLike;
  onMessage: (msg: WatchMessage) => void;
  /** A connection is open and a full state will follow (no position was sent). */
  onFullState?: () => void;
  /** The socket closed (a full state cut short is to be thrown away). */
  onDisconnect?: () => void;
  onState: (state: ConnState, detail: { retryAt?: number; attempt: number; reason?: string }) => void;
  /** The controller refused the token: stop, do not retry. */
  onUnauthorized: (message: string) => void;
  timers?: Timers;
  /** For jitter; Math.random unless a test fixes it. */
  random?: () => number;
  /** Whether the browser thinks it is online (navigator.onLine). */
  online?: () => boolean;
}

const OPEN = 1;
export const MIN_BACKOFF_MS = 500;
export const MAX_BACKOFF_MS = 15_000;
/** A ping this often keeps proxies from closing an idle socket. */
export const PING_EVERY_MS = 20_000;
/** Nothing heard for this long (not even a pong): the connection is dead. */
export const SILENCE_LIMIT_MS = 50_000;

/** Delay before reconnect attempt `attempt` (1, 2, ...): doubling, capped, with ±20% jitter so tabs do not stampede a restarted controller. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
  now: () => Date.now(),
};

export class WatchClient {
  private socket: SocketLike | undefined;
  private attempt = 0;
  private retryTimer: unknown;
  private pingTimer: unknown;
  private lastHeard = 0;
  private stopped = true;
  private readonly timers: Timers;

  constructor(private readonly opts: WatchClientOptions) {
    this.timers = opts.timers ?? defaultTimers;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this.connect();
  }

  stop(): void {
    this.halt('logout');
    this.opts.onState('stopped', { attempt: 0 });
  }

  /** Try now instead of waiting for the backoff (the browser came back online, the user asked). */
  retryNow(): void {
    if (this.stopped || this.socket) return;
    this.clearTimers();
    this.connect();
  }

  private connect(): void {
    const token = this.opts.token();
    if (token === undefined) {
      this.opts.onUnauthorized('not logged in');
      return;
    }
    this.opts.onState(this.attempt === 0 ? 'connecting' : 'reconnecting', { attempt: this.attempt });
    let socket: SocketLike;
    try {
      socket = this.opts.createSocket(this.opts.url);
    } catch (e) {
      this.scheduleRetry(e instanceof Error ? e.message : String(e));
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      const since = this.opts.position();
      const auth: WatchRequest = since === undefined ? { type: 'auth', token } : { type: 'auth', token, since };
      if (since === undefined) this.opts.onFullState?.();
      socket.send(JSON.stringify(auth));
      this.lastHeard = this.timers.now();
      this.schedulePing();
    };
    socket.onmessage = (ev) => this.receive(ev.data);
    socket.onerror = () => {
      // onclose follows and carries the code; nothing to do twice.
    };
    socket.onclose = (ev) => this.closed(ev.code, ev.reason);
  }

  private receive(data: unknown): void {
    this.lastHeard = this.timers.now();
    let messages: WatchMessage[];
    try {
      messages = parseWatchFrame(String(data));
    } catch {
      return; // not ours to judge; the controller only sends JSON
    }
    for (const msg of messages) {
      if (this.stopped) return; // stopped, or gave up (a refused token), on an earlier one
      try {
        this.handle(msg);
      } catch (e: unknown) {
        // One message the console cannot take must not cost it the rest of the frame.
        console.error('weft console: a watch message could not be taken', msg, e);
      }
    }
  }

  private handle(msg: WatchMessage): void {
    if (msg.type === 'error' && msg.code === 'Unauthorized') {
      this.giveUp(msg.message);
      return;
    }
    if (msg.type === 'synced') {
      // Only a complete state counts as connected; backoff starts over from here.
      this.attempt = 0;
      this.opts.onState('connected', { attempt: 0 });
    }
    this.opts.onMessage(msg);
  }

  private closed(code: number, reason: string): void {
    this.socket = undefined;
    this.clearTimers();
    this.opts.onDisconnect?.();
    if (this.stopped) return;
    if (code === WATCH_CLOSE.unauthorized) {
      this.giveUp(reason || 'the controller refused the token');
      return;
    }
    this.scheduleRetry(reason || `connection closed (${code})`);
  }

  private giveUp(message: string): void {
    this.halt('unauthorized');
    this.opts.onUnauthorized(message);
  }

  /** Stop for good: no retry, no ping, and the socket closed without its handlers, so nothing it still delivers comes back here. */
  private halt(reason: string): void {
    this.stopped = true;
    this.clearTimers();
    const s = this.socket;
    this.socket = undefined;
    if (s) {
      s.onclose = null;
      s.onmessage = null;
      s.close(1000, reason);
    }
  }

  private scheduleRetry(reason: string): void {
    this.attempt++;
    const delay = backoffDelay(this.attempt, this.opts.random);
    const retryAt = this.timers.now() + delay;
    const offline = this.opts.online ? !this.opts.online() : false;
    this.opts.onState(offline ? 'offline' : 'reconnecting', { attempt: this.attempt, retryAt, reason });
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) this.connect();
    }, delay);
  }

  private schedulePing(): void {
    this.pingTimer = this.timers.setTimeout(() => {
      const s = this.socket;
      if (!s) return;
      if (this.timers.now() - this.lastHeard > SILENCE_LIMIT_MS) {
        // A half-open TCP connection never closes by itself: end it and resume elsewhere.
        s.onclose = null;
        s.close(4000, 'no answer');
        this.closed(4000, 'the controller stopped answering');
        return;
      }
      if (s.readyState === OPEN) s.send(JSON.stringify({ type: 'ping' } satisfies WatchRequest));
      this.schedulePing();
    }, PING_EVERY_MS);
  }

  private clearTimers(): void {
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    if (this.pingTimer !== undefined) this.timers.clearTimeout(this.pingTimer);
    this.retryTimer = undefined;
    this.pingTimer = undefined;
  }
}
