import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { pruneAuditLog } from "../../src/audit/prune-audit-log.ts";
import { loadConfig } from "../../src/config.ts";
import type { PlatformEventStatus } from "../../src/db/database.ts";
import type { Deps } from "../../src/deps.ts";
import { listEvents } from "../../src/events/list-events.ts";
import { prunePlatformEvents } from "../../src/events/prune-platform-events.ts";
import { pruneIdempotencyKeys } from "../../src/ingress/idempotency.ts";
import { runSweep } from "../../src/renewals/run-sweep.ts";
import { startNotificationRig } from "../support/notification-rig.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-services.ts";

// Retention deletes rows that only record the past, and nothing still owed: an event waiting
// for its receiver, or the charge ledger. Each case is a seeded row whose fate is asserted.
const DAY = 86_400_000;
const NOW = new Date();
const ago = (days: number) => new Date(NOW.getTime() - days * DAY);
const SECRET = `whsec_${Buffer.alloc(32, 11).toString("base64")}`;

type Db = TestDatabase["db"];

interface SeededEvent {
  status: PlatformEventStatus;
  createdDaysAgo: number;
  deliveredDaysAgo?: number;
  failedDaysAgo?: number;
  attempts?: number;
  nextAttemptInMs?: number;
}

// Every kind of event the retention tells apart (default PLATFORM_EVENTS_RETENTION: 30 days).
const EVENTS: Record<string, SeededEvent> = {
  evt_delivered_old: { status: "delivered", createdDaysAgo: 40, deliveredDaysAgo: 31, attempts: 2 },
  // Created long ago, acknowledged (after a redelivery) 29 days ago: still inside the retention.
  evt_delivered_lately: { status: "delivered", createdDaysAgo: 60, deliveredDaysAgo: 29, attempts: 1 },
  evt_delivered_young: { status: "delivered", createdDaysAgo: 1, deliveredDaysAgo: 1, attempts: 1 },
  evt_failed_old: { status: "failed", createdDaysAgo: 70, failedDaysAgo: 31, attempts: 40 },
  // Given up two days ago: stays redeliverable for the retention.
  evt_failed_lately: { status: "failed", createdDaysAgo: 45, failedDaysAgo: 2, attempts: 40 },
  // Still being retried (a redelivery's fresh schedule), though recorded 35 days ago.
  evt_pending_retrying: { status: "pending", createdDaysAgo: 35, attempts: 20, nextAttemptInMs: 3_600_000 },
  // Never attempted: recorded while no receiver was configured.
  evt_pending_unsent_old: { status: "pending", createdDaysAgo: 60 },
  evt_pending_young: { status: "pending", createdDaysAgo: 2 },
};

async function seedEvents(db: Db): Promise<void> {
  for (const [id, event] of Object.entries(EVENTS)) {
    await db
      .insertInto("platform_events")
      .values({
        id,
        type: "invoice.paid",
        dedupe_key: `invoice.paid:${id}`,
        data: JSON.stringify({ invoiceId: `in_${id}` }),
        created_at: ago(event.createdDaysAgo),
        status: event.status,
        attempts: event.attempts ?? 0,
        last_status: null,
        last_error: null,
        next_attempt_at: event.nextAttemptInMs === undefined ? null : new Date(NOW.getTime() + event.nextAttemptInMs),
        delivered_at: event.deliveredDaysAgo === undefined ? null : ago(event.deliveredDaysAgo),
        failed_at: event.failedDaysAgo === undefined ? null : ago(event.failedDaysAgo),
      })
      .execute();
    for (let i = 0; i < (event.attempts ?? 0); i++) {
      await db.insertInto("platform_event_attempts").values({ event_id: id, at: ago(event.createdDaysAgo - i / 10), status_code: 503, error: "HTTP 503", latency_ms: 12 }).execute();
    }
  }
}

const eventIds = async (db: Db) => (await db.selectFrom("platform_events").select("id").orderBy("id").execute()).map((e) => e.id);
const attemptEventIds = async (db: Db) => [...new Set((await db.selectFrom("platform_event_attempts").select("event_id").execute()).map((a) => a.event_id))].sort();
const kept = (...ids: string[]) => [...ids].sort();

