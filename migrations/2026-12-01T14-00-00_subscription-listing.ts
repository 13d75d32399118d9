import { sql, type Kysely } from "kysely";

// Frozen in time: this file never imports application code.

// GET /v1/subscriptions pages newest first by (created_at, id), optionally for one customer:
// both orders come straight from an index. The customer one supersedes the plain customer_id index.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index subscriptions_listing on subscriptions (created_at, id)`.execute(db);
  await sql`create index subscriptions_customer_listing on subscriptions (customer_id, created_at, id)`.execute(db);
  await sql`drop index subscriptions_customer`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create index subscriptions_customer on subscriptions (customer_id)`.execute(db);
  await sql`drop index subscriptions_customer_listing`.execute(db);
  await sql`drop index subscriptions_listing`.execute(db);
}
