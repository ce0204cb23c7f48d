// The one place weft runs `nft`: JSON documents on stdin (`nft -j -f -`),
// each applied by nft as one kernel transaction, and JSON listings back.
// argv arrays and stdin only, never a shell: names in a document cannot
// become commands.
//
// Namespace: nft acts on the namespace it runs in. To act in another one the
// spawn happens inside withNetns(): libuv forks the child from the calling
// (main) thread synchronously within spawn(), so the child starts in the
// namespace the thread is switched into, and the thread switches back before
// any other JS runs. No `ip netns exec`, no helper process.
import { execFile, type ChildProcess, type ExecFileException } from 'node:child_process';
import { withNetns } from '../netlink/netns.js';
import { NftError, errnoFromNftStderr } from './nft-error.js';
import { deleteTableCommands, type NftDocument, type NftFamily, type NftListObject } from './nft-json.js';

export interface NftRunnerOptions {
  /** namespace path to run in (/run/netns/x, /proc/PID/ns/net); undefined: the agent's own */
  netns?: string;
  /** the nft executable; resolved through PATH unless absolute */
  binary?: string;
  /** kill nft after this long; a killed nft has not committed (the kernel commits a batch whole) */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
// Listings of big tables (large sets) run to megabytes; refuse beyond this.
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export class NftRunner {
  readonly netns: string | undefined;
  private readonly binary: string;
  private readonly timeoutMs: number;

  constructor(options: NftRunnerOptions = {}) {
    this.netns = options.netns;
    this.binary = options.binary ?? 'nft';
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Apply `doc` as one transaction: everything in it takes effect, or nothing does. */
  async apply(doc: NftDocument): Promise<void> {
    await this.run('apply', describe(doc), ['-j', '-f', '-'], JSON.stringify(doc));
  }

  /** The table's objects (table, chains, sets, rules), or undefined when it does not exist. */
  async list(table: string, family: NftFamily = 'inet'): Promise<NftListObject[] | undefined> {
    const object = this.where(`nft table ${family} ${table}`);
    let stdout: string;
    try {
      stdout = await this.run('list', object, ['-j', 'list', 'table', family, table], '');
    } catch (err: unknown) {
      // Only nft's own ENOENT means "no such table"; a missing namespace or binary is not that.
      if (err instanceof NftError && err.isNotFound) return undefined;
      throw err;
    }
    return parseListing(stdout, object);
  }

  /** Delete a table with everything in it; tolerates absence (without parsing any error text). */
  async deleteTable(table: string, family: NftFamily = 'inet'): Promise<void> {
    await this.apply({ nftables: deleteTableCommands(family, table) });
  }

  private where(object: string): string {
    return this.netns === undefined ? object : `${object} in netns "${this.netns}"`;
  }

  private run(op: string, object: string, args: string[], input: string): Promise<string> {
    const where = this.where(object);
    return new Promise<string>((resolve, reject) => {
      let timedOut = false;
      const start = (): ChildProcess =>
        execFile(
          this.binary,
          args,
          // LC_ALL=C: errnoFromNftStderr reads the C locale's strerror texts.
          { encoding: 'utf8', maxBuffer: MAX_OUTPUT_BYTES, env: { ...process.env, LC_ALL: 'C' } },
          (err: ExecFileException | null, stdout: string, stderr: string) => {
            clearTimeout(timer);
            if (err === null) {
              resolve(stdout);
              return;
            }
            reject(this.failure(op, where, err, stderr, timedOut));
          },
        );
      let child: ChildProcess;
      try {
        // withNetns fails (isNotFound) when the namespace is gone; that error already names it.
        child = this.netns === undefined ? start() : withNetns(this.netns, start);
      } catch (err: unknown) {
        reject(err);
        return;
      }
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, this.timeoutMs);
      // EPIPE when nft exits before reading all of stdin: its exit status
      // and stderr explain why, and arrive through the callback above.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input);
    });
  }

  private failure(op: string, object: string, err: ExecFileException, stderr: string, timedOut: boolean): NftError {
    if (timedOut) {
      return new NftError(op, object, 'ETIMEDOUT', stderr, { cause: err, detail: `nft killed after ${this.timeoutMs} ms` });
    }
    // A string code is a spawn failure (nft never ran); a number is nft's exit status.
    if (err.code === 'ENOENT') {
      // Missing nft is terminal until an operator installs it: unsupported, not "not found".
      return new NftError(op, object, 'ENOPKG', stderr, { cause: err, detail: `"${this.binary}" not found (install nftables)` });
    }
    if (typeof err.code === 'string') return new NftError(op, object, err.code, stderr, { cause: err });
    if (err.signal) return new NftError(op, object, 'EINTR', stderr, { cause: err, detail: `nft killed by ${err.signal}` });
    return new NftError(op, object, errnoFromNftStderr(stderr), stderr, { cause: err });
  }
}

/** Name a document by the tables it touches: `nft table inet weft-isolation`. */
function describe(doc: NftDocument): string {
  const tables = new Set<string>();
  for (const c of doc.nftables) {
    const target = 'add' in c ? c.add : 'delete' in c ? c.delete : 'flush' in c ? c.flush : undefined;
    if (target === undefined) continue;
    const o = Object.values(target)[0] as { family: string; table?: string; name: string };
    tables.add(`${o.family} ${'table' in target ? o.name : o.table}`);
  }
  return tables.size === 0 ? 'nft (empty transaction)' : `nft table ${[...tables].join(', ')}`;
}

function parseListing(stdout: string, object: string): NftListObject[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch (err: unknown) {
    throw new NftError('list', object, 'EPROTO', '', { cause: err, detail: 'nft printed invalid JSON' });
  }
  const items = (parsed as { nftables?: unknown } | null)?.nftables;
  if (!Array.isArray(items)) {
    throw new NftError('list', object, 'EPROTO', '', { detail: 'nft printed JSON without an "nftables" array' });
  }
  return items.filter((o: unknown): o is NftListObject => typeof o === 'object' && o !== null && !('metainfo' in o));
}
