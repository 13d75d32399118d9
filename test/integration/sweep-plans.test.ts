import { Kysely, PostgresDialect, sql, type CompiledQuery } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDunningPolicy } from "../../src/billing/dunning-policy.ts";
import { systemClock } from "../../src/clock.ts";
import { loadConfig } from "../../src/config.ts";
import type { Database } from "../../src/db/database.ts";
import type { Deps } from "../../src/deps.ts";
import { silentLogger } from "../../src/log.ts";
import { createOenClient } from "../../src/oen/client.ts";
import { createQueues } from "../../src/queues/queues.ts";
import { createRedis } from "../../src/queues/redis.ts";
import { runSweep } from "../../src/renewals/run-sweep.ts";
import { createTestDatabase, deleteQueueKeys, testQueuePrefix, testRedisUrl, type TestDatabase } from "../support/test-services.ts";

// An idle sweep must stay cheap however large the tables grow: every statement it runs, on a
// seeded table of 30,000 rows of history each, is planned as an index scan, never a scan of a table.
const ROWS = 30_000;

describe("the sweep's query plans", () => {
  let database: TestDatabase;
  let db: Kysely<Database>;
  const statements: CompiledQuery[] = [];
  let deps: Deps;
  let close: () => Promise<void>;

  beforeAll(async () => {
    database = await createTestDatabase();
    const seed = database.db;
    await seed.insertInto("plans").values({ id: "p", name: "P", amount: 100, interval: "month", interval_count: 1, product_code: "P", description: "P", unit: "月" }).execute();
    await seed.insertInto("customers").values({ id: "c", name: "C", email: "c@example.com" }).execute();
    // History: active subscriptions renewing later, each with a paid invoice, a succeeded attempt,
    // a completed checkout, a sent notice, a delivered event, an applied webhook and a refund.
    await sql`
      insert into subscriptions (id, customer_id, plan_id, status, success_url, failure_url, billing_anchor, current_cycle, current_period_start, current_period_end, next_renewal_at, created_at)
      select 'sub_' || g, 'c', 'p', case when g % 10 = 0 then 'canceled' else 'active' end, 'https://x', 'https://x', now() - interval '20 days', 1,
             now() - interval '20 days', now() + interval '10 days', case when g % 10 = 0 then null else now() + interval '10 days' end, now() - interval '20 days'
      from generate_series(1, ${ROWS}) g`.execute(seed);
    await sql`insert into checkout_sessions (id, subscription_id, purpose, custom_id, status, expires_at) select 'cs_' || g, 'sub_' || g, 'subscribe', 'x', 'completed', now() - interval '20 days' from generate_series(1, ${ROWS}) g`.execute(seed);
    await sql`insert into payment_tokens (id, subscription_id, checkout_session_id, key_id, ciphertext, last4, status) select 'pm_' || g, 'sub_' || g, 'cs_' || g, 'k', 'x', '4242', 'active' from generate_series(1, ${ROWS}) g`.execute(seed);
    await sql`
      insert into invoices (id, subscription_id, cycle, status, amount, product_details, period_start, period_end, attempt_count, paid_at)
      select 'in_' || g, 'sub_' || g, 1, 'paid', 100, '[]', now() - interval '20 days', now() + interval '10 days', 1, now() - interval '20 days'
      from generate_series(1, ${ROWS}) g`.execute(seed);
    await sql`
      insert into charge_attempts (id, invoice_id, attempt_no, order_id, payment_token_id, amount, status, clock_at, created_at, oen_transaction_hid)
      select 'ca_' || g, 'in_' || g, 1, 'in_' || g || '-1', 'pm_' || g, 100, 'succeeded', now() - interval '20 days', now() - interval '20 days', 'P' || g
      from generate_series(1, ${ROWS}) g`.execute(seed);
    await sql`insert into notices (id, subscription_id, cycle, kind, status, data) select 'ntc_' || g, 'sub_' || g, 1, 'renewal_reminder', 'sent', '{}' from generate_series(1, ${ROWS}) g`.execute(seed);
    // Events of every status (mostly delivered, some given up, a few never sent), and audit rows and
    // idempotency keys, all inside their retention: what the retention step's deletes must skip by index.
    await sql`
      insert into platform_events (id, type, dedupe_key, data, status, created_at, delivered_at, failed_at)
      select 'evt_' || g, 'invoice.paid', 'd' || g, '{}', case g % 100 when 0 then 'failed' when 1 then 'pending' else 'delivered' end, now() - interval '20 days',
             case when g % 100 > 1 then now() - interval '20 days' end, case when g % 100 = 0 then now() - interval '2 days' end
      from generate_series(1, ${ROWS}) g`.execute(seed);
    await sql`insert into audit_log (at, actor, action, subscription_id, reason) select now() - interval '20 days', 'charge-worker', 'card_token.decrypt', 'sub_' || g, 'charge' from generate_series(1, ${ROWS}) g`.execute(seed);
    await sql`insert into idempotency_keys (key, request_hash, status_code, response, created_at) select 'k' || g, 'h', 200, '{}', now() - interval '1 day' from generate_series(1, ${ROWS}) g`.execute(seed);
    await sql`insert into webhook_inbox (job_id, payload, relayed_at, processed_at) select 'j' || g, '{}', now(), now() from generate_series(1, ${ROWS}) g`.execute(seed);
    await sql`insert into refunds (id, invoice_id, charge_attempt_id, oen_transaction_hid, amount, cause, status) select 'rf_' || g, 'in_' || g, 'ca_' || g, 'P' || g, 10, 'requested', 'succeeded' from generate_series(1, ${ROWS}) g`.execute(seed);
    await sql`analyze`.execute(seed);

    db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 2 }) }),
      log: (event) => {
        if (event.level === "query") statements.push(event.query);
      },
    });
    const config = loadConfig({ NODE_ENV: "test", DATABASE_URL: database.url, REDIS_URL: testRedisUrl(), QUEUE_PREFIX: testQueuePrefix(), RENEWAL_REMINDER_BEFORE: "3d", LOG_LEVEL: "silent" });
    const redis = createRedis(config.redisUrl, "worker");
    const queues = createQueues(redis, config.queuePrefix);
    deps = { config, db, queues, oen: createOenClient({ apiUrl: "http://127.0.0.1:9", apiToken: "sim-unused", merchantId: config.oen.merchantId }), clock: systemClock, logger: silentLogger, dunning: createDunningPolicy() };
    close = async () => {
      await db.destroy();
      await queues.close();
      await deleteQueueKeys(config.queuePrefix);
      redis.disconnect();
    };
  });
  afterAll(async () => {
    await close?.();
    await database?.drop();
  });

  it("plans every statement of an idle sweep as index scans", async () => {
    const report = await runSweep(deps);
    expect(report.failedSteps).toEqual([]);
    expect(report.renewed).toBe(0);
    expect(report.pruned).toEqual({ platformEvents: 0, auditLog: 0, idempotencyKeys: 0, webhookRecords: 0 });
    // The retention step's deletes are among the statements checked.
    for (const table of ["platform_events", "audit_log", "idempotency_keys"]) expect(statements.some((q) => q.sql.startsWith(`delete from "${table}"`))).toBe(true);
    const reads = statements.filter((q) => /^\s*(with|select|update|delete)/i.test(q.sql));
    expect(reads.length).toBeGreaterThan(8);
    const seqScans: string[] = [];
    for (const query of reads) {
      const plan = await database.db.executeQuery<{ "QUERY PLAN": string }>({ ...query, sql: `explain ${query.sql}`, query: query.query });
      const text = plan.rows.map((r) => r["QUERY PLAN"]).join("\n");
      // Small tables (plans, the test clock) may be scanned; the tables that grow may not.
      if (/Seq Scan on (subscriptions|invoices|charge_attempts|checkout_sessions|payment_tokens|notices|platform_events|webhook_inbox|refunds|audit_log|idempotency_keys)\b/.test(text)) seqScans.push(`${query.sql}\n${text}`);
    }
    expect(seqScans).toEqual([]);
  });
});
