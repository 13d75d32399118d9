import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FaultPlan } from "../../src/oen/simulator/index.ts";
import { eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";
import { startServiceProcess, type ServiceProcess } from "../support/service-process.ts";

const SUBSCRIPTIONS = 200;
const WORKER_PROCESSES = 3;

// Every fault at once, at random, on 200 subscriptions charged by 3 worker
// processes racing each other, over two periods (invariants 1 and 3).
const storm: FaultPlan = [
  { on: "charge", kind: "latency", latencyMs: 400, probability: 0.2 },
  { on: "charge", kind: "latency", latencyMs: 2_500, probability: 0.03 }, // beyond our 2 s timeout
  { on: "charge", kind: "error_5xx", probability: 0.06 },
  { on: "charge", kind: "gateway_timeout_after_charge", probability: 0.06 },
  { on: "charge", kind: "c026_after_charge", probability: 0.06, settleAfterMs: 800 },
  { on: "charge", kind: "drop_after_charge", probability: 0.06 },
  { on: "charge", kind: "drop", probability: 0.04 },
  { on: "charge", kind: "gateway_timeout", probability: 0.04 },
  { on: "lookup", kind: "lookup_5xx", probability: 0.2 },
  { on: "lookup", kind: "slow_lookup", latencyMs: 300, probability: 0.2 },
  { on: "webhook", kind: "duplicate", probability: 0.3 },
  { on: "webhook", kind: "reorder", probability: 0.1, latencyMs: 300 },
];

describe(`fault storm: ${SUBSCRIPTIONS} subscriptions, ${WORKER_PROCESSES} worker processes`, () => {
  let h: Harness;
  const workers: ServiceProcess[] = [];

  beforeAll(async () => {
    h = await startHarness({
      env: { ROLES: "ingress,scheduler", BILLING_TEST_CLOCK: "1", RENEWAL_SWEEP_INTERVAL: "1s", OEN_REQUEST_TIMEOUT: "2s" },
    });
    for (let i = 0; i < WORKER_PROCESSES; i++) workers.push(await startServiceProcess({ ...h.env, ROLES: "workers" }));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill("SIGTERM")));
    await h?.close();
  });

  const paid = async (cycle: number) =>
    Number(
      (await h.database.db.selectFrom("invoices").select((eb) => eb.fn.countAll().as("n")).where("cycle", "=", cycle).where("status", "=", "paid").executeTakeFirstOrThrow()).n,
    );

  it("pays every period exactly once and leaves nothing unknown once the faults stop", { timeout: 300_000 }, async () => {
    await h.api("PUT", "/v1/plans/storm", samplePlan);
    h.simulator.faults.set(storm);
    for (let i = 0; i < SUBSCRIPTIONS; i++) {
      await subscribeWithCard(h, "storm", `cus_${i}`, { email: `s${i}@example.com` });
    }
    await eventually(async () => (await paid(1)) === SUBSCRIPTIONS, 150_000, "every first period paid");

    await h.api("POST", "/v1/test-clock/advance", { by: "32d" });
    await eventually(async () => (await paid(2)) === SUBSCRIPTIONS, 150_000, "every second period paid");

    h.simulator.faults.clear();
    await eventually(
      async () => (await h.database.db.selectFrom("charge_attempts").select("id").where("status", "in", ["sending", "unknown"]).execute()).length === 0,
      60_000,
      "no attempt left unknown",
    );

    const invoices = await h.database.db.selectFrom("invoices").select(["id", "status"]).execute();
    expect(invoices).toHaveLength(SUBSCRIPTIONS * 2);
    const overcharged = invoices.filter((invoice) => h.simulator.ledger.successfulCharges(`${invoice.id}-`).length !== 1);
    expect(overcharged).toEqual([]);
    expect(h.simulator.ledger.successfulCharges()).toHaveLength(SUBSCRIPTIONS * 2);
    // Every paid invoice points at the one Oen transaction that paid it.
    const succeeded = await h.database.db
      .selectFrom("charge_attempts")
      .select(["order_id", "oen_transaction_hid"])
      .where("status", "=", "succeeded")
      .execute();
    expect(succeeded).toHaveLength(SUBSCRIPTIONS * 2);
    for (const attempt of succeeded) expect(h.simulator.ledger.get(attempt.oen_transaction_hid!)?.orderId).toBe(attempt.order_id);
    const tokens = await h.database.db.selectFrom("payment_tokens").select(sql<number>`count(*)`.as("n")).executeTakeFirstOrThrow();
    expect(Number(tokens.n)).toBe(SUBSCRIPTIONS);
  });
});
