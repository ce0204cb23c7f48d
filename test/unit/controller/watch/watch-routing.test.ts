// The controller as main.ts builds it: upgrades go by path to the agent hub
// or the watch stream; the watch sees REST writes; shutdown closes it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startController, type RunningController } from '../../../../controller/main.js';
import { AGENT_CONNECT_PATH } from '../../../../model/agent-protocol.js';
import { WATCH_PATH } from '../../../../model/watch.js';
import { WatchTestClient } from './watch-client.js';

describe('watch stream in the controller', () => {
  let dir: string;
  let ctl: RunningController;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-watch-'));
    ctl = await startController({ listen: '127.0.0.1:0', dataDir: dir, logLevel: 'silent' });
  });
  afterEach(async () => {
    await ctl.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an upgrade to another path is a 404 that names both WebSocket paths', async () => {
    const ws = new WebSocket(`${ctl.url.replace(/^http/, 'ws')}/api/v1/nowhere`, { headers: { authorization: `Bearer ${ctl.adminToken}` } });
    const res = await new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
      ws.once('unexpected-response', (_req, r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += String(c)));
        r.on('end', () => resolve({ status: r.statusCode, body }));
      });
      ws.once('open', () => reject(new Error('upgraded')));
    });
    expect(res.status).toBe(404);
    const { code, message } = JSON.parse(res.body) as { code: string; message: string };
    expect(code).toBe('NotFound');
    expect(message).toContain(AGENT_CONNECT_PATH);
    expect(message).toContain(WATCH_PATH);
  });

  test('the watch takes the admin token, not the agent token', async () => {
    await expect(WatchTestClient.connect(ctl.url, { header: ctl.agentToken })).rejects.toMatchObject({ statusCode: 401 });
  });

  test('a REST write reaches a watch client; shutdown closes it with 1001', async () => {
    const c = await WatchTestClient.connect(ctl.url, { header: ctl.adminToken });
    await c.until((m) => m.type === 'synced', 'synced');
    const res = await fetch(`${ctl.url}/api/v1/networks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ctl.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { name: 'web' }, spec: { subnet: '10.0.0.0/24' } }),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as unknown;
    const added = await c.until((m) => m.type === 'added', 'added');
    expect(added).toMatchObject({ object: created });
    await c.until((m) => m.type === 'event' && m.event.reason === 'Created', 'the Created event');
    await ctl.close();
    expect(await c.closed()).toBe(1001);
  });
});
