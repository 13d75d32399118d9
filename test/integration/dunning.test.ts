import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flakyCardNumber, TEST_CARDS } from "../../src/oen/simulator/index.ts";
import { periodBounds } from "../../src/billing/periods.ts";
import { chargeInvoice } from "../../src/charges/charge-invoice.ts";
import { enqueueNotice } from "../../src/notify/enqueue-notice.ts";
import { bindCardThroughPage } from "../support/hosted-page.ts";
import { eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";
import { startPlatformReceiver, type PlatformReceiver } from "../support/platform-receiver.ts";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";

const SECRET = `whsec_${Buffer.from("platform-webhook-secret-for-tests").toString("base64")}`;

describe("dunning with the schedule in seconds", () => {
  let h: Harness;
  let smtp: SmtpSink;
  let platform: PlatformReceiver;
  let n = 0;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    platform = await startPlatformReceiver(SECRET);
    h = await startHarness({
      env: {
        DUNNING_RETRY_SCHEDULE: "1s,2s,3s,8s", // the last step is long: the T0003 test has time to bring a new card
        DUNNING_JITTER: "0",
        DUNNING_FINAL_STATE: "canceled",
        RENEWAL_SWEEP_INTERVAL: "1s",
        SMTP_URL: smtp.url,
        PLATFORM_WEBHOOK_URL: platform.url,
        PLATFORM_WEBHOOK_SECRET: SECRET,
      },
    });
    await h.api("PUT", "/v1/plans/dunning", samplePlan);
  });
  afterAll(async () => {
    await h?.close();
    await smtp?.close();
    await platform?.close();
  });

  async function subscribe(cardNumber: string) {
    const email = `customer${n}@example.com`;
    const subscription = await subscribeWithCard(h, "dunning", `cus_dunning_${n++}`, { number: cardNumber, email });
    return { id: subscription.id, email };
  }
  const view = async (id: string) => (await h.api("GET", `/v1/subscriptions/${id}`)).json();
  const mailsTo = (email: string) => smtp.messages.filter((m) => m.to.includes(email));
  const eventsOf = (id: string) => platform.events.filter((e) => e.body.data.subscriptionId === id).map((e) => e.body.type);

  it("T0004: four retries declined, then canceled; exactly the expected emails and signed events", async () => {
    const { id, email } = await subscribe(TEST_CARDS.declineInsufficientCredit);
    await eventually(async () => (await view(id)).status === "past_due");
    const preview = (await h.api("GET", `/v1/subscriptions/${id}/dunning`)).json();
    expect(preview).toMatchObject({ inDunning: true, status: "past_due" });
    expect(preview.events.filter((e: { event: string }) => e.event === "retry")).toHaveLength(4);
    expect(preview.events.at(-2)).toMatchObject({ event: "final_state", state: "canceled" });

    const ended = await eventually(async () => {
      const current = await view(id);
      return current.status === "canceled" && current;
    }, 30_000, "the final state");
    expect(ended.latestInvoice).toMatchObject({ status: "uncollectible", attemptCount: 5 });
    const invoices = (await h.api("GET", `/v1/subscriptions/${id}/invoices`)).json().data;
    expect(invoices[0].attempts.map((a: { outcome: string; code: string }) => `${a.outcome} ${a.code}`)).toEqual(Array(5).fill("declined T0004"));
    expect(h.simulator.ledger.successfulCharges(`${invoices[0].id}-`)).toHaveLength(0);

    await eventually(async () => mailsTo(email).length === 3 && eventsOf(id).includes("subscription.canceled"), 20_000, "the emails and events");
    await new Promise((r) => setTimeout(r, 1_500)); // nothing more may arrive
    const mails = mailsTo(email);
    const notices = await h.database.db.selectFrom("notices").select(["kind", "subject", "status"]).where("subscription_id", "=", id).orderBy("created_at").execute();
    expect(notices.map((x) => `${x.kind} ${x.status}`)).toEqual(["payment_failed sent", "final_notice sent", "subscription_canceled sent"]);
    expect(mails.map((m) => m.subject)).toEqual(notices.map((x) => x.subject));
    expect(mails[0]!.text).toContain("額度不足");
    expect(mails[1]!.text).toMatch(/\/billing\/card\//);
    expect(eventsOf(id).sort()).toEqual(
      ["invoice.payment_failed", "invoice.payment_failed", "invoice.payment_failed", "invoice.payment_failed", "invoice.payment_failed", "subscription.activated", "subscription.canceled", "subscription.past_due"].sort(),
    );
    // Every event verified against the Standard Webhooks signature, each id once.
    const ids = platform.events.filter((e) => e.body.data.subscriptionId === id).map((e) => e.webhookId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("T0003: no retry on the expired card; the emailed link opens a fresh Oen page; a good card pays and reactivates", async () => {
    const { id, email } = await subscribe(TEST_CARDS.declineExpired);
    const mail = await eventually(async () => mailsTo(email)[0], 20_000, "the card-expired email");
    // The first soft retry would come 1 s after the decline; the card deadline is 8 s after it.
    await new Promise((r) => setTimeout(r, 1_500));
    const before = (await h.api("GET", `/v1/subscriptions/${id}/invoices`)).json().data[0];
    expect(before.attempts.map((a: { outcome: string; code: string }) => `${a.outcome} ${a.code}`)).toEqual(["declined T0003"]);
    expect(mailsTo(email)).toHaveLength(1);
    expect(mail.subject).toMatch(/過期/);

    const link = /(http:\/\/127\.0\.0\.1:\d+\/billing\/card\/[A-Za-z0-9._-]+)/.exec(mail.text)![1]!;
    const opened = await fetch(link, { redirect: "manual" });
    expect(opened.status).toBe(302);
    const oenPage = opened.headers.get("location")!;
    expect(oenPage).toMatch(new RegExp(`^${h.simulator.hostedUrl}/checkout/subscription/create/`));
    const submitted = await bindCardThroughPage(oenPage, { number: TEST_CARDS.success, email });
    expect(submitted.status).toBe(303);

    const recovered = await eventually(async () => {
      const current = await view(id);
      return current.status === "active" && current.latestInvoice.status === "paid" && current;
    }, 20_000, "the invoice paid with the new card");
    expect(recovered.card).toEqual({ last4: "4242" });
    const after = (await h.api("GET", `/v1/subscriptions/${id}/invoices`)).json().data[0];
    expect(after.attempts.map((a: { outcome: string }) => a.outcome)).toEqual(["declined", "succeeded"]);
    const tokens = await h.database.db.selectFrom("payment_tokens").select(["status", "last4"]).where("subscription_id", "=", id).orderBy("created_at").execute();
    expect(tokens).toEqual([
      { status: "inactive", last4: "0003" },
      { status: "active", last4: "4242" },
    ]);
    await eventually(async () => eventsOf(id).includes("payment_method.updated") && eventsOf(id).includes("invoice.paid"));
  });

  it("a soft decline that succeeds on the second retry: active again, the period still from the original anchor", async () => {
    const { id } = await subscribe(flakyCardNumber("T0005", 2));
    const paid = await eventually(async () => {
      const current = await view(id);
      return current.latestInvoice?.status === "paid" && current;
    }, 20_000, "payment on the second retry");
    expect(paid.status).toBe("active");
    const invoices = (await h.api("GET", `/v1/subscriptions/${id}/invoices`)).json().data;
    expect(invoices[0].attempts.map((a: { outcome: string }) => a.outcome)).toEqual(["declined", "declined", "succeeded"]);
    const row = await h.database.db.selectFrom("subscriptions").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    const first = periodBounds(row.billing_anchor!, { interval: "month", intervalCount: 1 }, 0, "Asia/Taipei");
    expect(row.current_period_start).toEqual(first.start);
    expect(row.current_period_end).toEqual(first.end);
    expect(row.next_renewal_at).toEqual(first.end);
    expect((await h.api("GET", `/v1/subscriptions/${id}/dunning`)).json().inDunning).toBe(false);
  });

  it("duplicate jobs for the same dunning step charge once and send nothing twice", async () => {
    const { id, email } = await subscribe(TEST_CARDS.declineInsufficientCredit);
    await eventually(async () => mailsTo(email).length === 1, 20_000, "the payment-failed email");
    const invoice = await h.database.db.selectFrom("invoices").selectAll().where("subscription_id", "=", id).executeTakeFirstOrThrow();
    // Five workers run the same due retry at once.
    await h.database.db.updateTable("invoices").set({ next_attempt_at: new Date() }).where("id", "=", invoice.id).execute();
    const runs = await Promise.all(Array.from({ length: 5 }, () => chargeInvoice(h.service.deps, invoice.id)));
    // One of them sends (none, if the scheduled retry's own job got there first); the others find it in flight or settled.
    expect(runs.filter((r) => r.kind === "sent").length).toBeLessThanOrEqual(1);
    expect(runs.filter((r) => r.kind !== "sent").every((r) => ["in_flight", "not_due"].includes(r.kind))).toBe(true);
    const attempts = await h.database.db.selectFrom("charge_attempts").selectAll().where("invoice_id", "=", invoice.id).execute();
    expect(new Set(attempts.map((a) => a.order_id)).size).toBe(attempts.length);
    // And every notice job enqueued again.
    const notices = await h.database.db.selectFrom("notices").select("id").where("subscription_id", "=", id).execute();
    for (const notice of notices) for (let i = 0; i < 3; i++) await enqueueNotice(h.service.deps, notice.id);
    await new Promise((r) => setTimeout(r, 1_500));
    const kinds = await h.database.db.selectFrom("notices").select("kind").where("subscription_id", "=", id).execute();
    expect(mailsTo(email)).toHaveLength(kinds.length);
    expect(new Set(kinds.map((k) => k.kind)).size).toBe(kinds.length);
  });
});
