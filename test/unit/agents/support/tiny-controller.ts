// A tiny controller for the agent's tests: speaks the agent protocol over a
// real WebSocket, checks the bearer token, records what agents send.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AgentMessage, ControllerMessage } from '../../../../model/agent-protocol.js';

export const TOKEN = 'secret-agent-token';

/** A tiny controller: checks the bearer token, records what agents send, lets the test answer. */
export class TinyController {
  readonly received: AgentMessage[] = [];
  readonly sockets: WebSocket[] = [];
  readonly requests: { url: string | undefined; auth: string | undefined }[] = [];
  onMessage: (ws: WebSocket, msg: AgentMessage) => void = () => {};
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private waiters: { pred: (m: AgentMessage) => boolean; resolve: (m: AgentMessage) => void }[] = [];
  port = 0;

  constructor() {
    this.http = createServer((_req, res) => res.writeHead(404).end());
    this.http.on('upgrade', (req: IncomingMessage, socket, head) => {
      this.requests.push({ url: req.url, auth: req.headers.authorization });
      if (req.url !== '/api/v1/agents/connect' || req.headers.authorization !== `Bearer ${TOKEN}`) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.push(ws);
        ws.on('message', (data) => {
          const msg = JSON.parse(data.toString()) as AgentMessage;
          this.received.push(msg);
          for (const w of this.waiters.filter((x) => x.pred(msg))) w.resolve(msg);
          this.waiters = this.waiters.filter((x) => !x.pred(msg));
          this.onMessage(ws, msg);
        });
      });
    });
  }

  async listen(): Promise<string> {
    return this.listenOn(0);
  }

  async listenOn(port: number): Promise<string> {
    await new Promise<void>((r) => this.http.listen(port, '127.0.0.1', () => r()));
    this.port = (this.http.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.port}/`;
  }

  /** The next message of `type` (or one already received after `after` messages). */
  next<T extends AgentMessage['type']>(type: T, after = 0): Promise<Extract<AgentMessage, { type: T }>> {
    const seen = this.received.slice(after).find((m) => m.type === type);
    if (seen) return Promise.resolve(seen as Extract<AgentMessage, { type: T }>);
    return new Promise((resolve) => this.waiters.push({ pred: (m) => m.type === type, resolve: (m) => resolve(m as Extract<AgentMessage, { type: T }>) }));
  }

  send(msg: ControllerMessage, ws = this.sockets.at(-1)): void {
    ws?.send(JSON.stringify(msg));
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    if (this.http.listening) await new Promise<void>((r) => this.http.close(() => r()));
  }
}

export const until = async (cond: () => boolean | Promise<boolean>, ms = 2000) => {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

