import type { Transaction } from "kysely";
import type { ChargeAttempt, Database, Invoice } from "../db/database.ts";
import type { Deps } from "../deps.ts";

/** What a declined attempt means for its invoice and subscription. */
export async function applyDecline(
  _deps: Pick<Deps, "clock" | "config" | "logger">,
  tx: Transaction<Database>,
  invoice: Invoice,
  _attempt: ChargeAttempt,
  now: Date,
): Promise<Invoice> {
  await tx.updateTable("subscriptions").set({ status: "past_due", updated_at: now }).where("id", "=", invoice.subscription_id).where("status", "=", "active").execute();
  return tx
    .updateTable("invoices")
    .set({ next_attempt_at: null, first_failed_at: invoice.first_failed_at ?? now, updated_at: now })
    .where("id", "=", invoice.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}
