// Wires the controller's classes by hand over an in-memory SQLite store, the
// way main.ts does with the container, so tests can reach every piece.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { pino } from 'pino';
import { createApp } from '../../../../controller/api/app.js';
import type { AuthTokens } from '../../../../controller/auth/token-files.js';
import type { ControllerConfig } from '../../../../controller/config.js';
import { LiveHosts } from '../../../../controller/hosts/live-hosts.js';
import { AgentHandler } from '../../../../controller/hub/agent-handler.js';
import { Ipam } from '../../../../controller/ipam/ipam.js';
import { ResourceService } from '../../../../controller/resources/resource-service.js';
import { StatusView } from '../../../../controller/status/status-view.js';
import { SqliteStore } from '../../../../controller/store/sqlite-store.js';
import type { Network } from '../../../../model/kinds.js';

/** Response bodies are arbitrary JSON the tests reach into. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test-only: asserting on parsed JSON of any shape
export type JsonBody = any;

export const TOKENS: AuthTokens = { admin: 'a'.repeat(64), agent: 'b'.repeat(64) };

export function network(name: string, spec: Network['spec'], labels?: Record<string, string>): Network {
  const n: Network = { apiVersion: 'weft.dev/v1', kind: 'Network', metadata: { name }, spec };
  if (labels) n.metadata.labels = labels;
  return n;
}

export function harness(overrides: Partial<ControllerConfig> = {}) {
  const store = new SqliteStore(':memory:');
  const ipam = new Ipam();
  const live = new LiveHosts();
  const config: ControllerConfig = {
    dataDir: '/nonexistent', heartbeatTimeoutMs: 15_000, hostGoneAfterMs: 60_000, blockReclaimGraceMs: 600_000, startedAt: Date.now(), ...overrides,
  };
  const resources = new ResourceService(store, ipam);
  const status = new StatusView(store, live, config);
  const handler = new AgentHandler(store, ipam);
  const logger = pino({ level: 'silent' });
  return { store, ipam, live, config, resources, status, handler, logger };
}

/** createApp over a fresh harness, listening on an ephemeral port. */
export async function apiHarness() {
  const h = harness();
  const app = createApp({ resources: h.resources, status: h.status, store: h.store, tokens: TOKENS, logger: h.logger });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, body?: unknown, token: string | null = TOKENS.admin) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(`${base}${path}`, init);
    const text = await res.text();
    let json: JsonBody;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  };
  const close = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    h.store.close();
  };
  return { ...h, base, call, close };
}

/** A REST call to a running controller as the admin: status and JSON body. */
export async function adminRest(ctl: { url: string; adminToken: string }, method: string, path: string, body?: unknown): Promise<{ status: number; body: JsonBody }> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${ctl.adminToken}`, 'content-type': 'application/json' } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const r = await fetch(`${ctl.url}${path}`, init);
  return { status: r.status, body: (await r.json()) as JsonBody };
}
