import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, samplePlan, sampleSubscription, startHarness, type Harness } from "../support/harness.ts";
import { startServiceProcess, type ServiceProcess } from "../support/service-process.ts";
import { checkoutIdOf } from "../support/webhook-capture.ts";

// Invariant 1 against a real crash: the worker process is SIGKILLed after its
// charge request reached Oen and before it heard the answer.
describe("SIGKILL of a worker in the middle of a charge", () => {
  let h: Harness;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    h = await startHarness({ env: { ROLES: "ingress,scheduler", RENEWAL_SWEEP_INTERVAL: "1s", OEN_REQUEST_TIMEOUT: "3s" } });
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill("SIGKILL")));
    await h?.close();
  });

  it("leaves exactly one successful transaction for the period after a restart", async () => {
    const first = await startServiceProcess({ ...h.env, ROLES: "workers" });
    processes.push(first);
    await h.api("PUT", "/v1/plans/crash", samplePlan);
    const subscription = (await h.api("POST", "/v1/subscriptions", sampleSubscription("crash"))).json();
    // The charge is recorded by Oen at once, but the answer takes 10 s: long enough to kill the worker.
    h.simulator.faults.set([{ on: "charge", kind: "latency", latencyMs: 10_000, times: 1 }]);
    h.simulator.bindCard(checkoutIdOf(subscription.checkoutUrl), { cardNumber: "4242424242424242", expiry: "12/39", cvc: "123", email: "ming@example.com" });

    await eventually(async () => h.simulator.ledger.all().length === 1, 20_000, "the charge to reach Oen");
    await first.kill("SIGKILL");
    const attempt = await h.database.db.selectFrom("charge_attempts").selectAll().executeTakeFirstOrThrow();
    expect(attempt.status).toBe("sending");

    processes.push(await startServiceProcess({ ...h.env, ROLES: "workers" }));
    const paid = await eventually(async () => {
      const view = (await h.api("GET", `/v1/subscriptions/${subscription.id}`)).json();
      return view.latestInvoice?.status === "paid" && view;
    }, 40_000, "the invoice to be paid after the restart");
    expect(paid.status).toBe("active");

    const invoiceId = paid.latestInvoice.id;
    expect(h.simulator.ledger.successfulCharges(invoiceId)).toHaveLength(1);
    expect(h.simulator.ledger.all()).toHaveLength(1);
    const attempts = await h.database.db.selectFrom("charge_attempts").selectAll().where("invoice_id", "=", invoiceId).execute();
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ status: "succeeded", oen_transaction_hid: h.simulator.ledger.all()[0]!.id });
  });
});
