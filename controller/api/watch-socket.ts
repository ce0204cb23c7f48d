// The watch stream's WebSocket endpoint (WATCH_PATH; see model/watch.ts):
// authenticates a client, subscribes it to the WatchHub and writes what the
// hub sends as JSON text frames.
//
// Auth is the admin token, compared in constant time like the REST API's.
// Non-browser clients send `Authorization: Bearer <token>` on the upgrade; a
// wrong one is refused with 401 before the handshake, as the agent endpoint
// does. Browsers cannot set headers on a WebSocket, so without a Bearer
// header the first message must be `{type:'auth', token}`. The token is never read from the
// URL: URLs end up in proxy logs and browser history. `since` is no secret
// and may come as `?since=`.
//
// What the hub sends in one go (a pass's changes and events, a catch-up)
// leaves as one frame, a JSON array, up to FRAME_CHARS: a browser spends
// more per message than per byte, and an attach storm sends a few small
// messages a pass.
//
// A client that does not read fast enough is closed (WATCH_CLOSE.tooSlow)
// rather than buffered for without bound: it reconnects with its last
// position and resumes, which costs less than the memory.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { inject, injectable, optional } from 'inversify';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { WeftError, isWeftError } from '../../model/errors.js';
import { WATCH_AUTH_TIMEOUT_MS, WATCH_CLOSE, type WatchMessage, type WatchRequest } from '../../model/watch.js';
import { bearerMatches, bearerToken } from '../auth/bearer.js';
import { AuthTokens } from '../auth/token-files.js';
import { Logger } from '../util/logger.js';
import { WatchHub, type WatchSubscription } from '../watch/watch-hub.js';
import { parseWatchRequest } from '../watch/watch-request.js';
import { rejectUpgrade } from './route-upgrades.js';

export interface WatchSocketOptions {
  /** How long a client without an Authorization header has to send `auth`. */
  authTimeoutMs: number;
  /** Longest client message read; longer ones are refused with badRequest (clients send only auth and ping). */
  maxMessageBytes: number;
  /** Unsent bytes a client may fall behind by before it is closed as too slow. */
  maxBufferedBytes: number;
  /** WebSocket ping this often; a peer that has not answered the previous one is cut off. */
  pingIntervalMs: number;
  /** A closed client that does not answer the close handshake is cut off after this long. */
  closeGraceMs: number;
}
/** inversify token for WatchSocketOptions (optional: the defaults apply without one). */
export const WatchSocketOptions = Symbol('WatchSocketOptions');

const DEFAULT_WATCH_SOCKET_OPTIONS: WatchSocketOptions = {
  authTimeoutMs: WATCH_AUTH_TIMEOUT_MS,
  maxMessageBytes: 64 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
  pingIntervalMs: 30_000,
  closeGraceMs: 5_000,
};

/**
 * Frames beyond this are cut by ws itself (close 1009) without reading
 * them; between maxMessageBytes and this, the client gets an `error` and
 * badRequest like any other unreadable message.
 */
const HARD_MAX_PAYLOAD = 1024 * 1024;
/** As the agent hub gives its peers. */
const SHUTDOWN_GRACE_MS = 1_000;

/** A frame holds messages up to about this many characters of JSON; more go in the next frame. */
const FRAME_CHARS = 256 * 1024;

interface WatchClient {
  ws: WebSocket;
  /** Messages (JSON) to go out together at the end of this turn of the event loop. */
  outbox: string[];
  outboxChars: number;
  flushQueued: boolean;
  remote: string;
  /** `since` from the query string, used unless the auth message names one. */
  querySince: string | undefined;
  authenticated: boolean;
  authTimer: NodeJS.Timeout | undefined;
  subscription: WatchSubscription | undefined;
  /** Answered the last WebSocket ping (or sent anything since). */
  alive: boolean;
  /** Closing by our decision: send nothing more. */
  ending: boolean;
  /** Cuts the connection if the close handshake does not finish. */
  killTimer: NodeJS.Timeout | undefined;
  /**
   * Unsent bytes tolerated beyond maxBufferedBytes: what catching up queued
   * at once (the whole state on a first connect), which no client can read
   * before it is queued. Without it a state larger than the limit would
   * close every connect before `synced`, and the client would loop.
   */
  catchUpBytes: number;
  catchingUp: boolean;
}

