import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import type { AttemptFacts, RefundFacts } from "./compare-transactions.ts";

// What the reconciliation compares Oen's list with, read in chunks (a day may list thousands).
const CHUNK = 1_000;

const ATTEMPT_COLUMNS = ["id", "invoice_id", "order_id", "status", "amount", "oen_transaction_hid"] as const;

function toFacts(row: { id: string; invoice_id: string; order_id: string; status: AttemptFacts["status"]; amount: number; oen_transaction_hid: string | null }): AttemptFacts {
  return { id: row.id, invoiceId: row.invoice_id, orderId: row.order_id, status: row.status, amount: row.amount, oenTransactionHid: row.oen_transaction_hid };
}

/** Our attempts of these orders (each orderId is one attempt). */
export async function attemptsOfOrders(db: Kysely<Database>, orderIds: readonly string[]): Promise<AttemptFacts[]> {
  const facts: AttemptFacts[] = [];
  for (let i = 0; i < orderIds.length; i += CHUNK) {
    const rows = await db.selectFrom("charge_attempts").select(ATTEMPT_COLUMNS).where("order_id", "in", orderIds.slice(i, i + CHUNK)).execute();
    facts.push(...rows.map(toFacts));
  }
  return facts;
}

/** Our succeeded attempts sent in [start, end): each must be a transaction Oen has. */
export async function succeededAttemptsSent(db: Kysely<Database>, range: { start: Date; end: Date }): Promise<AttemptFacts[]> {
  // created_at is Postgres' wall clock when the attempt was committed, just before the request left; Oen dates it on arrival.
  const rows = await db
    .selectFrom("charge_attempts")
    .select(ATTEMPT_COLUMNS)
    .where("status", "=", "succeeded")
    .where("created_at", ">=", range.start)
    .where("created_at", "<", range.end)
    .execute();
  return rows.map(toFacts);
}

/** Our refunds not proven failed of these transactions (one at most each: Oen refunds once). */
export async function liveRefundsOf(db: Kysely<Database>, transactionHids: readonly string[]): Promise<RefundFacts[]> {
  const facts: RefundFacts[] = [];
  for (let i = 0; i < transactionHids.length; i += CHUNK) {
    const rows = await db
      .selectFrom("refunds")
      .select(["id", "oen_transaction_hid", "amount", "status", "cause"])
      .where("oen_transaction_hid", "in", transactionHids.slice(i, i + CHUNK))
      .where("status", "<>", "failed")
      .execute();
    for (const row of rows) {
      if (row.status === "failed") continue;
      facts.push({ id: row.id, oenTransactionHid: row.oen_transaction_hid, amount: row.amount, status: row.status, cause: row.cause });
    }
  }
  return facts;
}
