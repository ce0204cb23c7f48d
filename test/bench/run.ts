// `npm run bench`: every benchmark, each printing weft beside its peer
// measured in the same run. Benchmarks never assert timings.
import { benchAttach, printAttach } from './attach-latency.js';

const COUNT = Number(process.env.WEFT_BENCH_COUNT ?? 200);
const LARGE = Number(process.env.WEFT_BENCH_LARGE ?? 500);

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the benchmarks need root (network namespaces)');
  const r = await benchAttach(COUNT, LARGE);
  printAttach(r, COUNT);
}

main().catch((e: unknown) => {
  console.error(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
