// A WatchHub over an in-memory store, wired like main.ts (writes record
// events, StatusView reads live agent state), with the pieces tests drive:
// resources (REST writes), handler + live (agents), events.
import 'reflect-metadata';
import type { ControllerConfig } from '../../../../controller/config.js';
import { WatchHub, type WatchHubOptions } from '../../../../controller/watch/watch-hub.js';
import type { EndpointReport } from '../../../../model/agent-protocol.js';
import type { WatchMessage } from '../../../../model/watch.js';
import { controllerParts } from '../support/controller-parts.js';

export function watchHarness(options: Partial<WatchHubOptions> = {}, overrides: Partial<ControllerConfig> = {}) {
  const { raw, events, store, live, config, logger, resources, status, handler } = controllerParts(overrides);
  const hub = new WatchHub(status, store, live, events, logger, { coalesceMs: 10, tickMs: 2_000, retentionMs: 60_000, ringSize: 1_000, recentEvents: 50, ...options });

  const createNetwork = (name: string, subnet: string, extra: Record<string, unknown> = {}) =>
    resources.createNetwork({ kind: 'Network', metadata: { name }, spec: { subnet, ...extra } });

  /** A subscriber that keeps what it is sent; take() hands over (and forgets) what came so far. */
  const watch = (since?: string) => {
    const got: WatchMessage[] = [];
    const sub = hub.subscribe(since, (m) => got.push(m));
    return { sub, got, take: () => got.splice(0) };
  };

  /** An agent for `host` says hello (its Host appears, blocks are pre-granted) and is live. */
  const connect = (host: string, address = `192.0.2.${host.replace(/\D/g, '') || '1'}`) => {
    handler.hello({ type: 'hello', host, agentVersion: 't', appliedRevision: 0, endpoints: [], address, underlayMtu: 1500 }, Date.now());
    live.connected(host, Date.now(), store.revision());
  };

  /** `host` (connected) reports endpoint `name` on `network`, the `k`th address of its block there. */
  const attach = (host: string, network: string, name: string, k = 5) => {
    const block = store.read((r) => r.listBlocks({ host, network })[0]);
    if (!block) throw new Error(`no block for ${host} on ${network}`);
    const [a, b, c, d] = (block.cidr.split('/')[0] as string).split('.').map(Number) as [number, number, number, number];
    const rep: EndpointReport = {
      name, network, containerId: `c-${name}`, ifname: 'eth0', ip: `${a}.${b}.${c}.${d + k}`, mac: '02:00:00:00:00:05', hostIfname: 'wv-test', netns: '/run/netns/x', labels: {},
    };
    return handler.endpointUp(host, rep);
  };

  const close = () => {
    hub.close();
    raw.close();
  };
  return { raw, store, events, live, config, logger, resources, status, handler, hub, createNetwork, watch, connect, attach, close };
}

/** The messages that carry objects, as "type Kind/name". */
export function changesOf(messages: readonly WatchMessage[]): string[] {
  return messages.flatMap((m) => (m.type === 'added' || m.type === 'modified' || m.type === 'deleted' ? [`${m.type} ${m.object.kind}/${m.object.metadata.name}`] : []));
}

export function seqOf(position: string): number {
  return Number(position.split('.')[1]);
}
