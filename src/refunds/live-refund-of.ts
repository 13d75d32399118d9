import type { Kysely } from "kysely";
import type { Database, Refund } from "../db/database.ts";

/** The refund (pending, unknown or succeeded) that stands for a transaction, if any: Oen refunds once. */
export async function liveRefundOf(db: Kysely<Database>, oenTransactionHid: string): Promise<Refund | undefined> {
  return db.selectFrom("refunds").selectAll().where("oen_transaction_hid", "=", oenTransactionHid).where("status", "<>", "failed").executeTakeFirst();
}
