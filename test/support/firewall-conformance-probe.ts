// Probe agents for the firewall conformance test (firewall-conformance.test.ts): one small Node process per
// workload namespace that both serves (TCP ports answering "ok" and echoing
// what they get, UDP ports answering "ok") and probes on request (TCP
// connect + read, UDP send + reply, ICMP echo through iputils ping, and
// long-lived TCP sessions). One process per workload instead of a process
// per probe: starting Node costs ~75 ms, a probe in a running one ~1 ms.
//
// The test talks to each agent over its stdin/stdout, one JSON object per
// line, and ends it by PID (stop()).
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { spawnInNetns } from '../../sys/netns.js';

/** What a probe saw: a reply, an active refusal (TCP RST, ICMP unreachable/prohibited), or nothing before the timeout. */
export type Outcome = 'open' | 'refused' | 'silent';

export interface ProbeResult {
  outcome: Outcome;
  /** how long until the outcome was known */
  ms: number;
  /** the error code or ping line that decided a refusal, when there was one */
  why?: string;
}

// Plain CommonJS for `node -e`: argv[1] = TCP ports, argv[2] = UDP ports (comma-separated).
const AGENT_SCRIPT = String.raw`
const net = require('net'), dgram = require('dgram'), cp = require('child_process'), rl = require('readline');
const tcpPorts = process.argv[1].split(',').filter(Boolean).map(Number);
const udpPorts = process.argv[2].split(',').filter(Boolean).map(Number);
const REFUSALS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EACCES', 'EPERM']);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
let pending = tcpPorts.length + udpPorts.length;
const up = () => { if (--pending === 0) out({ ready: true }); };
for (const p of tcpPorts) {
  const s = net.createServer((c) => { c.on('error', () => {}); c.write('ok\n'); c.on('data', (d) => c.write(d)); });
  s.on('error', (e) => out({ fatal: 'tcp ' + p + ': ' + e.message }));
  s.listen(p, '0.0.0.0', up);
}
for (const p of udpPorts) {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => s.send('ok\n', r.port, r.address));
  s.on('error', (e) => out({ fatal: 'udp ' + p + ': ' + e.message }));
  s.bind(p, '0.0.0.0', up);
}
if (pending === 0) out({ ready: true });

function finisher(res, cleanup, ms) {
  const t0 = Date.now();
  let done = false;
  const timer = setTimeout(() => fin('silent'), ms);
  function fin(outcome, why) {
    if (done) return;
    done = true;
    clearTimeout(timer);
    cleanup();
    const r = { outcome, ms: Date.now() - t0 };
    if (why !== undefined) r.why = why;
    res(r);
  }
  return fin;
}
const errOutcome = (e) => (REFUSALS.has(e.code) ? 'refused' : 'error:' + e.code);

function tcp(ip, port, ms) {
  return new Promise((res) => {
    const s = net.connect({ host: ip, port });
    const fin = finisher(res, () => s.destroy(), ms);
    let buf = '';
    s.on('data', (d) => { buf += d; if (buf.includes('ok')) fin('open'); });
    s.on('error', (e) => fin(errOutcome(e), e.code));
    s.on('close', () => fin('refused', 'closed'));
  });
}
function udp(ip, port, ms) {
  return new Promise((res) => {
    const s = dgram.createSocket('udp4');
    const fin = finisher(res, () => { try { s.close(); } catch {} }, ms);
    s.on('message', () => fin('open'));
    s.on('error', (e) => fin(errOutcome(e), e.code));
    s.connect(port, ip, (e) => { if (e) fin(errOutcome(e), e.code); else s.send('probe\n', (e2) => { if (e2) fin(errOutcome(e2), e2.code); }); });
  });
}
function icmp(ip, ms) {
  return new Promise((res) => {
    const p = cp.spawn('ping', ['-c', '1', '-n', '-W', String(Math.max(1, Math.round(ms / 1000))), ip], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    p.stdout.on('data', (d) => (text += d));
    p.stderr.on('data', (d) => (text += d));
    // ping's own -W ends it; the timer only guards against a ping that hangs
    const fin = finisher(res, () => p.kill('SIGKILL'), ms + 2000);
    p.on('close', (code) => {
      if (code === 0) return fin('open');
      // 1: no reply; 2: ping itself failed (no route, bad address): not a verdict of the firewall
      if (code !== 1) return fin('error:ping exited ' + code + ': ' + text.trim().split('\n').pop());
      const m = /^From .*$/m.exec(text);
      if (m) return fin('refused', m[0].trim());
      fin('silent');
    });
  });
}

// Long-lived TCP sessions: open, then send a token and wait for its echo.
const sessions = new Map();
function open(sid, ip, port, ms) {
  return new Promise((res) => {
    const s = net.connect({ host: ip, port });
    const sess = { s, buf: '', waiters: [], closed: undefined };
    s.on('data', (d) => { sess.buf += d; for (const w of [...sess.waiters]) w(); });
    s.on('error', (e) => { sess.closed = e.code; for (const w of [...sess.waiters]) w(); });
    s.on('close', () => { sess.closed = sess.closed || 'closed'; for (const w of [...sess.waiters]) w(); });
    const fin = finisher(res, () => {}, ms);
    const check = () => {
      if (sess.buf.includes('ok')) { sessions.set(sid, sess); sess.waiters = sess.waiters.filter((w) => w !== check); fin('open'); }
      else if (sess.closed) { fin('refused', sess.closed); s.destroy(); }
    };
    sess.waiters.push(check);
  });
}
/** Send a token on a session and wait until it comes back (the echo arrives in a later event). */
function send(sid, token, ms) {
  sessions.get(sid)?.s.write(token + '\n');
  return awaitEcho(sid, token, ms);
}
/** Wait (without sending) until a token sent earlier comes back. */
function awaitEcho(sid, token, ms) {
  return new Promise((res) => {
    const sess = sessions.get(sid);
    if (!sess) return res({ outcome: 'error:no-session', ms: 0 });
    let check;
    const fin = finisher(res, () => { sess.waiters = sess.waiters.filter((w) => w !== check); }, ms);
    check = () => {
      if (sess.buf.includes(token)) fin('open');
      else if (sess.closed) fin('refused', sess.closed);
    };
    sess.waiters.push(check);
    check();
  });
}

rl.createInterface({ input: process.stdin }).on('line', async (line) => {
  let req;
  try { req = JSON.parse(line); } catch { return; }
  let r;
  try {
    switch (req.op) {
      case 'tcp': r = await tcp(req.ip, req.port, req.ms); break;
      case 'udp': r = await udp(req.ip, req.port, req.ms); break;
      case 'icmp': r = await icmp(req.ip, req.ms); break;
      case 'open': r = await open(req.sid, req.ip, req.port, req.ms); break;
      case 'send': r = await send(req.sid, req.token, req.ms); break;
      case 'await': r = await awaitEcho(req.sid, req.token, req.ms); break;
      case 'close': { const s = sessions.get(req.sid); if (s) s.s.destroy(); sessions.delete(req.sid); r = { outcome: 'open', ms: 0 }; break; }
      default: r = { outcome: 'error:unknown-op', ms: 0 };
    }
  } catch (e) {
    r = { outcome: 'error:' + e.message, ms: 0 };
  }
  out({ id: req.id, ...r });
});
process.stdin.on('end', () => process.exit(0));
`;

