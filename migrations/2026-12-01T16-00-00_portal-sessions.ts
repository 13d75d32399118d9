import { sql, type Kysely } from "kysely";

// Frozen in time: this file never imports application code.

// Customer portal sessions: the browser's cookie holds a random id, this table
// only its SHA-256, so a leaked table (or backup) opens no session.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("portal_sessions")
    .addColumn("id_hash", "text", (c) => c.primaryKey())
    .addColumn("customer_id", "text", (c) => c.notNull().references("customers.id"))
    .addColumn("locale", "text", (c) => c.notNull())
    .addColumn("return_url", "text")
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index portal_sessions_expiry on portal_sessions (expires_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("portal_sessions").execute();
}
