// The labels a webhook that stores nothing is counted under (WebhookTally, billing_webhooks_unstored_total).

// Oen's purposes (api/objects/webhook.md); any other counts as "other", so a forger cannot grow the tallies.
const OEN_PURPOSES = new Set(["token", "charge", "schedule_subscription", "refund", "subscription_cancelled", "subscription_retry"]);
/** The purposes a webhook can be counted under: Oen's, and "other". */
export const PURPOSE_CLASSES = [...OEN_PURPOSES, "other"];

/** The purpose a webhook is counted under. */
export const purposeClass = (purpose: unknown): string => (typeof purpose === "string" && OEN_PURPOSES.has(purpose) ? purpose : "other");

/** Why the ingress refuses a webhook before reading it: a source not on OEN_WEBHOOK_ALLOWED_IPS, or one over its rate. */
export const WEBHOOK_REFUSALS = ["source_not_allowed", "rate_limited"] as const;
