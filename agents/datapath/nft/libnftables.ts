// libnftables in the agent's own process: the library the `nft` command is
// built on, given the same JSON documents `nft -j -f -` reads, and applied
// the same way (one kernel transaction per document).
//
// Why: starting an `nft` process costs ~20-25 ms on a small VM, and an
// attach waits for its port's anti-spoofing entry. In process, a small
// document takes ~0.2-1 ms (context included).
//
// A fresh context per document by default (~0.1 ms, and a namespace switch):
// nothing cached across calls, so a namespace deleted and made again under
// the same path is never confused with the old one, and no socket keeps a
// deleted namespace alive. A caller whose namespace outlives it (the
// agent's own) keeps one context for all its documents instead
// (LibnftablesSession), as firewalld does: the library checks the ruleset's
// generation before each command, so changes made by others are seen. The
// context and its netlink socket are made on the calling thread, inside the
// caller's namespace switch (the socket stays bound to that namespace); the
// transaction itself, the costly part, runs on a thread of koffi's pool, so
// an attach's netlink work and its anti-spoofing entry proceed side by side
// and the event loop is not held.
// weft's documents name interfaces by name (iifname, oifname), never by
// index, so nothing in a transaction depends on the running thread's own
// namespace. Node never calls setlocale, so error texts carry the C
// locale's strerror wording, which errnoFromNftStderr reads.
import koffi from 'koffi';

// nftables/libnftables.h
const NFT_CTX_DEFAULT = 0;
const NFT_CTX_OUTPUT_JSON = 1 << 4;

interface Binding {
  ctxNew(flags: number): unknown;
  ctxFree(ctx: unknown): void;
  outputSetFlags(ctx: unknown, flags: number): void;
  bufferError(ctx: unknown): number;
  getErrorBuffer(ctx: unknown): string;
  getOutputBuffer(ctx: unknown): string;
  bufferOutput(ctx: unknown): number;
  unbufferError(ctx: unknown): number;
  unbufferOutput(ctx: unknown): number;
  /** nft_run_cmd_from_buffer on a pool thread */
  runCmdFromBuffer(ctx: unknown, buf: string): Promise<number>;
}

/** What one document did: rc 0 and no error, or nft's error text. */
export interface LibnftablesResult {
  ok: boolean;
  /** nft's error text ('' on success), worded as the `nft` command prints it */
  error: string;
  /** what nft printed (JSON; a listing's objects), '' when nothing */
  output: string;
}

let binding: Binding | null | undefined;

function load(): Binding | null {
  if (binding !== undefined) return binding;
  try {
    const lib = koffi.load('libnftables.so.1');
    const ctxNew = lib.func('void *nft_ctx_new(uint32_t flags)');
    const ctxFree = lib.func('void nft_ctx_free(void *ctx)');
    const outputSetFlags = lib.func('void nft_ctx_output_set_flags(void *ctx, unsigned int flags)');
    const bufferError = lib.func('int nft_ctx_buffer_error(void *ctx)');
    const getErrorBuffer = lib.func('const char *nft_ctx_get_error_buffer(void *ctx)');
    const bufferOutput = lib.func('int nft_ctx_buffer_output(void *ctx)');
    const getOutputBuffer = lib.func('const char *nft_ctx_get_output_buffer(void *ctx)');
    const unbufferError = lib.func('int nft_ctx_unbuffer_error(void *ctx)');
    const unbufferOutput = lib.func('int nft_ctx_unbuffer_output(void *ctx)');
    const runCmdFromBuffer = lib.func('int nft_run_cmd_from_buffer(void *ctx, const char *buf)');
    binding = {
      ctxNew: (flags) => ctxNew(flags) as unknown,
      ctxFree: (ctx) => ctxFree(ctx),
      outputSetFlags: (ctx, flags) => outputSetFlags(ctx, flags),
      bufferError: (ctx) => bufferError(ctx) as number,
      getErrorBuffer: (ctx) => (getErrorBuffer(ctx) as string | null) ?? '',
      bufferOutput: (ctx) => bufferOutput(ctx) as number,
      getOutputBuffer: (ctx) => (getOutputBuffer(ctx) as string | null) ?? '',
      unbufferError: (ctx) => unbufferError(ctx) as number,
      unbufferOutput: (ctx) => unbufferOutput(ctx) as number,
      runCmdFromBuffer: (ctx, buf) =>
        new Promise<number>((resolve, reject) => {
          runCmdFromBuffer.async(ctx, buf, (err: unknown, rc: number) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(rc)));
        }),
    };
  } catch {
    // No libnftables1 (nft itself needs it, so unusual): the runner uses the `nft` process.
    binding = null;
  }
  return binding;
}

/** Whether libnftables could be loaded into this process. */
export function libnftablesAvailable(): boolean {
  return load() !== null;
}

/** The last document queued: documents run one at a time, in the order they were given. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Run one JSON document (its text) through libnftables. `inNamespace` runs
 * its argument inside the target namespace (e.g. withNetns); the context is
 * made there when the document's turn comes. Documents commit in the order
 * they were given, one at a time, as they did when the call held the
 * thread: a caller that issues two without waiting never sees the second
 * commit first. Throws only when the library is missing or a context cannot
 * be made; nft's own refusals come back as `{ ok: false, error }`.
 */
export function runJson(text: string, inNamespace: <T>(fn: () => T) => T = (fn) => fn()): Promise<LibnftablesResult> {
  return inTurn((lib) => {
    const ctx = newContext(lib, inNamespace);
    return runIn(lib, ctx, text).finally(() => lib.ctxFree(ctx));
  });
}

/**
 * One context kept for many documents in one namespace, made at the first
 * document. Only for a namespace that outlives the session: its socket
 * keeps the namespace alive, and a namespace made anew under the same path
 * is not followed. Documents take their turn with runJson's.
 */
export class LibnftablesSession {
  private ctx: unknown;

  constructor(private readonly inNamespace: <T>(fn: () => T) => T = (fn) => fn()) {}

  run(text: string): Promise<LibnftablesResult> {
    return inTurn((lib) => {
      this.ctx ??= newContext(lib, this.inNamespace);
      return runIn(lib, this.ctx, text);
    });
  }
}

function inTurn<T>(step: (lib: Binding) => Promise<T>): Promise<T> {
  const lib = load();
  if (lib === null) return Promise.reject(new Error('libnftables.so.1 could not be loaded'));
  const run = queue.then(() => step(lib));
  queue = run.catch(() => undefined);
  return run;
}

function newContext(lib: Binding, inNamespace: <T>(fn: () => T) => T): unknown {
  const ctx = inNamespace(() => lib.ctxNew(NFT_CTX_DEFAULT));
  if (ctx === null) throw new Error('nft_ctx_new failed');
  // The JSON output flag is also what makes libnftables read JSON input.
  lib.outputSetFlags(ctx, NFT_CTX_OUTPUT_JSON);
  return ctx;
}

async function runIn(lib: Binding, ctx: unknown, text: string): Promise<LibnftablesResult> {
  // Buffered, so nothing reaches the agent's own stdout/stderr. Fresh
  // buffers for each document: reading one rewinds it but keeps its text,
  // which a document that prints nothing would hand back again.
  lib.unbufferError(ctx);
  lib.unbufferOutput(ctx);
  lib.bufferError(ctx);
  lib.bufferOutput(ctx);
  const rc = await lib.runCmdFromBuffer(ctx, text);
  const error = rc === 0 ? '' : lib.getErrorBuffer(ctx) || `libnftables returned ${rc} without a message`;
  return { ok: rc === 0, error, output: lib.getOutputBuffer(ctx) };
}
