// Worker side of LinkReaper: one netlink socket in the given namespace,
// deleting links by index, one at a time, and answering each request.
//
// One at a time for real: requests arrive in bursts (a runtime detaching
// hundreds of containers in a row) and each delete holds this thread in the
// kernel for ~15-20 ms, so handed to the socket together they would be sent
// in one long loop with no reply read in between, until the replies overran
// the socket's receive buffer (see request-window.ts). A window of one sends
// each delete after the previous one's answer, and starts its timeout when it
// is sent rather than when it was queued. The kernel runs link deletions one
// after another anyway (under the RTNL lock), so nothing is lost.
import { parentPort, workerData } from 'node:worker_threads';
import { DatapathError } from '../errors.js';
import { NetlinkHandle } from './netlink-handle.js';
import type { ReapReply, ReapRequest } from './link-reaper.js';

const { ns, timeoutMs } = workerData as { ns: string; timeoutMs: number };
const opts = { timeoutMs, maxInflight: 1 };
const handle = ns === 'host' ? NetlinkHandle.openHost(opts) : NetlinkHandle.openAt(ns, opts);

parentPort?.on('message', (req: ReapRequest) => {
  handle.removeLink(req.index).then(
    () => parentPort?.postMessage({ id: req.id, ok: true } satisfies ReapReply),
    (err: unknown) => {
      const e = err instanceof DatapathError ? err : new DatapathError('delete', `link ${req.index}`, 'EIO', { cause: err });
      parentPort?.postMessage({ id: req.id, ok: false, op: e.op, object: e.object, errno: e.errno } satisfies ReapReply);
    },
  );
});
