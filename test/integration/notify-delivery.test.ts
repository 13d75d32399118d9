import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMailer } from "../../src/notify/create-mailer.ts";
import { enqueueNotice, enqueuePendingNotices } from "../../src/notify/enqueue-notice.ts";
import { verifyCardUpdateToken } from "../../src/checkout/card-update-link.ts";
import type { NoticeData } from "../../src/notify/notice-templates.ts";
import { queueNotice } from "../../src/notify/queue-notice.ts";
import { sendNotice } from "../../src/notify/send-notice.ts";
import { jobIds } from "../../src/queues/jobs.ts";
import { eventually } from "../support/harness.ts";
import { seedSubscription, startNotificationRig, type NotificationRig } from "../support/notification-rig.ts";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";

const FAST_RETRY = { firstDelayMs: 100, maxDelayMs: 200, attempts: 3 };

async function queueFor(rig: NotificationRig, options: Parameters<typeof seedSubscription>[1] = {}, data: NoticeData = { kind: "card_expired", deadline: new Date("2026-12-08T00:00:00Z") }): Promise<string> {
  const subscriptionId = await seedSubscription(rig.deps.db, options);
  const id = await queueNotice(rig.deps.db, { subscriptionId, cycle: 1, ...data });
  return id!;
}

/** The card-update link in a mail, checked as the click would check it. */
function linkIn(rig: NotificationRig, text: string) {
  const link = new RegExp(`${rig.deps.config.publicUrl}/billing/card/([A-Za-z0-9._-]+)`).exec(text);
  expect(link).not.toBeNull();
  return verifyCardUpdateToken(rig.deps.config, link![1]!, new Date());
}

