// Benchmark: `npm run bench`. Prints figures; asserts nothing (this machine is shared and noisy).
//
// 1. What a sweep costs when nothing is due, with BENCH_SUBSCRIPTIONS active
//    subscriptions (default 100,000), and the plan Postgres uses for the due query.
// 2. End to end, BENCH_DUE subscriptions (default 2,000) due at once: sweep,
//    invoices, charge jobs, charges through the Oen simulator over real HTTP,
//    until every invoice is paid.
//
// Uses DATABASE_URL / REDIS_URL or the local services; works in its own database and queue prefix.
import { sql } from "kysely";
import { loadConfig } from "../src/config.ts";
import { openBenchEnvironment } from "./bench-environment.ts";
import { silentLogger } from "../src/log.ts";
import { startOenSimulator } from "../src/oen/simulator/index.ts";
import { renewDueSubscriptions } from "../src/renewals/renew-due-subscriptions.ts";
import { runSweep } from "../src/renewals/run-sweep.ts";
import { createSideEffects } from "../src/outbox/side-effects.ts";
import { startService } from "../src/service.ts";
import { sealStoredToken } from "../src/vault/token-cipher.ts";

const SUBSCRIPTIONS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 100_000);
const DUE = Number(process.env.BENCH_DUE ?? 2_000);
const bench = await openBenchEnvironment("oen_billing_bench");

const simulator = await startOenSimulator({ merchantId: "bench", apiToken: "sim-bench-token", highValueEnabled: true });
const config = loadConfig({
  ...bench.env,
  PORT: "0",
  HOST: "127.0.0.1",
  OEN_MERCHANT_ID: "bench",
  OEN_API_TOKEN: "sim-bench-token",
  OEN_API_URL: simulator.url,
  OEN_CHARGE_RATE: "1000",
  RENEWAL_SWEEP_INTERVAL: "1h", // the benchmark calls the sweep itself
  RENEWAL_JITTER: "0s",
  LOG_LEVEL: "silent",
});
const service = await startService({ config, logger: silentLogger });
const { db } = service.deps;

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

try {
  // Seed: one plan, SUBSCRIPTIONS active subscriptions renewing in the future, each with a card.
  const seedStart = process.hrtime.bigint();
  await db.insertInto("plans").values({ id: "bench", name: "Bench", amount: 100, interval: "month", interval_count: 1, product_code: "B", description: "Bench plan", unit: "月" }).execute();
  await db.insertInto("customers").values({ id: "bench", name: "Bench", email: "bench@example.com" }).execute();
  await sql`
    insert into subscriptions (id, customer_id, plan_id, status, success_url, failure_url, billing_anchor, current_cycle,
                               current_period_start, current_period_end, next_renewal_at)
    select 'sub_' || g, 'bench', 'bench', 'active', 'https://x', 'https://x', now() - interval '20 days', 1,
           now() - interval '20 days', now() + interval '10 days', now() + interval '10 days'
    from generate_series(1, ${SUBSCRIPTIONS}) g`.execute(db);
  await sql`insert into checkout_sessions (id, subscription_id, purpose, custom_id, status, expires_at)
            select 'cs_' || g, 'sub_' || g, 'subscribe', 'sub_' || g || '.subscribe', 'completed', now() from generate_series(1, ${SUBSCRIPTIONS}) g`.execute(db);
  await sql`analyze`.execute(db);
  console.log(`seeded ${SUBSCRIPTIONS.toLocaleString()} active subscriptions in ${ms(seedStart).toFixed(0)} ms`);

  // 1. Nothing due.
  const idle: number[] = [];
  for (let i = 0; i < 30; i++) {
    const start = process.hrtime.bigint();
    const batch = await renewDueSubscriptions(service.deps, 200, createSideEffects(service.deps));
    idle.push(ms(start));
    if (batch.renewed.length + batch.canceled.length > 0) throw new Error("something was due");
  }
  const fullIdle: number[] = [];
  for (let i = 0; i < 10; i++) {
    const start = process.hrtime.bigint();
    await runSweep(service.deps);
    fullIdle.push(ms(start));
  }
  const plan = await sql<{ "QUERY PLAN": string }>`explain select * from subscriptions
      where next_renewal_at <= now() and (status = 'active' or cancel_at_period_end) order by next_renewal_at limit 200 for update skip locked`.execute(db);
  console.log(`\nnothing due, ${SUBSCRIPTIONS.toLocaleString()} subscriptions:`);
  console.log(`  renewal claim query: median ${percentile(idle, 0.5).toFixed(2)} ms, p95 ${percentile(idle, 0.95).toFixed(2)} ms (30 runs)`);
  console.log(`  whole sweep (every step): median ${percentile(fullIdle, 0.5).toFixed(2)} ms, p95 ${percentile(fullIdle, 0.95).toFixed(2)} ms (10 runs)`);
  console.log(`  plan: ${plan.rows.map((r) => r["QUERY PLAN"].trim()).join(" | ")}`);

  // 2. DUE subscriptions due now, each with a real token from the simulator.
  const due = await db.selectFrom("subscriptions").select("id").orderBy("id").limit(DUE).execute();
  const prepStart = process.hrtime.bigint();
  for (const { id } of due) {
    const { id: checkoutId } = await service.deps.oen.createCheckoutToken({ successUrl: null, failureUrl: null, customId: id });
    const bound = simulator.bindCard(checkoutId, { cardNumber: "4242424242424242", expiry: "12/39", cvc: "123", email: "bench@example.com" });
    if (bound.kind !== "bound") throw new Error(`binding failed: ${bound.kind}`);
    const row = { id: `pm_${id}`, subscription_id: id, checkout_session_id: `cs_${id.slice(4)}` };
    const token = sealStoredToken(config.tokenKeys, bound.token, row);
    await db
      .insertInto("payment_tokens")
      .values({ ...row, key_id: token.keyId, ciphertext: token.ciphertext, last4: "4242", status: "active", deactivated_at: null })
      .execute();
  }
  await db.updateTable("subscriptions").set({ next_renewal_at: sql`now() - interval '1 second'` }).where("id", "in", due.map((d) => d.id)).execute();
  console.log(`\nprepared ${DUE.toLocaleString()} due subscriptions with simulator tokens in ${ms(prepStart).toFixed(0)} ms`);

  const runStart = process.hrtime.bigint();
  const sweep = await runSweep(service.deps);
  const sweptMs = ms(runStart);
  let paid = 0;
  while (paid < DUE) {
    await new Promise((r) => setTimeout(r, 100));
    paid = Number((await db.selectFrom("invoices").select(sql<string>`count(*)`.as("n")).where("status", "=", "paid").executeTakeFirstOrThrow()).n);
    if (ms(runStart) > 300_000) throw new Error(`only ${paid} of ${DUE} paid after 5 minutes`);
  }
  const totalMs = ms(runStart);
  const charges = simulator.ledger.successfulCharges().length;
  console.log(`renewal run, ${DUE.toLocaleString()} due at once (worker concurrency 10, one process):`);
  console.log(`  sweep: ${sweep.renewed} invoices created and enqueued in ${sweptMs.toFixed(0)} ms (${((sweep.renewed / sweptMs) * 1000).toFixed(0)}/s)`);
  console.log(`  all paid after ${(totalMs / 1000).toFixed(1)} s: ${((DUE / totalMs) * 1000).toFixed(0)} charges/s end to end over real HTTP`);
  console.log(`  simulator ledger: ${charges} successful charges for ${DUE} invoices (${charges === DUE ? "exactly once each" : "MISMATCH"})`);
} finally {
  await service.close();
  await simulator.close();
  await bench.cleanup();
}
