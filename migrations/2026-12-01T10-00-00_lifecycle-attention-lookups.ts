import { sql, type Kysely } from "kysely";

// Frozen in time: this file never imports application code.

export async function up(db: Kysely<any>): Promise<void> {
  // An invoice Oen refused to charge for reasons that are ours, not the customer's
  // (configuration, K0001 risk limits): held for ops, retried slowly, never dunned.
  await db.schema.alterTable("invoices").addColumn("attention_code", "text").addColumn("attention_since", "timestamptz").execute();
  await sql`create index invoices_needing_attention on invoices (attention_since) where status = 'open' and attention_code is not null`.execute(db);
  // When the next order lookup of an unknown attempt is due: one resolve job per attempt, with its own backoff.
  await db.schema.alterTable("charge_attempts").addColumn("next_lookup_at", "timestamptz").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("charge_attempts").dropColumn("next_lookup_at").execute();
  await db.schema.dropIndex("invoices_needing_attention").execute();
  await db.schema.alterTable("invoices").dropColumn("attention_code").dropColumn("attention_since").execute();
}
