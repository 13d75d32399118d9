import { sql, type Kysely } from "kysely";
import type { Database, Refund } from "../db/database.ts";

/**
 * Refunds that need work, oldest first, for the sweep to enqueue again: `pending` ones not
 * sent, `unknown` ones, and `pending` ones sent more than `abandonedAfterMs` ago (their worker
 * died mid-call; pass abandonedAfterMs(config)). With the default 0 every sent one is listed
 * and processRefundJob waits out those still in flight.
 */
export async function pendingRefunds(db: Kysely<Database>, limit: number, abandonedAfterMs = 0): Promise<Refund[]> {
  return db
    .selectFrom("refunds")
    .selectAll()
    .where((eb) =>
      eb.or([
        eb("status", "=", "unknown"),
        eb.and([eb("status", "=", "pending"), eb.or([eb("sent_at", "is", null), eb("sent_at", "<=", sql<Date>`now() - make_interval(secs => ${abandonedAfterMs / 1000})`)])]),
      ]),
    )
    .orderBy("created_at")
    .limit(limit)
    .execute();
}
