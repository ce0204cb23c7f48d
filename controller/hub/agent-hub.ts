// The agent hub: authenticated WebSocket connections from agents on the
// controller's HTTP server. Each connection starts with the agent's hello and
// the controller's full plan; afterwards every store commit that changes a
// host's plan reaches it as a delta from the last revision it was sent.
//
// Ordering an agent can rely on: `plan` is the first message after hello; a
// `blockGranted` / `staticGranted` comes after the delta that already holds
// that block / reservation; per-endpoint `error`s of a hello follow the plan;
// an `endpointPropagated` comes once every other host the endpoint concerns
// has reported applying it (endpoint-propagation.ts). A static address
// inside another host's block is answered only once that host confirmed it
// (loan-waits.ts).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { inject, injectable, optional } from 'inversify';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { rejectUpgrade } from '../api/route-upgrades.js';
import { ENDPOINT_PROPAGATION_BOUND_MS, type AgentHello, type AgentMessage } from '../../model/agent-protocol.js';
import { WeftError, isWeftError } from '../../model/errors.js';
import { isEmptyPlanDelta } from '../../model/plan-delta.js';
import { bearerMatches } from '../auth/bearer.js';
import { AuthTokens } from '../auth/token-files.js';
import { ControllerConfig } from '../config.js';
import { EventLog } from '../events/event-log.js';
import { LiveHosts } from '../hosts/live-hosts.js';
import { parseVtepAddress } from '../hosts/vtep-address.js';
import { CompiledPolicyCache } from '../planner/firewall-planner.js';
import { diffPlans, duplicateVteps, hostsWithoutVtep, planHost, type PlanInput } from '../planner/host-planner.js';
import { readPlanInput } from '../planner/plan-input.js';
import { Store, type ReservationRow } from '../store/store.js';
import { Logger } from '../util/logger.js';
import { AgentHandler } from './agent-handler.js';
import { parseAgentMessage, requestIdOf } from './agent-message.js';
import { AgentSession } from './agent-session.js';
import { EndpointPropagation } from './endpoint-propagation.js';
import { FirewallLogRecorder } from './firewall-log-recorder.js';
import { LoanWaits } from './loan-waits.js';


