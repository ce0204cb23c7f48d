// Composition root of the controller: resolves options, builds the inversify
// container (the only place that does), and runs the HTTP server that
// carries the REST API and the WebSockets (agents, the watch stream).
import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Container } from 'inversify';
import { AGENT_CONNECT_PATH } from '../model/agent-protocol.js';
import { WATCH_PATH } from '../model/watch.js';
import { createApp } from './api/app.js';
import { WatchSocket } from './api/watch-socket.js';
import { AuthTokens, ensureTokens } from './auth/token-files.js';
import {
  ControllerConfig, DEFAULT_BLOCK_RECLAIM_GRACE_MS, DEFAULT_HEARTBEAT_TIMEOUT_MS, DEFAULT_HOST_GONE_AFTER_MS, checkTimings, parseListen,
} from './config.js';
import { ConditionTracker } from './events/condition-tracker.js';
import { EventLog } from './events/event-log.js';
import { EventRecordingStore } from './events/recording-store.js';
import { GoneHostSweeper } from './hosts/gone-host-sweeper.js';
import { LiveHosts } from './hosts/live-hosts.js';
import { AgentHandler } from './hub/agent-handler.js';
import { AgentHub } from './hub/agent-hub.js';
import { BlockReclaimer } from './ipam/block-reclaimer.js';
import { Ipam } from './ipam/ipam.js';
import { ResourceService } from './resources/resource-service.js';
import { StatusView } from './status/status-view.js';
import { SqliteStore } from './store/sqlite-store.js';
import { Store } from './store/store.js';
import { Logger, createLogger } from './util/logger.js';
import { routeUpgrades } from './api/route-upgrades.js';
import { WatchHub } from './watch/watch-hub.js';

export interface ControllerOptions {
  /** HOST:PORT; port 0 picks a free port. */
  listen: string;
  dataDir: string;
  logLevel?: string;
  /** Silence after which a connected host is cut off and NotReady (its endpoints stay). Default 15 s. */
  heartbeatTimeoutMs?: number;
  /** No connection for this long makes a host Gone: its endpoints are withdrawn. Default 60 s. */
  hostGoneAfterMs?: number;
  /** No connection for this long (and Gone) reclaims a host's empty blocks. Default 10 min. */
  blockReclaimGraceMs?: number;
}

export interface RunningController {
  url: string;
  port: number;
  adminToken: string;
  agentToken: string;
  close(): Promise<void>;
}

export function buildContainer(config: ControllerConfig, store: Store, tokens: AuthTokens, logger: Logger, events: EventLog = new EventLog()): Container {
  const c = new Container({ defaultScope: 'Singleton' });
  c.bind<ControllerConfig>(ControllerConfig).toConstantValue(config);
  // Every write records its events (created, configured, deleted, attached, detached) once committed.
  c.bind<Store>(Store).toConstantValue(new EventRecordingStore(store, events));
  c.bind(EventLog).toConstantValue(events);
  c.bind(ConditionTracker).toSelf();
  c.bind<AuthTokens>(AuthTokens).toConstantValue(tokens);
  c.bind<Logger>(Logger).toConstantValue(logger);
  c.bind(Ipam).toSelf();
  c.bind(LiveHosts).toSelf();
  c.bind(ResourceService).toSelf();
  c.bind(StatusView).toSelf();
  c.bind(AgentHandler).toSelf();
  c.bind(AgentHub).toSelf();
  c.bind(BlockReclaimer).toSelf();
  c.bind(GoneHostSweeper).toSelf();
  c.bind(WatchHub).toSelf();
  c.bind(WatchSocket).toSelf();
  return c;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** A URL clients on this machine can use: wildcard listen addresses become loopback. */
function clientUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

export async function startController(opts: ControllerOptions): Promise<RunningController> {
  const { host, port } = parseListen(opts.listen);
  const timings = {
    heartbeatTimeoutMs: opts.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS,
    hostGoneAfterMs: opts.hostGoneAfterMs ?? DEFAULT_HOST_GONE_AFTER_MS,
    blockReclaimGraceMs: opts.blockReclaimGraceMs ?? DEFAULT_BLOCK_RECLAIM_GRACE_MS,
  };
  checkTimings(timings);
  const tokens = ensureTokens(opts.dataDir);
  const logger = createLogger(opts.logLevel ?? 'info');
  const config: ControllerConfig = { dataDir: opts.dataDir, ...timings, startedAt: Date.now() };
  const store = new SqliteStore(join(opts.dataDir, 'weft.db'));
  const container = buildContainer(config, store, tokens, logger);
  const hub = container.get(AgentHub);
  const reclaimer = container.get(BlockReclaimer);
  const sweeper = container.get(GoneHostSweeper);
  const tracker = container.get(ConditionTracker);
  const watchHub = container.get(WatchHub);
  const watchSocket = container.get(WatchSocket);
  const app = createApp({ resources: container.get(ResourceService), status: container.get(StatusView), store, tokens, logger });

  const server = createServer(app);
  server.on(
    'upgrade',
    routeUpgrades([
      { path: AGENT_CONNECT_PATH, who: 'agents', handle: (req, socket, head) => hub.handleUpgrade(req, socket, head) },
      { path: WATCH_PATH, who: 'watch clients (the web console)', handle: (req, socket, head) => watchSocket.handleUpgrade(req, socket, head) },
    ]),
  );
  try {
    await listen(server, port, host);
  } catch (e: unknown) {
    store.close();
    throw new Error(`cannot listen on ${opts.listen}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  hub.start();
  reclaimer.start();
  sweeper.start();
  tracker.start();
  const actual = (server.address() as AddressInfo).port;
  const url = clientUrl(host, actual);
  logger.info({ url, dataDir: opts.dataDir, revision: store.revision(), ...timings }, 'controller listening');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      reclaimer.stop();
      sweeper.stop();
      tracker.stop();
      await watchSocket.close();
      watchHub.close();
      await hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      store.close();
      logger.info('controller stopped');
    })();
    return closing;
  };
  return { url, port: actual, adminToken: tokens.admin, agentToken: tokens.agent, close };
}