describe("retention of platform events, audit rows and idempotency keys", () => {
  let database: TestDatabase;
  const depsFor = (env: Record<string, string> = {}): Pick<Deps, "db" | "config"> => ({
    db: database.db,
    config: loadConfig({ NODE_ENV: "test", DATABASE_URL: database.url, LOG_LEVEL: "silent", ...env }),
  });
  const withReceiver = { PLATFORM_WEBHOOK_URL: "https://platform.example.com/hooks", PLATFORM_WEBHOOK_SECRET: SECRET };

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });
  beforeEach(async () => {
    await sql`truncate platform_events, platform_event_attempts, audit_log, idempotency_keys`.execute(database.db);
  });

  it("with a receiver, deletes events delivered or given up longer than the retention ago, and keeps every pending one", async () => {
    await seedEvents(database.db);
    expect(await prunePlatformEvents(depsFor(withReceiver), NOW)).toBe(2);
    const retained = kept("evt_delivered_lately", "evt_delivered_young", "evt_failed_lately", "evt_pending_retrying", "evt_pending_unsent_old", "evt_pending_young");
    expect(await eventIds(database.db)).toEqual(retained);
    // Their delivery attempts went with them; the others' stay.
    expect(await attemptEventIds(database.db)).toEqual(kept("evt_delivered_lately", "evt_delivered_young", "evt_failed_lately", "evt_pending_retrying"));
    expect(await prunePlatformEvents(depsFor(withReceiver), NOW)).toBe(0);
    // GET /v1/events lists what is retained, and only that.
    const page = await listEvents(database.db, { limit: 100 });
    expect(page.data.map((e) => e.id).sort()).toEqual(retained);
  });

  it("without a receiver, also deletes events recorded longer than the retention ago that nobody will receive", async () => {
    await seedEvents(database.db);
    expect(await prunePlatformEvents(depsFor(), NOW)).toBe(4);
    expect(await eventIds(database.db)).toEqual(kept("evt_delivered_lately", "evt_delivered_young", "evt_failed_lately", "evt_pending_young"));
  });

  it("follows PLATFORM_EVENTS_RETENTION", async () => {
    await seedEvents(database.db);
    expect(await prunePlatformEvents(depsFor({ ...withReceiver, PLATFORM_EVENTS_RETENTION: "60d" }), NOW)).toBe(0);
    expect(await prunePlatformEvents(depsFor({ ...withReceiver, PLATFORM_EVENTS_RETENTION: "1d" }), NOW)).toBe(4);
    expect(await eventIds(database.db)).toEqual(kept("evt_delivered_young", "evt_pending_retrying", "evt_pending_unsent_old", "evt_pending_young"));
  });

  it("deletes audit rows older than AUDIT_LOG_RETENTION, 10,000 a call", async () => {
    await sql`insert into audit_log (at, actor, action, subscription_id, reason) select ${ago(500)}::timestamptz, 'charge-worker', 'card_token.decrypt', 'sub_' || g, 'charge' from generate_series(1, 10005) g`.execute(database.db);
    await database.db
      .insertInto("audit_log")
      .values([
        { at: ago(401), actor: "charge-worker", action: "card_token.decrypt", subscription_id: "sub_401", reason: "charge", detail: "{}" },
        { at: ago(399), actor: "charge-worker", action: "card_token.decrypt", subscription_id: "sub_399", reason: "charge", detail: "{}" },
        { at: ago(0), actor: "charge-worker", action: "card_token.decrypt", subscription_id: "sub_now", reason: "charge", detail: "{}" },
      ])
      .execute();
    const deps = depsFor();
    expect(await pruneAuditLog(deps, NOW)).toBe(10_000);
    expect(await pruneAuditLog(deps, NOW)).toBe(6);
    expect(await pruneAuditLog(deps, NOW)).toBe(0);
    const left = await database.db.selectFrom("audit_log").select("subscription_id").orderBy("at").execute();
    expect(left.map((r) => r.subscription_id)).toEqual(["sub_399", "sub_now"]);
    expect(await pruneAuditLog(depsFor({ AUDIT_LOG_RETENTION: "1d" }), NOW)).toBe(1);
  });

  it("deletes idempotency keys past their seven days, and keeps younger ones", async () => {
    await database.db
      .insertInto("idempotency_keys")
      .values([
        { key: "refund:old", request_hash: "h", status_code: 201, response: "{}", created_at: ago(8) },
        { key: "refund:young", request_hash: "h", status_code: 201, response: "{}", created_at: ago(6) },
      ])
      .execute();
    expect(await pruneIdempotencyKeys(database.db, NOW)).toBe(1);
    expect((await database.db.selectFrom("idempotency_keys").select("key").execute()).map((k) => k.key)).toEqual(["refund:young"]);
  });

  it("never deletes the charge ledger: charge attempts stay as long as their invoice", async () => {
    await sql`insert into plans (id, name, amount, interval, interval_count, product_code, description, unit) values ('p', 'P', 100, 'month', 1, 'P', 'P', '月')`.execute(database.db);
    await sql`insert into customers (id, name, email) values ('c', 'C', 'c@example.com')`.execute(database.db);
    await sql`insert into subscriptions (id, customer_id, plan_id, status, success_url, failure_url, created_at) values ('sub_l', 'c', 'p', 'canceled', 'https://x', 'https://x', ${ago(800)})`.execute(database.db);
    await sql`insert into checkout_sessions (id, subscription_id, purpose, custom_id, status, expires_at) values ('cs_l', 'sub_l', 'subscribe', 'x', 'completed', ${ago(800)})`.execute(database.db);
    await sql`insert into payment_tokens (id, subscription_id, checkout_session_id, key_id, ciphertext, status) values ('pm_l', 'sub_l', 'cs_l', 'k', 'x', 'inactive')`.execute(database.db);
    await sql`insert into invoices (id, subscription_id, cycle, status, amount, product_details, period_start, period_end, paid_at) values ('in_l', 'sub_l', 1, 'paid', 100, '[]', ${ago(800)}, ${ago(770)}, ${ago(800)})`.execute(database.db);
    await sql`insert into charge_attempts (id, invoice_id, attempt_no, order_id, payment_token_id, amount, status, created_at, clock_at) values ('ca_l', 'in_l', 1, 'in_l-1', 'pm_l', 100, 'succeeded', ${ago(800)}, ${ago(800)})`.execute(database.db);
    const deps = depsFor({ PLATFORM_EVENTS_RETENTION: "1d", AUDIT_LOG_RETENTION: "1d" });
    await prunePlatformEvents(deps, NOW);
    await pruneAuditLog(deps, NOW);
    expect(await database.db.selectFrom("charge_attempts").select("id").execute()).toEqual([{ id: "ca_l" }]);
  });
});

