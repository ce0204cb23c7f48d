// The agent's local RPC on a unix socket (model/agent-rpc.ts):
// newline-delimited JSON, many requests in flight per connection, answers
// matched by id. Transport and envelope checks only; the methods are
// RpcHandlerTable's. The socket is root's alone (0600): whoever can write to
// it can plug interfaces into any namespace. A handler may take descriptors
// from the connected process (RpcCaller): only ones that process holds
// itself, kept for the request alone.
import { closeSync } from 'node:fs';
import { lstat, mkdir, rename, unlink, chmod } from 'node:fs/promises';
import net from 'node:net';
import { basename, dirname, join } from 'node:path';
import { inject, injectable } from 'inversify';
import { MAX_RPC_LINE, RPC_METHODS, type RpcMethod, type RpcResponse } from '../../model/agent-rpc.js';
import { WeftError, errorMessage, invalid, isWeftError, type FieldIssue } from '../../model/errors.js';
import { peerPid, takePeerNetns } from '../../sys/peer-fd.js';
import { AGENT_CONFIG, AGENT_LOGGER, type AgentConfig, type AgentLogger } from '../agent-config.js';
import type { NetnsHandedOver } from '../endpoints/endpoint-service.js';
import { RPC_HANDLERS, type RpcCaller, type RpcHandlerTable } from './rpc-handlers.js';

type Id = number | string | null;
const ENVELOPE_FIELDS = ['id', 'method', 'params'];
const NEWLINE = 0x0a;

/** Whether something answers on the socket at `path` (a live agent), or it is a leftover. */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** The request's id when it has a usable one, so even a refusal can be matched. */
function idOf(req: unknown): Id {
  if (req === null || typeof req !== 'object') return null;
  const id = (req as { id?: unknown }).id;
  return (typeof id === 'number' && Number.isFinite(id)) || typeof id === 'string' ? id : null;
}

