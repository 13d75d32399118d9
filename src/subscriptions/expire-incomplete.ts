import { sql } from "kysely";
import type { Deps } from "../deps.ts";
import { expireIncomplete } from "./subscription-transitions.ts";

// Oen reports an abandoned 3-D Secure check up to 10 minutes after it started,
// which can be after the page itself expired: wait that long before giving up.
const LATE_WEBHOOK_GRACE_MS = 15 * 60_000;

/** `incomplete` → `incomplete_expired` once no binding page of the subscription can still deliver a card. */
export async function expireIncompleteSubscriptions(deps: Pick<Deps, "db" | "clock">, limit = 1_000): Promise<string[]> {
  const now = deps.clock.now();
  const cutoff = new Date(now.getTime() - LATE_WEBHOOK_GRACE_MS);
  const stale = await deps.db
    .selectFrom("subscriptions")
    .select("id")
    .where("status", "=", "incomplete")
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom("checkout_sessions")
            .select(sql`1`.as("one"))
            .whereRef("checkout_sessions.subscription_id", "=", "subscriptions.id")
            .where((eb) => eb.or([eb("checkout_sessions.status", "=", "completed"), eb("checkout_sessions.expires_at", ">", cutoff)])),
        ),
      ),
    )
    .limit(limit)
    .execute();
  return expireIncomplete(deps.db, stale.map((row) => row.id), now);
}
