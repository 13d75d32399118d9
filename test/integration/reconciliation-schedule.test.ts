import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSweep } from "../../src/renewals/run-sweep.ts";
import { eventually, startHarness, type Harness } from "../support/harness.ts";

// The daily reconciliation is a sweep step: after 02:00 in Taipei the previous day's job is
// enqueued on the renewals queue unless Postgres says it is done or under way; the renewal
// worker runs it beside the sweep.
let h: Harness;
let now = new Date("2026-09-02T01:30:00+08:00");

beforeAll(async () => {
  // The scheduler's own tick is slow here: the test sweeps by hand.
  h = await startHarness({ clock: { now: () => now }, env: { RENEWAL_SWEEP_INTERVAL: "1h" } });
});
afterAll(async () => {
  await h?.close();
});

const row = (date: string) => h.database.db.selectFrom("reconciliations").selectAll().where("date", "=", date).executeTakeFirst();
const sweep = async () => (await runSweep(h.service.deps)).reconciliationEnqueued;

describe("the daily reconciliation job", () => {
  it("reconciles the previous Taipei day once it is 02:00 there, once", async () => {
    // Before 02:00 the day before is the one due (the scheduler's first tick may have enqueued it already).
    expect(["2026-08-31", null]).toContain(await sweep());
    await eventually(async () => (await row("2026-08-31"))?.status === "completed", 20_000, "2026-08-31 reconciled");
    now = new Date("2026-09-02T02:00:00+08:00");
    expect(await sweep()).toBe("2026-09-01");
    const done = await eventually(async () => {
      const current = await row("2026-09-01");
      return current?.status === "completed" && current;
    }, 20_000, "2026-09-01 reconciled");
    expect(done).toMatchObject({ runs: 1, differences: [], error: null, event_id: null, counts: { listed: 0, pages: 1 } });
    expect(await sweep()).toBeNull();
    expect(await sweep()).toBeNull();
    expect((await row("2026-09-01"))?.runs).toBe(1);
  });

  it("a failed run is tried again a while later, not at every tick", async () => {
    now = new Date("2026-09-03T03:00:00+08:00");
    h.simulator.faults.set([{ on: "list", kind: "error_5xx" }]);
    try {
      expect(await sweep()).toBe("2026-09-02");
      await eventually(async () => (await row("2026-09-02"))?.status === "failed", 20_000, "a failed run");
      expect(await sweep()).toBeNull();
      await h.database.db.updateTable("reconciliations").set({ finished_at: sql<Date>`now() - interval '16 minutes'` }).where("date", "=", "2026-09-02").execute();
    } finally {
      h.simulator.faults.clear();
    }
    expect(await sweep()).toBe("2026-09-02");
    await eventually(async () => (await row("2026-09-02"))?.status === "completed", 20_000, "the run again");
    expect((await row("2026-09-02"))?.runs).toBe(2);
  });

  it("a run abandoned by a dead process is taken over; one under way is left alone", async () => {
    await h.database.db.updateTable("reconciliations").set({ status: "running", started_at: sql<Date>`now()` }).where("date", "=", "2026-09-02").execute();
    expect(await sweep()).toBeNull();
    await h.database.db.updateTable("reconciliations").set({ started_at: sql<Date>`now() - interval '2 hours'` }).where("date", "=", "2026-09-02").execute();
    expect(await sweep()).toBe("2026-09-02");
    await eventually(async () => (await row("2026-09-02"))?.status === "completed", 20_000, "the abandoned day reconciled");
    expect((await row("2026-09-02"))?.runs).toBe(3);
  });
});
