import { sql, type Kysely } from "kysely";

// Frozen in time: this file never imports application code.

export async function up(db: Kysely<any>): Promise<void> {
  // Every delivery attempt of a platform event, as GET /v1/events shows it: when, what the
  // platform answered (or why nothing came back), and how long it took.
  await db.schema
    .createTable("platform_event_attempts")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("event_id", "text", (c) => c.notNull().references("platform_events.id").onDelete("cascade"))
    .addColumn("at", "timestamptz", (c) => c.notNull())
    .addColumn("status_code", "integer")
    .addColumn("error", "text")
    .addColumn("latency_ms", "integer", (c) => c.notNull())
    .execute();
  await sql`create index platform_event_attempts_event on platform_event_attempts (event_id, at)`.execute(db);
  // GET /v1/events pages newest first, optionally for one subscription.
  await sql`create index platform_events_listing on platform_events (created_at desc, id desc)`.execute(db);
  await sql`create index platform_events_subscription on platform_events ((data ->> 'subscriptionId'), created_at desc, id desc)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index platform_events_subscription`.execute(db);
  await sql`drop index platform_events_listing`.execute(db);
  await db.schema.dropTable("platform_event_attempts").execute();
}
