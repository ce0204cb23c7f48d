// The agent's WebSocket to the controller: hello with every endpoint and
// the underlay (VTEP) address and MTU, then full plans and deltas in,
// endpoint reports, status and heartbeats out.
// Reconnects with capped exponential backoff; the data plane does not care
// whether the link is up (local attaches use the cached plan and our blocks).
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { inject, injectable, optional } from 'inversify';
import WebSocket from 'ws';
import {
  AGENT_CONNECT_PATH, type AgentHello, type AgentMessage, type ControllerMessage, type EndpointReport, type HostPlan, type PlanBlock, type PlanReservation,
} from '../model/agent-protocol.js';
import { ERROR_CATALOGUE, WeftError, errorMessage, type ErrorCode } from '../model/errors.js';
import { AGENT_CONFIG, AGENT_LOGGER, type AgentConfig, type AgentLogger } from './agent-config.js';
import type { ControllerUplink } from './controller-uplink.js';
import { Underlay } from './overlay/underlay.js';
import type { Vtep } from './reconcile/overlay-diff.js';
import { EndpointStore, toReport } from './state/endpoint-store.js';
import { PlanState } from './state/plan-state.js';

/** Close code we use to force a resync (a delta we cannot apply). */
const RESYNC_CLOSE = 4000;
/** Silence (no message, no pong) for this many heartbeats means the peer is gone. */
const DEAD_AFTER_BEATS = 3;
const MAX_QUEUE = 10_000;

/** ws(s)://host[:port][/base]/api/v1/agents/connect from an http(s) or ws(s) base URL. */
export function connectUrl(base: string): string {
  let u: URL;
  try {
    u = new URL(base);
  } catch (e: unknown) {
    throw new WeftError('Invalid', `controller URL ${JSON.stringify(base)} is not a URL`, { cause: e });
  }
  const scheme = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' }[u.protocol];
  if (!scheme) throw new WeftError('Invalid', `controller URL ${JSON.stringify(base)}: use http(s):// or ws(s)://`);
  u.protocol = scheme;
  u.pathname = `${u.pathname.replace(/\/+$/, '')}${AGENT_CONNECT_PATH}`;
  u.search = '';
  u.hash = '';
  return u.toString();
}

export async function readToken(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e: unknown) {
    throw new WeftError('Unauthorized', `cannot read the agent token file ${file}: ${errorMessage(e)}`, { cause: e });
  }
  const token = text.trim();
  if (!token) throw new WeftError('Unauthorized', `the agent token file ${file} is empty`);
  return token;
}

interface Pending {
  resolve: (m: ControllerMessage) => void;
  reject: (e: WeftError) => void;
  timer: NodeJS.Timeout;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function looksLikePlan(v: unknown): v is HostPlan {
  return isObject(v) && typeof v.revision === 'number' && Array.isArray(v.networks) && Array.isArray(v.blocks) && Array.isArray(v.reservations);
}

@injectable()
export class ControllerLink implements ControllerUplink {
  private ws: WebSocket | undefined;
  private ready = false;
  private stopped = true;
  private attempt = 0;
  private forceFullPlan = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  private readonly pending = new Map<string, Pending>();
  private queue: AgentMessage[] = [];
  private readonly connectionListeners = new Set<(connected: boolean) => void>();
  private firstOutcome: { promise: Promise<boolean>; settle: (gotPlan: boolean) => void };

  constructor(
    @inject(AGENT_CONFIG) private readonly config: AgentConfig,
    @inject(AGENT_LOGGER) private readonly log: AgentLogger,
    @inject(EndpointStore) private readonly store: EndpointStore,
    @inject(PlanState) private readonly plan: PlanState,
    @inject(Underlay) @optional() private readonly underlay?: Underlay,
  ) {
    let settle: (v: boolean) => void = () => {};
    const promise = new Promise<boolean>((resolve) => (settle = resolve));
    this.firstOutcome = { promise, settle };
  }

