export const QUEUE_NAMES = {
  webhooks: "oen-webhooks",
  renewals: "renewals",
  charges: "charges",
  notifications: "notifications",
} as const;

export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];
