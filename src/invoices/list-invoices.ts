import type { Kysely } from "kysely";
import type { Db } from "../db/connect.ts";
import type { Database, Invoice } from "../db/database.ts";
import { refundView } from "../refunds/refund-view.ts";
import { invoiceSummary } from "../subscriptions/subscription-view.ts";

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/** Invoices as the API shows them: each with its charge attempts in order and its refunds. */
async function withAttemptsAndRefunds(tx: Kysely<Database>, invoices: Invoice[]) {
  const ids = invoices.map((i) => i.id);
  const [attempts, refunds] =
    ids.length === 0
      ? [[], []]
      : await Promise.all([
          tx.selectFrom("charge_attempts").selectAll().where("invoice_id", "in", ids).orderBy("attempt_no").execute(),
          tx.selectFrom("refunds").selectAll().where("invoice_id", "in", ids).orderBy("created_at").execute(),
        ]);
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
    refunds: refunds.filter((r) => r.invoice_id === invoice.id).map(refundView),
  }));
}

// One snapshot, so that an invoice, its attempts and its refunds agree.
const snapshot = <T>(db: Db, read: (tx: Kysely<Database>) => Promise<T>) => db.transaction().setIsolationLevel("repeatable read").setAccessMode("read only").execute(read);

/** A subscription's invoices, newest first. */
export async function listInvoices(db: Db, subscriptionId: string) {
  return snapshot(db, async (tx) => withAttemptsAndRefunds(tx, await tx.selectFrom("invoices").selectAll().where("subscription_id", "=", subscriptionId).orderBy("cycle", "desc").orderBy("created_at", "desc").execute()));
}

/** GET /v1/invoices/:id, or undefined when it does not exist. */
export async function loadInvoiceView(db: Db, invoiceId: string) {
  return snapshot(db, async (tx) => (await withAttemptsAndRefunds(tx, await tx.selectFrom("invoices").selectAll().where("id", "=", invoiceId).execute()))[0]);
}
