// Benchmark: `npm run bench:ingress`. How fast POST /webhooks/oen answers Oen (which waits 10 s
// per try, 3 tries at most): BENCH_WEBHOOKS deliveries (default 3,000), BENCH_CONCURRENCY at a time
// (default 20), each about a page we opened, so each is looked up, sealed and stored in Redis and
// Postgres before the 200; then as many junk deliveries (pages we never opened), which are only
// looked up and counted. Prints figures only.
//
// Uses DATABASE_URL / REDIS_URL or the local services, in its own database and queue prefix.
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { loadConfig } from "../src/config.ts";
import { openBenchEnvironment } from "./bench-environment.ts";
import { silentLogger } from "../src/log.ts";
import { startService } from "../src/service.ts";

const TOTAL = Number(process.env.BENCH_WEBHOOKS ?? 3_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const CUSTOM_ID = "sub_bench.subscribe.r";
const bench = await openBenchEnvironment("oen_billing_bench_ingress");
// The ingress alone: nothing consumes the queue, so only accepting is measured. No rate limit: one client sends all.
const config = loadConfig({ ...bench.env, PORT: "0", HOST: "127.0.0.1", ROLES: "ingress", OEN_API_TOKEN: "sim-unused", OEN_WEBHOOK_RATE_LIMIT: "1000000", LOG_LEVEL: "silent" });
const service = await startService({ config, logger: silentLogger });
const { db } = service.deps;

const id = () => randomBytes(20).toString("base64url").replace(/[-_]/g, "x").slice(0, 27);
const pages = Array.from({ length: TOTAL }, id);
await db.insertInto("plans").values({ id: "plan_bench", name: "Bench", amount: 100, interval: "month", interval_count: 1, product_code: "B", description: "b", unit: "month" }).execute();
await db.insertInto("customers").values({ id: "cus_bench", name: "Bench", email: "bench@example.com" }).execute();
await db.insertInto("subscriptions").values({ id: "sub_bench", customer_id: "cus_bench", plan_id: "plan_bench", status: "incomplete", success_url: "https://a.example/ok", failure_url: "https://a.example/no", billing_anchor: null, current_period_start: null, current_period_end: null, canceled_at: null, ended_at: null, next_renewal_at: null }).execute();
for (let i = 0; i < pages.length; i += 1_000) {
  await db
    .insertInto("checkout_sessions")
    .values(pages.slice(i, i + 1_000).map((page) => ({ id: page, subscription_id: "sub_bench", purpose: "subscribe" as const, custom_id: CUSTOM_ID, status: "open" as const, failure_message: null, expires_at: new Date(Date.now() + 600_000), completed_at: null })))
    .execute();
}

/** Posts `bodies` CONCURRENCY at a time; latencies in ms and the non-200 count. */
async function deliver(bodies: Array<Record<string, unknown>>): Promise<{ latencies: number[]; failures: number; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const t0 = process.hrtime.bigint();
        const answer = await fetch(`${service.url}/webhooks/oen`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        await answer.arrayBuffer();
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (answer.status !== 200) failures++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { latencies, failures, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

const report = (what: string, { latencies, failures, seconds }: Awaited<ReturnType<typeof deliver>>) => {
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(1);
  console.log(`${TOTAL.toLocaleString()} ${what}, ${CONCURRENCY} concurrent, one ingress process:`);
  console.log(`  ${(TOTAL / seconds).toFixed(0)} webhooks/s; latency p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms (Oen allows 10,000 ms); non-200 answers: ${failures}`);
};

try {
  const webhook = (page: string) => ({ purpose: "token", id: page, transactionId: page, merchantId: "sandbox", success: true, token: id(), paymentInfo: "4242", customId: CUSTOM_ID });
  report("token webhooks for our pages", await deliver(pages.map(webhook)));
  const kept = Number((await db.selectFrom("webhook_inbox").select(sql<string>`count(*)`.as("n")).executeTakeFirstOrThrow()).n);
  const queued = await service.deps.queues.webhooks.getWaitingCount();
  console.log(`  kept in Postgres: ${kept}; queued in Redis: ${queued}`);
  report("junk token webhooks (pages we never opened)", await deliver(pages.map(() => webhook(id()))));
  const after = Number((await db.selectFrom("webhook_inbox").select(sql<string>`count(*)`.as("n")).executeTakeFirstOrThrow()).n);
  console.log(`  rows added by the junk: ${after - kept}`);
} finally {
  await service.close();
  await bench.cleanup();
}
