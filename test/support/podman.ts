// Podman with the CNI backend, run inside a lab "host" namespace (never the
// machine's root namespace), for tests of weft's CNI plugin under a real
// runtime. Every PodmanHost has its own store, run root, containers.conf and
// tmp dirs under one temp dir, so hosts do not see each other's containers.
//
// Facts this relies on (measured with podman 4.3.1, runc 1.1.5 and the CNI
// reference plugins 1.1.1 on Debian 12):
// - `nsenter --net=NS podman ...`, not `ip netns exec` (which remounts /sys,
//   after which runc finds no cgroup filesystem); runc, not crun; cgroupfs (no
//   systemd); ulimits within what we have (no CAP_SYS_RESOURCE).
// - Container namespaces are /run/netns/netns-<uuid> (older podman: cni-...),
//   outside our prefix: close() removes them. libcni caches results in
//   /var/lib/cni/results/<network>-<containerId>-<ifname>, a fixed path that
//   neither containers.conf nor the environment moves.
// - busybox as PID 1 ignores SIGTERM, so `rm -f` waits out the 10 s stop
//   timeout unless given `-t 0`.
// - A podman killed during CNI ADD never calls DEL and never records the
//   namespace: the orphaned plugin still finishes ADD. close() waits for such
//   plugins and finds the namespace by its veth peer in our lab namespace.
// - A conmon that outlives its container runs `podman container cleanup`,
//   which recreates the store: close() kills conmon before the containers.
import { execFile, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { ip, ipJson } from './test-lab.js';

export interface PodmanHostOptions {
  /** Name prefix of this test run (e.g. `wt123pod-`): names the temp dir. */
  prefix: string;
  /** The lab host namespace podman runs in, e.g. /run/netns/wt123pod-h1. */
  netnsPath: string;
  /** Where the conflists live (podman also keeps its cni.lock here: must be writable). */
  cniConfigDir: string;
  /** Where podman looks for CNI plugins (every plugin of every conflist must be there). */
  cniPluginDirs: string[];
  /** Default overlay; vfs works too (slower: a full copy per container). */
  storageDriver?: 'overlay' | 'vfs';
  /** Per podman call, default 60 s. */
  timeoutMs?: number;
  /** Extra environment for podman, which passes it on to the CNI plugins. */
  env?: Record<string, string>;
  busyboxPath?: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PublishedPort {
  hostPort: number;
  containerPort: number;
  protocol?: 'tcp' | 'udp';
}

export interface RunOptions {
  name: string;
  network: string;
  ip?: string;
  mac?: string;
  publish?: PublishedPort[];
  /** Defaults to the last image importBusybox made. */
  image?: string;
  command: string[];
}

export class PodmanError extends Error {
  constructor(
    readonly args: string[],
    /** podman's exit code; null when killed (timeout), a string for spawn errors (ENOENT). */
    readonly code: number | string | null,
    readonly stdout: string,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(`podman ${args.join(' ')}: ${code === null ? 'killed (timeout?)' : `exit ${code}`}: ${stderr.trim() || '(no stderr)'}`, options);
    this.name = 'PodmanError';
  }
}

/** A process we saw start, identified by PID plus start time (PIDs are reused). */
interface OwnedProcess {
  pid: number;
  start: string;
}

/** One network of a container, as `podman inspect` reports it (from the CNI ADD result). */
export interface ContainerNetwork {
  IPAddress?: string;
  IPPrefixLen?: number;
  Gateway?: string;
  MacAddress?: string;
}

interface InspectRecord {
  Id: string;
  State?: { Pid?: number; ConmonPid?: number };
  NetworkSettings?: { SandboxKey?: string; Networks?: Record<string, ContainerNetwork> };
}

const CNI_RESULTS = '/var/lib/cni/results';
/** How podman names the namespaces it creates (4.x: netns-<uuid>; CNI-era podman: cni-<uuid>). */
const PODMAN_NETNS_RE = /^(netns|cni)-[0-9a-f-]{36}$/;

export class PodmanHost {
  readonly dir: string;
  private readonly root: string;
  private readonly runroot: string;
  private readonly tmp: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly timeoutMs: number;
  private readonly storageDriver: string;
  private readonly containers = new Set<string>();
  private readonly sandboxes = new Set<string>();
  private readonly processes = new Map<number, OwnedProcess>();
  private readonly inflight = new Set<ChildProcess>();
  private image?: string;
  private closing?: Promise<void>;

  constructor(private readonly opts: PodmanHostOptions) {
    this.dir = mkdtempSync(join(tmpdir(), opts.prefix));
    this.root = join(this.dir, 'root');
    this.runroot = join(this.dir, 'runroot');
    this.tmp = join(this.dir, 'tmp');
    for (const d of [this.root, this.runroot, this.tmp]) mkdirSync(d, { recursive: true });
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.storageDriver = opts.storageDriver ?? 'overlay';
    const conf = join(this.dir, 'containers.conf');
    writeFileSync(conf, renderContainersConf({ ...opts, tmp: this.tmp, root: this.root }));
    const storage = join(this.dir, 'storage.conf');
    writeFileSync(storage, `[storage]\ndriver = "${this.storageDriver}"\ngraphroot = "${this.root}"\nrunroot = "${this.runroot}"\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage, TMPDIR: this.tmp, ...opts.env };
    // podman appends $CNI_ARGS to the args it gives every plugin: only pass it on when asked to.
    if (opts.env?.CNI_ARGS === undefined) delete env.CNI_ARGS;
    this.env = env;
  }

  /** Runs podman in the lab namespace; rejects with a PodmanError carrying podman's stderr. */
  podman(args: string[], timeoutMs = this.timeoutMs): Promise<{ stdout: string; stderr: string }> {
    return this.call(args, timeoutMs, false);
  }

  /** fromClose: close() itself may still call podman; nobody else may once it started
   * (podman would recreate the store close() deletes). */
  private call(args: string[], timeoutMs: number, fromClose: boolean): Promise<{ stdout: string; stderr: string }> {
    if (this.closing && !fromClose) return Promise.reject(new Error(`podman ${args.join(' ')}: PodmanHost is closed`));
    const argv = [
      `--net=${this.opts.netnsPath}`, 'podman', '--root', this.root, '--runroot', this.runroot, '--storage-driver', this.storageDriver, ...args,
    ];
    return new Promise((resolve, reject) => {
      const child = execFile('nsenter', argv, { env: this.env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        this.inflight.delete(child);
        if (!err) return resolve({ stdout, stderr });
        const e = err as NodeJS.ErrnoException & { code?: number | string | null };
        reject(new PodmanError(args, e.code ?? null, stdout, stderr || e.message, { cause: err }));
      });
      this.inflight.add(child);
    });
  }

  /** A rootfs of busybox-static and its applet links, imported as imageName (offline). */
  async importBusybox(imageName: string): Promise<void> {
    const busybox = this.opts.busyboxPath ?? '/bin/busybox';
    // a dynamically linked busybox would find no libc in the image
    if (hasElfInterpreter(readFileSync(busybox))) throw new Error(`${busybox} is dynamically linked: install busybox-static`);
    const rootfs = join(this.dir, 'rootfs');
    rmSync(rootfs, { recursive: true, force: true });
    for (const d of ['bin', 'etc', 'tmp', 'root', 'www']) mkdirSync(join(rootfs, d), { recursive: true });
    copyFileSync(busybox, join(rootfs, 'bin/busybox'));
    chmodSync(join(rootfs, 'bin/busybox'), 0o755);
    const applets = (await execFileText(busybox, ['--list'])).split('\n').map((s) => s.trim());
    for (const a of applets) if (a && a !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', a));
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\n');
    writeFileSync(join(rootfs, 'www/index.html'), 'hello from weft\n');
    const tar = join(this.dir, 'rootfs.tar');
    await execFileText('tar', ['-C', rootfs, '-cf', tar, '.']);
    await this.podman(['import', tar, imageName]);
    rmSync(tar, { force: true });
    rmSync(rootfs, { recursive: true, force: true });
    this.image = imageName;
  }

  /** `podman run -d` on one network; returns the full container id. */
  async run(o: RunOptions): Promise<string> {
    const image = o.image ?? this.image;
    if (!image) throw new Error(`run ${o.name}: no image (call importBusybox first or pass image)`);
    const args = ['run', '-d', '--name', o.name, '--network', o.network, '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1000:1000'];
    if (o.ip) args.push('--ip', o.ip);
    if (o.mac) args.push('--mac-address', o.mac);
    for (const p of o.publish ?? []) args.push('-p', `${p.hostPort}:${p.containerPort}/${p.protocol ?? 'tcp'}`);
    args.push(image, ...o.command);
    try {
      const { stdout } = await this.podman(args);
      const id = stdout.trim().split('\n').pop() ?? '';
      this.containers.add(id);
      await this.remember([id], false);
      return id;
    } catch (e) {
      // A failed run (e.g. CNI ADD refused) leaves the container "Created": note it for
      // close(); the run's own error is the one to report.
      await this.rememberAll(false).catch(() => undefined);
      throw e;
    }
  }

  async exec(id: string, argv: string[], timeoutMs = 30_000): Promise<ExecResult> {
    try {
      const { stdout, stderr } = await this.podman(['exec', id, ...argv], timeoutMs);
      return { code: 0, stdout, stderr };
    } catch (e) {
      // 125: podman itself failed (no such container, not running): not the command's answer
      if (e instanceof PodmanError && typeof e.code === 'number' && e.code !== 125) return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      throw e;
    }
  }

  /** `podman rm -f -t 0` (no 10 s SIGTERM wait: busybox as PID 1 ignores SIGTERM). */
  async rm(id: string): Promise<void> {
    try {
      await this.podman(['rm', '-f', '-t', '0', id]);
    } catch (e) {
      // After a killed podman, rm can fail (EBUSY on the shm mount) yet remove the container.
      const left = await this.podman(['ps', '-a', '-q', '--no-trunc', '--filter', `id=${id}`]).catch(() => undefined);
      if (left === undefined || left.stdout.trim() !== '') throw e;
    }
  }

  /** Network names from `podman network ls` (includes podman's in-memory default network). */
  async networkLs(): Promise<string[]> {
    const { stdout } = await this.podman(['network', 'ls', '--format', 'json']);
    return (JSON.parse(stdout) as { name: string }[]).map((n) => n.name);
  }

  /** The container's network namespace path (/run/netns/netns-...), '' if it has none. */
  async inspectNetns(id: string): Promise<string> {
    const [rec] = await this.inspect([id], false);
    return rec?.NetworkSettings?.SandboxKey ?? '';
  }

  /** The container's networks by name, with the address and MAC podman recorded from the CNI result. */
  async inspectNetworks(id: string): Promise<Record<string, ContainerNetwork>> {
    const [rec] = await this.inspect([id], false);
    return rec?.NetworkSettings?.Networks ?? {};
  }

  /** Removes every container, kills what podman left running (by PID), deletes the
   * namespaces and mounts it made and the temp dir. Safe after a failure and twice;
   * throws (once) if something could not be removed. Call before deleting the lab namespace. */
  async close(): Promise<void> {
    if (this.closing) {
      // the first call already reported what it could not remove
      await this.closing.catch(() => undefined);
      return;
    }
    this.closing = this.doClose();
    await this.closing;
  }

  // --- cleanup ---------------------------------------------------------------

  private async doClose(): Promise<void> {
    await this.settleInflight();
    const labAlive = existsSync(this.opts.netnsPath);
    if (labAlive) {
      // Best effort: whatever podman cannot do, the steps below do without it,
      // and the final check reports what is left.
      await this.rememberAll(true).catch(() => undefined);
      await this.call(['rm', '-a', '-f', '-t', '0'], 60_000, true).catch(() => undefined);
      // a second pass for containers whose first removal failed halfway
      await this.call(['rm', '-a', '-f', '-t', '0'], 60_000, true).catch(() => undefined);
    }
    await this.killLeftovers();
    const netns = new Set(this.sandboxes);
    if (labAlive) for (const p of await this.strayNetns()) netns.add(p);
    for (const p of netns) await removeNetns(p);
    for (const mp of mountsUnder(this.dir)) await execFileText('umount', ['-l', mp]).catch(() => undefined);
    this.removeCniCache();
    this.removeCgroups();
    rmSync(this.dir, { recursive: true, force: true });

    const problems: string[] = [];
    for (const p of this.processes.values()) if (isAlive(p)) problems.push(`process ${p.pid}`);
    for (const p of netns) if (existsSync(p)) problems.push(`netns ${p}`);
    for (const mp of mountsUnder(this.dir)) problems.push(`mount ${mp}`);
    if (existsSync(this.dir)) problems.push(`dir ${this.dir}`);
    if (problems.length > 0) throw new Error(`PodmanHost.close: could not remove ${problems.join(', ')}`);
  }

  /** Lets in-flight podman calls end (killing them after 10 s), then waits for CNI plugins
   * that a killed podman left running: once they finish, what they made is findable. */
  private async settleInflight(): Promise<void> {
    let deadline = Date.now() + 10_000;
    while (this.inflight.size > 0 && Date.now() < deadline) await sleep(100);
    for (const c of this.inflight) c.kill('SIGKILL');
    while (this.inflight.size > 0) await sleep(50);
    deadline = Date.now() + 10_000;
    while (this.ownedProcesses().some((p) => p.plugin) && Date.now() < deadline) await sleep(100);
  }

  private async inspect(ids: string[], fromClose: boolean): Promise<InspectRecord[]> {
    if (ids.length === 0) return [];
    const { stdout } = await this.call(['inspect', '--type', 'container', '--format', 'json', ...ids], this.timeoutMs, fromClose);
    return JSON.parse(stdout) as InspectRecord[];
  }

  /** Note the ids, conmon and container PIDs and namespaces, for cleanup without podman. */
  private async remember(ids: string[], fromClose: boolean): Promise<void> {
    for (const rec of await this.inspect(ids, fromClose)) {
      this.containers.add(rec.Id);
      const key = rec.NetworkSettings?.SandboxKey;
      if (key) this.sandboxes.add(key);
      for (const pid of [rec.State?.Pid, rec.State?.ConmonPid]) {
        const start = pid ? startTime(pid) : undefined;
        if (pid && start) this.processes.set(pid, { pid, start });
      }
    }
  }

  private async rememberAll(fromClose: boolean): Promise<void> {
    const { stdout } = await this.call(['ps', '-a', '-q', '--no-trunc'], this.timeoutMs, fromClose);
    await this.remember(stdout.split('\n').map((s) => s.trim()).filter(Boolean), fromClose);
  }

  /** Kills, by PID, in two tiers. First what ownedProcesses() finds (conmon, podman,
   * runc, plugins): a conmon that outlives its container runs podman's exit command
   * (`podman container cleanup`), which would recreate the store we are about to
   * delete. Then the container processes: recorded ones and those in our containers'
   * cgroups. Rescans until nothing is left (at most ~10 s). */
  private async killLeftovers(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      let tier: OwnedProcess[] = this.ownedProcesses();
      if (tier.length === 0) tier = this.containerProcesses();
      if (tier.length === 0) return;
      for (const p of tier) {
        this.processes.set(p.pid, p);
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* exited meanwhile */
        }
      }
      const waitUntil = Math.min(deadline, Date.now() + 2_000);
      while (tier.some(isAlive) && Date.now() < waitUntil) await sleep(50);
    }
  }

  private containerProcesses(): OwnedProcess[] {
    const found = new Map<number, OwnedProcess>();
    for (const p of this.processes.values()) if (isAlive(p)) found.set(p.pid, p);
    for (const cg of this.cgroupDirs()) {
      for (const line of readText(join(cg, 'cgroup.procs')).split('\n')) {
        const pid = Number(line);
        const start = pid ? startTime(pid) : undefined;
        if (pid && start) found.set(pid, { pid, start });
      }
    }
    return [...found.values()];
  }

  /** Live processes whose command line or environment names our private dir: conmon,
   * `podman container cleanup`, runc, and CNI plugins (podman hands its environment,
   * CONTAINERS_CONF included, to the plugins); plugin: it has CNI_COMMAND set. */
  private ownedProcesses(): (OwnedProcess & { plugin: boolean })[] {
    const found: (OwnedProcess & { plugin: boolean })[] = [];
    for (const entry of readdirSafe('/proc')) {
      const pid = Number(entry);
      if (!pid || pid === process.pid) continue;
      const environ = readText(`/proc/${pid}/environ`);
      if (!readText(`/proc/${pid}/cmdline`).includes(this.dir) && !environ.includes(this.dir)) continue;
      const start = startTime(pid);
      if (start) found.push({ pid, start, plugin: environ.split('\0').some((v) => v.startsWith('CNI_COMMAND=')) });
    }
    return found;
  }

  /** podman namespaces tied to our lab namespace by a veth (left by a podman killed during ADD). */
  private async strayNetns(): Promise<string[]> {
    const lab = basename(this.opts.netnsPath);
    if (dirname(this.opts.netnsPath) !== '/run/netns' || !existsSync('/run/netns')) return [];
    const found: string[] = [];
    for (const name of readdirSync('/run/netns')) {
      if (!PODMAN_NETNS_RE.test(name)) continue;
      const ids = await ipJson<{ nsid: number; name?: string }[]>('-n', name, 'netns', 'list-id').catch(() => []);
      if (ids.some((i) => i.name === lab)) found.push(`/run/netns/${name}`);
    }
    // Another PodmanHost in the same lab namespace may still use some: skip namespaces with processes in them.
    const inUse = netnsInodesInUse();
    return found.filter((p) => !inUse.has(inode(p)));
  }

  private removeCniCache(): void {
    if (!existsSync(CNI_RESULTS)) return;
    for (const f of readdirSync(CNI_RESULTS)) {
      for (const id of this.containers) if (id && f.includes(`-${id}-`)) rmSync(join(CNI_RESULTS, f), { force: true });
    }
  }

  /** cgroupfs manager: /sys/fs/cgroup[/<controller>]/libpod_parent/libpod-<id>. */
  private cgroupDirs(): string[] {
    const bases = ['/sys/fs/cgroup', ...readdirSafe('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c))];
    const dirs: string[] = [];
    for (const id of this.containers) {
      if (!id) continue;
      for (const b of bases) {
        const d = join(b, 'libpod_parent', `libpod-${id}`);
        if (existsSync(d)) dirs.push(d);
      }
    }
    return dirs;
  }

  private removeCgroups(): void {
    for (const d of this.cgroupDirs()) {
      try {
        rmdirSync(d);
      } catch {
        /* busy or gone: an empty cgroup dir is harmless */
      }
    }
  }
}

function renderContainersConf(o: PodmanHostOptions & { tmp: string; root: string }): string {
  const q = (s: string): string => JSON.stringify(s);
  return [
    '[containers]',
    'log_driver = "k8s-file"',
    '',
    '[network]',
    'network_backend = "cni"',
    `cni_plugin_dirs = [${o.cniPluginDirs.map(q).join(', ')}]`,
    `network_config_dir = ${q(o.cniConfigDir)}`,
    // podman always lists an in-memory default network; it is never used (run() always
    // names a network), but keep it inside the test address plan all the same.
    `default_network = ${q(`${o.prefix}default`)}`,
    'default_subnet = "100.64.255.0/24"',
    '',
    '[engine]',
    'runtime = "/usr/sbin/runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    `events_logfile_path = ${q(join(o.tmp, 'events.log'))}`,
    `tmp_dir = ${q(o.tmp)}`,
    `image_copy_tmp_dir = ${q(o.tmp)}`,
    `volume_path = ${q(join(o.root, 'volumes'))}`,
    // file locks in tmp_dir instead of the machine-wide /dev/shm/libpod_lock segment
    'lock_type = "file"',
    // never pull a pod infra image (no network, no registries)
    'infra_image = "localhost/none"',
    '',
  ].join('\n');
}

async function removeNetns(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (dirname(path) === '/run/netns') {
    await ip('netns', 'del', basename(path)).catch(() => undefined);
    return;
  }
  await execFileText('umount', ['-l', path]).catch(() => undefined);
  try {
    unlinkSync(path);
  } catch {
    /* reported by close() if still there */
  }
}

function execFileText(file: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve(stdout);
    });
  });
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function readdirSafe(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** Field 22 of /proc/PID/stat (start time in clock ticks); undefined if gone or a zombie. */
function startTime(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields.length < 20 || fields[0] === 'Z') return undefined;
  return fields[19];
}

/** Whether a 64-bit little-endian ELF file has a PT_INTERP header (is dynamically linked). */
function hasElfInterpreter(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const off = phoff + i * phentsize;
    if (off + 4 <= elf.length && elf.readUInt32LE(off) === 3) return true;
  }
  return false;
}

function isAlive(p: OwnedProcess): boolean {
  return startTime(p.pid) === p.start;
}

function inode(path: string): number {
  try {
    return statSync(path).ino;
  } catch {
    return -1;
  }
}

function netnsInodesInUse(): Set<number> {
  const inUse = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/ns/net`));
      if (m) inUse.add(Number(m[1]));
    } catch {
      /* gone or a kernel thread */
    }
  }
  return inUse;
}

/** Mount points at or under dir, deepest first (from /proc/self/mountinfo). */
function mountsUnder(dir: string): string[] {
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return readText('/proc/self/mountinfo')
    .split('\n')
    .map((l) => unescape(l.split(' ')[4] ?? ''))
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
