import type { Db } from "../db/connect.ts";
import type { PlatformEvent } from "../db/database.ts";
import { invoiceSummary, loadSubscriptionView } from "../subscriptions/subscription-view.ts";
import type { PlatformEventBody, PlatformEventType } from "./platform-event.ts";

/**
 * The body an event is delivered with: its recorded data, plus the
 * subscription and the invoice it names as the API shows them (the view of
 * GET /v1/subscriptions/:id, the invoice summary), so a receiver need not
 * call back. Read when it is first delivered; deliverEvent freezes it.
 */
export async function buildEventBody(db: Db, event: Pick<PlatformEvent, "id" | "type" | "data" | "created_at">): Promise<PlatformEventBody> {
  const data: Record<string, unknown> = { ...event.data };
  if (typeof event.data.subscriptionId === "string" && data.subscription === undefined) {
    const view = await loadSubscriptionView(db, event.data.subscriptionId);
    if (view !== undefined) data.subscription = view;
  }
  if (typeof event.data.invoiceId === "string" && data.invoice === undefined) {
    const invoice = await db.selectFrom("invoices").selectAll().where("id", "=", event.data.invoiceId).executeTakeFirst();
    if (invoice !== undefined) data.invoice = invoiceSummary(invoice);
  }
  // created_at is when the fact happened (recordEvent's occurredAt), not when it is delivered.
  return { id: event.id, type: event.type as PlatformEventType, timestamp: event.created_at.toISOString(), data };
}
