import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMailer } from "../../src/notify/create-mailer.ts";
import { enqueueNotice, enqueuePendingNotices } from "../../src/notify/enqueue-notice.ts";
import { queueNotice } from "../../src/notify/queue-notice.ts";
import { sendNotice } from "../../src/notify/send-notice.ts";
import { jobIds } from "../../src/queues/jobs.ts";
import { eventually } from "../support/harness.ts";
import { seedSubscription, startNotificationRig, type NotificationRig } from "../support/notification-rig.ts";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";

const LINK = "https://billing.example.com/billing/card/k1.sub_1.1800000000.mac";
const FAST_RETRY = { firstDelayMs: 100, maxDelayMs: 200, attempts: 3 };

async function queueFor(rig: NotificationRig, options: Parameters<typeof seedSubscription>[1] = {}): Promise<string> {
  const subscriptionId = await seedSubscription(rig.deps.db, options);
  const id = await queueNotice(rig.deps.db, { subscriptionId, cycle: 1, timeZone: "Asia/Taipei", kind: "card_expired", deadline: new Date("2026-12-08T00:00:00Z"), cardUpdateUrl: LINK });
  return id!;
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
    expect(mail!.text).toContain(LINK);
    expect(mail!.html).toContain(`<a href="${LINK}"`);
    const row = await eventually(async () => {
      const notice = await noticeRow(rig, id);
      return notice.status === "sent" && notice;
    });
    expect(row).toMatchObject({ attempts: 1, last_error: null });
    expect(row.sent_at).toBeInstanceOf(Date);
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

  it("re-enqueues pending notices from the sweep (a crash before enqueueing, a Redis flush)", async () => {
    const id = await queueFor(rig, { email: "swept@example.com" });
    expect(await enqueuePendingNotices(rig.deps)).toBeGreaterThanOrEqual(1);
    await eventually(async () => messagesTo("swept@example.com").length === 1);
    expect((await noticeRow(rig, id)).status).toBe("sent");
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
