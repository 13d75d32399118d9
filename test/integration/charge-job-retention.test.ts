import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flakyCardNumber } from "../../src/oen/simulator/index.ts";
import { enqueueCharge } from "../../src/queues/enqueue.ts";
import { jobIds } from "../../src/queues/jobs.ts";
import { eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";

// Completed charge jobs are kept for Bull Board (an hour); their deterministic ids must never
// swallow the next enqueue of the same invoice state. No scheduler here: no sweep rescues it.
describe("charge jobs kept as completed", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { ROLES: "ingress,workers" } });
    await h.api("PUT", "/v1/plans/monthly", samplePlan);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("are named and described for ops: invoice, cycle, attempt, and the outcome as their result", async () => {
    const { id } = await subscribeWithCard(h, "monthly", "cus_named");
    const invoice = await eventually(async () => {
      const [latest] = (await h.api("GET", `/v1/subscriptions/${id}/invoices`)).json().data;
      return latest?.status === "paid" && latest;
    });
    const job = await eventually(async () => {
      const kept = await h.service.deps.queues.charges.getJob(jobIds.charge(invoice.id, 0));
      return kept?.returnvalue !== undefined && kept?.returnvalue !== null && kept;
    });
    expect(job.name).toBe(`charge ${invoice.id} cycle 1 attempt 1`);
    expect(job.data).toEqual({ invoiceId: invoice.id, cycle: 1, attempt: 1 });
    expect(job.returnvalue).toBe(`succeeded: order ${invoice.id}-1, invoice paid`);
  });

  it("never block a due invoice: an invoice whose job found no card is charged when a card is back", async () => {
    // Declined once (retry in a day), then the card is gone when that retry is run.
    const { id } = await subscribeWithCard(h, "monthly", "cus_kept", { number: flakyCardNumber("T0004", 1) });
    const db = h.database.db;
    const invoice = await eventually(() => db.selectFrom("invoices").selectAll().where("subscription_id", "=", id).where("attempt_count", "=", 1).where("next_attempt_at", "is not", null).executeTakeFirst());
    await db.updateTable("payment_tokens").set({ status: "inactive" }).where("subscription_id", "=", id).execute();
    await db.updateTable("invoices").set({ next_attempt_at: new Date() }).where("id", "=", invoice.id).execute();
    await enqueueCharge(h.service.deps, invoice);
    const kept = await eventually(async () => {
      const job = await h.service.deps.queues.charges.getJob(jobIds.charge(invoice.id, 1));
      return job?.returnvalue === "no card on file" && job;
    });
    expect(await kept.getState()).toBe("completed");

    // A card again (what a card update does), due now: the same job id, run again.
    await db.updateTable("payment_tokens").set({ status: "active" }).where("subscription_id", "=", id).execute();
    const due = await db.updateTable("invoices").set({ next_attempt_at: new Date() }).where("id", "=", invoice.id).returningAll().executeTakeFirstOrThrow();
    await enqueueCharge(h.service.deps, due);
    const paid = await eventually(() => db.selectFrom("invoices").selectAll().where("id", "=", invoice.id).where("status", "=", "paid").executeTakeFirst(), 15_000, "the invoice paid");
    expect(paid.attempt_count).toBe(2);
  });
});
