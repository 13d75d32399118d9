import { sql, type Kysely } from "kysely";

// Frozen in time: this file never imports application code.

export async function up(db: Kysely<any>): Promise<void> {
  // When an invoice waiting for a new card (hard decline, card budget spent) gives up.
  await db.schema.alterTable("invoices").addColumn("dunning_deadline_at", "timestamptz").execute();
  // The latest decline (billing clock), from which the dunning timeline is previewed.
  await db.schema.alterTable("invoices").addColumn("last_failed_at", "timestamptz").execute();
  await sql`create index invoices_dunning_deadline on invoices (dunning_deadline_at) where status = 'open' and dunning_deadline_at is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("invoices_dunning_deadline").execute();
  await db.schema.alterTable("invoices").dropColumn("dunning_deadline_at").dropColumn("last_failed_at").execute();
}