describe("the sweep's retention step", () => {
  it("prunes each table every ten minutes, by real time: a test clock a year ahead deletes nothing younger", async () => {
    const rig = await startNotificationRig();
    try {
      const db = rig.deps.db;
      const event = (id: string, createdAt: Date) => ({ id, type: "invoice.paid", dedupe_key: id, data: "{}", created_at: createdAt, last_status: null, last_error: null, next_attempt_at: null, delivered_at: null });
      await db.insertInto("platform_events").values([event("evt_old", ago(31)), event("evt_young", ago(1))]).execute();
      const audit = (at: Date) => ({ at, actor: "a", action: "card_token.decrypt", subscription_id: null, reason: "r", detail: "{}" });
      await db.insertInto("audit_log").values([audit(ago(401)), audit(ago(1))]).execute();
      const key = (k: string, createdAt: Date) => ({ key: k, request_hash: "h", status_code: 200, response: "{}", created_at: createdAt });
      await db.insertInto("idempotency_keys").values([key("old", ago(8)), key("young", ago(1))]).execute();
      const report = await runSweep({ ...rig.deps, clock: { now: () => new Date(Date.now() + 365 * DAY) } });
      expect(report.failedSteps).toEqual([]);
      expect(report.pruned).toEqual({ platformEvents: 1, auditLog: 1, idempotencyKeys: 1, webhookRecords: 0 });
      expect(await eventIds(db)).toEqual(["evt_young"]);
      expect(await db.selectFrom("audit_log").select("id").execute()).toHaveLength(1);
      expect((await db.selectFrom("idempotency_keys").select("key").execute()).map((k) => k.key)).toEqual(["young"]);
      // Not due again for ten minutes: the next tick skips the step (no backlog was left).
      expect((await runSweep(rig.deps)).pruned).toBeNull();
    } finally {
      await rig.close();
    }
  });
});
