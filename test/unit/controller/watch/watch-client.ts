// A watch client for socket tests: a ws client that keeps every message
// the controller sends, so a test can wait for one and then look at all.
import WebSocket from 'ws';
import { WATCH_PATH, parseWatchFrame, type WatchMessage } from '../../../../model/watch.js';

export interface ConnectOptions {
  /** Sent as Authorization: Bearer on the upgrade. */
  header?: string;
  /** Sent as the Authorization header as is (another scheme). */
  authorization?: string;
  /** Appended to WATCH_PATH as is, e.g. "?since=..." */
  query?: string;
}

export class WatchTestClient {
  readonly got: WatchMessage[] = [];
  /** How many frames the messages came in. */
  frames = 0;
  closeCode: number | undefined;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames += 1;
      this.got.push(...parseWatchFrame(String(data)));
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  static connect(baseUrl: string, opts: ConnectOptions = {}): Promise<WatchTestClient> {
    const authorization = opts.authorization ?? (opts.header === undefined ? undefined : `Bearer ${opts.header}`);
    const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}${WATCH_PATH}${opts.query ?? ''}`, { headers });
    return new Promise((resolve, reject) => {
      // Listeners go on before 'open' resolves: the controller may send at once.
      const client = new WatchTestClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += String(c)));
        res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { statusCode: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  /** Wait until a message satisfies `pred` (or the socket closes: that fails); returns it. */
  async until(pred: (m: WatchMessage) => boolean, what = 'a message', timeoutMs = 5_000): Promise<WatchMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.got.find(pred);
      if (found) return found;
      if (this.closeCode !== undefined) throw new Error(`closed (code ${this.closeCode}) while waiting for ${what}; got ${JSON.stringify(this.got.map((m) => m.type))}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await this.wait(deadline - Date.now());
    }
  }

  /** Wait for the close; returns its code. */
  async closed(timeoutMs = 5_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === undefined) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the close');
      await this.wait(deadline - Date.now());
    }
    return this.closeCode;
  }

  close(): Promise<void> {
    if (this.closeCode !== undefined) return Promise.resolve();
    this.ws.close();
    return this.closed().then(() => undefined);
  }

  private wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.max(1, ms));
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
