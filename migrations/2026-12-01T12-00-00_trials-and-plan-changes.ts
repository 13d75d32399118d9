import { sql, type Kysely } from "kysely";

// Frozen in time: this file never imports application code.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("plans")
    .addColumn("trial_days", "integer", (c) => c.notNull().defaultTo(0).check(sql`trial_days between 0 and 365`))
    // Plans a customer may switch to by themselves (the portal).
    .addColumn("self_service", "boolean", (c) => c.notNull().defaultTo(false))
    .execute();

  await sql`alter table subscriptions drop constraint subscriptions_status_check`.execute(db);
  await sql`alter table subscriptions add constraint subscriptions_status_check check (status in ('incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'unpaid', 'canceled'))`.execute(db);
  await db.schema
    .alterTable("subscriptions")
    // The subscription's own trial length, overriding the plan's.
    .addColumn("trial_days", "integer", (c) => c.check(sql`trial_days between 0 and 365`))
    .addColumn("trial_start", "timestamptz")
    .addColumn("trial_end", "timestamptz")
    .addColumn("metadata", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    // A downgrade waiting for the period end.
    .addColumn("pending_plan_id", "text", (c) => c.references("plans.id"))
    .execute();
  // Trial reuse is decided per customer (and plan).
  await sql`create index subscriptions_customer_trials on subscriptions (customer_id, plan_id) where trial_start is not null`.execute(db);
  await sql`create index subscriptions_trial_end on subscriptions (trial_end) where status = 'trialing'`.execute(db);

  await db.schema.alterTable("customers").addColumn("invoice_info", "jsonb").execute();

  await db.schema
    .alterTable("invoices")
    .addColumn("kind", "text", (c) => c.notNull().defaultTo("renewal").check(sql`kind in ('renewal', 'proration')`))
    // A proration invoice pays for a switch to this plan; the switch takes effect when it is paid.
    .addColumn("plan_id", "text", (c) => c.references("plans.id"))
    .execute();
  // Invariant 1 stays: one renewal per (subscription, cycle); prorations are extra invoices of the cycle,
  // at most one open at a time per subscription.
  await sql`alter table invoices drop constraint invoices_one_per_cycle`.execute(db);
  await sql`create unique index invoices_one_per_cycle on invoices (subscription_id, cycle) where kind = 'renewal'`.execute(db);
  await sql`create unique index invoices_one_open_proration on invoices (subscription_id) where kind = 'proration' and status = 'open'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index invoices_one_open_proration`.execute(db);
  await sql`drop index invoices_one_per_cycle`.execute(db);
  await sql`alter table invoices add constraint invoices_one_per_cycle unique (subscription_id, cycle)`.execute(db);
  await db.schema.alterTable("invoices").dropColumn("kind").dropColumn("plan_id").execute();
  await db.schema.alterTable("customers").dropColumn("invoice_info").execute();
  await db.schema.alterTable("subscriptions").dropColumn("trial_days").dropColumn("trial_start").dropColumn("trial_end").dropColumn("metadata").dropColumn("pending_plan_id").execute();
  await sql`alter table subscriptions drop constraint subscriptions_status_check`.execute(db);
  await sql`alter table subscriptions add constraint subscriptions_status_check check (status in ('incomplete', 'incomplete_expired', 'active', 'past_due', 'unpaid', 'canceled'))`.execute(db);
  await db.schema.alterTable("plans").dropColumn("trial_days").dropColumn("self_service").execute();
}
