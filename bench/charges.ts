// Benchmark: `npm run bench:charges`. BENCH_CHARGES due invoices (default 10,000, after a
// warm-up of a tenth) charged to paid by the real service (a ROLES=workers process) through the
// Oen simulator (its own process, no added latency), at each charge worker concurrency of
// BENCH_CONCURRENCIES (default 10,50). Per charge: rate, CPU of the worker and of Postgres,
// Postgres statements, Redis commands. Baselines of the same run: pgbench with two short
// transactions per charge at as many clients; a BullMQ worker running no-op jobs.
import { emitRow, formatTable, row, type BenchRow } from "./bench-row.ts";
import { benchSize, QUICK } from "./bench-size.ts";
import { openBenchEnvironment } from "./bench-environment.ts";
import { runCharges, startChargeRig } from "./charge-rig.ts";
import { runNoopJobs } from "./noop-jobs.ts";
import { runPgbench } from "./pgbench.ts";

const CHARGES = benchSize("BENCH_CHARGES", 10_000);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCIES ?? "10,50").split(",").map(Number);
const PGBENCH_SECONDS = Number(process.env.BENCH_PGBENCH_SECONDS ?? (QUICK ? 3 : 10));
const BENCHMARK = "charges";

const rows: BenchRow[] = [];
const emit = (r: BenchRow) => {
  rows.push(r);
  emitRow(r);
};
const fixed = (value: number | null, digits = 2) => (value === null ? "—" : value.toFixed(digits));

const bench = await openBenchEnvironment("oen_billing_bench_charges");
try {
  for (const concurrency of CONCURRENCIES) {
    const rig = await startChargeRig(bench, { oenLatencyMs: 0, concurrency });
    let run;
    try {
      await runCharges(rig, Math.max(100, Math.round(CHARGES / 10)));
      run = await runCharges(rig, CHARGES);
    } finally {
      await rig.close();
    }
    const pgbench = await runPgbench(bench, { clients: concurrency, seconds: PGBENCH_SECONDS });
    const noop = await runNoopJobs(bench, { count: CHARGES, concurrency, sleepMs: 0 });
    const at = `C=${concurrency}`;
    const cpu = run.workerCpuMsPerCharge + run.postgresCpuMsPerCharge;
    const rate = run.chargesPerSecond;
    emit(
      row({
        benchmark: BENCHMARK,
        figure: `charges/s, simulator at 0 ms, ${at}`,
        value: rate,
        unit: "/s",
        baseline: pgbench.chargesPerSecond,
        baselineName: "pgbench, 2 tx per charge",
        target: "≥ 1,000/s or ≥ 0.2× pgbench",
        pass: rate >= 1000 || rate >= 0.2 * pgbench.chargesPerSecond,
        note: `${run.charges.toLocaleString()} charges in ${run.seconds.toFixed(1)} s; BullMQ no-op jobs at ${at}: ${noop.jobsPerSecond.toFixed(0)}/s`,
      }),
    );
    emit(
      row({
        benchmark: BENCHMARK,
        figure: `CPU per charge, worker + Postgres, ${at}`,
        value: cpu,
        unit: "ms",
        baseline: pgbench.postgresCpuMsPerCharge,
        baselineName: "pgbench's Postgres CPU",
        target: "≤ 1.5 ms",
        pass: cpu <= 1.5,
        note: `worker ${fixed(run.workerCpuMsPerCharge, 3)} ms, Postgres ${fixed(run.postgresCpuMsPerCharge, 3)} ms (${Object.entries(run.postgresCpuByKind)
          .filter(([, ms]) => ms > 0)
          .sort((a, b) => b[1] - a[1])
          .map(([kind, ms]) => `${kind} ${fixed(ms, 3)}`)
          .join(", ")})`,
      }),
    );
    emit(
      row({
        benchmark: BENCHMARK,
        figure: `Postgres statements per charge, ${at}`,
        value: run.statementsPerCharge ?? run.queriesPerCharge,
        unit: "",
        baseline: pgbench.statementsPerCharge,
        baselineName: "pgbench script",
        target: "—",
        pass: null,
        note: `${run.statementsPerCharge === null ? "queries the worker sent (no pg_stat_statements)" : "pg_stat_statements, BEGIN/COMMIT included"}; ${fixed(run.queriesPerCharge)} queries sent by the worker${run.costliestStatements.length === 0 ? "" : `; costliest (execution time per call × calls per charge): ${run.costliestStatements.join("; ")}`}`,
      }),
    );
    emit(
      row({
        benchmark: BENCHMARK,
        figure: `Redis commands per charge (sent), ${at}`,
        value: run.clientCommandsPerCharge,
        unit: "",
        baseline: noop.clientCommandsPerJob,
        baselineName: "BullMQ no-op job",
        target: "≤ 12",
        pass: run.clientCommandsPerCharge <= 12,
        note: `as Redis counts them (INFO commandstats, Lua scripts' calls included): ${fixed(run.serverCommandsPerCharge, 1)} (no-op job ${fixed(noop.serverCommandsPerJob, 1)}); ${fixed(run.scriptsPerCharge)} scripts; most: ${run.topCommands.join(", ")}`,
      }),
    );
    emit(
      row({
        benchmark: BENCHMARK,
        figure: `invoices paid, each charged once, ${at}`,
        value: run.paid,
        unit: "paid",
        baseline: run.charges,
        baselineName: "due",
        target: "all paid, one Oen charge each",
        pass: run.paid === run.charges && run.simulatorCharges === run.charges,
        note: `${run.simulatorCharges.toLocaleString()} successful charges in the simulator's ledger`,
      }),
    );
  }
} finally {
  await bench.close();
}
console.log(formatTable(rows));
