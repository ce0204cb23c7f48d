// Worker side of LinkReaper: one netlink socket in the given namespace,
// deleting links by index, one at a time, and answering each request.
import { parentPort, workerData } from 'node:worker_threads';
import { DatapathError } from '../errors.js';
import { NetlinkHandle } from './netlink-handle.js';
import type { ReapReply } from './link-reaper.js';

const { ns, timeoutMs } = workerData as { ns: string; timeoutMs: number };
const handle = ns === 'host' ? NetlinkHandle.openHost({ timeoutMs }) : NetlinkHandle.openAt(ns, { timeoutMs });

parentPort?.on('message', (req: { id: number; index: number }) => {
  handle.removeLink(req.index).then(
    () => parentPort?.postMessage({ id: req.id, ok: true } satisfies ReapReply),
    (err: unknown) => {
      const e = err instanceof DatapathError ? err : new DatapathError('delete', `link ${req.index}`, 'EIO', { cause: err });
      parentPort?.postMessage({ id: req.id, ok: false, op: e.op, object: e.object, errno: e.errno } satisfies ReapReply);
    },
  );
});
