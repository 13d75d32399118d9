import { sql } from "kysely";
import type { Clock } from "./clock.ts";
import type { Db } from "./db/connect.ts";

export interface TestClock extends Clock {
  /** Moves now forward for every process sharing the database; returns the new now. */
  advance(byMs: number): Promise<Date>;
  stop(): void;
}

const REFRESH_MS = 250;

/**
 * The sandbox test clock (BILLING_TEST_CLOCK=1, refused against production):
 * real time plus an offset kept in Postgres, so every process agrees, each
 * re-reading it every quarter second.
 */
export async function startTestClock(db: Db): Promise<TestClock> {
  let offsetMs = 0;
  const refresh = async () => {
    const row = await db.selectFrom("test_clock").select("offset_ms").where("id", "=", 1).executeTakeFirst();
    offsetMs = row === undefined ? 0 : Number(row.offset_ms);
  };
  await refresh();
  const timer = setInterval(() => refresh().catch(() => {}), REFRESH_MS);
  timer.unref();
  return {
    now: () => new Date(Date.now() + offsetMs),
    async advance(byMs: number) {
      if (!Number.isFinite(byMs) || byMs <= 0) throw new RangeError("the test clock only moves forward");
      const row = await db
        .insertInto("test_clock")
        .values({ id: 1, offset_ms: byMs })
        .onConflict((oc) => oc.column("id").doUpdateSet({ offset_ms: sql`test_clock.offset_ms + ${byMs}`, updated_at: new Date() }))
        .returning("offset_ms")
        .executeTakeFirstOrThrow();
      offsetMs = Number(row.offset_ms);
      return new Date(Date.now() + offsetMs);
    },
    stop: () => clearInterval(timer),
  };
}
