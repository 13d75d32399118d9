import { sql, type Kysely } from "kysely";
import type { Database, Invoice } from "../db/database.ts";

/**
 * The invoice transition for money given back of its own charge: adds `amount` to
 * `amount_refunded` of a paid invoice, never past the invoice's amount (a guarded UPDATE, and a
 * check constraint behind it). Returns the updated invoice, or undefined when the guard refused
 * (not paid, or more than is left), which the caller must report: the refund happened at Oen.
 * A double charge's refund is not the invoice's money and never comes here.
 */
export async function recordRefund(tx: Kysely<Database>, invoiceId: string, amount: number): Promise<Invoice | undefined> {
  return tx
    .updateTable("invoices")
    .set((eb) => ({ amount_refunded: eb("amount_refunded", "+", amount), updated_at: sql<Date>`now()` }))
    .where("id", "=", invoiceId)
    .where("status", "=", "paid")
    .where(sql<boolean>`amount_refunded + ${amount} <= amount`)
    .returningAll()
    .executeTakeFirst();
}
