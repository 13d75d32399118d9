// Benchmark: `npm run bench:ingress`. How fast POST /webhooks/oen answers Oen (which waits 10 s
// per try, 3 tries at most): BENCH_WEBHOOKS deliveries (default 3,000), BENCH_CONCURRENCY at a time
// (default 20), each sealed and stored in Redis and Postgres before the 200. Prints figures only.
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
const bench = await openBenchEnvironment("oen_billing_bench_ingress");
// The ingress alone: nothing consumes the queue, so only accepting is measured.
const config = loadConfig({ ...bench.env, PORT: "0", HOST: "127.0.0.1", ROLES: "ingress", OEN_API_TOKEN: "sim-unused", LOG_LEVEL: "silent" });
const service = await startService({ config, logger: silentLogger });

const id = () => randomBytes(20).toString("base64url").replace(/[-_]/g, "x").slice(0, 27);
const latencies: number[] = [];
let next = 0;
let failures = 0;
const started = process.hrtime.bigint();
try {
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < TOTAL) {
        next++;
        const checkout = id();
        const body = { purpose: "token", id: checkout, transactionId: checkout, merchantId: "sandbox", success: true, token: id(), paymentInfo: "4242", customId: "sub_x.subscribe.r" };
        const t0 = process.hrtime.bigint();
        const answer = await fetch(`${service.url}/webhooks/oen`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        await answer.arrayBuffer();
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (answer.status !== 200) failures++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(1);
  const kept = Number((await service.deps.db.selectFrom("webhook_inbox").select(sql<string>`count(*)`.as("n")).executeTakeFirstOrThrow()).n);
  const queued = await service.deps.queues.webhooks.getWaitingCount();
  console.log(`${TOTAL.toLocaleString()} token webhooks, ${CONCURRENCY} concurrent, one ingress process:`);
  console.log(`  ${(TOTAL / seconds).toFixed(0)} webhooks/s; latency p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms (Oen allows 10,000 ms)`);
  console.log(`  non-200 answers: ${failures}; kept in Postgres: ${kept}; queued in Redis: ${queued}`);
} finally {
  await service.close();
  await bench.cleanup();
}
