// A multi-host lab on one machine (shared/TESTING.md): a lab namespace
// holding the underlay bridge and the controller, N host namespaces joined
// to it by veths, one `weft agent` per host running inside its namespace.
// Everything runs as real `weft` processes (the CLI of this package), so the
// lab exercises what users run; tests, benchmarks and `weft lab up` share it.
//
// State lives in DIR/lab.json (see lab-state.ts) so another process can
// operate or tear down a lab it did not build, also after a crash.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { constants as osc } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AttachParams, AttachResult, RpcMethod, RpcMethods } from '../../model/agent-rpc.js';
import { errorMessage, WeftError } from '../../model/errors.js';
import type { Host, Network } from '../../model/kinds.js';
import { API_VERSION } from '../../model/kind-names.js';
import { API_PREFIX, HEALTH_PATH, type ResourceList } from '../../model/rest.js';
import { deleteNetns, spawnInNetns } from '../../sys/netns.js';
import { callAgent } from '../agent-client.js';
import { requestViaRelay } from './api-relay.js';
import { isRunning, pidsInNetns, processArgv, processStartTime, spawnDetached, stopProcess } from './lab-process.js';
import { newLabState, readLabState, writeLabState, type HostRecord, type LabState, type ProcessRecord } from './lab-state.js';
import { hostAddress, LAB_CONTROLLER_ADDRESS, LAB_CONTROLLER_URL, LAB_PREFIX_PATTERN, MAX_HOSTS } from './lab-address-plan.js';
import { buildUnderlay, joinUnderlay, listNetns, makeNetns, netnsPath } from './lab-underlay.js';

const WORKLOAD_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
/** sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;
const DEFAULT_READY_TIMEOUT_MS = 60_000;
const POLL_MS = 100;

export { LAB_CONTROLLER_ADDRESS, LAB_CONTROLLER_URL, LAB_PREFIX_PATTERN } from './lab-address-plan.js';

export interface LabOptions {
  /** Where state, tokens, sockets and logs go; must be new or empty for up(); down() removes it. */
  dir: string;
  /** The weft CLI to run; default dist/cli/main.js of this package. */
  cli?: string;
  /** --log-level of the controller and agents (their logs go to files in dir). */
  logLevel?: string;
  /** How long up() and startAgent()/startController() wait for readiness. */
  readyTimeoutMs?: number;
  /** Extra flags for `weft controller`, e.g. ['--host-grace', '4s'] for failure tests. */
  controllerArgs?: string[];
  /** Extra flags for every `weft agent`. */
  agentArgs?: string[];
}

export interface LabNetwork {
  name: string;
  subnet: string;
}

export interface LabUpOptions {
  hosts: number;
  /** Prefix of every namespace the lab makes (e.g. "wl-" for the demo, "wt<pid>L-" in tests). */
  prefix: string;
  /** Networks to create once every host is Ready. */
  networks?: LabNetwork[];
}

/** A namespace for a workload on a host, named PREFIX + HOST + "-" + NAME (unique machine-wide). */
export interface Workload {
  host: string;
  name: string;
  /** namespace name */
  netns: string;
  /** /run/netns/... */
  path: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** exit status; 128+N for a signal, 124 when the timeout killed it */
  code: number;
}

export interface LabDownReport {
  /** processes ended, as "controller", "agent:h1", or "pid 123 (cmd)" for unrecorded ones */
  stopped: string[];
  namespaces: string[];
}

/** dist/cli/main.js of the package this file belongs to (from the source tree or from dist/). */
export function defaultCli(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'weft') return join(dir, 'dist/cli/main.js');
    } catch {
      // not the package root: look one level up
    }
    dir = dirname(dir);
  }
  throw new WeftError('NotFound', 'cannot find the weft package (dist/cli/main.js) above the lab module: pass cli explicitly');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The last lines of a log, for an error message that explains itself. */
function logTail(path: string, lines = 15): string {
  try {
    const text = readFileSync(path, 'utf8').trimEnd();
    return text === '' ? `(${path} is empty)` : `last lines of ${path}:\n${text.split('\n').slice(-lines).join('\n')}`;
  } catch {
    return `(no log at ${path})`;
  }
}

