import { sql } from "kysely";
import type { Deps } from "../deps.ts";

export interface ServiceStatus {
  at: string;
  subscriptions: Record<string, number>;
  due: { renewals: number; invoices: number };
  unresolved: { attempts: number; oldestAttemptAt: string | null; refunds: number };
  attention: { count: number; invoices: Array<{ id: string; subscriptionId: string; code: string; since: string | null; amount: number }> };
  /** Per queue; `error` instead when Redis did not answer. */
  jobs: Record<string, { failed: number; waiting: number; delayed: number; active: number }> | { error: string };
  events: { pending: number; failed: number; oldestPendingAt: string | null };
  webhooks: { notApplied: number };
  reconciliation: { date: string; status: string; differences: number } | null;
}

const ATTENTION_LISTED = 20;
// BullMQ waits for Redis without end; the status must not.
const REDIS_WAIT_MS = 3_000;

/** What the on-call engineer looks at first, from Postgres (the truth) and the queues. */
export async function collectStatus(deps: Pick<Deps, "db" | "queues" | "clock">): Promise<ServiceStatus> {
  const { db } = deps;
  const now = deps.clock.now();
  const count = sql<string>`count(*)`;
  const [subscriptions, renewals, invoices, attempts, refunds, attention, attentionCount, events, webhooks, reconciliation] = await Promise.all([
    db.selectFrom("subscriptions").select(["status", count.as("n")]).groupBy("status").execute(),
    db
      .selectFrom("subscriptions")
      .select(count.as("n"))
      .where("next_renewal_at", "<=", now)
      // What the sweep's renewal step picks up (renewDueSubscriptions).
      .where((eb) => eb.or([eb("status", "in", ["active", "trialing"]), eb("cancel_at_period_end", "=", true)]))
      .executeTakeFirstOrThrow(),
    db.selectFrom("invoices").select(count.as("n")).where("status", "=", "open").where("next_attempt_at", "<=", now).executeTakeFirstOrThrow(),
    db.selectFrom("charge_attempts").select([count.as("n"), sql<Date | null>`min(created_at)`.as("oldest")]).where("status", "in", ["sending", "unknown"]).executeTakeFirstOrThrow(),
    db.selectFrom("refunds").select(count.as("n")).where("status", "in", ["pending", "unknown"]).executeTakeFirstOrThrow(),
    db
      .selectFrom("invoices")
      .select(["id", "subscription_id", "attention_code", "attention_since", "amount"])
      .where("status", "=", "open")
      .where("attention_code", "is not", null)
      .orderBy("attention_since")
      .limit(ATTENTION_LISTED)
      .execute(),
    db.selectFrom("invoices").select(count.as("n")).where("status", "=", "open").where("attention_code", "is not", null).executeTakeFirstOrThrow(),
    db.selectFrom("platform_events").select(["status", count.as("n"), sql<Date | null>`min(created_at)`.as("oldest")]).where("status", "in", ["pending", "failed"]).groupBy("status").execute(),
    db.selectFrom("webhook_inbox").select(count.as("n")).where("processed_at", "is", null).executeTakeFirstOrThrow(),
    db.selectFrom("reconciliations").select(["date", "status", sql<string>`coalesce(jsonb_array_length(differences), 0)`.as("n")]).orderBy("date", "desc").limit(1).executeTakeFirst(),
  ]);
  const pending = events.find((e) => e.status === "pending");
  return {
    at: now.toISOString(),
    subscriptions: Object.fromEntries(subscriptions.map((row) => [row.status, Number(row.n)])),
    due: { renewals: Number(renewals.n), invoices: Number(invoices.n) },
    unresolved: { attempts: Number(attempts.n), oldestAttemptAt: attempts.oldest === null ? null : new Date(attempts.oldest).toISOString(), refunds: Number(refunds.n) },
    attention: {
      count: Number(attentionCount.n),
      invoices: attention.map((row) => ({ id: row.id, subscriptionId: row.subscription_id, code: row.attention_code!, since: row.attention_since?.toISOString() ?? null, amount: row.amount })),
    },
    jobs: await jobCounts(deps),
    events: {
      pending: Number(pending?.n ?? 0),
      failed: Number(events.find((e) => e.status === "failed")?.n ?? 0),
      oldestPendingAt: pending?.oldest == null ? null : new Date(pending.oldest).toISOString(),
    },
    webhooks: { notApplied: Number(webhooks.n) },
    reconciliation: reconciliation === undefined ? null : { date: reconciliation.date, status: reconciliation.status, differences: Number(reconciliation.n) },
  };
}

// Redis may be the thing that is down: the rest of the status still shows.
async function jobCounts(deps: Pick<Deps, "queues">): Promise<ServiceStatus["jobs"]> {
  const counts = Promise.all(
    deps.queues.all.map(async (queue) => {
      const counts = await queue.getJobCounts("failed", "waiting", "delayed", "active");
      return [queue.name, { failed: counts.failed ?? 0, waiting: counts.waiting ?? 0, delayed: counts.delayed ?? 0, active: counts.active ?? 0 }] as const;
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${REDIS_WAIT_MS} ms`)), REDIS_WAIT_MS);
  });
  try {
    return Object.fromEntries(await Promise.race([counts, timeout]));
  } catch (error) {
    counts.catch(() => {});
    return { error: `Redis did not answer: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}
