import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queueNotice, type QueueNoticeInput } from "../../src/notify/queue-notice.ts";
import { seedSubscription } from "../support/notification-rig.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-services.ts";

const failed = (subscriptionId: string, cycle = 1): QueueNoticeInput => ({
  subscriptionId,
  cycle,
  kind: "payment_failed",
  declineCode: "T0005",
  nextRetryAt: new Date("2026-12-02T17:30:00Z"),
});

describe("queueNotice", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  const row = (id: string) => database.db.selectFrom("notices").selectAll().where("id", "=", id).executeTakeFirstOrThrow();

  it("stores only the intent: the kind, the ids and the facts decided, pending; nothing rendered yet", async () => {
    const subscriptionId = await seedSubscription(database.db, { locale: "en", customerName: "Mei", email: "mei@example.com", invoiceAmount: 1299 });
    const id = await queueNotice(database.db, failed(subscriptionId));
    expect(id).toMatch(/^ntc_[a-z0-9]{20}$/);
    expect(await row(id!)).toMatchObject({
      subscription_id: subscriptionId,
      cycle: 1,
      kind: "payment_failed",
      data: { declineCode: "T0005", nextRetryAt: "2026-12-02T17:30:00.000Z" },
      status: "pending",
      attempts: 0,
      // Rendered (in the customer's language, with a freshly signed link) when it is sent.
      locale: null,
      to_email: null,
      subject: null,
      text_body: null,
      html_body: null,
      next_attempt_at: null,
      sent_at: null,
    });
  });

  it("keeps each kind's facts, dates as ISO 8601", async () => {
    const subscriptionId = await seedSubscription(database.db);
    const at = new Date("2026-12-08T00:00:00Z");
    const final = await queueNotice(database.db, { subscriptionId, cycle: 1, kind: "final_notice", lastRetryAt: at, withRetry: false, finalState: "unpaid" });
    const reminder = await queueNotice(database.db, { subscriptionId, cycle: 2, kind: "renewal_reminder", renewsAt: at });
    const canceled = await queueNotice(database.db, { subscriptionId, cycle: 1, kind: "subscription_canceled", cause: "dunning" });
    expect((await row(final!)).data).toEqual({ lastRetryAt: "2026-12-08T00:00:00.000Z", withRetry: false, finalState: "unpaid" });
    expect((await row(reminder!)).data).toEqual({ renewsAt: "2026-12-08T00:00:00.000Z" });
    expect((await row(canceled!)).data).toEqual({ cause: "dunning" });
  });

  it("queues a (subscription, cycle, kind) at most once, even from 5 concurrent transactions", async () => {
    const subscriptionId = await seedSubscription(database.db);
    const ids = await Promise.all(
      Array.from({ length: 5 }, () =>
        database.db.transaction().execute(async (tx) => {
          const id = await queueNotice(tx, failed(subscriptionId));
          // Hold the transaction open so that all five overlap.
          await new Promise((resolve) => setTimeout(resolve, 100));
          return id;
        }),
      ),
    );
    expect(ids.filter((id) => id !== undefined)).toHaveLength(1);
    expect(await queueNotice(database.db, failed(subscriptionId))).toBeUndefined();
    const rows = await database.db.selectFrom("notices").select("id").where("subscription_id", "=", subscriptionId).execute();
    expect(rows.map((r) => r.id)).toEqual(ids.filter((id) => id !== undefined));
  });

  it("queues the same kind again for another cycle, and another kind for the same cycle", async () => {
    const subscriptionId = await seedSubscription(database.db);
    expect(await queueNotice(database.db, failed(subscriptionId, 1))).toBeDefined();
    expect(await queueNotice(database.db, failed(subscriptionId, 2))).toBeDefined();
    expect(await queueNotice(database.db, { subscriptionId, cycle: 1, kind: "card_expired", deadline: null })).toBeDefined();
  });

  it("exists only if the transaction that decided it commits", async () => {
    const subscriptionId = await seedSubscription(database.db);
    await expect(
      database.db.transaction().execute(async (tx) => {
        await queueNotice(tx, failed(subscriptionId));
        throw new Error("the decision failed");
      }),
    ).rejects.toThrow("the decision failed");
    expect(await database.db.selectFrom("notices").select("id").where("subscription_id", "=", subscriptionId).execute()).toEqual([]);
    expect(await queueNotice(database.db, failed(subscriptionId))).toBeDefined();
  });

  it("refuses a subscription that does not exist", async () => {
    await expect(queueNotice(database.db, failed("sub_missing"))).rejects.toThrow(/subscription "sub_missing" does not exist/);
  });
});
