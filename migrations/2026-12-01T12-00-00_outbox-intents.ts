import { sql, type Kysely } from "kysely";

// Frozen in time: this file never imports application code.

export async function up(db: Kysely<any>): Promise<void> {
  // A notice is written as an intent (kind, ids and the facts decided, in `data`) by the
  // transaction that decided it; the worker renders it when it sends, and keeps what it sent.
  // Rows from before keep their rendering and no data.
  await db.schema
    .alterTable("notices")
    .addColumn("data", "jsonb")
    // When the next delivery attempt is due (null: now): the sweep re-enqueues for that time.
    .addColumn("next_attempt_at", "timestamptz")
    // Why a notice was not sent because its moment had passed (status skipped).
    .addColumn("skip_reason", "text")
    .alterColumn("locale", (c) => c.dropNotNull())
    .alterColumn("to_email", (c) => c.dropNotNull())
    .alterColumn("subject", (c) => c.dropNotNull())
    .alterColumn("text_body", (c) => c.dropNotNull())
    .alterColumn("html_body", (c) => c.dropNotNull())
    .execute();
  await sql`alter table notices drop constraint notices_status_check`.execute(db);
  await sql`alter table notices add constraint notices_status_check check (status in ('pending', 'sent', 'failed', 'outbox', 'skipped'))`.execute(db);
  await sql`alter table notices add constraint notices_intent_or_rendering check (data is not null or subject is not null)`.execute(db);

  // A platform event is written as its fact (`data`); the payload sent is built at the first
  // delivery attempt and frozen, so every retry repeats the same bytes.
  await db.schema.alterTable("platform_events").addColumn("data", "jsonb").execute();
  await sql`update platform_events set data = payload -> 'data'`.execute(db);
  await db.schema
    .alterTable("platform_events")
    .alterColumn("data", (c) => c.setNotNull())
    .alterColumn("payload", (c) => c.dropNotNull())
    // Attempts in the current retry schedule; a redelivery starts a new one (attempts counts all).
    .addColumn("retry_attempts", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`update platform_events set retry_attempts = attempts`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`update platform_events set payload = jsonb_build_object('id', id, 'type', type, 'timestamp', to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'data', data) where payload is null`.execute(db);
  await db.schema.alterTable("platform_events").dropColumn("retry_attempts").dropColumn("data").alterColumn("payload", (c) => c.setNotNull()).execute();

  // Intents never rendered have no place in the old shape.
  await sql`delete from notices where subject is null`.execute(db);
  await sql`update notices set status = 'failed' where status = 'skipped'`.execute(db);
  await sql`alter table notices drop constraint notices_intent_or_rendering`.execute(db);
  await sql`alter table notices drop constraint notices_status_check`.execute(db);
  await sql`alter table notices add constraint notices_status_check check (status in ('pending', 'sent', 'failed', 'outbox'))`.execute(db);
  await db.schema
    .alterTable("notices")
    .dropColumn("data")
    .dropColumn("next_attempt_at")
    .dropColumn("skip_reason")
    .alterColumn("locale", (c) => c.setNotNull())
    .alterColumn("to_email", (c) => c.setNotNull())
    .alterColumn("subject", (c) => c.setNotNull())
    .alterColumn("text_body", (c) => c.setNotNull())
    .alterColumn("html_body", (c) => c.setNotNull())
    .execute();
}
