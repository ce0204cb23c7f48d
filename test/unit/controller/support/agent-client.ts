// A minimal agent for hub tests: a ws client that queues the controller's
// messages so a test can await them in order.
import WebSocket from 'ws';
import type { ControllerMessage } from '../../../../model/agent-protocol.js';
import { AGENT_CONNECT_PATH } from '../../../../model/agent-protocol.js';

export class TestAgent {
  private readonly queue: ControllerMessage[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  closeCode: number | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.queue.push(JSON.parse(String(data)) as ControllerMessage);
      this.wake();
    });
    ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
      this.wake();
    });
  }

  static connect(baseUrl: string, token: string | undefined): Promise<TestAgent> {
    const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}${AGENT_CONNECT_PATH}`, { headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new TestAgent(ws)));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += String(c)));
        res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { statusCode: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  /** Any object: tests send malformed messages too (an AgentMessage type would reject them at compile time). */
  send(msg: object): void {
    this.ws.send(JSON.stringify(msg));
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  /** The next message (of the given type, skipping none: a different type fails the test). */
  async next<T extends ControllerMessage['type']>(type?: T, timeoutMs = 3000): Promise<Extract<ControllerMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.closed) throw new Error(`connection closed (code ${this.closeCode}) while waiting for ${type ?? 'a message'}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${type ?? 'a message'}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const msg = this.queue.shift() as ControllerMessage;
    if (type !== undefined && msg.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(msg)}`);
    return msg as Extract<ControllerMessage, { type: T }>;
  }

  /** Nothing arrives within ms. */
  async quiet(ms = 150): Promise<ControllerMessage[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.queue.splice(0);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
