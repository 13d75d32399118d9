import { sql, type Kysely } from "kysely";

// Frozen in time: this file never imports application code.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("plans")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("amount", "integer", (c) => c.notNull().check(sql`amount >= 1`))
    .addColumn("interval", "text", (c) => c.notNull().check(sql`interval in ('day', 'week', 'month', 'year')`))
    .addColumn("interval_count", "integer", (c) => c.notNull().check(sql`interval_count >= 1`))
    .addColumn("product_code", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("unit", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("customers")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("email", "text", (c) => c.notNull())
    .addColumn("locale", "text", (c) => c.notNull().defaultTo("zh-TW"))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("subscriptions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("customer_id", "text", (c) => c.notNull().references("customers.id"))
    .addColumn("plan_id", "text", (c) => c.notNull().references("plans.id"))
    .addColumn("status", "text", (c) =>
      c.notNull().check(sql`status in ('incomplete', 'incomplete_expired', 'active', 'past_due', 'unpaid', 'canceled')`),
    )
    .addColumn("success_url", "text", (c) => c.notNull())
    .addColumn("failure_url", "text", (c) => c.notNull())
    // Periods are computed from the anchor and the cycle number, never from the previous period.
    .addColumn("billing_anchor", "timestamptz")
    .addColumn("current_cycle", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("current_period_start", "timestamptz")
    .addColumn("current_period_end", "timestamptz")
    .addColumn("cancel_at_period_end", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("canceled_at", "timestamptz")
    .addColumn("ended_at", "timestamptz")
    // When the next invoice is due to be created; null when nothing is scheduled.
    .addColumn("next_renewal_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index subscriptions_due on subscriptions (next_renewal_at) where next_renewal_at is not null`.execute(db);
  await db.schema.createIndex("subscriptions_customer").on("subscriptions").column("customer_id").execute();

  await db.schema
    .createTable("checkout_sessions")
    .addColumn("id", "text", (c) => c.primaryKey()) // Oen's checkout-token id
    .addColumn("subscription_id", "text", (c) => c.notNull().references("subscriptions.id"))
    .addColumn("purpose", "text", (c) => c.notNull().check(sql`purpose in ('subscribe', 'update_card')`))
    .addColumn("custom_id", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('open', 'completed', 'failed')`))
    .addColumn("failure_message", "text")
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("completed_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("checkout_sessions_subscription").on("checkout_sessions").column("subscription_id").execute();

  await db.schema
    .createTable("payment_tokens")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("subscription_id", "text", (c) => c.notNull().references("subscriptions.id"))
    .addColumn("checkout_session_id", "text", (c) => c.notNull().unique().references("checkout_sessions.id"))
    .addColumn("key_id", "text", (c) => c.notNull())
    .addColumn("ciphertext", "text", (c) => c.notNull())
    .addColumn("last4", "text")
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('active', 'inactive')`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("deactivated_at", "timestamptz")
    .execute();
  await sql`create unique index payment_tokens_one_active on payment_tokens (subscription_id) where status = 'active'`.execute(db);

  await db.schema
    .createTable("invoices")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("subscription_id", "text", (c) => c.notNull().references("subscriptions.id"))
    .addColumn("cycle", "integer", (c) => c.notNull().check(sql`cycle >= 1`))
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('open', 'paid', 'uncollectible', 'void')`))
    .addColumn("amount", "integer", (c) => c.notNull().check(sql`amount >= 1`))
    .addColumn("currency", "text", (c) => c.notNull().defaultTo("TWD"))
    .addColumn("product_details", "jsonb", (c) => c.notNull())
    .addColumn("period_start", "timestamptz", (c) => c.notNull())
    .addColumn("period_end", "timestamptz", (c) => c.notNull())
    // When the next charge attempt may be made; null while none is scheduled.
    .addColumn("next_attempt_at", "timestamptz")
    .addColumn("attempt_count", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("first_failed_at", "timestamptz")
    .addColumn("paid_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    // Invariant 1: one invoice per subscription period.
    .addUniqueConstraint("invoices_one_per_cycle", ["subscription_id", "cycle"])
    .execute();
  await sql`create index invoices_collectable on invoices (next_attempt_at) where status = 'open' and next_attempt_at is not null`.execute(db);

  await db.schema
    .createTable("charge_attempts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("invoice_id", "text", (c) => c.notNull().references("invoices.id"))
    .addColumn("attempt_no", "integer", (c) => c.notNull())
    .addColumn("order_id", "text", (c) => c.notNull().unique())
    .addColumn("payment_token_id", "text", (c) => c.notNull().references("payment_tokens.id"))
    .addColumn("amount", "integer", (c) => c.notNull())
    .addColumn("status", "text", (c) =>
      c.notNull().check(sql`status in ('sending', 'succeeded', 'declined', 'unknown', 'not_found', 'failed')`),
    )
    .addColumn("code", "text") // Oen's decline / error code, or the unknown reason
    .addColumn("message", "text")
    .addColumn("oen_transaction_hid", "text")
    .addColumn("auth_code", "text")
    .addColumn("lookup_count", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_lookup_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("resolved_at", "timestamptz")
    .addUniqueConstraint("charge_attempts_number", ["invoice_id", "attempt_no"])
    .execute();
  // Invariant 1: while an attempt may have reached Oen, no other attempt on the invoice can start.
  await sql`create unique index charge_attempts_one_in_flight on charge_attempts (invoice_id) where status in ('sending', 'unknown')`.execute(
    db,
  );
  await sql`create index charge_attempts_unresolved on charge_attempts (created_at) where status in ('sending', 'unknown')`.execute(db);
  await db.schema.createIndex("charge_attempts_token").on("charge_attempts").columns(["payment_token_id", "created_at"]).execute();

  await db.schema
    .createTable("audit_log")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("subscription_id", "text")
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("detail", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await db.schema.createIndex("audit_log_subscription").on("audit_log").columns(["subscription_id", "at"]).execute();

  // Every webhook Oen (or anyone) delivered, with what we made of it; the token is never stored here.
  await db.schema
    .createTable("oen_webhook_events")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("received_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("purpose", "text", (c) => c.notNull())
    .addColumn("oen_id", "text")
    .addColumn("outcome", "text", (c) => c.notNull().check(sql`outcome in ('accepted', 'duplicate', 'rejected', 'binding_failed', 'ignored')`))
    .addColumn("reason", "text")
    .addColumn("body", "jsonb", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("oen_webhook_events_oen_id").on("oen_webhook_events").column("oen_id").execute();

  // Webhooks accepted while Redis was unreachable (invariant 2); relayed to the queue later.
  await db.schema
    .createTable("webhook_inbox")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("job_id", "text", (c) => c.notNull())
    .addColumn("payload", "jsonb", (c) => c.notNull())
    .addColumn("received_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("relayed_at", "timestamptz")
    .execute();
  await sql`create index webhook_inbox_pending on webhook_inbox (id) where relayed_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    "webhook_inbox",
    "oen_webhook_events",
    "audit_log",
    "charge_attempts",
    "invoices",
    "payment_tokens",
    "checkout_sessions",
    "subscriptions",
    "customers",
    "plans",
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
