import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from "bullmq";
import type { Deps } from "../src/deps.ts";
import { createEventSender } from "../src/events/create-event-sender.ts";
import { deliverEvent } from "../src/events/deliver-event.ts";
import { createMailer } from "../src/notify/create-mailer.ts";
import type { RetrySchedule } from "../src/notify/retry-schedule.ts";
import { sendNotice } from "../src/notify/send-notice.ts";
import type { NotificationJob } from "../src/queues/jobs.ts";
import { QUEUE_NAMES } from "../src/queues/queue-names.ts";
import { delayJob } from "./delay-job.ts";

export interface NotificationWorkerOptions {
  concurrency?: number;
  /** Defaults: NOTICE_RETRY, EVENT_RETRY. Tests shorten them. */
  noticeRetry?: RetrySchedule;
  eventRetry?: RetrySchedule;
}

/**
 * Emails to customers (`notice` jobs) and signed webhooks to the platform
 * (`event` jobs). Both are small, I/O-bound deliveries with the same retry
 * shape, so they share the `notifications` queue. Each renders what the
 * outbox recorded: the email (with its signed link) and the event body are
 * built here, never in the transaction that decided them. A failed delivery
 * sleeps as a delayed job until its retry time, recorded in Postgres (days
 * for a notice, 30 days for an event) so the sweep can rebuild it whatever
 * BullMQ kept; a delivery given up fails the job, for Bull Board to show.
 */
export function startNotificationWorker(deps: Deps, connection: ConnectionOptions, options: NotificationWorkerOptions = {}): Worker<NotificationJob> {
  const mailer = deps.config.smtpUrl === null ? null : createMailer(deps.config.smtpUrl, deps.config.mailFrom);
  const sender = deps.config.platformWebhook === null ? null : createEventSender(deps.config.platformWebhook);
  const run = async (job: Job<NotificationJob>, token: string | undefined): Promise<string> => {
    const outcome =
      "noticeId" in job.data
        ? await sendNotice(deps, mailer, job.data.noticeId, options.noticeRetry)
        : await deliverEvent(deps, sender, job.data.eventId, options.eventRetry);
    if (outcome.kind === "retry" || outcome.kind === "not_due") return delayJob(job, token, outcome.delayMs);
    if (outcome.kind === "failed") throw new UnrecoverableError(`given up: ${outcome.error}`);
    return outcome.kind;
  };
  const worker = new Worker<NotificationJob>(QUEUE_NAMES.notifications, run, {
    connection,
    prefix: deps.config.queuePrefix,
    concurrency: options.concurrency ?? deps.config.concurrency.notifications,
  });
  worker.on("closed", () => mailer?.close());
  return worker;
}
