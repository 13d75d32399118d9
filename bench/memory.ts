// Benchmark: `npm run bench:memory`. What BENCH_MEMORY_CHARGES charges (default 100,000, after a
// warm-up of a tenth, in ten rounds) leave behind: the worker's RSS (flat within 10%), the
// Redis memory of the queues' keys once their jobs' retention has passed, and Postgres rows
// per charge, before and after retention.
//
// Retention: completed charge jobs are kept an hour and at most 10,000 (failed ones a day), so
// the warm-up of 10,000 already fills the count cap and the figure shows that the cap holds;
// at BENCH_QUICK sizes the cap is not reached and the Redis row fails. Notification jobs (sent
// only with PLATFORM_WEBHOOK_URL, not set here) are kept an hour. Waiting that long is not a
// benchmark, so "after retention" is measured once the queues are idle, after
// BENCH_RETENTION_WAIT_MS (default 2,000); jobs still held are listed in the note. The queues'
// event streams are left out of the figure: BullMQ caps each at about 10,000 entries, so they
// fill up during the first charges and then stay that size (their size is in the note).
//
// Postgres rows: every row the charges added (warm-up included; the seeded subscriptions,
// cards and invoices are not the charges' own), counted once the charges are done, then again
// after the sweep's retention step ran as of a day past the longest retention (the step the
// sweep runs, repeated until it deletes nothing). A table passes when that
// leaves none of its rows, or when it is the charge ledger, kept with its invoices.
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { loadConfig } from "../src/config.ts";
import { pruneExpired } from "../src/renewals/prune-expired.ts";
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
// The charge ledger: what was sent to Oen and what came back, which reconciliation and double-charge
// refunds read. Never pruned: rows per charge bounded by invoices (one per dunning step, new card or
// daily retry of a held invoice), not by time.
const LEDGER_TABLES = new Set(["charge_attempts", "refunds"]);
const DAY_MS = 86_400_000;
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

/** The sweep's retention step at `at`, repeated until it deletes nothing (the sweep does one batch of each table per tick); `ticks`: the steps that deleted. */
async function pruneAsOf(bench: BenchEnvironment, config: ReturnType<typeof loadConfig>, at: Date): Promise<{ deleted: number; ticks: number; seconds: number }> {
  const started = performance.now();
  let deleted = 0;
  let ticks = 0;
  for (;;) {
    const pruned = await pruneExpired({ db: bench.db, config }, at);
    const n = pruned.platformEvents + pruned.auditLog + pruned.idempotencyKeys + pruned.webhookRecords;
    if (n === 0) return { deleted, ticks, seconds: (performance.now() - started) / 1000 };
    ticks++;
    deleted += n;
  }
}

const perCharge = (n: number, charges: number) => (n / charges).toFixed(2);

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

