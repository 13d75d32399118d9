import { sql, type Kysely } from "kysely";

// Frozen in time: this file never imports application code.

export async function up(db: Kysely<any>): Promise<void> {
  // Every token webhook is now kept here as well as queued, until its worker has applied it:
  // the queue can lose it (a Redis flush), this copy cannot.
  await db.schema.alterTable("webhook_inbox").addColumn("processed_at", "timestamptz").execute();
  await sql`drop index webhook_inbox_pending`.execute(db);
  await sql`create index webhook_inbox_unprocessed on webhook_inbox (id) where processed_at is null`.execute(db);
  await db.schema.createIndex("webhook_inbox_job").on("webhook_inbox").column("job_id").execute();
  // Attempt times on the billing clock (the test clock in a sandbox), for the card's attempt budget.
  await db.schema.alterTable("charge_attempts").addColumn("clock_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`)).execute();
  await db.schema.createIndex("charge_attempts_token_clock").on("charge_attempts").columns(["payment_token_id", "clock_at"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("charge_attempts_token_clock").execute();
  await db.schema.alterTable("charge_attempts").dropColumn("clock_at").execute();
  await db.schema.dropIndex("webhook_inbox_job").execute();
  await sql`drop index webhook_inbox_unprocessed`.execute(db);
  await sql`create index webhook_inbox_pending on webhook_inbox (id) where relayed_at is null`.execute(db);
  await db.schema.alterTable("webhook_inbox").dropColumn("processed_at").execute();
}
