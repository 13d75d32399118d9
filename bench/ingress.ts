// Benchmark: `npm run bench:ingress`. POST /webhooks/oen of the real service (a ROLES=ingress
// process) under BENCH_CONNECTIONS keep-alive connections (default 50), each request a distinct
// token webhook body for one of PAGES open binding pages of ours (what the ingress keeps; junk
// it only counts), from Oen's allowlisted address (never rate-limited), for
// BENCH_INGRESS_SECONDS (default 10, in two rounds, after a warm-up),
// against the naive dual write (Fastify + one pg INSERT + one BullMQ add) in the same run,
// rounds alternating. Requests/s and p99 latency (Oen waits 10 s per try).
import { randomBytes } from "node:crypto";
import autocannon from "autocannon";
import { sql } from "kysely";
import { emitRow, formatTable, row, type BenchRow } from "./bench-row.ts";
import { QUICK } from "./bench-size.ts";
import { openBenchEnvironment } from "./bench-environment.ts";
import { startChild, type BenchChild } from "./child.ts";
import { processCpuMs, startCpuSampler } from "./cpu-sampler.ts";
import { seedPlanAndCustomer } from "./seed.ts";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECONDS = Number(process.env.BENCH_INGRESS_SECONDS ?? (QUICK ? 4 : 10));
const ROUNDS = 2;
const BENCHMARK = "ingress";

const PAGES = 10_000;
const id = () => randomBytes(20).toString("base64url").replace(/[-_]/g, "x").slice(0, 27);
const tokenWebhook = () => {
  const page = 1 + Math.floor(Math.random() * PAGES);
  return JSON.stringify({ purpose: "token", id: `cs${page}`, transactionId: id(), merchantId: "bench", success: true, token: id(), paymentInfo: "4242", customId: `sub_${page}.subscribe.r` });
};

interface Load {
  requests: number;
  seconds: number;
  p99: number;
  failures: number;
  cpuMs: number;
  /** CPU of the benchmark's Postgres backends and of redis-server meanwhile (each side is loaded alone). */
  storesCpuMs: number;
  pgQueries: number;
  redisCommands: number;
}

async function load(target: BenchChild, seconds: number): Promise<Load> {
  const before = await target.probe();
  const postgresCpu = await startCpuSampler(() => bench.servers.postgresPids(bench.database));
  const redisCpu = () => (bench.servers.redisPid === null ? 0 : (processCpuMs(bench.servers.redisPid) ?? 0));
  const redisBefore = redisCpu();
  const result = await autocannon({
    url: `${String(target.info.url)}/webhooks/oen`,
    connections: CONNECTIONS,
    duration: seconds,
    method: "POST",
    headers: { "content-type": "application/json" },
    requests: [{ setupRequest: (request) => ({ ...request, body: tokenWebhook() }) }],
  });
  const after = await target.probe();
  const storesCpuMs = (await postgresCpu.stop()) + redisCpu() - redisBefore;
  return { requests: result.requests.total, seconds: result.duration, p99: result.latency.p99, failures: result.non2xx + result.errors + result.timeouts, cpuMs: after.cpuMs - before.cpuMs, storesCpuMs, pgQueries: after.io.pgQueries - before.io.pgQueries, redisCommands: after.io.redisCommands - before.io.redisCommands };
}

const sum = (loads: Load[], pick: (l: Load) => number) => loads.reduce((total, l) => total + pick(l), 0);

const rows: BenchRow[] = [];
const bench = await openBenchEnvironment("oen_billing_bench_ingress");
try {
  await sql`create table naive_inbox (id bigserial primary key, job_id text not null, payload jsonb not null, received_at timestamptz not null default now())`.execute(bench.db);
  await seedPlanAndCustomer(bench.db);
  await sql`insert into subscriptions (id, customer_id, plan_id, status, success_url, failure_url)
            select 'sub_' || g, 'bench', 'bench', 'incomplete', 'https://x', 'https://x' from generate_series(1, ${PAGES}) g`.execute(bench.db);
  await sql`insert into checkout_sessions (id, subscription_id, purpose, custom_id, status, expires_at)
            select 'cs' || g, 'sub_' || g, 'subscribe', 'sub_' || g || '.subscribe.r', 'open', now() + interval '1 hour' from generate_series(1, ${PAGES}) g`.execute(bench.db);
  // The ingress alone: nothing consumes the queue, so only accepting is measured.
  const service = await startChild("./service-process.ts", bench.serviceEnv("http://127.0.0.1:9", { ROLES: "ingress", OEN_WEBHOOK_ALLOWED_IPS: "127.0.0.1/32" }));
  const naive = await startChild("./naive-ingress-process.ts", bench.env);
  try {
    await load(naive, QUICK ? 1 : 2);
    await load(service, QUICK ? 1 : 2);
    const ours: Load[] = [];
    const theirs: Load[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      theirs.push(await load(naive, SECONDS / ROUNDS));
      ours.push(await load(service, SECONDS / ROUNDS));
    }
    const rps = (loads: Load[]) => sum(loads, (l) => l.requests) / sum(loads, (l) => l.seconds);
    const p99 = (loads: Load[]) => sum(loads, (l) => l.p99) / loads.length;
    const cpu = (loads: Load[]) => sum(loads, (l) => l.cpuMs) / sum(loads, (l) => l.requests);
    const storesCpu = (loads: Load[]) => sum(loads, (l) => l.storesCpuMs) / sum(loads, (l) => l.requests);
    const perRequest = (pick: (l: Load) => number) => (sum(ours, pick) / sum(ours, (l) => l.requests)).toFixed(2);
    const failures = sum(ours, (l) => l.failures);
    const kept = Number((await sql<{ n: string }>`select count(*) as n from webhook_inbox`.execute(bench.db)).rows[0]!.n);
    const ratio = rps(ours) / rps(theirs);
    rows.push(
      row({
        benchmark: BENCHMARK,
        figure: `POST /webhooks/oen req/s, ${CONNECTIONS} connections, distinct bodies`,
        value: rps(ours),
        unit: "/s",
        baseline: rps(theirs),
        baselineName: "Fastify + pg INSERT + BullMQ add",
        target: "≥ 1.0× baseline",
        pass: ratio >= 1 && failures === 0,
        note: `ingress process CPU ${cpu(ours).toFixed(3)} ms per request (baseline ${cpu(theirs).toFixed(3)} ms), Postgres and Redis ${storesCpu(ours).toFixed(3)} ms (baseline ${storesCpu(theirs).toFixed(3)} ms); per request ${perRequest((l) => l.pgQueries)} Postgres statements and ${perRequest((l) => l.redisCommands)} Redis commands; ${failures} failed requests; ${kept.toLocaleString()} kept in webhook_inbox`,
      }),
      row({
        benchmark: BENCHMARK,
        figure: `POST /webhooks/oen p99 latency, ${CONNECTIONS} connections`,
        value: p99(ours),
        unit: "ms",
        baseline: p99(theirs),
        baselineName: "Fastify + pg INSERT + BullMQ add",
        target: "≤ 1.2× baseline",
        pass: p99(ours) <= 1.2 * p99(theirs),
      }),
    );
    for (const r of rows) emitRow(r);
  } finally {
    await service.stop();
    await naive.stop();
  }
} finally {
  await bench.close();
}
console.log(formatTable(rows));
