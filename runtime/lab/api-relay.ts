// How a process in the root namespace reaches the lab's controller, which
// listens on 198.18.0.1 inside the lab namespace only: a relay process runs
// *inside* the lab namespace and forwards each connection accepted on a unix
// socket in the lab directory (a file: visible from every namespace) to the
// controller's TCP port. So the TCP connection to the controller is made
// inside the lab, no address or route is added to the root namespace, and
// each API call costs a unix-socket round trip instead of starting a process.
// (Node creates a TCP socket's fd on a later tick, so the caller cannot
// simply switch namespace around net.connect the way spawnInNetns does.)
import { chmodSync, unlinkSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { isErrorBody, WeftError } from '../../model/errors.js';

/** Serve the relay until the process ends; resolves once the socket accepts connections. */
export function serveApiRelay(socketPath: string, target: { host: string; port: number }): Promise<Server> {
  try {
    unlinkSync(socketPath); // a stale socket of a killed relay
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const server = createServer((client: Socket) => {
    const upstream = connect(target.port, target.host);
    const abort = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', abort);
    upstream.on('error', abort);
    // pipe() forwards the end of either side (half-close), and flushes before it does.
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      chmodSync(socketPath, 0o600); // the admin token still guards the API; this keeps others off the socket too
      resolve(server);
    });
  });
}

export interface RelayRequest {
  method: string;
  path: string;
  token?: string;
  body?: unknown;
  /** Host header: the controller's own address, as a direct client would send. */
  host: string;
  timeoutMs?: number;
}

/** One HTTP request through the relay socket; JSON in, JSON out; API errors come back as WeftError. */
export function requestViaRelay<T>(socketPath: string, r: RelayRequest): Promise<T> {
  const payload = r.body === undefined ? undefined : Buffer.from(JSON.stringify(r.body));
  const headers: Record<string, string | number> = { host: r.host, accept: 'application/json' };
  if (r.token !== undefined) headers.authorization = `Bearer ${r.token}`;
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = payload.length;
  }
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: r.method, path: r.path, headers, agent: false, timeout: r.timeoutMs ?? 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          resolve(json as T);
        } else if (isErrorBody(json)) {
          reject(WeftError.fromBody(json));
        } else {
          reject(new WeftError('Internal', `${r.method} ${r.path}: HTTP ${status} ${text.slice(0, 200)}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new WeftError('NotReady', `${r.method} ${r.path}: no answer from the controller within ${r.timeoutMs ?? 10_000} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e instanceof WeftError) return reject(e);
      // The relay closes the connection when the controller refuses it (stopped or starting).
      const what = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? `the lab's API relay is not running (${socketPath})` : 'the controller is not reachable';
      reject(new WeftError('NotReady', `${r.method} ${r.path}: ${what}: ${e.message}`, { cause: e }));
    });
    req.end(payload);
  });
}
