// Drives the weft CLI in-process against an in-process controller
// (createApp over an in-memory store, listening on an ephemeral port), and
// dumps everything the store holds so a test can prove nothing changed.
import { KINDS } from '../../../../model/kinds.js';
import { runCli } from '../../../../cli/program.js';
import { apiHarness, TOKENS } from '../../controller/support/harness.js';

export type Api = Awaited<ReturnType<typeof apiHarness>>;

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/**
 * Run the CLI and capture what it writes. Runs must not overlap: stdout and
 * stderr are swapped by hand (under native ESM the jest object is not a global).
 */
export async function cli(...argv: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const realOut = process.stdout.write;
  const realErr = process.stderr.write;
  process.stdout.write = ((s: string | Uint8Array) => ((out += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
  try {
    const code = await runCli(argv, '9.9.9');
    return { code, out, err };
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
  }
}

/** A controller on an ephemeral port and a `weft` bound to it. */
export async function controllerWithCli(): Promise<Api & { weft: (...argv: string[]) => Promise<CliRun> }> {
  const api = await apiHarness();
  const weft = (...argv: string[]) => withToken(() => cli(...argv, '--server', api.base));
  return { ...api, weft };
}

async function withToken<T>(fn: () => Promise<T>): Promise<T> {
  const before = process.env.WEFT_TOKEN;
  process.env.WEFT_TOKEN = TOKENS.admin;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.WEFT_TOKEN;
    else process.env.WEFT_TOKEN = before;
  }
}

/**
 * Everything stored, in a canonical order: the revision, every resource of
 * every kind, VNIs, address blocks, reservations and endpoint records. Two
 * equal dumps mean the store did not change.
 */
export function storeDump(api: Api): string {
  return api.store.read((r) =>
    JSON.stringify({
      revision: r.revision(),
      resources: Object.fromEntries(KINDS.map((k) => [k, r.listResources(k)])),
      vnis: [...r.listVnis()].sort(),
      blocks: r.listBlocks(),
      reservations: r.listReservations(),
      records: r.listEndpointRecords(),
    }),
  );
}
