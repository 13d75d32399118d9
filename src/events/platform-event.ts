// The events the platform receives, as Standard Webhooks (https://www.standardwebhooks.com).

export const PLATFORM_EVENT_TYPES = [
  "subscription.activated",
  "subscription.checkout_failed",
  "invoice.paid",
  "invoice.payment_failed",
  "subscription.past_due",
  "payment_method.updated",
  "subscription.canceled",
  "subscription.unpaid",
  "subscription.cancel_scheduled",
  "invoice.needs_attention",
  "subscription.trial_started",
  "subscription.trial_will_end",
  "subscription.plan_changed",
  "subscription.resumed",
  "subscription.terminated",
  "invoice.refunded",
  "invoice.double_charge_refunded",
  "customer.updated",
  "reconciliation.differences_found",
] as const;

export type PlatformEventType = (typeof PLATFORM_EVENT_TYPES)[number];

/** The JSON body of every delivery; `id` is also the webhook-id header, the same on each retry. */
export interface PlatformEventBody {
  id: string;
  type: PlatformEventType;
  /** When the fact happened (ISO 8601 UTC), not when it was delivered. */
  timestamp: string;
  data: Record<string, unknown>;
}
