import { sql, type Kysely } from "kysely";

// Frozen in time: this file never imports application code.

// Every statement of an idle sweep is an index scan, however long the history grows.
export async function up(db: Kysely<any>): Promise<void> {
  // Subscriptions still waiting for their first card (expireIncomplete).
  await sql`create index subscriptions_incomplete on subscriptions (created_at) where status = 'incomplete'`.execute(db);
  // Applied webhooks past their retention (the inbox cleanup).
  await sql`create index webhook_inbox_processed on webhook_inbox (processed_at) where processed_at is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index webhook_inbox_processed`.execute(db);
  await sql`drop index subscriptions_incomplete`.execute(db);
}
