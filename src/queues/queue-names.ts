export const QUEUE_NAMES = {
  webhooks: "oen-webhooks",
  renewals: "renewals",
  charges: "charges",
  // Order lookups have their own queue and rate, so a backlog of unknown outcomes never starves charges.
  lookups: "oen-lookups",
  notifications: "notifications",
} as const;

export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];