  get connected(): boolean {
    return this.ready;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.firstOutcome.settle(false);
    const ws = this.ws;
    this.ws = undefined; // its close event is ours, not an outage
    this.dropConnection('agent stopping');
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1000);
        ws.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        ws.close(1001, 'agent stopping');
      });
    }
  }

  /**
   * Resolves true once the controller's first plan arrives, false when the
   * first attempt fails or `ms` pass: start-up then goes on with the cache.
   */
  waitForFirstPlan(ms: number): Promise<boolean> {
    return Promise.race([this.firstOutcome.promise, new Promise<boolean>((resolve) => setTimeout(resolve, ms, false).unref())]);
  }

  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  send(msg: AgentMessage): void {
    if (this.ready && this.ws) {
      this.ws.send(JSON.stringify(msg));
      return;
    }
    switch (msg.type) {
      case 'heartbeat':
      case 'requestBlock':
      case 'requestStatic':
      case 'hello':
        return; // meaningless later
      case 'status':
        this.queue = this.queue.filter((m) => m.type !== 'status'); // only the latest matters
        break;
      default:
        break;
    }
    if (this.queue.length >= MAX_QUEUE) this.queue.shift(); // the next hello carries the full list anyway
    this.queue.push(msg);
  }

  async requestBlock(network: string): Promise<PlanBlock> {
    const reply = await this.request({ type: 'requestBlock', requestId: randomUUID(), network }, `a new address block of "${network}"`);
    if (reply.type !== 'blockGranted') throw new WeftError('Internal', `unexpected reply ${reply.type} to requestBlock`);
    return reply.block;
  }

  async requestStatic(network: string, ip: string, owner: string): Promise<PlanReservation> {
    const reply = await this.request({ type: 'requestStatic', requestId: randomUUID(), network, ip, owner }, `address ${ip} on "${network}"`);
    if (reply.type !== 'staticGranted') throw new WeftError('Internal', `unexpected reply ${reply.type} to requestStatic`);
    return reply.reservation;
  }

  async announceEndpoint(endpoint: EndpointReport, timeoutMs: number): Promise<{ late: string[] }> {
    const msg = { type: 'endpointUp' as const, endpoint, requestId: randomUUID() };
    const reply = await this.request(msg, `other hosts to apply endpoint "${endpoint.name}"`, timeoutMs);
    if (reply.type !== 'endpointPropagated') throw new WeftError('Internal', `unexpected reply ${reply.type} to endpointUp`);
    return { late: reply.late };
  }

  private request(msg: AgentMessage & { requestId: string }, what: string, timeoutMs = this.config.requestTimeoutMs): Promise<ControllerMessage> {
    if (!this.ready || !this.ws) return Promise.reject(new WeftError('NotReady', `cannot ask the controller for ${what}: not connected`));
    const ws = this.ws;
    return new Promise<ControllerMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(msg.requestId);
        reject(new WeftError('NotReady', `the controller did not answer the request for ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(msg.requestId, { resolve, reject, timer });
      ws.send(JSON.stringify(msg));
    });
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let url: string;
    let token: string;
    try {
      url = connectUrl(this.config.controller);
      // Re-read each time: rotating the token needs no agent restart.
      token = await readToken(this.config.tokenFile);
    } catch (e: unknown) {
      this.log.error({ err: errorMessage(e) }, 'cannot connect to the controller');
      this.firstOutcome.settle(false);
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, handshakeTimeout: this.config.requestTimeoutMs });
    this.ws = ws;
    // The local address of this connection is the address the controller
    // reaches us at: our VTEP unless one is configured.
    let localAddress: string | undefined;
    ws.on('upgrade', (res: IncomingMessage) => (localAddress = res.socket.localAddress));
    ws.on('open', () => void this.onOpen(ws, localAddress));
    ws.on('message', (data, isBinary) => {
      this.lastHeard = Date.now();
      if (isBinary) return;
      this.onMessage(ws, data.toString());
    });
    ws.on('pong', () => (this.lastHeard = Date.now()));
    ws.on('unexpected-response', (_req, res) => {
      this.log.warn({ url, status: res.statusCode }, 'controller refused the agent connection');
      res.resume();
      ws.terminate();
    });
    ws.on('error', (e: Error) => this.log.debug({ url, err: e.message }, 'controller link error'));
    ws.on('close', (code, reason) => {
      if (this.ws !== ws) return;
      this.log.warn({ url, code, reason: reason.toString() }, 'controller link closed');
      this.dropConnection('connection closed');
      this.ws = undefined;
      this.firstOutcome.settle(false);
      this.scheduleReconnect();
    });
  }

  private async onOpen(ws: WebSocket, localAddress: string | undefined): Promise<void> {
    if (this.ws !== ws) return;
    // Not ready until hello is out: messages sent meanwhile are queued behind it.
    let vtep: Vtep | undefined;
    try {
      vtep = await this.underlay?.learn(localAddress);
    } catch (e: unknown) {
      this.log.warn({ err: errorMessage(e) }, 'cannot resolve the underlay address');
    }
    if (this.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
    this.ready = true;
    this.lastHeard = Date.now();
    const cached = this.plan.current();
    // hello carries every endpoint: queued endpoint reports are superseded.
    const endpoints = this.store.list({ state: 'attached' }).map(toReport);
    this.queue = this.queue.filter((m) => m.type !== 'endpointUp' && m.type !== 'endpointDown');
    const appliedRevision = this.forceFullPlan || !cached ? 0 : cached.revision;
    this.forceFullPlan = false;
    const hello: AgentHello = { type: 'hello', host: this.config.name, agentVersion: this.config.agentVersion, appliedRevision, endpoints };
    if (vtep) hello.address = vtep.address;
    if (vtep?.mtu !== undefined) hello.underlayMtu = vtep.mtu;
    ws.send(JSON.stringify(hello satisfies AgentMessage));
    const queued = this.queue;
    this.queue = [];
    for (const m of queued) ws.send(JSON.stringify(m));
    this.heartbeatTimer = setInterval(() => this.beat(ws), this.config.heartbeatMs);
    this.heartbeatTimer.unref();
    this.log.info({ endpoints: endpoints.length, appliedRevision, address: hello.address, underlayMtu: hello.underlayMtu }, 'connected to the controller');
    for (const l of this.connectionListeners) l(true);
  }

  private beat(ws: WebSocket): void {
    if (Date.now() - this.lastHeard > DEAD_AFTER_BEATS * this.config.heartbeatMs) {
      this.log.warn('controller silent for too long; reconnecting');
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify({ type: 'heartbeat' } satisfies AgentMessage));
    ws.ping();
  }

  private onMessage(ws: WebSocket, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.log.warn('controller sent a frame that is not JSON; ignored');
      return;
    }
    if (!isObject(msg) || typeof msg.type !== 'string') {
      this.log.warn('controller sent a message without a type; ignored');
      return;
    }
    const m = msg as ControllerMessage;
    switch (m.type) {
      case 'plan':
        if (!looksLikePlan(m.plan)) {
          this.log.error('controller sent a malformed plan; ignored');
          return;
        }
        this.attempt = 0; // a working session: next outage starts with a short backoff
        this.plan.replace(m.plan);
        this.firstOutcome.settle(true);
        return;
      case 'delta':
        if (!this.plan.applyDelta(m.fromRevision, m.revision, m.delta)) {
          this.log.warn({ fromRevision: m.fromRevision, have: this.plan.current()?.revision }, 'delta does not apply to our plan; resyncing');
          this.forceFullPlan = true;
          ws.close(RESYNC_CLOSE, 'resync');
        }
        return;
      case 'blockGranted':
      case 'staticGranted':
      case 'endpointPropagated':
        this.settle(m.requestId, m);
        return;
      case 'requestFailed': {
        const code: ErrorCode = m.code in ERROR_CATALOGUE ? (m.code as ErrorCode) : 'Internal';
        this.settle(m.requestId, new WeftError(code, `controller: ${m.message}`));
        return;
      }
      case 'error':
        this.log.warn({ code: m.code }, `controller error: ${m.message}`);
        return;
      default:
        this.log.debug({ type: (m as { type: string }).type }, 'unknown controller message; ignored');
    }
  }

  private settle(requestId: string, outcome: ControllerMessage | WeftError): void {
    const p = this.pending.get(requestId);
    if (!p) return;
    this.pending.delete(requestId);
    clearTimeout(p.timer);
    if (outcome instanceof WeftError) p.reject(outcome);
    else p.resolve(outcome);
  }

  private dropConnection(why: string): void {
    const wasReady = this.ready;
    this.ready = false;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new WeftError('NotReady', `controller link lost before it answered (${why})`));
      this.pending.delete(id);
    }
    if (wasReady) for (const l of this.connectionListeners) l(false);
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const { reconnectMinMs: min, reconnectMaxMs: max } = this.config;
    const base = this.forceFullPlan ? min : Math.min(max, min * 2 ** this.attempt);
    this.attempt++;
    const delay = Math.round(base * (0.8 + Math.random() * 0.4)); // jitter: agents do not reconnect in lockstep
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
    this.reconnectTimer.unref();
  }
}
