import type { Kysely } from "kysely";
import type { Database, Invoice, Plan } from "../db/database.ts";
import { newId } from "../ids.ts";

/**
 * Creates the invoice for one cycle, collectable at `dueAt`. Returns undefined
 * when that cycle already has one: the unique (subscription, cycle) key is
 * what makes a period billable only once, however many sweeps race.
 */
export async function createInvoiceForCycle(
  db: Kysely<Database>,
  input: { subscriptionId: string; plan: Plan; cycle: number; periodStart: Date; periodEnd: Date; dueAt: Date; now: Date },
): Promise<Invoice | undefined> {
  const { plan } = input;
  return db
    .insertInto("invoices")
    .values({
      id: newId("in"),
      subscription_id: input.subscriptionId,
      cycle: input.cycle,
      status: "open",
      amount: plan.amount,
      product_details: JSON.stringify([
        { productionCode: plan.product_code, description: plan.description, quantity: 1, unit: plan.unit, unitPrice: plan.amount },
      ]),
      period_start: input.periodStart,
      period_end: input.periodEnd,
      next_attempt_at: input.dueAt,
      first_failed_at: null,
      paid_at: null,
      created_at: input.now,
    })
    .onConflict((oc) => oc.constraint("invoices_one_per_cycle").doNothing())
    .returningAll()
    .executeTakeFirst();
}
