// Benchmark: `npm run bench:latency`. Charges when Oen answers in BENCH_OEN_LATENCY_MS (default
// 300 ms, a latency fault of the simulator): at charge worker concurrency C (BENCH_CONCURRENCIES,
// default 10,50) the ceiling is C / latency. About BENCH_LATENCY_SECONDS (default 30) of charges
// at each C, against a BullMQ worker whose no-op jobs sleep as long, at the same C.
import { emitRow, formatTable, row, type BenchRow } from "./bench-row.ts";
import { QUICK } from "./bench-size.ts";
import { openBenchEnvironment } from "./bench-environment.ts";
import { runCharges, startChargeRig } from "./charge-rig.ts";
import { runNoopJobs } from "./noop-jobs.ts";

const LATENCY_MS = Number(process.env.BENCH_OEN_LATENCY_MS ?? 300);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCIES ?? "10,50").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? (QUICK ? 3 : 30));
const BENCHMARK = "latency";

const rows: BenchRow[] = [];
const bench = await openBenchEnvironment("oen_billing_bench_latency");
try {
  for (const concurrency of CONCURRENCIES) {
    const ceiling = concurrency / (LATENCY_MS / 1000);
    // Whole rounds of C: one charge more (ceil(C/latency × seconds) was 501 at C=10) ran a last round
    // of one at the cost of a whole latency, 2% of the figure and of the baseline alike.
    const count = concurrency * Math.max(1, Math.round((SECONDS * 1000) / LATENCY_MS));
    const rig = await startChargeRig(bench, { oenLatencyMs: LATENCY_MS, concurrency });
    let run;
    try {
      await runCharges(rig, concurrency * 2);
      run = await runCharges(rig, count);
    } finally {
      await rig.close();
    }
    const noop = await runNoopJobs(bench, { count, concurrency, sleepMs: LATENCY_MS });
    const r = row({
      benchmark: BENCHMARK,
      figure: `charges/s, Oen at ${LATENCY_MS} ms, C=${concurrency}`,
      value: run.chargesPerSecond,
      unit: "/s",
      baseline: noop.jobsPerSecond,
      baselineName: `BullMQ job sleeping ${LATENCY_MS} ms`,
      target: `≥ 0.97 × C/latency = ${(0.97 * ceiling).toFixed(1)}/s`,
      pass: run.chargesPerSecond >= 0.97 * ceiling && run.paid === count,
      note: `${(run.chargesPerSecond / ceiling).toFixed(3)} of C/latency (${ceiling.toFixed(1)}/s), the baseline ${(noop.jobsPerSecond / ceiling).toFixed(3)}; ${count.toLocaleString()} charges in ${run.seconds.toFixed(1)} s, ${run.paid.toLocaleString()} paid`,
    });
    rows.push(r);
    emitRow(r);
  }
} finally {
  await bench.close();
}
console.log(formatTable(rows));
