// The controller's read/write core wired like main.ts, over an in-memory
// store: writes record events, StatusView reads live agent state. Shared by
// the test harnesses that drive it through different doors (REST + CLI,
// the watch stream).
import 'reflect-metadata';
import { pino } from 'pino';
import type { ControllerConfig } from '../../../../controller/config.js';
import { EventLog } from '../../../../controller/events/event-log.js';
import { EventRecordingStore } from '../../../../controller/events/recording-store.js';
import { LiveHosts } from '../../../../controller/hosts/live-hosts.js';
import { AgentHandler } from '../../../../controller/hub/agent-handler.js';
import { Ipam } from '../../../../controller/ipam/ipam.js';
import { ResourceService } from '../../../../controller/resources/resource-service.js';
import { StatusView } from '../../../../controller/status/status-view.js';
import { SqliteStore } from '../../../../controller/store/sqlite-store.js';

export function controllerParts(overrides: Partial<ControllerConfig> = {}) {
  const raw = new SqliteStore(':memory:');
  const events = new EventLog();
  const store = new EventRecordingStore(raw, events);
  const ipam = new Ipam();
  const live = new LiveHosts();
  const config: ControllerConfig = {
    dataDir: '/nonexistent', heartbeatTimeoutMs: 15_000, hostGoneAfterMs: 60_000, blockReclaimGraceMs: 600_000, startedAt: Date.now(), ...overrides,
  };
  const logger = pino({ level: 'silent' });
  const resources = new ResourceService(store, ipam);
  const status = new StatusView(store, live, config, events);
  const handler = new AgentHandler(store, ipam);
  return { raw, events, store, ipam, live, config, logger, resources, status, handler };
}
