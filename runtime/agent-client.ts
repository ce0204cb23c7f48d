// Client for the agent's local RPC (model/agent-rpc.ts): newline-delimited
// JSON over a unix socket, responses matched to requests by id. Used by
// `weft run`; the CNI shim speaks the same protocol from C.
import { connect, type Socket } from 'node:net';
import { isErrorBody, WeftError } from '../model/errors.js';
import { DEFAULT_AGENT_SOCKET, MAX_RPC_LINE, type RpcMethod, type RpcMethods } from '../model/agent-rpc.js';

const DEFAULT_RPC_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 5_000;

export interface AgentClientOptions {
  /** Per-request timeout; attach can take a while when the agent is resyncing. */
  timeoutMs?: number;
}

interface Pending {
  method: RpcMethod;
  resolve: (value: unknown) => void;
  reject: (err: WeftError) => void;
  timer: NodeJS.Timeout;
}

function notRunning(path: string): WeftError {
  return new WeftError('NotReady', `weft agent is not running (no socket at ${path}): start it with weft up or weft agent`);
}

/** Translate a connect() failure into the one line a user can act on. */
function connectError(path: string, err: NodeJS.ErrnoException): WeftError {
  switch (err.code) {
    case 'ENOENT':
      return notRunning(path);
    case 'ECONNREFUSED':
      // The file exists but nobody listens: a stale socket of a stopped agent.
      return new WeftError('NotReady', `weft agent is not running (${path} refuses connections): start it with weft up or weft agent`, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new WeftError('Unauthorized', `permission denied on the agent socket ${path}: run as root`, { cause: err });
    case 'ENOTSOCK':
      return new WeftError('NotReady', `${path} is not a unix socket: pass the agent socket with --socket`, { cause: err });
    default:
      return new WeftError('NotReady', `cannot connect to the agent socket ${path}: ${err.message}`, { cause: err });
  }
}

export class AgentClient {
  readonly socketPath: string;
  private readonly socket: Socket;
  private readonly timeoutMs: number;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffer = '';
  private closedError: WeftError | undefined;

  private constructor(socket: Socket, socketPath: string, timeoutMs: number) {
    this.socket = socket;
    this.socketPath = socketPath;
    this.timeoutMs = timeoutMs;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.failAll(new WeftError('NotReady', `agent connection failed: ${err.message}`, { cause: err })));
    socket.on('close', () => this.failAll(new WeftError('NotReady', 'the agent closed the connection before answering')));
  }

  static connect(socketPath = DEFAULT_AGENT_SOCKET, opts: AgentClientOptions = {}): Promise<AgentClient> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const socket = connect({ path: socketPath });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new WeftError('NotReady', `the agent socket ${socketPath} did not accept a connection within ${CONNECT_TIMEOUT_MS / 1000}s`));
      }, Math.min(CONNECT_TIMEOUT_MS, timeoutMs));
      const onError = (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(connectError(socketPath, err));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(new AgentClient(socket, socketPath, timeoutMs));
      });
    });
  }

  call<M extends RpcMethod>(method: M, params: RpcMethods[M]['params'], opts: AgentClientOptions = {}): Promise<RpcMethods[M]['result']> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    const line = `${JSON.stringify({ id, method, params })}\n`;
    if (line.length > MAX_RPC_LINE) {
      return Promise.reject(new WeftError('TooLarge', `${method} request is ${line.length} bytes; the agent accepts at most ${MAX_RPC_LINE}`));
    }
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new WeftError('NotReady', `the agent did not answer ${method} within ${formatSeconds(timeoutMs)}`));
      }, timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.write(line);
    });
  }

  close(): void {
    this.failAll(new WeftError('NotReady', 'the agent client was closed'));
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line !== '') this.onLine(line);
    }
    if (this.buffer.length > MAX_RPC_LINE) {
      this.failAll(new WeftError('Internal', `the agent sent a response line longer than ${MAX_RPC_LINE} bytes`));
      this.socket.destroy();
    }
  }

  private onLine(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      // Without a parseable id we cannot tell whose answer this was.
      this.failAll(new WeftError('Internal', `the agent sent a malformed response: ${line.slice(0, 80)}`));
      this.socket.destroy();
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as { id?: unknown; result?: unknown; error?: unknown };
    if (m.id === null && isErrorBody(m.error)) {
      // The agent could not parse one of our requests; it cannot say which.
      this.failAll(WeftError.fromBody(m.error));
      return;
    }
    const p = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
    if (!p) return; // late answer after a timeout
    this.pending.delete(m.id as number);
    clearTimeout(p.timer);
    if ('error' in m) {
      p.reject(isErrorBody(m.error) ? WeftError.fromBody(m.error) : new WeftError('Internal', `${p.method}: the agent answered with an unreadable error`));
    } else {
      p.resolve(m.result);
    }
  }

  private failAll(err: WeftError): void {
    this.closedError ??= err;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(err);
    }
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** One request on a fresh connection, for callers that make a single call. */
export async function callAgent<M extends RpcMethod>(
  socketPath: string,
  method: M,
  params: RpcMethods[M]['params'],
  opts: AgentClientOptions = {},
): Promise<RpcMethods[M]['result']> {
  const client = await AgentClient.connect(socketPath, opts);
  try {
    return await client.call(method, params, opts);
  } finally {
    client.close();
  }
}

/** Fail early, before making anything, when the agent's socket is absent. */
export function assertAgentSocket(socketPath: string, exists: (p: string) => boolean): void {
  if (!exists(socketPath)) throw notRunning(socketPath);
}
