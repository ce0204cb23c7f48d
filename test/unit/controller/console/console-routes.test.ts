import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createApp } from '../../../../controller/api/app.js';
import { contentSecurityPolicy } from '../../../../controller/api/console-routes.js';
import { harness, TOKENS } from '../support/harness.js';

const INDEX = '<!doctype html><title>weft console</title><script src="app.js" defer></script>';

/** The whole REST app (console mounted as in production) over a fresh store, serving the console from `dir`. */
async function appWithConsole(dir: string) {
  const h = harness();
  const app = createApp({ resources: h.resources, status: h.status, store: h.store, tokens: TOKENS, logger: pino({ level: 'silent' }), console: { dir } });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    get: (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers }),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      h.store.close();
    },
  };
}

describe('console routes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-console-routes-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('when built', () => {
    let api: Awaited<ReturnType<typeof appWithConsole>>;
    beforeEach(async () => {
      writeFileSync(join(dir, 'index.html'), INDEX);
      writeFileSync(join(dir, 'app.js'), 'console.log("weft")');
      writeFileSync(join(dir, 'app.css'), 'body{}');
      api = await appWithConsole(dir);
    });
    afterEach(async () => api.close());

    test('/ serves index.html without a token, with the security headers and no caching', async () => {
      const r = await api.get('/');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await r.text()).toBe(INDEX);
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self' 'unsafe-eval'");
      expect(csp).toMatch(/connect-src 'self' ws:\/\/127\.0\.0\.1:\d+ wss:\/\/127\.0\.0\.1:\d+/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('cache-control')).toBe('no-store');
    });

    test('the bundle and the stylesheet are served with their types and nosniff', async () => {
      const js = await api.get('/app.js');
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toMatch(/javascript/);
      expect(js.headers.get('x-content-type-options')).toBe('nosniff');
      const css = await api.get('/app.css');
      expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    });

    test('/api/v1 still needs the token', async () => {
      expect((await api.get('/api/v1/networks')).status).toBe(401);
      expect((await api.get('/api/v1/networks', { authorization: `Bearer ${TOKENS.admin}` })).status).toBe(200);
    });

    test('an unknown API path is the API 404 (JSON), not a file lookup', async () => {
      const r = await api.get('/api/v1/app.js', { authorization: `Bearer ${TOKENS.admin}` });
      expect(r.status).toBe(404);
      expect(await r.json()).toMatchObject({ code: 'NotFound' });
    });

    test('files outside the console directory are not reachable', async () => {
      const r = await api.get('/..%2f..%2fetc%2fpasswd');
      expect(r.status).not.toBe(200);
    });
  });

  test('/ answers 503 saying to run npm run build when the console is not built', async () => {
    const api = await appWithConsole(join(dir, 'missing'));
    try {
      const r = await api.get('/');
      expect(r.status).toBe(503);
      expect(await r.text()).toContain('npm run build');
    } finally {
      await api.close();
    }
  });

  test('the policy names the WebSocket origin only for a well-formed Host header', () => {
    expect(contentSecurityPolicy('198.18.0.1:7400')).toContain("connect-src 'self' ws://198.18.0.1:7400 wss://198.18.0.1:7400");
    expect(contentSecurityPolicy('[::1]:7400')).toContain('ws://[::1]:7400');
    expect(contentSecurityPolicy("evil; script-src *")).toContain("connect-src 'self';");
    expect(contentSecurityPolicy(undefined)).toContain("connect-src 'self';");
  });
});
