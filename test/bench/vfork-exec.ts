// Exec a program the way a Go container runtime does (os/exec: a vfork-style
// clone, then execve), through glibc's posix_spawn via koffi. Node's own
// child_process forks the whole ~150 MB bench process first: ~7.5 ms per
// exec on the 2-vCPU VM, which no runtime pays and which would swamp the
// plugin's own cost on both sides of the comparison.
//
// Synchronous on purpose: the plugin talks to an agent in another process,
// and the caller times from spawn to exit.
import { createRequire } from 'node:module';
import { withNetns } from '../../sys/netns.js';

interface Libc {
  pipe2(fds: number[], flags: number): number;
  faInit(fa: Buffer): number;
  faDup2(fa: Buffer, fd: number, newfd: number): number;
  faDestroy(fa: Buffer): number;
  spawn(pid: number[], path: string, fa: Buffer, attr: null, argv: (string | null)[], envp: (string | null)[]): number;
  waitpid(pid: number, status: number[], options: number): number;
  write(fd: number, buf: Buffer, n: number): number;
  read(fd: number, buf: Buffer, n: number): number;
  close(fd: number): number;
  errno(): number;
}

const O_CLOEXEC = 0o2000000;
/** sizeof(posix_spawn_file_actions_t) is 80 on x86_64 glibc; leave room. */
const FILE_ACTIONS_SIZE = 256;

let libc: Libc | undefined;

function getLibc(): Libc {
  if (libc) return libc;
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  const lib = koffi.load('libc.so.6');
  const pipe2 = lib.func('int pipe2(_Out_ int *fds, int flags)');
  const faInit = lib.func('int posix_spawn_file_actions_init(void *fa)');
  const faDup2 = lib.func('int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)');
  const faDestroy = lib.func('int posix_spawn_file_actions_destroy(void *fa)');
  const spawn = lib.func('int posix_spawn(_Out_ int *pid, const char *path, void *fa, void *attr, const char **argv, const char **envp)');
  const waitpid = lib.func('int waitpid(int pid, _Out_ int *status, int options)');
  const write = lib.func('long write(int fd, const void *buf, unsigned long n)');
  const read = lib.func('long read(int fd, _Out_ void *buf, unsigned long n)');
  const close = lib.func('int close(int fd)');
  libc = {
    pipe2: (fds, flags) => pipe2(fds, flags) as number,
    faInit: (fa) => faInit(fa) as number,
    faDup2: (fa, fd, newfd) => faDup2(fa, fd, newfd) as number,
    faDestroy: (fa) => faDestroy(fa) as number,
    spawn: (pid, path, fa, attr, argv, envp) => spawn(pid, path, fa, attr, argv, envp) as number,
    waitpid: (pid, status, options) => waitpid(pid, status, options) as number,
    write: (fd, buf, n) => Number(write(fd, buf, n)),
    read: (fd, buf, n) => Number(read(fd, buf, n)),
    close: (fd) => close(fd) as number,
    errno: () => koffi.errno(),
  };
  return libc;
}

export interface ExecResult {
  /** wall time from spawn to exit, ms */
  ms: number;
  exitCode: number;
  output: string;
}

/** Run `path` inside the network namespace at nsPath with env and stdin; stdout and stderr are captured together. */
export function vforkExec(nsPath: string, path: string, env: Record<string, string>, stdin: string): ExecResult {
  const c = getLibc();
  const input = [0, 0];
  const output = [0, 0];
  if (c.pipe2(input, O_CLOEXEC) !== 0 || c.pipe2(output, O_CLOEXEC) !== 0) throw new Error(`pipe2: errno ${c.errno()}`);
  const [inRead, inWrite] = input as [number, number];
  const [outRead, outWrite] = output as [number, number];
  const fa = Buffer.alloc(FILE_ACTIONS_SIZE);
  c.faInit(fa);
  c.faDup2(fa, inRead, 0);
  c.faDup2(fa, outWrite, 1);
  c.faDup2(fa, outWrite, 2);
  const envp = [...Object.entries(env).map(([k, v]) => `${k}=${v}`), null];
  const pid = [0];
  const started = process.hrtime.bigint();
  const rc = withNetns(nsPath, () => c.spawn(pid, path, fa, null, [path, null], envp));
  c.faDestroy(fa);
  c.close(inRead);
  c.close(outWrite);
  if (rc !== 0) {
    c.close(inWrite);
    c.close(outRead);
    throw new Error(`posix_spawn ${path}: errno ${rc}`);
  }
  const data = Buffer.from(stdin);
  let off = 0;
  while (off < data.length) {
    const n = c.write(inWrite, data.subarray(off), data.length - off);
    if (n <= 0) break; // the plugin stopped reading; its answer says why
    off += n;
  }
  c.close(inWrite);
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    const n = c.read(outRead, buf, buf.length);
    if (n <= 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  c.close(outRead);
  const status = [0];
  c.waitpid(pid[0] as number, status, 0);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const s = status[0] as number;
  const exitCode = (s & 0x7f) === 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f);
  return { ms, exitCode, output: Buffer.concat(chunks).toString() };
}
