import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { QUEUE_NAMES } from "./queue-names.ts";
import type { ChargeJob, NotificationJob, RefundJob, RenewalsJob, ResolveAttemptJob, WebhookJob } from "./jobs.ts";

export interface Queues {
  webhooks: Queue<WebhookJob>;
  renewals: Queue<RenewalsJob>;
  charges: Queue<ChargeJob | RefundJob>;
  lookups: Queue<ResolveAttemptJob>;
  notifications: Queue<NotificationJob>;
  all: Queue[];
  /** The connection the queues were made with, for pipelined reads of job state. */
  redis: Redis;
  close(): Promise<void>;
}

const DAY_SECONDS = 24 * 3600;

// Charges, refunds and lookups. The attempts cover crashed runs only. Kept an hour (at most
// 10,000) so ops see in Bull Board what each did; a kept job never swallows a re-enqueue
// (the enqueue helpers run it again). Postgres, not the job id, prevents a double charge.
const MONEY_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: "exponential", delay: 2_000 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: DAY_SECONDS },
} as const;

export function createQueues(connection: Redis, prefix: string, onError: (error: Error) => void = () => {}): Queues {
  const webhooks = new Queue<WebhookJob>(QUEUE_NAMES.webhooks, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: 20,
      backoff: { type: "exponential", delay: 1_000 },
      // Bounded: a repeat of a finished page's webhook is stopped at the ingress, and a job
      // removed while its webhook is not applied comes back from Postgres (the relay).
      removeOnComplete: { age: 3600, count: 1_000 },
      removeOnFail: { age: 7 * DAY_SECONDS, count: 5_000 },
    },
  });
  const renewals = new Queue<RenewalsJob>(QUEUE_NAMES.renewals, {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: { count: 100 }, removeOnFail: { count: 1000 } },
  });
  const charges = new Queue<ChargeJob | RefundJob>(QUEUE_NAMES.charges, {
    connection,
    prefix,
    defaultJobOptions: MONEY_JOB_OPTIONS,
  });
  const lookups = new Queue<ResolveAttemptJob>(QUEUE_NAMES.lookups, {
    connection,
    prefix,
    // A lookup backs off by itself (moveToDelayed) while Oen cannot tell yet.
    defaultJobOptions: MONEY_JOB_OPTIONS,
  });
  const notifications = new Queue<NotificationJob>(QUEUE_NAMES.notifications, {
    connection,
    prefix,
    defaultJobOptions: {
      // Delivery retries are scheduled by the job itself from Postgres; these attempts only
      // cover runs that crashed (database down). While a job is kept, its id blocks the
      // sweep from enqueueing the same still-pending row again.
      attempts: 10,
      backoff: { type: "exponential", delay: 10_000 },
      removeOnComplete: { age: 3600 },
      removeOnFail: { age: DAY_SECONDS },
    },
  });
  const all = [webhooks, renewals, charges, lookups, notifications] as Queue[];
  // Connection errors surface in the calls that fail; this only keeps them out of stderr.
  for (const queue of all) queue.on("error", onError);
  return {
    webhooks,
    renewals,
    charges,
    lookups,
    notifications,
    all,
    redis: connection,
    async close() {
      await Promise.all(all.map((q) => q.close()));
    },
  };
}