export interface ProbeAgentOptions {
  tcpPorts: number[];
  udpPorts: number[];
  /** how long start() waits for every listener */
  readyTimeoutMs?: number;
}

type Request =
  | { op: 'tcp' | 'udp'; ip: string; port: number; ms: number }
  | { op: 'icmp'; ip: string; ms: number }
  | { op: 'open'; sid: string; ip: string; port: number; ms: number }
  | { op: 'send' | 'await'; sid: string; token: string; ms: number }
  | { op: 'close'; sid: string };

interface RawResult {
  id: number;
  outcome: string;
  ms: number;
  why?: string;
}

/** One workload's probe agent: its listeners run until stop(); probes go out from its namespace. */
export class ProbeAgent {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: RawResult) => void>();
  private stderr = '';

  constructor(
    readonly name: string,
    private readonly netnsPath: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(opts: ProbeAgentOptions): Promise<void> {
    const child = spawnInNetns(this.netnsPath, process.execPath, ['-e', AGENT_SCRIPT, opts.tcpPorts.join(','), opts.udpPorts.join(',')], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`probe agent ${this.name}: no listeners after ${opts.readyTimeoutMs ?? 10_000} ms; stderr: ${this.stderr}`)), opts.readyTimeoutMs ?? 10_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`probe agent ${this.name} exited (${code}); stderr: ${this.stderr}`));
      });
      lines.on('line', (line) => {
        let msg: { ready?: boolean; fatal?: string } & Partial<RawResult>;
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          return;
        }
        if (msg.ready) {
          clearTimeout(timer);
          resolve();
        } else if (msg.fatal !== undefined) {
          clearTimeout(timer);
          reject(new Error(`probe agent ${this.name}: ${msg.fatal}`));
        } else if (typeof msg.id === 'number') {
          const w = this.waiting.get(msg.id);
          this.waiting.delete(msg.id);
          w?.(msg as RawResult);
        }
      });
    });
  }

  private call(req: Request): Promise<ProbeResult> {
    const child = this.child;
    if (!child?.stdin || child.exitCode !== null) return Promise.reject(new Error(`probe agent ${this.name} is not running; stderr: ${this.stderr}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (r) => {
        if (r.outcome.startsWith('error:')) reject(new Error(`probe agent ${this.name}: ${JSON.stringify(req)}: ${r.outcome}`));
        else resolve({ outcome: r.outcome as Outcome, ms: r.ms, ...(r.why === undefined ? {} : { why: r.why }) });
      });
      child.stdin?.write(`${JSON.stringify({ id, ...req })}\n`);
    });
  }

  tcp(ip: string, port: number, ms: number): Promise<ProbeResult> {
    return this.call({ op: 'tcp', ip, port, ms });
  }

  udp(ip: string, port: number, ms: number): Promise<ProbeResult> {
    return this.call({ op: 'udp', ip, port, ms });
  }

  icmp(ip: string, ms: number): Promise<ProbeResult> {
    return this.call({ op: 'icmp', ip, ms });
  }

  /** Open a TCP session kept until close(): "open" once the server's greeting arrived. */
  openSession(sid: string, ip: string, port: number, ms: number): Promise<ProbeResult> {
    return this.call({ op: 'open', sid, ip, port, ms });
  }

  /** Send a token on an open session: "open" when its echo comes back within ms. */
  send(sid: string, token: string, ms: number): Promise<ProbeResult> {
    return this.call({ op: 'send', sid, token, ms });
  }

  /** Wait for the echo of a token sent earlier (e.g. one held back while the connection was cut). */
  awaitEcho(sid: string, token: string, ms: number): Promise<ProbeResult> {
    return this.call({ op: 'await', sid, token, ms });
  }

  closeSession(sid: string): Promise<ProbeResult> {
    return this.call({ op: 'close', sid });
  }

  /** End the process (by its PID): SIGTERM, SIGKILL after 2 s. Safe to call twice. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
    for (const w of this.waiting.values()) w({ id: 0, outcome: 'error:stopped', ms: 0 });
    this.waiting.clear();
  }
}

/** Run tasks at most `limit` at a time, results in input order. */
export async function bounded<T>(limit: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}