export class Lab {
  readonly dir: string;
  private readonly cli: string;
  private readonly logLevel: string | undefined;
  private readonly readyTimeoutMs: number;
  private readonly controllerArgs: string[];
  private readonly agentArgs: string[];
  private state: LabState | undefined;
  private token: string | undefined;

  constructor(opts: LabOptions) {
    this.dir = resolve(opts.dir);
    this.cli = opts.cli ?? defaultCli();
    this.logLevel = opts.logLevel;
    this.readyTimeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    this.controllerArgs = opts.controllerArgs ?? [];
    this.agentArgs = opts.agentArgs ?? [];
  }

  /** The recorded lab (read from DIR/lab.json when this object did not build it). */
  current(): LabState {
    this.state ??= readLabState(this.dir);
    if (!this.state) throw new WeftError('NotFound', `no lab in ${this.dir} (no lab.json): start one with weft lab up`);
    return this.state;
  }

  get prefix(): string {
    return this.current().prefix;
  }

  get labNetns(): string {
    return this.current().labNetns;
  }

  hosts(): HostRecord[] {
    return this.current().hosts;
  }

  host(name: string): HostRecord {
    const h = this.current().hosts.find((x) => x.name === name);
    if (!h) throw new WeftError('NotFound', `no host ${JSON.stringify(name)} in the lab (hosts: ${this.current().hosts.map((x) => x.name).join(', ')})`);
    return h;
  }

  agentSocket(host: string): string {
    return this.host(host).socket;
  }