/** The keys (event streams aside) that hold more bytes after than before: how many, and the five that grew most ("key +bytes"). */
function grownKeys(before: RedisFootprint, after: RedisFootprint): string {
  const grown = [...after.bytesByKey]
    .filter(([key]) => !key.endsWith(":events"))
    .map(([key, bytes]) => [key, bytes - (before.bytesByKey.get(key) ?? 0)] as const)
    .filter(([, bytes]) => bytes > 0)
    .sort((a, b) => b[1] - a[1]);
  if (grown.length === 0) return "none";
  const shown = grown.slice(0, 5).map(([key, bytes]) => `${key} +${bytes} B`).join(", ");
  return grown.length > 5 ? `${grown.length} keys (the completed jobs kept, each a new one), most: ${shown}` : shown;
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
    const rowsAtStart = await rowCounts(bench);
    const warmUp = await runCharges(rig, Math.max(1000, Math.round(CHARGES / 10)));
    await sleep(SETTLE_MS);
    const redisBefore = await redisFootprint(bench);
    const first = await rig.worker.probe({ collect: true });
    const rss: number[] = [first.rssBytes];
    const heap: number[] = [first.heapBytes!];
    const perRound = Math.ceil(CHARGES / ROUNDS);
    let charged = 0;
    let paid = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const run = await runCharges(rig, perRound);
      charged += run.charges;
      paid += run.paid;
      const probe = await rig.worker.probe({ collect: true });
      rss.push(probe.rssBytes);
      heap.push(probe.heapBytes!);
      console.error(`memory: ${charged.toLocaleString()} charges, worker RSS ${(rss.at(-1)! / MB).toFixed(0)} MB, heap after a full collection ${(heap.at(-1)! / MB).toFixed(1)} MB`);
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
        note: `samples ${rss.map((b) => (b / MB).toFixed(0)).join(", ")} MB; the heap after a full collection at the same points ${heap.map((b) => (b / MB).toFixed(1)).join(", ")} MB; ${paid.toLocaleString()} paid`,
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
    // Rows per charge over every charge made (the warm-up's too), before and after retention.
    const allCharges = warmUp.charges + charged;
    const config = loadConfig(bench.serviceEnv(String(rig.simulator.info.url)));
    const longest = Math.max(config.retention.platformEventsMs, config.retention.auditLogMs);
    const now = await pruneAsOf(bench, config, new Date());
    const shiftDays = Math.round(longest / DAY_MS) + 1;
    const later = await pruneAsOf(bench, config, new Date(Date.now() + shiftDays * DAY_MS));
    const rowsLater = await rowCounts(bench);
    const tables = [...rowsAfter.keys()].filter((table) => !SEEDED_TABLES.has(table) && rowsAfter.get(table)! > (rowsAtStart.get(table) ?? 0)).sort();
    const added = (table: string) => rowsAfter.get(table)! - (rowsAtStart.get(table) ?? 0);
    const kept = (table: string) => Math.max(0, rowsLater.get(table)! - (rowsAtStart.get(table) ?? 0));
    const how = (table: string) => (kept(table) === 0 ? "pruned by retention" : LEDGER_TABLES.has(table) ? "ledger, kept with its invoice" : "KEPT, no retention");
    const unbounded = tables.filter((table) => kept(table) > 0 && !LEDGER_TABLES.has(table));
    const totalAdded = tables.reduce((sum, table) => sum + added(table), 0);
    const totalKept = tables.reduce((sum, table) => sum + kept(table), 0);
    emit(
      row({
        benchmark: BENCHMARK,
        figure: "Postgres rows added per charge (before retention)",
        value: totalAdded / allCharges,
        unit: "rows",
        baseline: 1,
        baselineName: "pgbench: one attempt row",
        target: "—",
        pass: null,
        note: `${tables.map((table) => `${table} ${perCharge(added(table), allCharges)}`).join(", ")}, over ${allCharges.toLocaleString()} charges (warm-up included; the seeded subscription, card and invoice not counted)`,
      }),
    );
    emit(
      row({
        benchmark: BENCHMARK,
        figure: `Postgres rows per charge kept after retention (sweep's retention step ${shiftDays} d later)`,
        value: totalKept / allCharges,
        unit: "rows",
        baseline: 1,
        baselineName: "pgbench: one attempt row",
        target: "only the ledger kept: every other table pruned",
        pass: unbounded.length === 0,
        note: `${tables.map((table) => `${table} ${perCharge(added(table), allCharges)} → ${perCharge(kept(table), allCharges)} (${how(table)})`).join(", ")}; the step at the real time deleted ${now.deleted} rows (every row is minutes old), ${shiftDays} d later ${later.deleted.toLocaleString()} rows in the batches of ${later.ticks} sweep ticks (${later.seconds.toFixed(1)} s); no PLATFORM_WEBHOOK_URL here, so events are pruned as received by nobody${unbounded.length === 0 ? "" : `; no retention: ${unbounded.join(", ")}`}`,
      }),
    );
  } finally {
    await rig.close();
  }
} finally {
  await bench.close();
}
console.log(formatTable(rows));
