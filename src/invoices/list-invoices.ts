import type { Db } from "../db/connect.ts";
import { invoiceSummary } from "../subscriptions/subscription-view.ts";

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/** A subscription's invoices, newest first, each with its charge attempts in order. */
export async function listInvoices(db: Db, subscriptionId: string) {
  // One snapshot, so that an invoice and its attempts agree.
  const { invoices, attempts } = await db
    .transaction()
    .setIsolationLevel("repeatable read")
    .setAccessMode("read only")
    .execute(async (tx) => {
      const invoices = await tx.selectFrom("invoices").selectAll().where("subscription_id", "=", subscriptionId).orderBy("cycle", "desc").execute();
      const attempts =
        invoices.length === 0
          ? []
          : await tx
              .selectFrom("charge_attempts")
              .selectAll()
              .where("invoice_id", "in", invoices.map((i) => i.id))
              .orderBy("attempt_no")
              .execute();
      return { invoices, attempts };
    });
  return invoices.map((invoice) => ({
    ...invoiceSummary(invoice),
    attempts: attempts
      .filter((a) => a.invoice_id === invoice.id)
      .map((a) => ({
        attemptNo: a.attempt_no,
        orderId: a.order_id,
        amount: a.amount,
        outcome: a.status,
        code: a.code,
        message: a.message,
        oenTransactionId: a.oen_transaction_hid,
        createdAt: a.created_at.toISOString(),
        resolvedAt: iso(a.resolved_at),
      })),
  }));
}