  /** Build the lab and wait until every host is Ready. On failure, everything made so far is removed. */
  async up(opts: LabUpOptions): Promise<void> {
    const { hosts, prefix } = opts;
    if (!Number.isInteger(hosts) || hosts < 1 || hosts > MAX_HOSTS) throw new WeftError('Invalid', `hosts: ${hosts}: use 1-${MAX_HOSTS}`);
    if (!LAB_PREFIX_PATTERN.test(prefix)) throw new WeftError('Invalid', `prefix ${JSON.stringify(prefix)}: use 1-24 letters, digits, "_", "." or "-", starting with a letter or digit`);
    if (readLabState(this.dir)) {
      throw new WeftError('AlreadyExists', `a lab is recorded in ${this.dir} already: remove it first (weft lab down --dir ${this.dir})`);
    }
    const leftovers = listNetns(prefix);
    if (leftovers.length > 0) {
      throw new WeftError(
        'AlreadyExists',
        `namespaces with the prefix ${JSON.stringify(prefix)} exist already (${leftovers.join(', ')}): another lab uses it, or a crashed one left them; ` +
          `remove them with weft lab down --prefix ${prefix}, or choose another prefix`,
      );
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (readdirSync(this.dir).length > 0) throw new WeftError('Invalid', `${this.dir} is not empty: give the lab a new or empty directory`);
    const apiSocket = join(this.dir, 'api.sock');
    if (join(this.dir, `h${hosts}.sock`).length > MAX_SOCKET_PATH || apiSocket.length > MAX_SOCKET_PATH) {
      throw new WeftError('Invalid', `${this.dir} is too long for unix socket paths (at most ${MAX_SOCKET_PATH - 8} bytes): choose a shorter directory`);
    }

    this.state = newLabState({ prefix, dir: this.dir, labNetns: `${prefix}lab`, controllerUrl: LAB_CONTROLLER_URL, apiSocket });
    this.save();
    try {
      await this.addNetns(this.state.labNetns);
      await buildUnderlay(this.state.labNetns);
      for (let k = 1; k <= hosts; k++) {
        const name = `h${k}`;
        const rec: HostRecord = {
          name,
          netns: `${prefix}${name}`,
          address: hostAddress(k),
          socket: join(this.dir, `${name}.sock`),
          stateDir: join(this.dir, name),
          log: join(this.dir, `${name}.log`),
        };
        await this.addNetns(rec.netns);
        await joinUnderlay(this.state.labNetns, rec.netns, name, rec.address);
        this.state.hosts.push(rec);
        this.save();
      }
      this.spawnWeft('relay', this.state.labNetns, ['lab', 'api-relay', '--socket', apiSocket, '--target', LAB_CONTROLLER_ADDRESS], join(this.dir, 'relay.log'));
      await this.startController();
      for (const h of this.state.hosts) this.spawnAgent(h);
      await Promise.all(this.state.hosts.map((h) => this.waitAgentReady(h)));
      for (const n of opts.networks ?? []) await this.createNetwork(n.name, n.subnet);
    } catch (e) {
      await this.down().catch((cleanup: unknown) => {
        process.stderr.write(`lab: cleanup after the failed start failed too: ${errorMessage(cleanup)}\n`);
      });
      throw e;
    }
  }

  /**
   * Stop every process of the lab and delete every namespace it made, then
   * the lab directory. Works from any process and after a crash: recorded
   * processes are ended by PID (checked against their start time), and
   * namespaces are swept by prefix. Without a state file, pass the prefix.
   */
  async down(opts: { prefix?: string } = {}): Promise<LabDownReport> {
    const state = this.state ?? readLabState(this.dir);
    const prefixes = [...new Set([state?.prefix, opts.prefix].filter((p): p is string => p !== undefined && p !== ''))];
    if (prefixes.length === 0) {
      throw new WeftError('NotFound', `no lab recorded in ${this.dir} (no lab.json): pass the prefix of its namespaces to sweep them`);
    }
    for (const p of prefixes) if (!LAB_PREFIX_PATTERN.test(p)) throw new WeftError('Invalid', `prefix ${JSON.stringify(p)} is not a lab prefix`);
    const report: LabDownReport = { stopped: [], namespaces: [] };

    if (state) {
      // Agents first, so the controller does not spend its last moments on their departure.
      const entries = Object.entries(state.processes);
      const stopAll = async (list: [string, ProcessRecord][]) => {
        await Promise.all(list.map(async ([key, rec]) => void ((await stopProcess(rec)) && report.stopped.push(key))));
      };
      await stopAll(entries.filter(([k]) => k.startsWith('agent:')));
      await stopAll(entries.filter(([k]) => !k.startsWith('agent:')));
    }

    // Newest first (workloads, hosts, then the lab namespace), then whatever
    // a crashed run made without recording it.
    const recorded = [...(state?.namespaces ?? [])].reverse();
    const swept = prefixes.flatMap((p) => listNetns(p)).filter((n) => !recorded.includes(n));
    const labNamespaces = new Set([state?.labNetns, ...prefixes.map((p) => `${p}lab`)]);
    swept.sort((a, b) => Number(labNamespaces.has(a)) - Number(labNamespaces.has(b)));
    for (const name of [...swept, ...recorded]) {
      const path = netnsPath(name);
      if (!existsSync(path)) continue;
      // A process left inside would keep the namespace (and its links) alive
      // after the unmount: the lab's own, and anything run in a lab host.
      await Promise.all(
        pidsInNetns(path).map(async (pid) => {
          const startTime = processStartTime(pid);
          if (startTime === undefined || pid === process.pid) return;
          const cmd = processArgv(pid).slice(0, 3).join(' ');
          if (await stopProcess({ pid, startTime })) report.stopped.push(`pid ${pid} (${cmd}) in ${name}`);
        }),
      );
      deleteNetns(path);
      report.namespaces.push(name);
    }

    if (state) rmSync(this.dir, { recursive: true, force: true });
    this.state = undefined;
    this.token = undefined;
    return report;
  }

  // --- running things inside the lab ---

  /** Run argv inside a host's namespace (or a workload's), without a shell; never throws for a non-zero exit. */
  exec(target: string | Workload, argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    const path = typeof target === 'string' ? netnsPath(this.host(target).netns) : target.path;
    const [command, ...args] = argv;
    if (command === undefined) return Promise.reject(new WeftError('Invalid', 'exec: empty argv'));
    const timeoutMs = opts.timeoutMs ?? 10_000;
    return new Promise((resolveExec) => {
      const child = spawnInNetns(path, command, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      if (opts.input !== undefined) child.stdin?.end(opts.input);
      child.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolveExec({ stdout, stderr: `${stderr}${command}: ${e.message}\n`, code: e.code === 'ENOENT' ? 127 : 126 });
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) return resolveExec({ stdout, stderr: `${stderr}${command}: timed out after ${timeoutMs} ms\n`, code: 124 });
        resolveExec({ stdout, stderr, code: code ?? 128 + (signal ? osc.signals[signal] : 0) });
      });
    });
  }

  /** One ICMP echo from a host or workload; true when answered. */
  async ping(from: string | Workload, address: string, timeoutSeconds = 2): Promise<boolean> {
    return (await this.exec(from, ['ping', '-c', '1', '-W', String(timeoutSeconds), '-n', '-q', address])).code === 0;
  }

  /** A fresh namespace for a workload on host (attach it with attach()); removed by down() at the latest. */
  async workload(host: string, name: string): Promise<Workload> {
    this.host(host);
    if (!WORKLOAD_NAME_PATTERN.test(name)) throw new WeftError('Invalid', `workload name ${JSON.stringify(name)}: use 1-32 lowercase letters, digits and "-"`);
    const netns = `${this.prefix}${host}-${name}`;
    const path = await this.addNetns(netns);
    return { host, name, netns, path };
  }

  /** Delete a workload's namespace (detach it first if it was attached). */
  removeWorkload(w: Workload): void {
    deleteNetns(w.path);
    const s = this.current();
    s.namespaces = s.namespaces.filter((n) => n !== w.netns);
    this.save();
  }

  /** Any RPC of the host's agent, over its socket in the lab directory. */
  agent<M extends RpcMethod>(host: string, method: M, params: RpcMethods[M]['params'], timeoutMs?: number): Promise<RpcMethods[M]['result']> {
    return callAgent(this.agentSocket(host), method, params, timeoutMs === undefined ? {} : { timeoutMs });
  }

  attach(host: string, params: AttachParams): Promise<AttachResult> {
    return this.agent(host, 'attach', params);
  }

  /** A REST call to the controller, made from inside the lab namespace (through the relay). */
  async api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    this.token ??= this.readToken();
    return requestViaRelay<T>(this.current().apiSocket, { method, path, body, token: this.token, host: LAB_CONTROLLER_ADDRESS });
  }

  async createNetwork(name: string, subnet: string): Promise<Network> {
    const net: Network = { apiVersion: API_VERSION, kind: 'Network', metadata: { name }, spec: { subnet } };
    return this.api<Network>('POST', `${API_PREFIX}/networks`, net);
  }

  // --- failures on purpose ---

  /** Kill a host's agent (default SIGKILL: a crash) and wait until it is gone. */
  async killAgent(host: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.host(host);
    const rec = this.current().processes[`agent:${host}`];
    if (rec) await stopProcess(rec, signal);
  }

  /** Start a host's agent again and wait until it is connected and Ready. */
  async startAgent(host: string): Promise<void> {
    const h = this.host(host);
    const rec = this.current().processes[`agent:${host}`];
    if (rec && isRunning(rec)) throw new WeftError('AlreadyExists', `the agent of ${host} runs already (pid ${rec.pid})`);
    this.spawnAgent(h);
    await this.waitAgentReady(h);
  }

  /** Wait until the hosts (default: all) are connected and Ready, e.g. after a controller restart. */
  async waitReady(hosts: string[] = this.hosts().map((h) => h.name)): Promise<void> {
    await Promise.all(hosts.map((name) => this.waitAgentReady(this.host(name))));
  }

  /** Stop the controller (SIGTERM: a clean stop; SIGKILL: a crash) and wait until it is gone. */
  async stopController(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const rec = this.current().processes.controller;
    if (rec) await stopProcess(rec, signal);
  }

  /** Start the controller (again) on the same data and wait until its API answers. */
  async startController(): Promise<void> {
    const rec = this.current().processes.controller;
    if (rec && isRunning(rec)) throw new WeftError('AlreadyExists', `the controller runs already (pid ${rec.pid})`);
    const args = ['controller', '--listen', LAB_CONTROLLER_ADDRESS, '--data', this.dir, ...this.logArgs(), ...this.controllerArgs];
    const log = join(this.dir, 'controller.log');
    this.spawnWeft('controller', this.labNetns, args, log);
    this.token = undefined;
    await this.until('the controller to answer', log, ['controller', 'relay'], async () => {
      await requestViaRelay(this.current().apiSocket, { method: 'GET', path: HEALTH_PATH, host: LAB_CONTROLLER_ADDRESS, timeoutMs: 2_000 });
      // Written right after the controller starts listening.
      this.token = this.readToken();
      return true;
    });
  }

  // --- internals ---

  private save(): void {
    if (this.state) writeLabState(this.state);
  }

  private logArgs(): string[] {
    return this.logLevel === undefined ? [] : ['--log-level', this.logLevel];
  }

  private readToken(): string {
    try {
      return readFileSync(join(this.dir, 'admin.token'), 'utf8').trim();
    } catch (e) {
      throw new WeftError('NotReady', `the controller has not written ${join(this.dir, 'admin.token')} yet`, { cause: e });
    }
  }

  /** Record first, then create: a crash in between leaves a name down() tolerates as absent. */
  private async addNetns(name: string): Promise<string> {
    const s = this.current();
    s.namespaces.push(name);
    this.save();
    return makeNetns(name);
  }

  private spawnWeft(key: string, netns: string, args: string[], log: string): ProcessRecord {
    const rec = spawnDetached(netnsPath(netns), [process.execPath, this.cli, ...args], log);
    this.current().processes[key] = rec;
    this.save();
    return rec;
  }

  private spawnAgent(h: HostRecord): void {
    // The agent runs inside the host namespace, so that namespace is its
    // own: its bridges and workload veths land there, and it reaches the
    // controller over the underlay from its host address. That address is
    // also its VTEP; the lab knows it, so it says so rather than leave the
    // agent to infer it from the connection.
    const args = [
      'agent', '--controller', LAB_CONTROLLER_URL, '--name', h.name, '--token-file', join(this.dir, 'agent.token'),
      '--socket', h.socket, '--state-dir', h.stateDir, '--underlay-address', h.address, ...this.logArgs(), ...this.agentArgs,
    ];
    this.spawnWeft(`agent:${h.name}`, h.netns, args, h.log);
  }

  /** Connected to the controller by its own account, and Ready by the controller's. */
  private async waitAgentReady(h: HostRecord): Promise<void> {
    await this.until(`host ${h.name} to be Ready`, h.log, [`agent:${h.name}`, 'controller', 'relay'], async () => {
      const health = await this.agent(h.name, 'health', {}, 2_000);
      if (health.controller !== 'connected') return false;
      const hosts = await this.api<ResourceList<Host>>('GET', `${API_PREFIX}/hosts`);
      return hosts.items.some((x) => x.metadata.name === h.name && x.status?.state === 'Ready');
    });
  }

  /** Poll check until true; fail early when one of the processes it needs has died, showing its log. */
  private async until(what: string, log: string, needs: string[], check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    let last: unknown;
    for (;;) {
      for (const key of needs) {
        const rec = this.current().processes[key];
        if (rec && !isRunning(rec)) throw new WeftError('NotReady', `waiting for ${what}: the ${key} process (pid ${rec.pid}) exited; ${logTail(rec.log)}`);
      }
      try {
        if (await check()) return;
      } catch (e) {
        last = e;
      }
      if (Date.now() > deadline) {
        const why = last === undefined ? '' : ` (last error: ${errorMessage(last)})`;
        throw new WeftError('NotReady', `timed out after ${this.readyTimeoutMs} ms waiting for ${what}${why}; ${logTail(log)}`);
      }
      await sleep(POLL_MS);
    }
  }
}
