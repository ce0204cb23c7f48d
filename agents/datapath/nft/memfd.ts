// An anonymous in-memory file holding a document, to hand to nft as stdin.
//
// Why not a pipe: `nft -f -` does not read fd 0, it opens "/dev/stdin" by
// path, and Node's 'pipe' stdio is a socketpair, whose /proc/self/fd/0 cannot
// be opened (ENXIO: "Could not open file "/dev/stdin""). Reopening a memfd
// through /proc works and starts at offset 0. No temporary file on disk, so
// nothing to clean up after a crash. libc's memfd_create through koffi, the
// same way netns.ts calls setns.
import { closeSync, writeSync } from 'node:fs';
import koffi from 'koffi';
import { fromErrno } from '../errors.js';

const MFD_CLOEXEC = 0x1;

let memfdCreate: ((name: string, flags: number) => number) | undefined;

function load(): (name: string, flags: number) => number {
  if (!memfdCreate) {
    const fn = koffi.load('libc.so.6').func('int memfd_create(const char *name, unsigned int flags)');
    memfdCreate = (name, flags) => fn(name, flags) as number;
  }
  return memfdCreate;
}

/**
 * A close-on-exec fd of a memfd containing `text` (spawn's stdio dup2 makes
 * the child's copy inheritable). The caller closes it once the child runs.
 */
export function memfd(name: string, text: string): number {
  const fd = load()(name, MFD_CLOEXEC);
  if (fd < 0) throw fromErrno('create', `memfd "${name}"`, koffi.errno());
  try {
    const data = Buffer.from(text, 'utf8');
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
  } catch (err: unknown) {
    closeSync(fd);
    throw err;
  }
  return fd;
}