/** The OS descriptor of an accepted unix socket (libuv's; Node does not document it). */
function socketFd(sock: net.Socket): number | undefined {
  const fd = (sock as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** The caller of one request: descriptors it hands over live until the request is answered. */
class ConnectionCaller implements RpcCaller {
  private readonly taken: number[] = [];

  constructor(private readonly sock: net.Socket) {}

  /**
   * Later, the namespace is looked for where the caller has it, through the
   * caller's root (/proc/PID/root resolves in the caller's own mount
   * namespace): there as long as the caller is, gone with it.
   */
  netnsFromFd(fd: number, path: string): NetnsHandedOver {
    const own = socketFd(this.sock);
    if (own === undefined) throw new WeftError('Internal', 'the agent cannot identify this connection to take a descriptor from it');
    const pid = peerPid(own);
    const copy = takePeerNetns(own, fd);
    this.taken.push(copy);
    return { openAt: `/proc/self/fd/${copy}`, checkAt: `/proc/${pid}/root${path}` };
  }

  release(): void {
    for (const fd of this.taken.splice(0)) closeSync(fd);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

@injectable()
export class RpcServer {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    @inject(AGENT_CONFIG) private readonly config: Pick<AgentConfig, 'socketPath'>,
    @inject(RPC_HANDLERS) private readonly handlers: RpcHandlerTable,
    @inject(AGENT_LOGGER) private readonly log: AgentLogger,
  ) {}

  get socketPath(): string {
    return this.config.socketPath;
  }

  async listen(): Promise<void> {
    const path = this.config.socketPath;
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    await this.removeStale(path);
    // Bind under a temporary name, chmod, then rename into place: the socket
    // is never reachable with the umask's wider permissions.
    const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    await unlink(temp).catch(() => {});
    const server = net.createServer((sock) => this.onConnection(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(temp, () => {
        server.off('error', reject);
        resolve();
      });
    });
    try {
      await chmod(temp, 0o600);
      await rename(temp, path);
    } catch (e: unknown) {
      server.close();
      throw new WeftError('Internal', `agent socket ${path}: ${errorMessage(e)}`, { cause: e });
    }
    server.on('error', (e) => this.log.error({ err: e.message }, 'agent socket error'));
    this.server = server;
    this.log.info({ socket: path }, 'serving the agent socket');
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await unlink(this.config.socketPath).catch(() => {});
  }

  private async removeStale(path: string): Promise<void> {
    let isSocket: boolean;
    try {
      isSocket = (await lstat(path)).isSocket();
    } catch {
      return; // nothing there
    }
    if (!isSocket) throw new WeftError('Conflict', `${path} exists and is not a socket; refusing to replace it`);
    if (await isLive(path)) throw new WeftError('Conflict', `another agent is serving ${path}`);
    await unlink(path);
  }

  private onConnection(sock: net.Socket): void {
    this.sockets.add(sock);
    let pending: Buffer = Buffer.alloc(0);
    let closed = false;
    const respond = (r: RpcResponse) => {
      if (!closed && !sock.destroyed) sock.write(`${JSON.stringify(r)}\n`);
    };
    sock.on('data', (chunk: Buffer) => {
      if (closed) return;
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        const nl = pending.indexOf(NEWLINE);
        if ((nl < 0 ? pending.length : nl) > MAX_RPC_LINE) {
          respond({ id: null, error: new WeftError('TooLarge', `request line exceeds ${MAX_RPC_LINE} bytes; closing the connection`).toJSON() });
          closed = true;
          pending = Buffer.alloc(0);
          sock.end();
          return;
        }
        if (nl < 0) return;
        const line = pending.subarray(0, nl).toString('utf8');
        pending = pending.subarray(nl + 1);
        void this.handleLine(line, respond, sock);
      }
    });
    sock.on('error', (e) => this.log.debug({ err: e.message }, 'agent socket client error'));
    sock.on('close', () => {
      closed = true;
      this.sockets.delete(sock);
    });
  }

  private async handleLine(line: string, respond: (r: RpcResponse) => void, sock: net.Socket): Promise<void> {
    if (line.trim() === '') return;
    let id: Id = null;
    const caller = new ConnectionCaller(sock);
    try {
      let req: unknown;
      try {
        req = JSON.parse(line);
      } catch (e: unknown) {
        throw new WeftError('BadJSON', `request is not valid JSON: ${errorMessage(e)}`);
      }
      id = idOf(req);
      const { method, params } = this.checkEnvelope(req);
      const result = await this.handlers[method](params, caller);
      respond({ id, result } as RpcResponse);
    } catch (e: unknown) {
      if (!isWeftError(e)) this.log.error({ err: errorMessage(e) }, 'agent RPC failed unexpectedly');
      const err = isWeftError(e) ? e : new WeftError('Internal', errorMessage(e), { cause: e });
      respond({ id, error: err.toJSON() });
    } finally {
      caller.release();
    }
  }

  private checkEnvelope(req: unknown): { method: RpcMethod; params: unknown } {
    if (req === null || typeof req !== 'object' || Array.isArray(req)) {
      throw invalid([{ path: '', message: `a request must be an object, got ${describe(req)}` }], 'request');
    }
    const r = req as Record<string, unknown>;
    const issues: FieldIssue[] = Object.keys(r)
      .filter((k) => !ENVELOPE_FIELDS.includes(k))
      .map((k) => ({ path: `/${k}`, message: `unknown field "${k}"`, allowed: ENVELOPE_FIELDS.join(', ') }));
    const idOk = (typeof r.id === 'number' && Number.isFinite(r.id)) || typeof r.id === 'string';
    if (!idOk) issues.push({ path: '/id', message: r.id === undefined ? 'required field "id" is missing' : `must be a number or string, got ${describe(r.id)}` });
    const method = RPC_METHODS.find((m) => m === r.method);
    if (!method) {
      issues.push({
        path: '/method',
        message: r.method === undefined ? 'required field "method" is missing' : `unknown method ${JSON.stringify(r.method)}`,
        allowed: RPC_METHODS.join(', '),
      });
    }
    if (r.params !== undefined && (r.params === null || typeof r.params !== 'object' || Array.isArray(r.params))) {
      issues.push({ path: '/params', message: `must be an object, got ${describe(r.params)}` });
    }
    if (issues.length > 0 || !method) throw invalid(issues, 'request');
    return { method, params: r.params ?? {} };
  }
}
