import type { Kysely } from "kysely";
import type { Database, InvoiceStatus, Notice, SubscriptionStatus } from "../db/database.ts";
import type { RenderedNotice } from "./render-notice.ts";

/**
 * The notice, locked for this delivery run; undefined when it does not exist
 * or another run holds it (that run finishes the job, so this one steps aside).
 */
export async function lockNotice(db: Kysely<Database>, id: string): Promise<Notice | undefined> {
  return db.selectFrom("notices").selectAll().where("id", "=", id).forUpdate().skipLocked().executeTakeFirst();
}

export interface NoticeContext {
  customerId: string;
  email: string;
  customerName: string;
  locale: string;
  planName: string;
  /** The cycle's invoice amount, or the plan's before that invoice exists (a renewal reminder). */
  amount: number;
  subscriptionStatus: SubscriptionStatus;
  currentCycle: number;
  cancelAtPeriodEnd: boolean;
  invoiceStatus: InvoiceStatus | null;
}

/** What a notice is about as it is now: who gets it, in which words, and whether it still applies. */
export async function noticeContext(db: Kysely<Database>, notice: Pick<Notice, "subscription_id" | "cycle">): Promise<NoticeContext> {
  const row = await db
    .selectFrom("subscriptions as s")
    .innerJoin("customers as c", "c.id", "s.customer_id")
    .innerJoin("plans as p", "p.id", "s.plan_id")
    .leftJoin("invoices as i", (join) => join.onRef("i.subscription_id", "=", "s.id").on("i.cycle", "=", notice.cycle))
    .select([
      "c.id as customerId",
      "c.email",
      "c.name as customerName",
      "c.locale",
      "p.name as planName",
      "p.amount as planAmount",
      "i.amount as invoiceAmount",
      "i.status as invoiceStatus",
      "s.status as subscriptionStatus",
      "s.current_cycle as currentCycle",
      "s.cancel_at_period_end as cancelAtPeriodEnd",
    ])
    .where("s.id", "=", notice.subscription_id)
    .executeTakeFirstOrThrow();
  const { planAmount, invoiceAmount, ...context } = row;
  return { ...context, amount: invoiceAmount ?? planAmount };
}

/** The email as this attempt renders it, kept for ops whatever the attempt's outcome. */
export async function recordNoticeRendering(db: Kysely<Database>, id: string, mail: RenderedNotice & { locale: string; to: string }): Promise<void> {
  await db
    .updateTable("notices")
    .set({ locale: mail.locale, to_email: mail.to, subject: mail.subject, text_body: mail.text, html_body: mail.html })
    .where("id", "=", id)
    .execute();
}

/** The server accepted it, under the claim `claimedUntil`; false when that claim had lapsed and another run took the notice. */
export async function markNoticeSent(db: Kysely<Database>, id: string, at: Date, claimedUntil: Date): Promise<boolean> {
  const { numUpdatedRows } = await db
    .updateTable("notices")
    .set((eb) => ({ status: "sent", sent_at: at, attempts: eb("attempts", "+", 1), last_error: null, next_attempt_at: null, claimed_until: null }))
    .where("id", "=", id)
    .where("claimed_until", "=", claimedUntil)
    .executeTakeFirst();
  return numUpdatedRows > 0n;
}

export async function markNoticeOutbox(db: Kysely<Database>, id: string): Promise<void> {
  await db.updateTable("notices").set({ status: "outbox", next_attempt_at: null, claimed_until: null }).where("id", "=", id).execute();
}

/** Its moment passed before it could be sent: kept, with the reason, and never sent. */
export async function markNoticeSkipped(db: Kysely<Database>, id: string, reason: string): Promise<void> {
  await db.updateTable("notices").set({ status: "skipped", skip_reason: reason, next_attempt_at: null, claimed_until: null }).where("id", "=", id).execute();
}

/** A failed SMTP attempt under the claim `claimedUntil`: retried at `nextAttemptAt`, or `failed` when that is null. */
export async function recordNoticeFailure(db: Kysely<Database>, id: string, claimedUntil: Date, failure: { error: string; nextAttemptAt: Date | null }): Promise<void> {
  await db
    .updateTable("notices")
    .set((eb) => ({
      status: failure.nextAttemptAt === null ? "failed" : "pending",
      attempts: eb("attempts", "+", 1),
      last_error: failure.error,
      next_attempt_at: failure.nextAttemptAt,
      claimed_until: null,
    }))
    .where("id", "=", id)
    .where("claimed_until", "=", claimedUntil)
    .execute();
}

export async function pendingNotices(db: Kysely<Database>, limit: number): Promise<Array<Pick<Notice, "id" | "next_attempt_at">>> {
  return db.selectFrom("notices").select(["id", "next_attempt_at"]).where("status", "=", "pending").orderBy("created_at").limit(limit).execute();
}
