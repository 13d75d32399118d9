// Benchmark: `npm run bench:memory`. What BENCH_MEMORY_CHARGES charges (default 100,000, after a
// warm-up of a tenth, in ten rounds) leave behind: the worker's RSS (flat within 10%), the
// Redis memory of the queues' keys once their jobs' retention has passed, and Postgres rows
// per charge (bounded only where a retention prunes them).
//
// Retention: charge jobs are removed on completion (failed ones kept a day); notification jobs
// (sent only with PLATFORM_WEBHOOK_URL, not set here) an hour. Waiting that long is not a
// benchmark, so "after retention" is measured once the queues are idle, after
// BENCH_RETENTION_WAIT_MS (default 2,000); jobs still held are listed in the note. The queues'
// event streams are left out of the figure: BullMQ caps each at about 10,000 entries, so they
// fill up during the first charges and then stay that size (their size is in the note).
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

interface RedisFootprint {
  usedMemory: number;
  datasetMemory: number;
  keys: number;
  /** The queues' event streams: BullMQ caps each at about 10,000 entries, so they fill up once and stay. */
  streamBytes: number;
  streamEntries: number;
  /** MEMORY USAGE of each queue key. */
  bytesByKey: Map<string, number>;
}

async function redisFootprint(bench: BenchEnvironment): Promise<RedisFootprint> {
  const { usedMemory, datasetMemory } = await redisStats(bench.redis);
  const footprint: RedisFootprint = { usedMemory, datasetMemory, keys: 0, streamBytes: 0, streamEntries: 0, bytesByKey: new Map() };
  let cursor = "0";
  do {
    const [next, found] = await bench.redis.scan(cursor, "MATCH", `${bench.env.QUEUE_PREFIX}:*`, "COUNT", 1000);
    footprint.keys += found.length;
    for (const key of found) footprint.bytesByKey.set(key.slice(bench.env.QUEUE_PREFIX.length + 1), (await bench.redis.memory("USAGE", key, "SAMPLES", "0")) ?? 0);
    for (const key of found.filter((k) => k.endsWith(":events"))) {
      footprint.streamBytes += (await bench.redis.memory("USAGE", key, "SAMPLES", "0")) ?? 0;
      footprint.streamEntries += await bench.redis.xlen(key);
    }
    cursor = next;
  } while (cursor !== "0");
  return footprint;
}

/** Jobs a queue still holds, by state, e.g. "notifications: 3 completed". */
async function heldJobs(bench: BenchEnvironment, queues: { name: string; getJobCounts(): Promise<Record<string, number>> }[]): Promise<string[]> {
  const held: string[] = [];
  for (const queue of queues) {
    for (const [state, n] of Object.entries(await queue.getJobCounts())) if (n > 0) held.push(`${queue.name}: ${n} ${state}`);
  }
  return held;
}

/** Bytes of the queues' keys but their event streams: jobs, their indexes, counters. */
const jobBytes = (footprint: RedisFootprint) => [...footprint.bytesByKey].filter(([key]) => !key.endsWith(":events")).reduce((sum, [, bytes]) => sum + bytes, 0);

/** The keys (event streams aside) that hold more bytes after than before, "key +bytes". */
function grownKeys(before: RedisFootprint, after: RedisFootprint): string {
  const grown = [...after.bytesByKey]
    .filter(([key]) => !key.endsWith(":events"))
    .map(([key, bytes]) => [key, bytes - (before.bytesByKey.get(key) ?? 0)] as const)
    .filter(([, bytes]) => bytes > 0)
    .map(([key, bytes]) => `${key} +${bytes} B`);
  return grown.join(", ") || "none";
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
    const redisBefore = await redisFootprint(bench);
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
    const redisAfter = await redisFootprint(bench);
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
        figure: "Redis memory of the queues' keys once idle, event streams left out",
        value: jobBytes(redisAfter) / 1024,
        unit: "KB",
        baseline: jobBytes(redisBefore) / 1024,
        baselineName: "before the charges",
        target: "back to baseline (≤ 1.05×)",
        pass: jobBytes(redisAfter) <= 1.05 * jobBytes(redisBefore),
        note: `MEMORY USAGE summed; used_memory ${(redisBefore.usedMemory / MB).toFixed(2)} → ${(redisAfter.usedMemory / MB).toFixed(2)} MB, used_memory_dataset ${(redisBefore.datasetMemory / MB).toFixed(2)} → ${(redisAfter.datasetMemory / MB).toFixed(2)} MB; event streams ${redisBefore.streamEntries} → ${redisAfter.streamEntries} entries (${(redisBefore.streamBytes / MB).toFixed(2)} → ${(redisAfter.streamBytes / MB).toFixed(2)} MB, capped); queue keys ${redisBefore.keys} → ${redisAfter.keys}, grown: ${grownKeys(redisBefore, redisAfter)}; jobs held: ${held.length === 0 ? "none" : held.join(", ")}`,
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
