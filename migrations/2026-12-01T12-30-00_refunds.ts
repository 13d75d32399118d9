import { sql, type Kysely } from "kysely";

// Frozen in time: this file never imports application code.

export async function up(db: Kysely<any>): Promise<void> {
  // Invariant 7: a refund row is committed `pending` before its request leaves.
  await db.schema
    .createTable("refunds")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("invoice_id", "text", (c) => c.notNull().references("invoices.id"))
    // Null for a duplicate Oen transaction of one orderId: no attempt row stands for it.
    .addColumn("charge_attempt_id", "text", (c) => c.references("charge_attempts.id"))
    .addColumn("oen_transaction_hid", "text", (c) => c.notNull()) // the P-number refunded
    .addColumn("amount", "integer", (c) => c.notNull().check(sql`amount >= 1`))
    .addColumn("reason", "text")
    .addColumn("cause", "text", (c) => c.notNull().check(sql`cause in ('requested', 'terminate', 'double_charge', 'crm')`))
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('pending', 'succeeded', 'failed', 'unknown')`))
    // Set in its own commit just before the request leaves: a pending row with sent_at may have reached Oen.
    .addColumn("sent_at", "timestamptz")
    .addColumn("code", "text") // Oen's refusal code, or the unknown reason
    .addColumn("message", "text")
    .addColumn("lookup_count", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_lookup_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("resolved_at", "timestamptz")
    .execute();
  // Oen refunds a transaction once (by API or CRM): one refund that is not proven failed per transaction.
  await sql`create unique index refunds_one_per_transaction on refunds (oen_transaction_hid) where status <> 'failed'`.execute(db);
  await sql`create index refunds_unsettled on refunds (created_at) where status in ('pending', 'unknown')`.execute(db);
  await db.schema.createIndex("refunds_invoice").on("refunds").column("invoice_id").execute();

  // What was given back of the invoice's own charge (a double charge's refund is not counted).
  await db.schema
    .alterTable("invoices")
    .addColumn("amount_refunded", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`alter table invoices add constraint invoices_amount_refunded check (amount_refunded >= 0 and amount_refunded <= amount)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("invoices").dropColumn("amount_refunded").execute();
  await db.schema.dropTable("refunds").execute();
}
