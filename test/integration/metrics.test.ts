import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FEWEST_JOBS_PER_PLACE } from "../../src/charges/send-places.ts";
import { API_KEY, eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";
import { scrapeMetrics, type Scrape } from "../support/scrape-metrics.ts";

// The counters move as the work happens: the real service, charging the simulator over HTTP.
describe("/metrics", () => {
  let h: Harness;
  let n = 0;
  beforeAll(async () => {
    h = await startHarness({ env: { CHARGE_CONCURRENCY: "3", WEBHOOK_CONCURRENCY: "2", NOTIFICATION_CONCURRENCY: "4", LOOKUP_CONCURRENCY: "1" } });
    await h.api("PUT", "/v1/plans/monthly", samplePlan);
  });
  afterAll(async () => {
    await h?.close();
  });

  const scrape = () => scrapeMetrics(h.service.app!);
  /** How much a series moved between two scrapes (an absent series counts 0). */
  const moved = (before: Scrape, after: Scrape, name: string, labels?: Record<string, string>) => (after.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0);
  const post = (path: string, body: unknown) => h.service.app!.inject({ method: "POST", url: path, headers: { authorization: `Bearer ${API_KEY}`, "idempotency-key": randomUUID() }, payload: body as object });
  const latestInvoice = async (subscriptionId: string, status: string) =>
    eventually(async () => {
      const [latest] = (await h.api("GET", `/v1/subscriptions/${subscriptionId}/invoices`)).json().data;
      return latest?.attempts.length > 0 && (status === "any" || latest.status === status) && latest;
    }, 20_000, `the first invoice ${status}`);

  it("shows every known series at zero, and the standard process metrics", async () => {
    const first = await scrape();
    for (const [name, labels] of [
      ["billing_charges_total", { outcome: "declined", code: "T0002" }],
      ["billing_charges_total", { outcome: "refused", code: "K0001" }],
      ["billing_charges_total", { outcome: "unknown", code: "gateway_timeout" }],
      ["billing_refunds_total", { cause: "double_charge", outcome: "failed" }],
      ["billing_double_charges_refunded_total", {}],
      ["billing_reconciliation_differences_total", { kind: "crm_refund" }],
      ["billing_dunning_steps_total", { action: "final" }],
      ["billing_notices_total", { kind: "final_notice", outcome: "failed" }],
      ["billing_platform_event_deliveries_total", { type: "invoice.refunded", outcome: "failed" }],
      ["billing_oen_request_duration_seconds_count", { endpoint: "POST /refunds/:transactionHid", result: "timeout" }],
      ["billing_webhook_acceptance_seconds_count", { status: "503" }],
      ["billing_webhooks_unstored_total", { purpose: "unknown", outcome: "refused", reason: "source_not_allowed" }],
      ["billing_webhooks_unstored_total", { purpose: "token", outcome: "rejected", reason: "checkout_expired" }],
      ["billing_webhooks_unstored_total", { purpose: "refund", outcome: "ignored", reason: "purpose_not_acted_on" }],
      ["billing_subscriptions", { status: "past_due" }],
      ["billing_platform_events", { status: "failed" }],
      ["billing_invoices_needing_attention", {}],
    ] as const) {
      expect(first.value(name, labels), `${name} ${JSON.stringify(labels)}`).toBeTypeOf("number");
    }
    for (const name of ["process_cpu_user_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes"]) expect(first.value(name), name).toBeTypeOf("number");
    expect(first.text).not.toContain("billing_process_");
  });

  it("counts a paid charge, its webhook, Oen's latency, and a refund", async () => {
    const before = await scrape();
    const { id } = await subscribeWithCard(h, "monthly", `cus_${n++}`);
    const invoice = await latestInvoice(id, "paid");
    const refund = await post(`/v1/invoices/${invoice.id}/refunds`, { amount: 100 });
    expect(refund.statusCode, refund.body).toBe(201);
    const after = await scrape();
    expect(moved(before, after, "billing_charges_total", { outcome: "succeeded", code: "none" })).toBe(1);
    expect(moved(before, after, "billing_webhooks_total", { outcome: "accepted" })).toBe(1);
    expect(moved(before, after, "billing_webhook_acceptance_seconds_count", { status: "200" })).toBeGreaterThanOrEqual(1);
    expect(moved(before, after, "billing_oen_request_duration_seconds_count", { endpoint: "POST /token/transactions", result: "ok" })).toBe(1);
    expect(moved(before, after, "billing_oen_request_duration_seconds_count", { endpoint: "POST /checkout-token", result: "ok" })).toBe(1);
    expect(moved(before, after, "billing_refunds_total", { cause: "requested", outcome: "succeeded" })).toBe(1);
    expect(after.value("billing_subscriptions", { status: "active" })).toBeGreaterThanOrEqual(1);
  });

  it("counts declines by code with their dunning step, and a merchant refusal as an invoice needing attention", async () => {
    const before = await scrape();
    const declined = await subscribeWithCard(h, "monthly", `cus_${n++}`, { number: "4000000000000004" });
    await latestInvoice(declined.id, "open");
    const refused = await subscribeWithCard(h, "monthly", `cus_${n++}`, { number: "4000000000000009" });
    await latestInvoice(refused.id, "open");
    const after = await eventually(async () => {
      const scraped = await scrape();
      return moved(before, scraped, "billing_charges_total", { outcome: "refused", code: "K0001" }) === 1 && moved(before, scraped, "billing_dunning_steps_total", { action: "retry" }) === 1 && scraped;
    });
    expect(moved(before, after, "billing_charges_total", { outcome: "declined", code: "T0004" })).toBe(1);
    expect(moved(before, after, "billing_charges_total", { outcome: "declined", code: "T0002" })).toBe(0);
    expect(moved(before, after, "billing_invoices_needing_attention")).toBe(1);
    expect(after.value("billing_subscriptions", { status: "past_due" })).toBeGreaterThanOrEqual(1);
  });

  it("counts a double charge refunded: a charge that succeeds after its subscription was terminated", async () => {
    const before = await scrape();
    // The charge is taken at once, its answer comes 2 s later: long enough to terminate meanwhile.
    h.simulator.faults.set([{ on: "charge", kind: "latency", latencyMs: 2_000, times: 1 }]);
    const { id } = await subscribeWithCard(h, "monthly", `cus_${n++}`);
    await eventually(async () => {
      const row = await h.database.db.selectFrom("charge_attempts").innerJoin("invoices", "invoices.id", "charge_attempts.invoice_id").select("charge_attempts.status").where("invoices.subscription_id", "=", id).executeTakeFirst();
      return row?.status === "sending";
    });
    expect((await post(`/v1/subscriptions/${id}/terminate`, { refund: "none" })).statusCode).toBe(200);
    const after = await eventually(async () => {
      const scraped = await scrape();
      return moved(before, scraped, "billing_double_charges_refunded_total") === 1 && scraped;
    });
    expect(moved(before, after, "billing_refunds_total", { cause: "double_charge", outcome: "succeeded" })).toBe(1);
  });

  it("runs each worker at the concurrency the environment asks for", () => {
    const byQueue = Object.fromEntries(h.service.workers.map((w) => [w.name, w.concurrency]));
    // The charge worker runs a few jobs for each of its places at Oen (CHARGE_CONCURRENCY, charge-rate.test.ts), the fewest before any answer.
    expect(byQueue).toMatchObject({ charges: 3 * FEWEST_JOBS_PER_PLACE, "oen-webhooks": 2, notifications: 4, "oen-lookups": 1 });
  });
});
