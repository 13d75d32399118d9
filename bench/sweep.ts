// Benchmark: `npm run bench:sweep`. The renewal sweep (runSweep, the scheduler's tick) on
// BENCH_SUBSCRIPTIONS active subscriptions (default 1,000,000):
// 1. nothing due: one tick, against a `select 1` round trip on the same pool;
// 2. BENCH_DUE of them due (default 100,000, spread through the table): ticks back to back
//    until every invoice is created and its charge job enqueued, against one INSERT … SELECT
//    (with the subscriptions' period advance as its CTE) plus BullMQ addBulk, on a copy of the
//    same database. Checks that each due invoice has exactly one job.
import { Queue } from "bullmq";
import { sql } from "kysely";
import { loadConfig } from "../src/config.ts";
import { createDb } from "../src/db/connect.ts";
import { silentLogger } from "../src/log.ts";
import { runSweep } from "../src/renewals/run-sweep.ts";
import { startService } from "../src/service.ts";
import { jobIds } from "../src/queues/jobs.ts";
import { openBenchEnvironment, type BenchEnvironment } from "./bench-environment.ts";
import { emitRow, formatTable, row, type BenchRow } from "./bench-row.ts";
import { benchSize } from "./bench-size.ts";
import { startCpuSampler } from "./cpu-sampler.ts";
import { installIoCounters } from "./io-counters.ts";
import { median, percentile } from "./percentile.ts";
import { statementsRun } from "./postgres-statements.ts";
import { commandsBetween, redisStats } from "./redis-stats.ts";
import { seedPlanAndCustomer, seedSubscriptions } from "./seed.ts";

const SUBSCRIPTIONS = benchSize("BENCH_SUBSCRIPTIONS", 1_000_000);
const DUE = benchSize("BENCH_DUE", 100_000);
const IDLE_RUNS = 30;
const BENCHMARK = "sweep";

const ms = (start: number) => performance.now() - start;
const rows: BenchRow[] = [];
const emit = (r: BenchRow) => {
  rows.push(r);
  emitRow(r);
};

/** A copy of the benchmark's database (Postgres copies the files: seconds for a million rows). */
async function copyDatabase(bench: BenchEnvironment, name: string) {
  await bench.admin.query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()", [bench.database]);
  await bench.admin.query(`create database "${name}" template "${bench.database}" strategy file_copy`);
  const url = new URL(bench.env.DATABASE_URL);
  url.pathname = `/${name}`;
  return createDb(url.toString(), { max: 1 });
}

/** The baseline: renew every due subscription and open its invoice in one statement, then addBulk their charge jobs. */
async function baseline(bench: BenchEnvironment): Promise<{ ms: number; invoices: number }> {
  const copy = await copyDatabase(bench, `${bench.database}_baseline`);
  const queue = new Queue("baseline-charges", { connection: bench.redis, prefix: bench.env.QUEUE_PREFIX, defaultJobOptions: { removeOnComplete: true } });
  try {
    const started = performance.now();
    const { rows: invoices } = await sql<{ id: string }>`
      with due as (
        update subscriptions s
        set current_cycle = s.current_cycle + 1, current_period_start = s.current_period_end,
            current_period_end = s.current_period_end + interval '1 month', next_renewal_at = s.current_period_end + interval '1 month', updated_at = now()
        where s.next_renewal_at <= now() and s.status = 'active' and not s.cancel_at_period_end
        returning s.id, s.plan_id, s.current_cycle, s.current_period_start, s.current_period_end)
      insert into invoices (id, subscription_id, cycle, status, amount, product_details, period_start, period_end, next_attempt_at)
      select 'in_' || md5(due.id || '.' || due.current_cycle), due.id, due.current_cycle, 'open', p.amount,
             jsonb_build_array(jsonb_build_object('productionCode', p.product_code, 'description', p.description, 'quantity', 1, 'unit', p.unit, 'unitPrice', p.amount)),
             due.current_period_start, due.current_period_end, now()
      from due join plans p on p.id = due.plan_id
      returning id`.execute(copy);
    for (let i = 0; i < invoices.length; i += 5_000) {
      await queue.addBulk(invoices.slice(i, i + 5_000).map(({ id }) => ({ name: "charge", data: { invoiceId: id }, opts: { jobId: jobIds.charge(id, 0) } })));
    }
    return { ms: ms(started), invoices: invoices.length };
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
    await copy.destroy();
    await bench.admin.query(`drop database if exists "${bench.database}_baseline" with (force)`);
  }
}

