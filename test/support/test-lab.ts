// Kernel test harness: a private "host" namespace per test run in which the
// agent builds its bridges (never the machine's root namespace), workload
// namespaces beside it, and the controller/agent as child processes we own
// by PID. Names carry a per-run prefix (wt<pid>-) so a sweep can find the
// leftovers of a crashed run.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO = resolve(import.meta.dirname ?? '.', '../..').replace(/\/dist$/, '');
export const CLI = join(REPO, 'dist/cli/main.js');

export function runPrefix(tag = ''): string {
  return `wt${process.pid % 100000}${tag}-`;
}

export async function ip(...args: string[]): Promise<string> {
  const { stdout } = await run('ip', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export async function ipJson<T = unknown>(...args: string[]): Promise<T> {
  const out = await ip('-j', ...args);
  return (out.trim() === '' ? [] : JSON.parse(out)) as T;
}

export async function netnsAdd(name: string): Promise<string> {
  await ip('netns', 'add', name);
  await ip('-n', name, 'link', 'set', 'lo', 'up');
  return `/run/netns/${name}`;
}

/**
 * An "outside" (standing for the internet) for egress tests: a new
 * namespace `name` joined to `hostNetns` by a veth, eth0 in it (with
 * outsideCidr) and `hostIfname` (default out0) on the host side, with
 * hostCidr when given (none: the host side is a bare segment, as a router's
 * macvlan parent is). Nothing else is routed to it.
 */
export async function addOutside(hostNetns: string, name: string, outsideCidr: string, host: { cidr?: string; ifname?: string } = {}): Promise<string> {
  const ifname = host.ifname ?? 'out0';
  const path = await netnsAdd(name);
  await ip('link', 'add', 'eth0', 'netns', name, 'type', 'veth', 'peer', 'name', ifname, 'netns', hostNetns);
  if (host.cidr !== undefined) await ip('-n', hostNetns, 'addr', 'add', host.cidr, 'dev', ifname);
  await ip('-n', hostNetns, 'link', 'set', ifname, 'up');
  await ip('-n', name, 'addr', 'add', outsideCidr, 'dev', 'eth0');
  await ip('-n', name, 'link', 'set', 'eth0', 'up');
  return path;
}

export async function netnsDel(name: string): Promise<void> {
  await ip('netns', 'del', name).catch(() => undefined);
}

export async function netnsList(): Promise<string[]> {
  const list = await ipJson<{ name: string }[]>('netns', 'list');
  return list.map((n) => n.name);
}

/** Remove every namespace whose name starts with prefix (ours only). */
export async function sweepNetns(prefix: string): Promise<void> {
  for (const name of await netnsList()) if (name.startsWith(prefix)) await netnsDel(name);
}

export async function execIn(ns: string, argv: string[], timeoutMs = 10_000): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run('ip', ['netns', 'exec', ns, ...argv], { timeout: timeoutMs });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number };
    return { stdout: err.stdout ?? '', stderr: err.stderr ?? '', code: typeof err.code === 'number' ? err.code : 1 };
  }
}

export async function ping(fromNs: string, to: string): Promise<boolean> {
  const r = await execIn(fromNs, ['ping', '-c', '1', '-W', '1', '-n', '-q', to]);
  return r.code === 0;
}

export interface Proc {
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function startProc(argv: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A controller and one agent whose datapath lives in a private host namespace. */
export class SingleHostLab {
  readonly prefix: string;
  readonly hostNs: string;
  readonly dir: string;
  controller?: Proc;
  agent?: Proc;
  url = '';
  token = '';
  readonly socket: string;
  private port = 0;

  constructor(tag: string) {
    this.prefix = runPrefix(tag);
    this.hostNs = `${this.prefix}host`;
    this.dir = mkdtempSync(join(tmpdir(), `${this.prefix}`));
    this.socket = join(this.dir, 'agent.sock');
  }

  async start(): Promise<void> {
    await netnsAdd(this.hostNs);
    await this.startController();
    await this.startAgent();
  }

  async startController(): Promise<void> {
    const listen = `127.0.0.1:${this.port}`;
    this.controller = startProc([CLI, 'controller', '--listen', listen, '--data', join(this.dir, 'controller'), '--log-level', 'warn']);
    const c = this.controller;
    this.url = await waitFor('controller to listen', async () => {
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(c.output());
      return m?.[1];
    });
    this.port = Number(new URL(this.url).port);
    this.token = readFileSync(join(this.dir, 'controller/admin.token'), 'utf8').trim();
  }

  async startAgent(): Promise<void> {
    this.agent = startProc([
      CLI, 'agent', '--controller', this.url, '--name', 'h1', '--token-file', join(this.dir, 'controller/agent.token'),
      '--socket', this.socket, '--state-dir', join(this.dir, 'agent'), '--host-netns', `/run/netns/${this.hostNs}`, '--log-level', 'warn',
    ]);
    await waitFor('agent socket', async () => existsSync(this.socket));
    await waitFor('agent ready', async () => {
      const h = await this.api<{ items: { metadata: { name: string }; status?: { state?: string } }[] }>('GET', '/api/v1/hosts');
      return h.items.some((x) => x.metadata.name === 'h1' && x.status?.state === 'Ready');
    });
  }

  async api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(`${this.url}${path}`, init);
    const json = (await res.json()) as T;
    if (!res.ok) throw Object.assign(new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`), { status: res.status, body: json });
    return json;
  }

  /** Run the weft CLI (root namespace process; talks to the controller and the agent socket). */
  async cli(args: string[], timeoutMs = 20_000): Promise<{ stdout: string; stderr: string; code: number }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
        timeout: timeoutMs,
        env: { ...process.env, WEFT_SERVER: this.url, WEFT_TOKEN: this.token },
      });
      return { stdout, stderr, code: 0 };
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; code?: number };
      return { stdout: err.stdout ?? '', stderr: err.stderr ?? '', code: typeof err.code === 'number' ? err.code : 1 };
    }
  }

  async createNetwork(name: string, subnet: string): Promise<void> {
    await this.api('POST', '/api/v1/networks', { apiVersion: 'weft.dev/v1', kind: 'Network', metadata: { name }, spec: { subnet } });
  }

  /** Links in the host namespace, by `ip -j link` (the second oracle). */
  async hostLinks(): Promise<{ ifname: string; master?: string; ifalias?: string }[]> {
    return ipJson('-n', this.hostNs, 'link', 'show');
  }

  async stop(): Promise<void> {
    await this.agent?.stop();
    await this.controller?.stop();
    await sweepNetns(this.prefix);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