/** hello with thousands of endpoints is legitimate; anything beyond this is not. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

@injectable()
export class AgentHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  private readonly sockets = new Set<AgentSession>();
  private readonly byHost = new Map<string, AgentSession>();
  private readonly log: Logger;
  private unsubscribe: (() => void) | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private syncQueued = false;
  private closing = false;
  /** Underlay problems already logged, so each is logged once while it lasts. */
  private vtepWarnings = new Set<string>();
  private readonly firewallLog: FirewallLogRecorder;
  /** Static address requests waiting for the owner of the block that holds the address. */
  private readonly loans: LoanWaits;
  /** Policies compiled by earlier passes: a write recompiles only what it changed. */
  private readonly compiled = new CompiledPolicyCache();
  private readonly propagation = new EndpointPropagation(ENDPOINT_PROPAGATION_BOUND_MS);
  /** Reported endpoints whose wait starts after the next planning pass (it pushes them). */
  private awaitingPass: { session: AgentSession; host: string; requestId: string; revision: number }[] = [];

  constructor(
    @inject(Store) private readonly store: Store,
    @inject(AgentHandler) private readonly handler: AgentHandler,
    @inject(LiveHosts) private readonly live: LiveHosts,
    @inject(AuthTokens) private readonly tokens: AuthTokens,
    @inject(ControllerConfig) private readonly config: ControllerConfig,
    @inject(Logger) logger: Logger,
    // Optional so a hub built by hand works without one; main.ts binds the controller's log.
    @inject(EventLog) @optional() events: EventLog = new EventLog(),
  ) {
    this.log = logger.child({ component: 'agent-hub' });
    this.firewallLog = new FirewallLogRecorder(events, (name) => this.store.read((r) => r.getResource('FirewallPolicy', name) !== undefined));
    this.loans = new LoanWaits({
      handler,
      grant: (session, requestId, r) => this.grantStatic(session, requestId, r),
      connected: (host) => this.byHost.has(host),
      log: this.log,
    });
  }

  start(): void {
    this.unsubscribe = this.store.onCommit(() => this.queueSync());
    const tick = Math.max(20, Math.min(1000, Math.floor(this.config.heartbeatTimeoutMs / 3)));
    this.watchdog = setInterval(() => this.checkLiveness(), tick);
    this.watchdog.unref();
  }

  /** Hosts with a live, greeted connection. */
  connectedHosts(): string[] {
    return [...this.byHost.keys()];
  }

  /** An upgrade to AGENT_CONNECT_PATH (routeUpgrades sends only those): the token is checked before the WebSocket handshake. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closing) {
      rejectUpgrade(socket, new WeftError('NotReady', 'the controller is shutting down'));
      return;
    }
    if (!bearerMatches(req.headers.authorization, [this.tokens.agent, this.tokens.admin])) {
      this.log.warn({ remote: req.socket.remoteAddress }, 'agent connection refused: missing or wrong bearer token');
      rejectUpgrade(socket, new WeftError('Unauthorized', 'missing or wrong bearer token; agents send "Authorization: Bearer <agent token>"'));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
  }

  async close(): Promise<void> {
    this.closing = true;
    this.unsubscribe?.();
    this.awaitingPass = []; // their agents lose the connection, which fails their wait
    this.propagation.flush();
    if (this.watchdog) clearInterval(this.watchdog);
    this.loans.close();
    const closed = [...this.sockets].map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.ws.readyState === s.ws.CLOSED) return resolve();
          s.ws.once('close', () => resolve());
          s.ws.close(1001, 'controller shutting down');
          // A peer that does not answer the close handshake is cut off.
          setTimeout(() => s.ws.terminate(), 1000).unref();
        }),
    );
    await Promise.all(closed);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const session = new AgentSession(ws, `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`, Date.now());
    this.sockets.add(session);
    this.log.debug({ remote: session.remote }, 'agent connected; waiting for hello');
    ws.on('message', (data, isBinary) => this.onFrame(session, data, isBinary));
    ws.on('close', (code) => this.onClose(session, code));
    ws.on('error', (err) => this.log.warn({ err, host: session.host, remote: session.remote }, 'agent socket error'));
  }

  private onFrame(session: AgentSession, data: RawData, isBinary: boolean): void {
    const now = Date.now();
    session.lastSeen = now;
    if (session.host !== undefined) this.live.seen(session.host, now);
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    let msg: AgentMessage;
    try {
      if (isBinary) throw new WeftError('Invalid', 'send JSON in text frames, not binary ones');
      msg = parseAgentMessage(text);
    } catch (e: unknown) {
      this.answerError(session, e, requestIdOf(text));
      return;
    }
    try {
      this.dispatch(session, msg, now);
    } catch (e: unknown) {
      this.answerError(session, e, 'requestId' in msg ? msg.requestId : undefined);
    }
  }

  private dispatch(session: AgentSession, msg: AgentMessage, now: number): void {
    if (msg.type === 'hello') {
      this.onHello(session, msg, now);
      return;
    }
    const host = session.host;
    if (host === undefined) throw new WeftError('NotReady', `"${msg.type}" before hello; send hello first`);
    switch (msg.type) {
      case 'heartbeat':
        this.live.heartbeat(host, now);
        return;
      case 'status':
        this.live.status(host, now, msg.appliedRevision, msg.networks, { firewall: msg.firewall, spoofDrops: msg.spoofDrops, vnfs: msg.vnfs });
        this.propagation.applied(host, msg.appliedRevision);
        return;
      case 'firewallLog': {
        const out = this.firewallLog.record(host, msg.entries, now);
        if (out.dropped > 0 || out.ignored > 0) this.log.debug({ host, ...out }, 'firewall log entries not recorded');
        return;
      }
      case 'endpointUp':
        this.handler.endpointUp(host, msg.endpoint);
        if (msg.requestId !== undefined) this.propagate(session, host, msg.requestId);
        return;
      case 'endpointDown':
        this.handler.endpointDown(host, msg.name);
        return;
      case 'requestBlock': {
        const block = this.handler.requestBlock(host, msg.network);
        this.push(session, this.store.read(readPlanInput));
        session.send({ type: 'blockGranted', requestId: msg.requestId, block: { network: block.network, cidr: block.cidr } });
        this.log.info({ host, network: block.network, cidr: block.cidr }, 'block granted');
        return;
      }
      case 'requestStatic': {
        const r = this.handler.requestStatic(host, msg.network, msg.ip, msg.owner);
        if (r.pending) this.loans.start(session, host, msg);
        else this.grantStatic(session, msg.requestId, r);
        return;
      }
      case 'releaseStatic':
        this.handler.releaseStatic(host, msg.network, msg.ip);
        return;
      case 'loanConfirmed':
        if (this.handler.confirmLoan(host, msg.network, msg.ip)) this.log.info({ host, network: msg.network, ip: msg.ip }, 'loan of an address confirmed');
        return;
    }
  }

  /** The borrower's plan first (it holds the reservation), then the answer. */
  private grantStatic(session: AgentSession, requestId: string, r: ReservationRow): void {
    this.push(session, this.store.read(readPlanInput));
    session.send({ type: 'staticGranted', requestId, reservation: { network: r.network, ip: r.ip, owner: r.owner } });
  }

  private onHello(session: AgentSession, msg: AgentHello, now: number): void {
    if (session.host !== undefined) throw new WeftError('Invalid', `hello was already received on this connection (host "${session.host}")`);
    const previous = this.byHost.get(msg.host);
    if (previous) {
      // The agent reconnected before we noticed the old connection died: the newer one is the truth.
      previous.replaced = true;
      previous.ws.close(4000, 'replaced by a newer connection from the same host');
      this.log.info({ host: msg.host, remote: session.remote }, 'agent reconnected; closing its previous connection');
    }
    const rejected = this.handler.hello(msg, now);
    session.host = msg.host;
    this.byHost.set(msg.host, session);
    this.live.connected(msg.host, now, msg.appliedRevision);
    const input = this.store.read(readPlanInput);
    this.push(session, input);
    const vtep = msg.address === undefined ? undefined : parseVtepAddress(msg.address);
    if (vtep && 'problem' in vtep) {
      session.send({ type: 'error', code: 'Invalid', message: `${vtep.problem}; other hosts send this host no overlay traffic until its hello reports a usable one` });
      this.log.warn({ host: msg.host, address: msg.address }, vtep.problem);
    }
    this.warnVteps(input);
    for (const r of rejected) {
      session.send({ type: 'error', code: r.error.code, message: `endpoint "${r.endpoint}" refused: ${r.error.message}` });
      this.log.warn({ host: msg.host, endpoint: r.endpoint, code: r.error.code }, r.error.message);
    }
    this.log.info({ host: msg.host, remote: session.remote, endpoints: msg.endpoints.length - rejected.length, agentVersion: msg.agentVersion }, 'agent ready');
  }

  private onClose(session: AgentSession, code: number): void {
    this.sockets.delete(session);
    const host = session.host;
    if (host === undefined || session.replaced || this.byHost.get(host) !== session) return;
    this.byHost.delete(host);
    this.propagation.gone(host);
    const now = Date.now();
    this.live.disconnected(host, now);
    this.log.info({ host, code }, 'agent disconnected');
    if (this.closing) return;
    this.loans.disconnected(host);
    try {
      this.handler.disconnected(host, session.lastSeen);
    } catch (e: unknown) {
      this.log.error({ err: e, host }, 'could not record the disconnect');
    }
  }

  /**
   * The endpoint `host` just reported (committed at the current revision)
   * goes out with the next planning pass, which the commit queued; after
   * it, `host` hears once the other hosts whose plan changed have applied it.
   */
  private propagate(session: AgentSession, host: string, requestId: string): void {
    this.awaitingPass.push({ session, host, requestId, revision: this.store.revision() });
    this.queueSync();
  }

  /** Start the waits of the endpoints reported before the pass that just pushed them (also when it failed). */
  private startPropagations(): void {
    for (const { session, host, requestId, revision } of this.awaitingPass.splice(0)) {
      const concerned = [...this.byHost].filter(([h, s]) => h !== host && (s.baseline?.revision ?? 0) >= revision).map(([h]) => h);
      this.propagation.wait(
        revision,
        concerned,
        (h) => this.live.get(h)?.appliedRevision,
        (o) => {
          if (o.late.length > 0) this.log.warn({ host, revision, late: o.late }, 'hosts did not apply a new endpoint in time; they get it later');
          session.send({ type: 'endpointPropagated', requestId, revision, hosts: o.hosts, late: o.late });
        },
      );
    }
  }

  /** Answer a failed message: requestFailed for requests (they carry a requestId), error otherwise. */
  private answerError(session: AgentSession, e: unknown, requestId: string | undefined): void {
    const err = isWeftError(e) ? e : new WeftError('Internal', 'internal error; see the controller log', { cause: e });
    if (err.code === 'Internal') this.log.error({ err: e, host: session.host }, 'agent message failed');
    else this.log.warn({ host: session.host, remote: session.remote, code: err.code }, err.message);
    if (requestId !== undefined) session.send({ type: 'requestFailed', requestId, code: err.code, message: err.message });
    else session.send({ type: 'error', code: err.code, message: err.message });
  }

  /**
   * Coalesce bursts of commits into one planning pass. setImmediate, not a
   * timer: an endpoint attach on one host reaches every other host as soon
   * as the current event-loop turn ends (about 2 ms end to end here), while
   * commits made in one turn (a hello and its pre-grants) still go out as
   * one delta.
   */
  private queueSync(): void {
    if (this.syncQueued || this.closing) return;
    this.syncQueued = true;
    setImmediate(() => {
      this.syncQueued = false;
      this.syncAll();
    });
  }

  private syncAll(): void {
    try {
      if (this.closing || this.byHost.size === 0) return;
      // Networks created since a host connected get a pre-granted block too (this commit queues one more pass).
      this.handler.pregrant([...this.byHost.keys()]);
      const input = this.store.read(readPlanInput);
      for (const session of this.byHost.values()) this.push(session, input);
      this.warnVteps(input);
      this.loans.recheck();
    } catch (e: unknown) {
      this.log.error({ err: e }, 'planning pass failed');
    } finally {
      this.startPropagations();
    }
  }

  /** Send the host what changed since its baseline: a full plan the first time, then non-empty deltas. */
  private push(session: AgentSession, input: PlanInput): void {
    const host = session.host;
    if (host === undefined) return;
    const plan = planHost(input, host, this.compiled);
    const base = session.baseline;
    if (!base) {
      session.send({ type: 'plan', plan });
    } else {
      if (plan.revision <= base.revision) return;
      const delta = diffPlans(base, plan);
      if (isEmptyPlanDelta(delta)) return;
      session.send({ type: 'delta', fromRevision: base.revision, revision: plan.revision, delta });
    }
    session.baseline = plan;
    this.live.sent(host, plan.revision);
  }

  /**
   * Log, once each while it lasts, hosts whose endpoints no other host can
   * reach: no underlay address, or one another host reports too.
   */
  private warnVteps(input: PlanInput): void {
    const current = new Map<string, () => void>();
    for (const host of hostsWithoutVtep(input)) {
      current.set(`missing\u0000${host}`, () =>
        this.log.warn({ host }, 'host has endpoints but no underlay address: other hosts get no forwarding entries for them until its agent reports one'),
      );
    }
    for (const d of duplicateVteps(input)) {
      current.set(`duplicate\u0000${d.vtep}\u0000${d.hosts.join(',')}`, () =>
        this.log.warn({ vtep: d.vtep, hosts: d.hosts }, 'hosts report the same underlay address: configure each agent with its own'),
      );
    }
    for (const [key, log] of current) if (!this.vtepWarnings.has(key)) log();
    this.vtepWarnings = new Set(current.keys());
  }

  /** Cut connections that went silent; their hosts become NotReady (their endpoints stay in every plan). */
  private checkLiveness(): void {
    const now = Date.now();
    for (const s of this.sockets) {
      if (now - s.lastSeen <= this.config.heartbeatTimeoutMs) continue;
      this.log.warn({ host: s.host, remote: s.remote, silentMs: now - s.lastSeen }, 'no heartbeat from agent; closing its connection');
      s.ws.terminate();
    }
  }
}

