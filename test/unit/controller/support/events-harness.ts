// A controller wired like main.ts for events: the store records write
// events, the StatusView serves them, a ConditionTracker (driven by hand:
// check(), not its timer) records host and network transitions. Listens on
// an ephemeral port; `weft` runs the CLI in-process against it.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { runCli } from '../../../../cli/program.js';
import { createApp } from '../../../../controller/api/app.js';
import type { ControllerConfig } from '../../../../controller/config.js';
import { ConditionTracker } from '../../../../controller/events/condition-tracker.js';
import type { EndpointReport } from '../../../../model/agent-protocol.js';
import { TOKENS } from './harness.js';
import { controllerParts } from './controller-parts.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs must not overlap: stdout and stderr are swapped by hand (the jest object is not a global under ESM). */
async function cli(argv: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const realOut = process.stdout.write;
  const realErr = process.stderr.write;
  const token = process.env.WEFT_TOKEN;
  process.stdout.write = ((s: string | Uint8Array) => ((out += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
  process.env.WEFT_TOKEN = TOKENS.admin;
  try {
    const code = await runCli(argv, '9.9.9');
    return { code, out, err };
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
    if (token === undefined) delete process.env.WEFT_TOKEN;
    else process.env.WEFT_TOKEN = token;
  }
}

export async function eventsHarness(overrides: Partial<ControllerConfig> = {}) {
  const { raw, events, store, live, config, logger, resources, status, handler } = controllerParts(overrides);
  const tracker = new ConditionTracker(store, status, live, events, logger);
  tracker.check();
  const app = createApp({ resources, status, store: raw, tokens: TOKENS, logger });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKENS.admin}` } });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test-only: asserting on parsed JSON of any shape
    return { status: res.status, body: (await res.json()) as any };
  };
  const weft = (...argv: string[]) => cli([...argv, '--server', base]);

  /** An agent for `host` connects, with one endpoint on `network` (an address from the block its hello was granted). */
  const attach = (host: string, network: string, name = `${host}-${network}`) => {
    handler.hello({ type: 'hello', host, agentVersion: 't', appliedRevision: 0, endpoints: [], address: `192.0.2.${host.replace(/\D/g, '') || '1'}` }, Date.now());
    const block = store.read((r) => r.listBlocks({ host, network })[0]);
    if (!block) throw new Error(`no block for ${host} on ${network}`);
    const [a, b, c, d] = (block.cidr.split('/')[0] as string).split('.').map(Number) as [number, number, number, number];
    const rep: EndpointReport = {
      name, network, containerId: `c-${name}`, ifname: 'eth0', ip: `${a}.${b}.${c}.${d + 5}`, mac: '02:00:00:00:00:05', hostIfname: 'wv-test', netns: '/run/netns/x', labels: {},
    };
    handler.endpointUp(host, rep);
    live.connected(host, Date.now(), store.revision());
  };

  const close = async () => {
    tracker.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    raw.close();
  };
  return { store, raw, events, live, config, resources, status, handler, tracker, base, get, weft, attach, close };
}
