// Drives CNI plugins exactly as a runtime does: exec the executable named by
// `type` from the plugin dirs, CNI_* variables in the environment, the
// plugin's config on stdin; for a conflist, libcni's rules (name and
// cniVersion copied into each plugin, runtimeConfig only for declared
// capabilities, prevResult chained on ADD and the cached ADD result on
// CHECK/DEL, DEL in reverse order, stop at the first error).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface CniCall {
  command: string;
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: string;
  /** CNI_PATH; default: the plugin's own directory */
  path?: string;
}

export interface CniOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is JSON */
  json?: Record<string, unknown> | undefined;
}

export interface ExecOptions {
  /** Run the plugin inside this network namespace (nsenter --net), as a runtime on that host would. */
  inNetns?: string;
  timeoutMs?: number;
}

/** One exec of one plugin. stdin is sent as given when it is a string (malformed configs), else as JSON. */
export function execPlugin(executable: string, call: CniCall, config: unknown, opts: ExecOptions = {}): Promise<CniOutcome> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: call.command };
  if (call.containerId !== undefined) env.CNI_CONTAINERID = call.containerId;
  if (call.netns !== undefined) env.CNI_NETNS = call.netns;
  if (call.ifname !== undefined) env.CNI_IFNAME = call.ifname;
  if (call.args !== undefined) env.CNI_ARGS = call.args;
  env.CNI_PATH = call.path ?? executable.slice(0, executable.lastIndexOf('/'));
  const [file, argv] = opts.inNetns === undefined ? [executable, []] : ['nsenter', [`--net=${opts.inNetns}`, executable]];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout.trim() === '' ? undefined : (JSON.parse(stdout) as Record<string, unknown>);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
    child.stdin.on('error', () => {}); // a plugin may exit before reading everything
    child.stdin.end(typeof config === 'string' ? config : JSON.stringify(config));
  });
}

export interface Conflist {
  cniVersion: string;
  name: string;
  plugins: Record<string, unknown>[];
}

export interface Attachment {
  containerId: string;
  netns: string;
  ifname: string;
  args?: string;
  /** runtime-provided values, passed as runtimeConfig to plugins that declare the capability */
  capabilityArgs?: Record<string, unknown>;
}

export interface ChainOutcome {
  ok: boolean;
  result?: Record<string, unknown> | undefined;
  /** the failing plugin's type and outcome */
  failed?: { type: string; outcome: CniOutcome };
}

/** A runtime's view of one conflist: runs ADD/CHECK/DEL over its plugins and caches ADD results. */
export class ConflistRunner {
  private readonly cache = new Map<string, Record<string, unknown>>();

  constructor(
    readonly conflist: Conflist,
    private readonly pluginDirs: string[],
    private readonly opts: ExecOptions = {},
  ) {}

  private find(type: string): string {
    for (const d of this.pluginDirs) {
      const p = join(d, type);
      if (existsSync(p)) return p;
    }
    throw new Error(`plugin ${type} not found in ${this.pluginDirs.join(':')}`);
  }

  private configFor(plugin: Record<string, unknown>, a: Attachment, prevResult?: Record<string, unknown>): Record<string, unknown> {
    const conf: Record<string, unknown> = { ...plugin, name: this.conflist.name, cniVersion: this.conflist.cniVersion };
    const caps = (plugin.capabilities ?? {}) as Record<string, boolean>;
    const runtimeConfig: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(a.capabilityArgs ?? {})) if (caps[k]) runtimeConfig[k] = v;
    if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
    if (prevResult !== undefined) conf.prevResult = prevResult;
    return conf;
  }

  private call(command: string, a: Attachment): CniCall {
    const c: CniCall = { command, containerId: a.containerId, netns: a.netns, ifname: a.ifname, path: this.pluginDirs.join(':') };
    if (a.args !== undefined) c.args = a.args;
    return c;
  }

  private key(a: Attachment): string {
    return `${a.containerId}/${a.ifname}`;
  }

  cachedResult(a: Attachment): Record<string, unknown> | undefined {
    return this.cache.get(this.key(a));
  }

  async add(a: Attachment): Promise<ChainOutcome> {
    let prev: Record<string, unknown> | undefined;
    for (const plugin of this.conflist.plugins) {
      const type = String(plugin.type);
      const outcome = await execPlugin(this.find(type), this.call('ADD', a), this.configFor(plugin, a, prev), this.opts);
      if (outcome.code !== 0) return { ok: false, failed: { type, outcome } };
      prev = outcome.json;
    }
    if (prev !== undefined) this.cache.set(this.key(a), prev);
    return { ok: true, result: prev };
  }

  /** `skip`: plugin types left out (a reference plugin with a known CHECK bug). */
  async check(a: Attachment, skip: string[] = []): Promise<ChainOutcome> {
    const prev = this.cache.get(this.key(a));
    for (const plugin of this.conflist.plugins) {
      const type = String(plugin.type);
      if (skip.includes(type)) continue;
      const outcome = await execPlugin(this.find(type), this.call('CHECK', a), this.configFor(plugin, a, prev), this.opts);
      if (outcome.code !== 0) return { ok: false, failed: { type, outcome } };
    }
    return { ok: true };
  }

  async del(a: Attachment): Promise<ChainOutcome> {
    const prev = this.cache.get(this.key(a));
    for (const plugin of [...this.conflist.plugins].reverse()) {
      const type = String(plugin.type);
      const outcome = await execPlugin(this.find(type), this.call('DEL', a), this.configFor(plugin, a, prev), this.opts);
      if (outcome.code !== 0) return { ok: false, failed: { type, outcome } };
    }
    this.cache.delete(this.key(a));
    return { ok: true };
  }
}
