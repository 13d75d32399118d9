// Benchmark: `npm run bench:memory`. What BENCH_MEMORY_CHARGES charges (default 100,000, after a
// warm-up of a tenth, in ten rounds) leave behind: the worker's RSS (flat within 10%), Redis'
// used_memory and keys once the jobs' retention has passed, and Postgres rows per charge.
//
// Retention: charge jobs are removed on completion (failed ones kept a day); notification jobs
// (sent only with PLATFORM_WEBHOOK_URL, not set here) an hour. Waiting that long is not a
// benchmark, so "after retention" is measured once the queues are idle, with BENCH_RETENTION_WAIT_MS
// (default 2,000) of settling; jobs still inside their retention are listed in the note.
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { emitRow, formatTable, row, type BenchRow } from "./bench-row.ts";
import { benchSize } from "./bench-size.ts";
import { openBenchEnvironment, type BenchEnvironment } from "./bench-environment.ts";
import { runCharges, startChargeRig } from "./charge-rig.ts";
import { median } from "./percentile.ts";
import { redisStats } from "./redis-stats.ts";

const CHARGES = benchSize("BENCH_MEMORY_CHARGES", 100_000);
const ROUNDS = 10;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 10);
const SETTLE_MS = Number(process.env.BENCH_RETENTION_WAIT_MS ?? 2_000);
const BENCHMARK = "memory";
// Tables the service prunes (webhook_inbox after relay, idempotency_keys): their growth is bounded by retention.
const PRUNED_TABLES = new Set(["webhook_inbox", "idempotency_keys"]);
// What runCharges seeds for each charge (a subscription renewed, its card, its invoice): not the charge's own rows.
const SEEDED_TABLES = new Set(["subscriptions", "checkout_sessions", "payment_tokens", "invoices"]);

async function rowCounts(bench: BenchEnvironment): Promise<Map<string, number>> {
  const tables = await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = 'public' and tablename not like 'kysely_%'`.execute(bench.db);
  const counts = new Map<string, number>();
  for (const { name } of tables.rows) {
    const { rows } = await sql<{ n: string }>`select count(*) as n from ${sql.table(name)}`.execute(bench.db);
    counts.set(name, Number(rows[0]!.n));
  }
  return counts;
}

async function queueKeys(bench: BenchEnvironment): Promise<number> {
  let cursor = "0";
  let keys = 0;
  do {
    const [next, found] = await bench.redis.scan(cursor, "MATCH", `${bench.env.QUEUE_PREFIX}:*`, "COUNT", 1000);
    keys += found.length;
    cursor = next;
  } while (cursor !== "0");
  return keys;
}

/** Jobs a queue still holds, by state, e.g. "notifications: 3 completed". */
async function heldJobs(bench: BenchEnvironment, queues: { name: string; getJobCounts(): Promise<Record<string, number>> }[]): Promise<string[]> {
  const held: string[] = [];
  for (const queue of queues) {
    for (const [state, n] of Object.entries(await queue.getJobCounts())) if (n > 0) held.push(`${queue.name}: ${n} ${state}`);
  }
  return held;
}

const rows: BenchRow[] = [];
const emit = (r: BenchRow) => {
  rows.push(r);
  emitRow(r);
};
const MB = 1024 * 1024;

const bench = await openBenchEnvironment("oen_billing_bench_memory");
try {
  const rig = await startChargeRig(bench, { oenLatencyMs: 0, concurrency: CONCURRENCY });
  try {
    await runCharges(rig, Math.max(1000, Math.round(CHARGES / 10)));
    await sleep(SETTLE_MS);
    const redisBefore = (await redisStats(bench.redis)).usedMemory;
    const keysBefore = await queueKeys(bench);
    const rowsBefore = await rowCounts(bench);
    const rss: number[] = [(await rig.worker.probe()).rssBytes];
    const perRound = Math.ceil(CHARGES / ROUNDS);
    let charged = 0;
    let paid = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const run = await runCharges(rig, perRound);
      charged += run.charges;
      paid += run.paid;
      rss.push((await rig.worker.probe()).rssBytes);
      console.error(`memory: ${charged.toLocaleString()} charges, worker RSS ${(rss.at(-1)! / MB).toFixed(0)} MB`);
    }
    await sleep(SETTLE_MS);
    const redisAfter = (await redisStats(bench.redis)).usedMemory;
    const keysAfter = await queueKeys(bench);
    const rowsAfter = await rowCounts(bench);
    const held = await heldJobs(bench, rig.queues.all);

    // Three samples at each end, so that one GC's timing does not decide.
    const start = median(rss.slice(0, 3));
    const end = median(rss.slice(-3));
    emit(
      row({
        benchmark: BENCHMARK,
        figure: `worker RSS after ${charged.toLocaleString()} charges (after warm-up)`,
        value: end / MB,
        unit: "MB",
        baseline: start / MB,
        baselineName: "after warm-up",
        target: "≤ 1.10× (flat)",
        pass: end <= 1.1 * start,
        note: `samples ${rss.map((b) => (b / MB).toFixed(0)).join(", ")} MB; ${paid.toLocaleString()} paid`,
      }),
    );
    emit(
      row({
        benchmark: BENCHMARK,
        figure: "Redis used_memory once the queues are idle",
        value: redisAfter / MB,
        unit: "MB",
        baseline: redisBefore / MB,
        baselineName: "before the charges",
        target: "back to baseline (≤ 1.05×)",
        pass: redisAfter <= 1.05 * redisBefore,
        note: `queue keys ${keysBefore} → ${keysAfter} (${((keysAfter - keysBefore) / charged).toFixed(3)} per charge); jobs held: ${held.length === 0 ? "none" : held.join(", ")}`,
      }),
    );
    const grown = [...rowsAfter].map(([table, n]) => [table, n - (rowsBefore.get(table) ?? 0)] as const).filter(([table, n]) => n > 0 && !SEEDED_TABLES.has(table));
    const total = grown.reduce((sum, [, n]) => sum + n, 0);
    const unbounded = grown.filter(([table]) => !PRUNED_TABLES.has(table)).map(([table]) => table);
    emit(
      row({
        benchmark: BENCHMARK,
        figure: "Postgres rows added per charge",
        value: total / charged,
        unit: "rows",
        baseline: 1,
        baselineName: "pgbench: one attempt row",
        target: "bounded by retention",
        pass: unbounded.length === 0,
        note: `${grown.map(([table, n]) => `${table} ${(n / charged).toFixed(2)}`).join(", ")} (the seeded invoice and subscription not counted); no retention prunes: ${unbounded.join(", ") || "—"}`,
      }),
    );
  } finally {
    await rig.close();
  }
} finally {
  await bench.close();
}
console.log(formatTable(rows));