@injectable()
export class WatchSocket {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: HARD_MAX_PAYLOAD });
  private readonly clients = new Set<WatchClient>();
  private readonly options: WatchSocketOptions;
  private readonly log: Logger;
  private heartbeat: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    @inject(WatchHub) private readonly hub: WatchHub,
    @inject(AuthTokens) private readonly tokens: AuthTokens,
    @inject(Logger) logger: Logger,
    @inject(WatchSocketOptions) @optional() options: Partial<WatchSocketOptions> = {},
  ) {
    this.options = { ...DEFAULT_WATCH_SOCKET_OPTIONS, ...options };
    this.log = logger.child({ component: 'watch-socket' });
  }

  /** Upgrade handler for WATCH_PATH (the path is the router's business). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closing) {
      rejectUpgrade(socket, new WeftError('NotReady', 'the controller is shutting down'));
      return;
    }
    // Only a Bearer header is ours: a browser behind a proxy with Basic auth sends that one on the upgrade too.
    const header = req.headers.authorization;
    const bearer = bearerToken(header) !== undefined;
    if (bearer && !this.tokenMatches(header as string)) {
      this.log.warn({ remote: req.socket.remoteAddress }, 'watch connection refused: wrong bearer token');
      rejectUpgrade(socket, new WeftError('Unauthorized', 'wrong bearer token; send "Authorization: Bearer <admin token>", or no bearer header and an "auth" message first'));
      return;
    }
    const since = new URL(req.url ?? '/', 'http://weft').searchParams.get('since') ?? undefined;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req, bearer, since));
  }

  /** Controller shutdown: close every client (1001: they reconnect to the next run and resync) and refuse new ones. */
  async close(): Promise<void> {
    this.closing = true;
    this.stopHeartbeat();
    const closed = [...this.clients].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.ws.readyState === c.ws.CLOSED) return resolve();
          c.ws.once('close', () => resolve());
          // Shutdown waits for this: a peer that does not answer soon is cut off.
          this.end(c, 1001, 'controller shutting down', SHUTDOWN_GRACE_MS);
        }),
    );
    await Promise.all(closed);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket, req: IncomingMessage, authenticated: boolean, querySince: string | undefined): void {
    const client: WatchClient = {
      ws, outbox: [], outboxChars: 0, flushQueued: false, remote: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`, querySince, authenticated, authTimer: undefined, subscription: undefined, alive: true, ending: false, killTimer: undefined, catchUpBytes: 0, catchingUp: false,
    };
    this.clients.add(client);
    this.startHeartbeat();
    ws.on('message', (data, isBinary) => this.onFrame(client, data, isBinary));
    ws.on('pong', () => (client.alive = true));
    ws.on('close', () => this.onClose(client));
    ws.on('error', (err) => this.log.debug({ err, remote: client.remote }, 'watch socket error'));
    if (authenticated) {
      this.follow(client, querySince);
      return;
    }
    client.authTimer = setTimeout(() => {
      client.authTimer = undefined;
      this.fail(client, 'Unauthorized', `no "auth" message within ${this.options.authTimeoutMs} ms; send {"type":"auth","token":"<admin token>"} first`, WATCH_CLOSE.unauthorized);
    }, this.options.authTimeoutMs);
  }

  private onFrame(client: WatchClient, data: RawData, isBinary: boolean): void {
    client.alive = true;
    if (client.ending) return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    let msg: WatchRequest;
    try {
      if (isBinary) throw new WeftError('Invalid', 'send JSON in text frames, not binary ones');
      if (bytes.length > this.options.maxMessageBytes) throw new WeftError('TooLarge', `a watch message may be at most ${this.options.maxMessageBytes} bytes; this one is ${bytes.length}`);
      msg = parseWatchRequest(bytes.toString('utf8'));
    } catch (e: unknown) {
      if (!isWeftError(e)) throw e;
      this.fail(client, e.code, e.message, WATCH_CLOSE.badRequest);
      return;
    }
    if (!client.authenticated) {
      this.authenticate(client, msg);
      return;
    }
    switch (msg.type) {
      case 'ping':
        this.send(client, { type: 'pong' });
        return;
      case 'auth':
        this.fail(client, 'Invalid', 'this connection is already authenticated; "auth" is only the first message', WATCH_CLOSE.badRequest);
        return;
    }
  }

  private authenticate(client: WatchClient, msg: WatchRequest): void {
    if (msg.type !== 'auth') {
      this.fail(client, 'Unauthorized', `"${msg.type}" before "auth"; send {"type":"auth","token":"<admin token>"} first`, WATCH_CLOSE.unauthorized);
      return;
    }
    // bearerMatches is the one constant-time comparison; a token with whitespace fails its parse, as it is no token.
    if (!this.tokenMatches(`Bearer ${msg.token}`)) {
      this.log.warn({ remote: client.remote }, 'watch connection refused: wrong token in auth message');
      this.fail(client, 'Unauthorized', "wrong token; the watch stream takes the admin token from the controller's data directory (admin.token)", WATCH_CLOSE.unauthorized);
      return;
    }
    if (client.authTimer) clearTimeout(client.authTimer);
    client.authTimer = undefined;
    client.authenticated = true;
    this.follow(client, msg.since ?? client.querySince);
  }

  private follow(client: WatchClient, since: string | undefined): void {
    let subscription: WatchSubscription;
    client.catchingUp = true;
    try {
      subscription = this.hub.subscribe(since, (m) => this.send(client, m));
      // Written now, while catching up: what it queues is what the too-slow limit allows on top.
      this.flush(client);
      client.catchUpBytes = client.ws.bufferedAmount;
    } catch (e: unknown) {
      this.log.error({ err: e, remote: client.remote }, 'cannot start a watch');
      this.fail(client, 'Internal', 'the controller cannot read its state for the watch; see its log', 1011);
      return;
    }
    client.catchingUp = false;
    // Catching up may already have closed it (the socket went away meanwhile).
    if (client.ending) subscription.close();
    else client.subscription = subscription;
    this.log.debug({ remote: client.remote, since }, 'watch client following');
  }

  /** Queue `m` for the frame that leaves at the end of this turn (or now, when that frame is full). */
  private send(client: WatchClient, m: WatchMessage): void {
    if (client.ending || client.ws.readyState !== client.ws.OPEN) return;
    const json = JSON.stringify(m);
    client.outbox.push(json);
    client.outboxChars += json.length;
    if (client.outboxChars >= FRAME_CHARS) this.flush(client);
    else if (!client.flushQueued) {
      client.flushQueued = true;
      queueMicrotask(() => {
        client.flushQueued = false;
        try {
          this.flush(client);
        } catch (e: unknown) {
          // Nothing above would catch it here (a microtask): drop this client, keep the controller.
          this.log.warn({ err: e, remote: client.remote }, 'watch client: cannot write to it; cutting it off');
          client.ending = true;
          this.release(client);
          client.ws.terminate();
        }
      });
    }
  }

  /** Write what is queued as one frame: the message alone, or several as a JSON array. */
  private flush(client: WatchClient): void {
    const out = client.outbox;
    if (out.length === 0) return;
    client.outbox = [];
    client.outboxChars = 0;
    if (client.ending || client.ws.readyState !== client.ws.OPEN) return;
    client.ws.send(out.length === 1 ? (out[0] as string) : `[${out.join(',')}]`);
    if (!client.catchingUp && client.ws.bufferedAmount > this.options.maxBufferedBytes + client.catchUpBytes) {
      this.log.info({ remote: client.remote, buffered: client.ws.bufferedAmount }, 'watch client too slow; closing it (it resumes on reconnect)');
      this.fail(client, 'TooSlow', `more than ${this.options.maxBufferedBytes} bytes unread; reconnect with your last position to resume`, WATCH_CLOSE.tooSlow);
    }
  }

  /** Tell the client why (an `error` with `code`, a catalogue code or TooSlow), then close with `closeCode`. */
  private fail(client: WatchClient, code: string, message: string, closeCode: number): void {
    if (client.ending) return;
    // What was queued before goes first (unless this is the too-slow close itself: then it is dropped).
    if (code !== 'TooSlow') this.flush(client);
    client.outbox = [];
    if (client.ws.readyState === client.ws.OPEN) client.ws.send(JSON.stringify({ type: 'error', code, message } satisfies WatchMessage));
    this.end(client, closeCode, code);
  }

  private end(client: WatchClient, code: number, reason: string, graceMs = this.options.closeGraceMs): void {
    client.ending = true;
    this.release(client);
    if (client.ws.readyState === client.ws.OPEN || client.ws.readyState === client.ws.CONNECTING) client.ws.close(code, reason);
    // A peer that does not read (too slow) may never take the close frame either.
    if (client.killTimer) clearTimeout(client.killTimer);
    client.killTimer = setTimeout(() => client.ws.terminate(), graceMs);
    client.killTimer.unref();
  }

  private onClose(client: WatchClient): void {
    if (client.killTimer) clearTimeout(client.killTimer);
    this.release(client);
    this.clients.delete(client);
    if (this.clients.size === 0) this.stopHeartbeat();
  }

  private release(client: WatchClient): void {
    if (client.authTimer) clearTimeout(client.authTimer);
    client.authTimer = undefined;
    client.subscription?.close();
    client.subscription = undefined;
  }

  private tokenMatches(header: string): boolean {
    return bearerMatches(header, [this.tokens.admin]);
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) {
        if (!c.alive) {
          this.log.debug({ remote: c.remote }, 'watch client did not answer ping; cutting it off');
          c.ws.terminate();
          continue;
        }
        c.alive = false;
        c.ws.ping();
      }
    }, this.options.pingIntervalMs);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
