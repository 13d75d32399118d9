import { Worker, type ConnectionOptions, type Job } from "bullmq";
import { abandonedAfterMs } from "../src/charges/abandoned-after.ts";
import { chargeInvoice } from "../src/charges/charge-invoice.ts";
import { resolveAttempt } from "../src/charges/resolve-attempt.ts";
import { createSendPlaces, LONGEST_LINE_PLACES, type SendPlaces } from "../src/charges/send-places.ts";
import type { Deps } from "../src/deps.ts";
import type { ChargeJob, RefundJob } from "../src/queues/jobs.ts";
import { processRefundJob } from "../src/refunds/process-refund-job.ts";
import { QUEUE_NAMES } from "../src/queues/queue-names.ts";
import { withPermit } from "../src/semaphore.ts";
import { delayJob } from "./delay-job.ts";

// Claim → resolve → claim again happens in one run at most this many times.
const MAX_STEPS = 3;

/**
 * One run of a `charge` job: charge the invoice, or first settle the attempt
 * that blocks it. What follows (the next retry, an order lookup) was put in
 * the outbox by the transitions; this only reports.
 */
async function runCharge(deps: Deps, places: SendPlaces, job: Job<ChargeJob>, token: string | undefined): Promise<string> {
  for (let step = 0; step < MAX_STEPS; step++) {
    const result = await chargeInvoice(deps, job.data.invoiceId, places);
    switch (result.kind) {
      case "sent": {
        // What Bull Board shows as the job's result: the answer, the order, and where the invoice stands.
        const { attempt, invoice } = result.settled;
        return `${result.outcome}${attempt.code === null ? "" : ` ${attempt.code}`}: order ${attempt.order_id}, invoice ${invoice.status}`;
      }
      case "in_flight": {
        const resolved = await resolveAttempt(deps, result.attemptId);
        if (resolved.kind === "wait") return delayJob(job, token, resolved.retryInMs);
        continue; // settled: look at the invoice again
      }
      case "stale":
        return `stale ${result.orderId}: left to the order lookup`;
      case "not_due":
        return result.at === null ? "nothing scheduled" : `due at ${result.at.toISOString()}`;
      case "no_card":
        return "no card on file";
      case "not_collectable":
        return `subscription ${result.subscriptionStatus}`;
      case "settled":
        return `invoice ${result.status}`;
    }
  }
  return "stopped after several steps; the next sweep continues";
}

/**
 * `concurrency` charge and refund requests at Oen at once (the order lookups
 * a charge job may make run beside them, under OEN_LOOKUP_RATE), and a few
 * times as many jobs (SendPlaces' jobsPerPlace, and when Oen is slow).
 */
export function startChargeWorker(deps: Deps, connection: ConnectionOptions, options: { concurrency?: number } = {}): Worker<ChargeJob | RefundJob> {
  // A claim waiting for its place must stay well inside the pre-send check's limit (half the abandon
  // threshold). It waits behind the claims in line, at most LONGEST_LINE_PLACES places' worth: an
  // answer's wait each.
  const places = createSendPlaces(options.concurrency ?? deps.config.concurrency.charges, abandonedAfterMs(deps.config) / 4 / LONGEST_LINE_PLACES);
  // Refunds move money like charges, so they share the charge rate and the places at Oen.
  const run = async (job: Job<ChargeJob | RefundJob>, token: string | undefined) => {
    try {
      return await ("refundId" in job.data ? withPermit(places, () => processRefundJob(deps, (job.data as RefundJob).refundId)) : runCharge(deps, places, job as Job<ChargeJob>, token));
    } finally {
      // Read before the worker fetches its next job, whatever this one's end (a delay throws).
      worker.concurrency = places.size * places.jobsPerPlace;
    }
  };
  const worker: Worker<ChargeJob | RefundJob> = new Worker<ChargeJob | RefundJob>(QUEUE_NAMES.charges, run, {
    connection,
    prefix: deps.config.queuePrefix,
    concurrency: places.size * places.jobsPerPlace,
    // Oen has no published rate limit, but asks not to hammer it.
    limiter: { max: deps.config.oen.chargeRatePerSecond, duration: 1_000 },
  });
  return worker;
}
