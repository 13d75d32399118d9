import { sql, type Kysely } from "kysely";
import type { Database } from "../db/database.ts";

/**
 * Claims a notice or a platform event, already locked by the caller, for one
 * delivery run until `leaseMs` from now (wall clock, whole milliseconds: the
 * time is the claim's token); undefined when another run's claim still holds.
 * The caller commits it before SMTP or HTTP is called, so no transaction
 * stays open during the call.
 */
export async function claimDelivery(db: Kysely<Database>, table: "notices" | "platform_events", id: string, leaseMs: number): Promise<Date | undefined> {
  const row = await db
    .updateTable(table)
    .set({ claimed_until: sql<Date>`date_trunc('milliseconds', now()) + make_interval(secs => ${leaseMs / 1000})` })
    .where("id", "=", id)
    .where((eb) => eb.or([eb("claimed_until", "is", null), eb("claimed_until", "<", sql<Date>`now()`)]))
    .returning("claimed_until")
    .executeTakeFirst();
  return row?.claimed_until ?? undefined;
}
