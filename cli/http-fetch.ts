// One HTTP request through node:http(s), shaped like the part of fetch the
// API client uses. Node 20's fetch loads undici on first use, which costs a
// short-lived `weft get` more than the request itself. node:http is loaded
// with the first request, so commands that send none (--help) skip it. Errors are node:http's: a refused connection carries its code
// (ECONNREFUSED), an aborted one is an AbortError.
import type { IncomingMessage } from 'node:http';

export interface HttpResponse {
  ok: boolean;
  status: number;
  statusText: string;
  text(): Promise<string>;
}

export interface HttpInit {
  method: string;
  headers: Record<string, string>;
  body: string | null;
  signal: AbortSignal;
}

export type HttpFetch = (url: string, init: HttpInit) => Promise<HttpResponse>;

/** The whole body as text; the response is read before it is returned, so text() only hands it over. */
function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

export const httpFetch: HttpFetch = async (url, init) => {
  const target = new URL(url);
  const { request } = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const headers: Record<string, string | number> = { ...init.headers };
  if (init.body !== null) headers['content-length'] = Buffer.byteLength(init.body);
  return new Promise<HttpResponse>((resolve, reject) => {
    const req = request(target, { method: init.method, headers, signal: init.signal }, (res) => {
      readBody(res).then((text) => {
        const status = res.statusCode ?? 0;
        resolve({ ok: status >= 200 && status < 300, status, statusText: res.statusMessage ?? '', text: async () => text });
      }, reject);
    });
    req.on('error', reject);
    req.end(init.body ?? undefined);
  });
};
