import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queueNotice, type QueueNoticeInput } from "../../src/notify/queue-notice.ts";
import { seedSubscription } from "../support/notification-rig.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-services.ts";

const LINK = "https://billing.example.com/billing/card/token";
const failed = (subscriptionId: string, cycle = 1): QueueNoticeInput => ({
  subscriptionId,
  cycle,
  timeZone: "Asia/Taipei",
  kind: "payment_failed",
  declineCode: "T0005",
  nextRetryAt: new Date("2026-12-02T17:30:00Z"),
  cardUpdateUrl: LINK,
});

describe("queueNotice", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it("renders in the customer's language from what the database knows, and stores it pending", async () => {
    const subscriptionId = await seedSubscription(database.db, { locale: "en", customerName: "Mei", email: "mei@example.com", planName: "Gold", amount: 500, invoiceAmount: 1299 });
    const id = await queueNotice(database.db, failed(subscriptionId));
    expect(id).toMatch(/^ntc_[a-z0-9]{20}$/);
    const row = await database.db.selectFrom("notices").selectAll().where("id", "=", id!).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ subscription_id: subscriptionId, cycle: 1, kind: "payment_failed", locale: "en", to_email: "mei@example.com", status: "pending", attempts: 0, sent_at: null });
    expect(row.subject).toBe("Your payment for Gold did not go through");
    // The cycle's invoice amount, not the plan's.
    expect(row.text_body).toContain("We could not charge NT$1,299 for your Gold subscription: the card issuer refused the payment.");
    expect(row.html_body).toContain(`href="${LINK}"`);
  });

  it("writes Traditional Chinese by default and uses the plan's amount before the cycle has an invoice", async () => {
    const subscriptionId = await seedSubscription(database.db, { amount: 899 });
    const id = await queueNotice(database.db, { subscriptionId, cycle: 2, timeZone: "Asia/Taipei", kind: "renewal_reminder", renewsAt: new Date("2026-12-01T00:00:00Z"), cardUpdateUrl: null });
    const row = await database.db.selectFrom("notices").selectAll().where("id", "=", id!).executeTakeFirstOrThrow();
    expect(row.locale).toBe("zh-TW");
    expect(row.text_body).toContain("王小明 您好：");
    expect(row.text_body).toContain("2026年12月1日 自動續訂，屆時將以您綁定的卡片扣款 NT$899");
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
    expect(await queueNotice(database.db, { subscriptionId, cycle: 1, timeZone: "Asia/Taipei", kind: "card_expired", deadline: null, cardUpdateUrl: LINK })).toBeDefined();
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