const io = installIoCounters();
const bench = await openBenchEnvironment("oen_billing_bench_sweep");
try {
  const seedStart = performance.now();
  await seedPlanAndCustomer(bench.db);
  await seedSubscriptions(bench.db, { first: 1, count: SUBSCRIPTIONS, dueEvery: null });
  await sql`vacuum analyze`.execute(bench.db);
  console.error(`sweep: seeded ${SUBSCRIPTIONS.toLocaleString()} subscriptions in ${(ms(seedStart) / 1000).toFixed(1)} s`);

  // The sweep runs here, in the benchmark's process, on the real service's dependencies.
  const config = loadConfig(bench.serviceEnv("http://127.0.0.1:9", { ROLES: "ingress" }));
  let service = await startService({ config, logger: silentLogger });

  // 1. Nothing due.
  for (let i = 0; i < 5; i++) await runSweep(service.deps);
  const idle: number[] = [];
  const selectOne: number[] = [];
  for (let i = 0; i < IDLE_RUNS; i++) {
    let start = performance.now();
    await sql`select 1`.execute(service.deps.db);
    selectOne.push(ms(start));
    start = performance.now();
    const report = await runSweep(service.deps);
    idle.push(ms(start));
    if (report.renewed + report.chargesEnqueued > 0) throw new Error("something was due in the idle sweep");
  }
  const idleMedian = median(idle);
  emit(
    row({
      benchmark: BENCHMARK,
      figure: `idle sweep, nothing due, ${SUBSCRIPTIONS.toLocaleString()} subscriptions (median of ${IDLE_RUNS})`,
      value: idleMedian,
      unit: "ms",
      baseline: median(selectOne),
      baselineName: "select 1",
      target: "≤ 20 ms",
      pass: idleMedian <= 20,
      note: `p95 ${percentile(idle, 0.95).toFixed(2)} ms`,
    }),
  );

  // 2. DUE of them due: every (SUBSCRIPTIONS / DUE)-th ended its period a minute ago.
  const every = Math.max(1, Math.floor(SUBSCRIPTIONS / DUE));
  const { numAffectedRows } = await sql`
    update subscriptions set billing_anchor = now() - interval '1 month 1 minute', current_period_start = now() - interval '1 month 1 minute',
                             current_period_end = now() - interval '1 minute', next_renewal_at = now() - interval '1 minute'
    where substr(id, 5)::int % ${every}::int = 0`.execute(bench.db);
  const due = Number(numAffectedRows);
  await sql`vacuum analyze`.execute(bench.db);
  await service.close();
  const base = await baseline(bench);
  if (base.invoices !== due) throw new Error(`the baseline renewed ${base.invoices} of ${due}`);
  service = await startService({ config, logger: silentLogger });
  const { deps } = service;
  // Every add of a charge job this process makes (the sweep's steps and the outbox's flush).
  let adds = 0;
  const add = deps.queues.charges.add.bind(deps.queues.charges);
  deps.queues.charges.add = ((...args: Parameters<typeof add>) => {
    adds++;
    return add(...args);
  }) as typeof add;

  const statementsBefore = await statementsRun(bench.admin, bench.database, bench.servers.statements);
  const redisBefore = await redisStats(bench.redis);
  const postgresCpu = await startCpuSampler(() => bench.servers.postgresPids(bench.database));
  const cpuBefore = process.cpuUsage();
  const ioBefore = io();
  const started = performance.now();
  let renewed = 0;
  let ticks = 0;
  while (renewed < due) {
    const report = await runSweep(deps);
    ticks++;
    if (report.failedSteps.length > 0) throw new Error(`sweep steps failed: ${report.failedSteps.join(", ")}`);
    if (report.renewed === 0) throw new Error(`the sweep renewed nothing more after ${renewed} of ${due}`);
    renewed += report.renewed;
  }
  const sweepMs = ms(started);
  const ioAfter = io();
  const cpu = process.cpuUsage(cpuBefore);
  const postgresCpuMs = await postgresCpu.stop();
  const commands = commandsBetween(redisBefore, await redisStats(bench.redis));
  const statementsAfter = await statementsRun(bench.admin, bench.database, bench.servers.statements);
  const queries = ioAfter.pgQueries - ioBefore.pgQueries;

  // Each due invoice exactly once, and exactly one waiting charge job for each.
  const invoices = await sql<{ id: string }>`select id from invoices where status = 'open'`.execute(bench.db);
  const perSubscription = await sql<{ n: string }>`select count(*) as n from (select subscription_id from invoices group by subscription_id, cycle having count(*) > 1) d`.execute(bench.db);
  const waiting = await bench.redis.lrange(`${bench.env.QUEUE_PREFIX}:charges:wait`, 0, -1);
  const expected = new Set(invoices.rows.map((r) => jobIds.charge(r.id, 0)));
  const jobsMatch = waiting.length === expected.size && new Set(waiting).size === waiting.length && waiting.every((id) => expected.has(id));
  const once = invoices.rows.length === due && Number(perSubscription.rows[0]!.n) === 0 && jobsMatch;
  const defaults: Record<string, string> = bench.serviceEnv("http://127.0.0.1:9");
  delete defaults.RENEWAL_SWEEP_INTERVAL;
  delete defaults.RENEWAL_JITTER;
  const interval = loadConfig(defaults).renewalSweepIntervalMs;

  emit(
    row({
      benchmark: BENCHMARK,
      figure: `${due.toLocaleString()} due among ${SUBSCRIPTIONS.toLocaleString()}: invoices created and enqueued, ticks back to back`,
      value: sweepMs / 1000,
      unit: "s",
      baseline: base.ms / 1000,
      baselineName: "INSERT … SELECT + addBulk",
      target: "≤ 60 s and ≤ 3× baseline",
      pass: sweepMs <= 60_000 && sweepMs <= 3 * base.ms,
      note: `${ticks} ticks, ${(due / (sweepMs / 1000)).toFixed(0)} renewals/s; the scheduler ticks every ${interval / 1000} s by default, which adds ${(((ticks - 1) * interval) / 60_000).toFixed(1)} min of waiting between those ticks`,
    }),
  );
  emit(
    row({
      benchmark: BENCHMARK,
      figure: "each due invoice created and enqueued once",
      value: invoices.rows.length,
      unit: "invoices",
      baseline: due,
      baselineName: "due",
      target: "= due, one job each",
      pass: once,
      note: `${waiting.length.toLocaleString()} waiting charge jobs; ${(adds / due).toFixed(2)} job adds per invoice (duplicates are refused by job id)`,
    }),
  );
  emit(
    row({
      benchmark: BENCHMARK,
      figure: "CPU per renewal (sweep process + Postgres)",
      value: ((cpu.user + cpu.system) / 1000 + postgresCpuMs) / due,
      unit: "ms",
      baseline: null,
      baselineName: "",
      target: "—",
      pass: null,
      note: `sweep process ${((cpu.user + cpu.system) / 1000 / due).toFixed(3)} ms, Postgres ${(postgresCpuMs / due).toFixed(3)} ms`,
    }),
  );
  emit(
    row({
      benchmark: BENCHMARK,
      figure: "Postgres statements per renewal",
      value: statementsBefore === null || statementsAfter === null ? queries / due : (statementsAfter - statementsBefore) / due,
      unit: "",
      baseline: null,
      baselineName: "one statement in all",
      target: "—",
      pass: null,
      note: `${statementsBefore === null ? "queries sent by the sweep process (no pg_stat_statements)" : "pg_stat_statements"}; ${(queries / due).toFixed(2)} queries sent per renewal`,
    }),
  );
  emit(
    row({
      benchmark: BENCHMARK,
      figure: "Redis commands per renewal (sent)",
      value: (ioAfter.redisCommands - ioBefore.redisCommands) / due,
      unit: "",
      baseline: null,
      baselineName: "",
      target: "—",
      pass: null,
      note: `${(commands.total / due).toFixed(1)} as Redis counts them (Lua calls included); most: ${commands.top.join(", ")}`,
    }),
  );
  await service.close();
} finally {
  await bench.close();
}
console.log(formatTable(rows));
