import type { Db } from "../db/connect.ts";
import type { Plan } from "../db/database.ts";

/** The plans a customer may switch to on their own: marked selfService by the platform, of the same cadence, not the current one. */
export async function selfServicePlans(db: Db, current: Plan): Promise<Plan[]> {
  return db
    .selectFrom("plans")
    .selectAll()
    .where("self_service", "=", true)
    .where("interval", "=", current.interval)
    .where("interval_count", "=", current.interval_count)
    .where("id", "!=", current.id)
    .orderBy("amount")
    .orderBy("id")
    .execute();
}
