import { sql, type Kysely } from "kysely";

// Frozen in time: this file never imports application code.

// Rows past their retention are deleted by the sweep in bounded batches, each an index scan.
export async function up(db: Kysely<any>): Promise<void> {
  // When delivery was given up: a failed event is kept the retention after that, so it can be redelivered.
  await db.schema.alterTable("platform_events").addColumn("failed_at", "timestamptz").execute();
  await sql`
    update platform_events e set failed_at = coalesce((select max(a.at) from platform_event_attempts a where a.event_id = e.id), e.created_at)
    where status = 'failed'`.execute(db);
  await sql`create index platform_events_delivered on platform_events (delivered_at) where status = 'delivered'`.execute(db);
  await sql`create index platform_events_failed on platform_events (failed_at) where status = 'failed'`.execute(db);
  // (Pending events without a receiver are found by platform_events_pending, on created_at.)
  await db.schema.createIndex("audit_log_at").on("audit_log").column("at").execute();
  await db.schema.createIndex("idempotency_keys_created").on("idempotency_keys").column("created_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("idempotency_keys_created").execute();
  await db.schema.dropIndex("audit_log_at").execute();
  await sql`drop index platform_events_failed`.execute(db);
  await sql`drop index platform_events_delivered`.execute(db);
  await db.schema.alterTable("platform_events").dropColumn("failed_at").execute();
}
