import { sql, type Kysely } from "kysely";

// Frozen in time: this file never imports application code.

export async function up(db: Kysely<any>): Promise<void> {
  // One inbox row per webhook job: Oen's repeated deliveries of one body add nothing.
  await sql`delete from webhook_inbox a using webhook_inbox b where a.job_id = b.job_id and a.id > b.id`.execute(db);
  await db.schema.dropIndex("webhook_inbox_job").execute();
  await db.schema.createIndex("webhook_inbox_job").on("webhook_inbox").column("job_id").unique().execute();
  // Applied rows and the webhook record are kept for a configured time, then deleted.
  await sql`create index webhook_inbox_applied on webhook_inbox (processed_at) where processed_at is not null`.execute(db);
  await db.schema.createIndex("oen_webhook_events_received").on("oen_webhook_events").column("received_at").execute();

  // Webhooks that stored nothing (not for a page we opened, purposes we do not act on):
  // counted per day, purpose, outcome and reason, and a bounded sample kept for ops.
  await db.schema
    .createTable("oen_webhook_tallies")
    .addColumn("day", "date", (c) => c.notNull())
    .addColumn("purpose", "text", (c) => c.notNull())
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("count", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("oen_webhook_tallies_key", ["day", "purpose", "outcome", "reason"])
    .execute();
  await db.schema
    .createTable("oen_webhook_samples")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("received_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("purpose", "text", (c) => c.notNull())
    .addColumn("oen_id", "text")
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("body", "jsonb", (c) => c.notNull())
    .execute();

  // Card tokens sealed before bindings (v1), which the sweep seals again for their rows.
  await sql`create index payment_tokens_unbound on payment_tokens (key_id, id) where ciphertext not like 'v2.%'`.execute(db);

  // A delivery run claims its notice or event for a while (committed), then talks to SMTP
  // or the platform with no transaction open, then records the outcome.
  await db.schema.alterTable("notices").addColumn("claimed_until", "timestamptz").execute();
  await db.schema.alterTable("platform_events").addColumn("claimed_until", "timestamptz").execute();

  // Each Oen page a card-update link opened, so a link opens only a few an hour.
  await db.schema
    .createTable("card_link_pages")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("link_digest", "text", (c) => c.notNull())
    .addColumn("opened_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("card_link_pages_link").on("card_link_pages").columns(["link_digest", "opened_at"]).execute();
  await db.schema.createIndex("card_link_pages_opened").on("card_link_pages").column("opened_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("card_link_pages").execute();
  await db.schema.alterTable("platform_events").dropColumn("claimed_until").execute();
  await db.schema.dropIndex("payment_tokens_unbound").execute();
  await db.schema.alterTable("notices").dropColumn("claimed_until").execute();
  await db.schema.dropTable("oen_webhook_samples").execute();
  await db.schema.dropTable("oen_webhook_tallies").execute();
  await db.schema.dropIndex("oen_webhook_events_received").execute();
  await sql`drop index webhook_inbox_applied`.execute(db);
  await db.schema.dropIndex("webhook_inbox_job").execute();
  await db.schema.createIndex("webhook_inbox_job").on("webhook_inbox").column("job_id").execute();
}
