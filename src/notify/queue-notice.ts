import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { newId } from "../ids.ts";
import type { NoticeData } from "./notice-templates.ts";
import { renderNotice } from "./render-notice.ts";

export type QueueNoticeInput = NoticeData & {
  subscriptionId: string;
  /** The billing cycle the notice is about; with the kind, what makes it unique. */
  cycle: number;
  /** The billing time zone (config.billingTimezone): dates are shown as the customer's calendar has them. */
  timeZone: string;
};

/**
 * Renders a notice in the customer's language and stores it as pending, in
 * the caller's transaction, so it exists exactly when the decision that
 * caused it was committed. The customer, the plan and the cycle's invoice
 * amount are read here. Returns the notice id, or undefined when this
 * (subscription, cycle, kind) already has one (invariant 5). After the commit
 * the caller enqueues it (enqueueNotice); the sweep catches any it missed.
 */
export async function queueNotice(db: Kysely<Database>, input: QueueNoticeInput): Promise<string | undefined> {
  const about = await db
    .selectFrom("subscriptions as s")
    .innerJoin("customers as c", "c.id", "s.customer_id")
    .innerJoin("plans as p", "p.id", "s.plan_id")
    .leftJoin("invoices as i", (join) => join.onRef("i.subscription_id", "=", "s.id").on("i.cycle", "=", input.cycle))
    .select(["c.email", "c.name", "c.locale", "p.name as planName", "p.amount as planAmount", "i.amount as invoiceAmount"])
    .where("s.id", "=", input.subscriptionId)
    .executeTakeFirst();
  if (about === undefined) throw new Error(`cannot queue a ${input.kind} notice: subscription "${input.subscriptionId}" does not exist`);
  // Any locale we do not write in gets the default, Traditional Chinese.
  const locale = about.locale === "en" ? "en" : "zh-TW";
  // Before its invoice exists (a renewal reminder) the amount is the plan's.
  const amount = about.invoiceAmount ?? about.planAmount;
  const rendered = renderNotice({ ...input, customerName: about.name, planName: about.planName, amount }, locale, input.timeZone);
  const inserted = await db
    .insertInto("notices")
    .values({
      id: newId("ntc"),
      subscription_id: input.subscriptionId,
      cycle: input.cycle,
      kind: input.kind,
      locale,
      to_email: about.email,
      subject: rendered.subject,
      text_body: rendered.text,
      html_body: rendered.html,
      last_error: null,
      sent_at: null,
    })
    .onConflict((oc) => oc.columns(["subscription_id", "cycle", "kind"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  return inserted?.id;
}
