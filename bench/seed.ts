import { sql } from "kysely";
import type { Db } from "../src/db/connect.ts";
import type { SealedToken, TokenRow } from "../src/vault/token-cipher.ts";

// Seeds in SQL (a million rows in seconds), in the shapes the service's own code writes.

const PLAN = { id: "bench", name: "Bench", amount: 100, interval: "month", interval_count: 1, product_code: "B", description: "Bench plan", unit: "月" } as const;

/** The benchmarks' one plan and customer. */
export async function seedPlanAndCustomer(db: Db): Promise<void> {
  await db.insertInto("plans").values(PLAN).onConflict((oc) => oc.doNothing()).execute();
  await db.insertInto("customers").values({ id: "bench", name: "Bench", email: "bench@example.com" }).onConflict((oc) => oc.doNothing()).execute();
}

/**
 * `count` active subscriptions sub_<first>… in the middle of their first period; every
 * `dueEvery`-th one (scattered through the table, as renewals are) ended its period a minute
 * ago. Returns how many are due.
 */
export async function seedSubscriptions(db: Db, input: { first: number; count: number; dueEvery: number | null }): Promise<number> {
  const last = input.first + input.count - 1;
  const every = input.dueEvery ?? 0;
  await sql`
    insert into subscriptions (id, customer_id, plan_id, status, success_url, failure_url, billing_anchor, current_cycle,
                               current_period_start, current_period_end, next_renewal_at)
    select 'sub_' || g, 'bench', 'bench', 'active', 'https://x', 'https://x', p.anchor, 1, p.anchor, p.anchor + interval '1 month', p.anchor + interval '1 month'
    from generate_series(${input.first}::int, ${last}::int) g,
         lateral (select case when ${every}::int > 0 and g % ${every}::int = 0 then now() - interval '1 month 1 minute'
                              else now() - interval '20 days' end as anchor) p`.execute(db);
  return every > 0 ? Math.floor(last / every) - Math.floor((input.first - 1) / every) : 0;
}

/**
 * `count` subscriptions that renewed into cycle 2 a moment ago, each with a card (the
 * simulator's token, sealed for its own row as the service stores it) and an open renewal
 * invoice due now, as the sweep leaves them. Returns the invoice ids.
 */
export async function seedDueInvoices(db: Db, input: { first: number; count: number; seal: (row: TokenRow) => SealedToken }): Promise<string[]> {
  const last = input.first + input.count - 1;
  const range = sql`generate_series(${input.first}::int, ${last}::int) g`;
  await sql`
    insert into subscriptions (id, customer_id, plan_id, status, success_url, failure_url, billing_anchor, current_cycle,
                               current_period_start, current_period_end, next_renewal_at)
    select 'sub_' || g, 'bench', 'bench', 'active', 'https://x', 'https://x', now() - interval '1 month', 2, now(), now() + interval '1 month', now() + interval '1 month'
    from ${range}`.execute(db);
  await sql`insert into checkout_sessions (id, subscription_id, purpose, custom_id, status, expires_at, completed_at)
            select 'cs_' || g, 'sub_' || g, 'subscribe', 'sub_' || g || '.subscribe', 'completed', now(), now() from ${range}`.execute(db);
  for (let from = input.first; from <= last; from += 1_000) {
    const rows = Array.from({ length: Math.min(1_000, last - from + 1) }, (_, i) => {
      const row = { id: `pm_${from + i}`, subscription_id: `sub_${from + i}`, checkout_session_id: `cs_${from + i}` };
      const sealed = input.seal(row);
      return { ...row, key_id: sealed.keyId, ciphertext: sealed.ciphertext, last4: "4242", status: "active" as const };
    });
    await db.insertInto("payment_tokens").values(rows).execute();
  }
  const details = JSON.stringify([{ productionCode: PLAN.product_code, description: PLAN.description, quantity: 1, unit: PLAN.unit, unitPrice: PLAN.amount }]);
  const { rows } = await sql<{ id: string }>`
    insert into invoices (id, subscription_id, cycle, status, amount, product_details, period_start, period_end, next_attempt_at)
    select 'in_' || g, 'sub_' || g, 2, 'open', ${PLAN.amount}, ${details}::jsonb, now(), now() + interval '1 month', now() - interval '1 second'
    from ${range}
    returning id`.execute(db);
  // Vacuumed now, so that autovacuum does not clean up after the seed while charges are measured.
  await sql`vacuum analyze`.execute(db);
  return rows.map((r) => r.id);
}