/** Connections of this database that sit in an open transaction (other than the one asking). */
async function transactionsOpen(rig: NotificationRig): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and state like 'idle in transaction%'`.execute(rig.deps.db);
  return Number(rows[0]!.n);
}

const noticeRow = (rig: NotificationRig, id: string) => rig.deps.db.selectFrom("notices").selectAll().where("id", "=", id).executeTakeFirstOrThrow();

describe("notice delivery through SMTP", () => {
  let sink: SmtpSink;
  let rig: NotificationRig;
  beforeAll(async () => {
    sink = await startSmtpSink();
    rig = await startNotificationRig({ env: { SMTP_URL: sink.url, MAIL_FROM: "Billing <billing@shop.example.com>" }, worker: { noticeRetry: FAST_RETRY } });
  });
  afterAll(async () => {
    await rig?.close();
    await sink?.close();
  });

  const messagesTo = (email: string) => sink.messages.filter((m) => m.to.includes(email));

  it("sends a queued notice to the customer, text and HTML, and marks it sent", async () => {
    const id = await queueFor(rig, { email: "first@example.com" });
    await enqueueNotice(rig.deps, id);
    const [mail] = await eventually(async () => messagesTo("first@example.com").length === 1 && messagesTo("first@example.com"));
    expect(mail!.from).toBe("billing@shop.example.com");
    expect(mail!.headers.get("from")).toBe("Billing <billing@shop.example.com>");
    expect(mail!.subject).toBe("「Premium」的付款卡片已過期");
    expect(mail!.messageId).toBe(`<${id}@shop.example.com>`);
    expect(mail!.text).toContain("您用於「Premium」的卡片已過期，本期費用 NT$899 無法扣款。");
    expect(mail!.text).toContain("請於 2026年12月8日 前點下方連結綁定新卡片");
    const row = await eventually(async () => {
      const notice = await noticeRow(rig, id);
      return notice.status === "sent" && notice;
    });
    expect(linkIn(rig, mail!.text)).toMatchObject({ ok: true, subscriptionId: row.subscription_id });
    expect(mail!.html).toContain(`<a href="${rig.deps.config.publicUrl}/billing/card/`);
    // What was sent is kept for ops.
    expect(row).toMatchObject({ attempts: 1, last_error: null, locale: "zh-TW", to_email: "first@example.com", subject: mail!.subject });
    expect(row.text_body).toContain("您用於「Premium」的卡片已過期，本期費用 NT$899 無法扣款。");
    expect(row.sent_at).toBeInstanceOf(Date);
  });

  it("renders when it sends: the customer as they are by then, the cycle's amount, a link signed then", async () => {
    const id = await queueFor(rig, { email: "old@example.com", invoiceAmount: 1299 }, { kind: "payment_failed", declineCode: "T0004", nextRetryAt: null });
    const { subscription_id } = await noticeRow(rig, id);
    const { customer_id } = await rig.deps.db.selectFrom("subscriptions").select("customer_id").where("id", "=", subscription_id).executeTakeFirstOrThrow();
    await rig.deps.db.updateTable("customers").set({ name: "Mei", email: "new@example.com", locale: "en" }).where("id", "=", customer_id).execute();
    await enqueueNotice(rig.deps, id);
    const [mail] = await eventually(async () => messagesTo("new@example.com").length === 1 && messagesTo("new@example.com"));
    expect(mail!.subject).toBe("Your payment for Premium did not go through");
    expect(mail!.text).toContain("Hello Mei,");
    expect(mail!.text).toContain("We could not charge NT$1,299 for your Premium subscription: insufficient credit limit.");
    expect(linkIn(rig, mail!.text)).toMatchObject({ ok: true, subscriptionId: subscription_id });
    expect(messagesTo("old@example.com")).toHaveLength(0);
  });

  it.each<[string, NoticeData, (db: NotificationRig["deps"]["db"], subscriptionId: string) => Promise<unknown>, RegExp]>([
    ["a payment_failed whose invoice was paid meanwhile", { kind: "payment_failed", declineCode: "T0004", nextRetryAt: null }, (db, id) => db.updateTable("invoices").set({ status: "paid" }).where("subscription_id", "=", id).execute(), /invoice is paid/],
    ["a card_expired whose invoice was voided", { kind: "card_expired", deadline: null }, (db, id) => db.updateTable("invoices").set({ status: "void" }).where("subscription_id", "=", id).execute(), /invoice is void/],
    [
      "a final_notice after the subscription was canceled",
      { kind: "final_notice", lastRetryAt: new Date(Date.now() + 86_400_000), withRetry: true, finalState: "canceled" },
      (db, id) => db.updateTable("subscriptions").set({ status: "canceled", ended_at: new Date() }).where("id", "=", id).execute(),
      /subscription is canceled/,
    ],
    ["a renewal_reminder after the renewal happened", { kind: "renewal_reminder", renewsAt: new Date(Date.now() + 86_400_000) }, (db, id) => db.updateTable("subscriptions").set({ current_cycle: 2 }).where("id", "=", id).execute(), /renewal .* happened/],
    ["a renewal_reminder for a subscription ending at period end", { kind: "renewal_reminder", renewsAt: new Date(Date.now() + 86_400_000) }, (db, id) => db.updateTable("subscriptions").set({ cancel_at_period_end: true }).where("id", "=", id).execute(), /ends at the period end/],
    ["a renewal_reminder whose renewal time has passed", { kind: "renewal_reminder", renewsAt: new Date(Date.now() - 1_000) }, async () => {}, /renewal time has passed/],
  ])("skips, never sends, %s", async (_what, data, change, reason) => {
    const email = `moot-${data.kind}-${Math.random().toString(36).slice(2, 8)}@example.com`;
    // The reminder is about cycle 2 (the next one); the others about cycle 1, the seeded invoice's.
    const subscriptionId = await seedSubscription(rig.deps.db, { email, invoiceAmount: 899 });
    const id = (await queueNotice(rig.deps.db, { subscriptionId, cycle: data.kind === "renewal_reminder" ? 2 : 1, ...data }))!;
    await change(rig.deps.db, subscriptionId);
    await enqueueNotice(rig.deps, id);
    const row = await eventually(async () => {
      const notice = await noticeRow(rig, id);
      return notice.status === "skipped" && notice;
    });
    expect(row.skip_reason).toMatch(reason);
    expect(row.attempts).toBe(0);
    expect(messagesTo(email)).toHaveLength(0);
  });

  it("still sends a subscription_canceled notice once the subscription is canceled", async () => {
    const subscriptionId = await seedSubscription(rig.deps.db, { email: "ended@example.com", invoiceAmount: 899 });
    await rig.deps.db.updateTable("subscriptions").set({ status: "canceled", ended_at: new Date() }).where("id", "=", subscriptionId).execute();
    await rig.deps.db.updateTable("invoices").set({ status: "uncollectible" }).where("subscription_id", "=", subscriptionId).execute();
    const id = (await queueNotice(rig.deps.db, { subscriptionId, cycle: 1, kind: "subscription_canceled", cause: "dunning" }))!;
    await enqueueNotice(rig.deps, id);
    await eventually(async () => messagesTo("ended@example.com").length === 1);
    expect((await noticeRow(rig, id)).status).toBe("sent");
  });

  it("does nothing for a notice already sent: a repeated job, the sweep, or a run racing another", async () => {
    const id = await queueFor(rig, { email: "once@example.com" });
    const mailer = createMailer(sink.url, rig.deps.config.mailFrom);
    try {
      const outcomes = await Promise.all([1, 2, 3].map(() => sendNotice(rig.deps, mailer, id)));
      expect(outcomes.filter((o) => o.kind === "sent")).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === "skipped")).toHaveLength(2);
      expect(await sendNotice(rig.deps, mailer, id)).toEqual({ kind: "skipped", reason: "already sent" });
    } finally {
      mailer.close();
    }
    await enqueueNotice(rig.deps, id);
    expect(await enqueuePendingNotices(rig.deps)).toBe(0);
    await eventually(async () => (await rig.deps.queues.notifications.getJobState(jobIds.notice(id))) === "completed");
    expect(messagesTo("once@example.com")).toHaveLength(1);
  });

  it("holds no database transaction open while the SMTP server takes its time", async () => {
    sink.stallNext(1_500);
    const id = await queueFor(rig, { email: "slow@example.com" });
    await enqueueNotice(rig.deps, id);
    await eventually(async () => sink.stalled > 0, 10_000, "the message at the server");
    expect(await transactionsOpen(rig)).toBe(0);
    await eventually(async () => (await noticeRow(rig, id)).status === "sent");
    expect(messagesTo("slow@example.com")).toHaveLength(1);
  });

  it("retries when the SMTP server refuses, then sends once", async () => {
    sink.failNext(2);
    const id = await queueFor(rig, { email: "retry@example.com" });
    await enqueueNotice(rig.deps, id);
    const row = await eventually(async () => {
      const notice = await noticeRow(rig, id);
      return notice.status === "sent" && notice;
    });
    expect(row.attempts).toBe(3);
    expect(messagesTo("retry@example.com")).toHaveLength(1);
  });

  it("gives a notice up after its last attempt, keeping the server's answer, and fails the job", async () => {
    sink.failNext(FAST_RETRY.attempts);
    const id = await queueFor(rig, { email: "never@example.com" });
    await enqueueNotice(rig.deps, id);
    const row = await eventually(async () => {
      const notice = await noticeRow(rig, id);
      return notice.status === "failed" && notice;
    });
    expect(row.attempts).toBe(FAST_RETRY.attempts);
    expect(row.last_error).toMatch(/451/);
    expect(await eventually(async () => (await rig.deps.queues.notifications.getJobState(jobIds.notice(id))) === "failed")).toBe(true);
    expect(messagesTo("never@example.com")).toHaveLength(0);
  });

  it("sends a notice rendered before intents existed (an upgrade with notices pending) as it was written", async () => {
    const subscriptionId = await seedSubscription(rig.deps.db, { email: "legacy@example.com", invoiceAmount: 899 });
    const id = "ntc_legacy0000000000000";
    await sql`insert into notices (id, subscription_id, cycle, kind, locale, to_email, subject, text_body, html_body)
      values (${id}, ${subscriptionId}, 1, 'card_expired', 'en', 'legacy@example.com', 'Written then', 'The text then', '<p>The HTML then</p>')`.execute(rig.deps.db);
    await enqueueNotice(rig.deps, id);
    const [mail] = await eventually(async () => messagesTo("legacy@example.com").length === 1 && messagesTo("legacy@example.com"));
    expect(mail!.subject).toBe("Written then");
    expect(mail!.text.trim()).toBe("The text then");
    expect(await noticeRow(rig, id)).toMatchObject({ status: "sent", data: null, subject: "Written then" });
  });

  it("re-enqueues pending notices from the sweep (a crash before enqueueing, a Redis flush)", async () => {
    const id = await queueFor(rig, { email: "swept@example.com" });
    expect(await enqueuePendingNotices(rig.deps)).toBeGreaterThanOrEqual(1);
    await eventually(async () => messagesTo("swept@example.com").length === 1);
    expect((await noticeRow(rig, id)).status).toBe("sent");
  });

  it("a notice waiting for its retry is re-enqueued for that time, and a job run early sends nothing", async () => {
    const id = await queueFor(rig, { email: "later@example.com" });
    // As a failed attempt leaves it: the next try in an hour (the SMTP server is down, say).
    await rig.deps.db.updateTable("notices").set({ attempts: 1, last_error: "451 try later", next_attempt_at: new Date(Date.now() + 3_600_000) }).where("id", "=", id).execute();
    await enqueuePendingNotices(rig.deps);
    expect(await rig.deps.queues.notifications.getJobState(jobIds.notice(id))).toBe("delayed");
    // Someone enqueues it for now anyway (a duplicate, an old sweep): it goes back to sleep.
    await enqueueNotice(rig.deps, id);
    await eventually(async () => (await rig.deps.queues.notifications.getJobState(jobIds.notice(id))) === "delayed" && (await rig.deps.queues.notifications.getJob(jobIds.notice(id)))!.attemptsStarted > 0);
    expect(messagesTo("later@example.com")).toHaveLength(0);
    expect(await noticeRow(rig, id)).toMatchObject({ status: "pending", attempts: 1 });
  });
});

describe("notices without SMTP_URL", () => {
  let rig: NotificationRig;
  beforeAll(async () => {
    rig = await startNotificationRig();
  });
  afterAll(async () => {
    await rig?.close();
  });

  it("are kept in the outbox, not sent, and their job succeeds", async () => {
    expect(rig.deps.config.smtpUrl).toBeNull();
    const id = await queueFor(rig);
    await enqueueNotice(rig.deps, id);
    const row = await eventually(async () => {
      const notice = await noticeRow(rig, id);
      return notice.status === "outbox" && notice;
    });
    expect(row).toMatchObject({ attempts: 0, last_error: null, sent_at: null });
    expect(await rig.deps.queues.notifications.getJobState(jobIds.notice(id))).toBe("completed");
    expect(await enqueuePendingNotices(rig.deps)).toBe(0);
  });
});
