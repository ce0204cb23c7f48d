// The one place weft runs `nft`: JSON documents on stdin (`nft -j -f -`),
// each applied by nft as one kernel transaction, and JSON listings back.
// Small documents (an attach's guard entry, a rule change's element diff) go
// through libnftables in process instead (see libnftables.ts): same JSON,
// same transaction, without starting a process.
// argv arrays and stdin only, never a shell: names in a document cannot
// become commands. stdin is a memfd rather than a pipe (see memfd.ts).
//
// Namespace: nft acts on the namespace it runs in. To act in another one the
// spawn happens inside withNetns(): libuv forks the child from the calling
// (main) thread synchronously within spawn(), so the child starts in the
// namespace the thread is switched into, and the thread switches back before
// any other JS runs. No `ip netns exec`, no helper process.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import { deleteTableCommands, type NftDocument, type NftFamily, type NftListObject, type NftObject } from '../../../model/nft-json.js';
import { withNetns } from '../netlink/netns.js';
import { LibnftablesSession, libnftablesAvailable, runJson } from './libnftables.js';
import { memfd } from './memfd.js';
import { NftError, errnoFromNftStderr } from './nft-error.js';

export interface NftRunnerOptions {
  /** namespace path to run in (/run/netns/x, /proc/PID/ns/net); undefined: the agent's own */
  netns?: string;
  /** the nft executable; resolved through PATH unless absolute */
  binary?: string;
  /** kill nft after this long; a killed nft has not committed (the kernel commits a batch whole) */
  timeoutMs?: number;
  /**
   * Documents up to this many bytes, and listings, run through libnftables
   * in process; larger documents (whole-table replaces) through the `nft`
   * process, which keeps their parse (megabytes of JSON) out of the agent's
   * heap. 0: always the process.
   */
  inProcessMaxBytes?: number;
  /**
   * Keep one libnftables context for this runner's documents (no context
   * and namespace switch per document). Only for a namespace that outlives
   * the runner, such as the agent's own: the context's socket keeps its
   * namespace alive (see LibnftablesSession).
   */
  keepContext?: boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;
// ~256 KiB of JSON is a few thousand set elements: a few ms in process,
// against ~20-25 ms to start `nft` at all.
const DEFAULT_IN_PROCESS_MAX_BYTES = 256 * 1024;
// Listings of big tables (large sets) run to megabytes; refuse beyond this.
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export class NftRunner {
  readonly netns: string | undefined;
  private readonly binary: string;
  private readonly timeoutMs: number;
  private readonly inProcessMaxBytes: number;
  private readonly session: LibnftablesSession | undefined;

  constructor(options: NftRunnerOptions = {}) {
    this.netns = options.netns;
    this.binary = options.binary ?? 'nft';
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // A named binary is a deliberate choice of nft (tests, odd installs): honour it.
    const inProcess = options.binary === undefined && libnftablesAvailable();
    this.inProcessMaxBytes = inProcess ? (options.inProcessMaxBytes ?? DEFAULT_IN_PROCESS_MAX_BYTES) : 0;
    if (inProcess && options.keepContext === true) {
      const netns = this.netns;
      this.session = new LibnftablesSession(netns === undefined ? undefined : (fn) => withNetns(netns, fn));
    }
  }

  /** Apply `doc` as one transaction: everything in it takes effect, or nothing does. */
  async apply(doc: NftDocument): Promise<void> {
    const text = JSON.stringify(doc);
    if (text.length <= this.inProcessMaxBytes) {
      await this.applyInProcess(this.where(describe(doc)), text);
      return;
    }
    await this.run('apply', this.where(describe(doc)), ['-j', '-f', '-'], text);
  }

  private async applyInProcess(object: string, text: string): Promise<void> {
    await this.inProcess('apply', object, text);
  }

  private async inProcess(op: string, object: string, text: string): Promise<string> {
    // withNetns fails (isNotFound) when the namespace is gone, as the spawn path does.
    const netns = this.netns;
    const result = this.session ? await this.session.run(text) : await runJson(text, netns === undefined ? undefined : (fn) => withNetns(netns, fn));
    if (!result.ok) {
      throw new NftError(op, object, errnoFromNftStderr(result.error), result.error, { cause: new Error('libnftables refused the document') });
    }
    return result.output;
  }

  /** The table's objects (table, chains, sets, rules), or undefined when it does not exist. */
  async list(table: string, family: NftFamily = 'inet'): Promise<NftListObject[] | undefined> {
    const object = this.where(`nft table ${family} ${table}`);
    let stdout: string;
    try {
      // In process when it can (no fork of the whole agent every few seconds for counters).
      stdout =
        this.inProcessMaxBytes > 0
          ? await this.inProcess('list', object, JSON.stringify({ nftables: [{ list: { table: { family, name: table } } }] }))
          : await this.run('list', object, ['-j', 'list', 'table', family, table], undefined);
    } catch (err: unknown) {
      // Only nft's own ENOENT means "no such table"; a missing namespace or binary is not that.
      if (err instanceof NftError && err.isNotFound) return undefined;
      throw err;
    }
    return parseListing(stdout, object);
  }

  /** Every table of the namespace, of any family. */
  async listTables(): Promise<Array<{ family: NftFamily; name: string }>> {
    const object = this.where('nft tables');
    const listing = parseListing(await this.run('list', object, ['-j', 'list', 'tables'], undefined), object);
    return listing.flatMap((o) => ('table' in o ? [{ family: o.table.family, name: o.table.name }] : []));
  }

  /** Delete a table with everything in it; tolerates absence (without parsing any error text). */
  async deleteTable(table: string, family: NftFamily = 'inet'): Promise<void> {
    await this.apply({ nftables: deleteTableCommands(family, table) });
  }

  private where(object: string): string {
    return this.netns === undefined ? object : `${object} in netns "${this.netns}"`;
  }

  private run(op: string, object: string, args: string[], input: string | undefined): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      let child: ChildProcess;
      // stdin: a memfd, not a pipe (see memfd.ts); nothing when nft reads none.
      let stdin: number | 'ignore' = 'ignore';
      try {
        if (input !== undefined) stdin = memfd('weft-nft', input);
        const start = (): ChildProcess =>
          spawn(this.binary, args, {
            stdio: [stdin, 'pipe', 'pipe'],
            // LC_ALL=C: errnoFromNftStderr reads the C locale's strerror texts.
            env: { ...process.env, LC_ALL: 'C' },
          });
        // withNetns fails (isNotFound) when the namespace is gone; that error already names it.
        child = this.netns === undefined ? start() : withNetns(this.netns, start);
      } catch (err: unknown) {
        reject(err);
        return;
      } finally {
        // The child holds its own copy from here on (spawn forks synchronously).
        if (typeof stdin === 'number') closeSync(stdin);
      }
      const out = new Output();
      const err = new Output();
      child.stdout?.on('data', (b: Buffer) => out.add(b));
      child.stderr?.on('data', (b: Buffer) => err.add(b));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, this.timeoutMs);
      let settled = false;
      const settle = (result: { stdout: string } | { error: NftError }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if ('error' in result) reject(result.error);
        else resolve(result.stdout);
      };
      // 'error': nft never started (or could not be killed); 'close': it ran and its output is complete.
      child.on('error', (e: NodeJS.ErrnoException) => settle({ error: this.spawnFailure(op, object, e) }));
      child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
        if (code === 0 && !out.truncated) {
          settle({ stdout: out.text() });
          return;
        }
        const stderr = err.text();
        const why = new Error(`nft ${args.join(' ')} exited with ${code ?? signal}`);
        if (timedOut) {
          settle({ error: new NftError(op, object, 'ETIMEDOUT', stderr, { cause: why, detail: `nft killed after ${this.timeoutMs} ms` }) });
        } else if (signal !== null) {
          settle({ error: new NftError(op, object, 'EINTR', stderr, { cause: why, detail: `nft killed by ${signal}` }) });
        } else if (code === 0) {
          settle({ error: new NftError(op, object, 'E2BIG', stderr, { detail: `nft printed more than ${MAX_OUTPUT_BYTES} bytes` }) });
        } else {
          settle({ error: new NftError(op, object, errnoFromNftStderr(stderr), stderr, { cause: why }) });
        }
      });
    });
  }

  private spawnFailure(op: string, object: string, err: NodeJS.ErrnoException): NftError {
    if (err.code === 'ENOENT') {
      // Missing nft is terminal until an operator installs it: unsupported, not "not found".
      return new NftError(op, object, 'ENOPKG', '', { cause: err, detail: `"${this.binary}" not found (install nftables)` });
    }
    return new NftError(op, object, err.code ?? 'EUNKNOWN', '', { cause: err });
  }
}

/** Collects a child's output up to MAX_OUTPUT_BYTES. */
class Output {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  add(b: Buffer): void {
    if (this.size + b.length > MAX_OUTPUT_BYTES) {
      this.truncated = true;
      return;
    }
    this.chunks.push(b);
    this.size += b.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Name a document by the tables it touches: `nft table inet weft-isolation`. */
function describe(doc: NftDocument): string {
  const tables = new Set<string>();
  for (const c of doc.nftables) {
    if ('metainfo' in c) continue;
    const target = Object.values(c)[0] as NftObject;
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
