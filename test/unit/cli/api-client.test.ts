import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WeftError } from '../../../model/errors.js';
import { ApiClient } from '../../../cli/api-client.js';
import { CliError, EXIT_UNREACHABLE } from '../../../cli/cli-error.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

function serve(handler: Handler): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, body, res));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

const json = (res: ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
};

describe('ApiClient', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
  });

  it('sends the bearer token and the apply body, and returns the results', async () => {
    let seen: { auth?: string; body?: unknown; path?: string } = {};
    const s = await serve((req, body, res) => {
      seen = { auth: req.headers.authorization, body: JSON.parse(body), path: req.url };
      json(res, 200, { results: [{ kind: 'Network', name: 'blue', action: 'created' }], revision: 7 });
    });
    server = s.server;
    const client = new ApiClient({ server: s.url, token: 'tok', tokenSource: 'test' });
    const r = await client.apply([{ kind: 'Network' }], true);
    expect(seen).toEqual({ auth: 'Bearer tok', body: { items: [{ kind: 'Network' }], dryRun: true }, path: '/api/v1/apply' });
    expect(r.revision).toBe(7);
  });

  it('maps an error body to a WeftError with its details', async () => {
    const s = await serve((_req, _b, res) =>
      json(res, 409, { code: 'Overlap', message: 'subnet overlaps', field: '/items/0/spec/subnet', details: [{ path: '/items/0/spec/subnet', message: 'overlaps red' }], retriable: false }),
    );
    server = s.server;
    const err = await new ApiClient({ server: s.url, token: 't', tokenSource: 'x' }).apply([]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeftError);
    expect(err).toMatchObject({ code: 'Overlap', message: 'subnet overlaps', field: '/items/0/spec/subnet' });
    expect((err as WeftError).details).toHaveLength(1);
  });

  it('turns 401 into a hint about the token', async () => {
    const s = await serve((_req, _b, res) => json(res, 401, { code: 'Unauthorized', message: 'missing or wrong bearer token', retriable: false }));
    server = s.server;
    const noToken = await new ApiClient({ server: s.url, token: undefined, tokenSource: 'none' }).list('Network').catch((e: unknown) => e);
    expect((noToken as Error).message).toMatch(/no admin token found: pass --token-file/);
    const wrong = await new ApiClient({ server: s.url, token: 'bad', tokenSource: '/x/admin.token' }).list('Network').catch((e: unknown) => e);
    expect((wrong as Error).message).toMatch(/token from \/x\/admin\.token was not accepted/);
  });

  it('copes with a non-JSON error page', async () => {
    const s = await serve((_req, _b, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html>nope</html>');
    });
    server = s.server;
    const err = await new ApiClient({ server: s.url, token: 't', tokenSource: 'x' }).get('Network', 'a b').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NotFound', message: 'GET /api/v1/networks/a%20b: HTTP 404 Not Found' });
  });

  it('reports an unreachable controller with exit status 3', async () => {
    const s = await serve(() => undefined);
    const url = s.url;
    await new Promise((r) => s.server.close(r)); // the port is now closed
    const err = await new ApiClient({ server: url, token: 't', tokenSource: 'x' }).list('Host').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(EXIT_UNREACHABLE);
    expect((err as Error).message).toMatch(/cannot reach the controller at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): start it with weft up/);
  });

  it('reports a controller that does not answer in time with exit status 3', async () => {
    const s = await serve(() => undefined); // never responds
    server = s.server;
    const err = await new ApiClient({ server: s.url, token: 't', tokenSource: 'x' }, { timeoutMs: 100 }).list('Host').catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: EXIT_UNREACHABLE, message: expect.stringMatching(/did not answer within 0.1s/) });
    server.closeAllConnections();
  });
});
