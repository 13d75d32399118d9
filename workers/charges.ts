import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from "bullmq";
import { chargeInvoice } from "../src/charges/charge-invoice.ts";
import { resolveAttempt } from "../src/charges/resolve-attempt.ts";
import type { Deps } from "../src/deps.ts";
import { enqueueCharge } from "../src/queues/enqueue.ts";
import type { ChargeJob, ResolveAttemptJob } from "../src/queues/jobs.ts";
import { QUEUE_NAMES } from "../src/queues/queue-names.ts";
import { delayJob } from "./delay-job.ts";

type ChargesJob = Job<ChargeJob | ResolveAttemptJob>;

// After an ambiguous answer, the first order lookup waits a little: Oen may still be recording the charge.
const FIRST_LOOKUP_DELAY_MS = 2_000;
// Claim → resolve → claim again happens in one run at most this many times.
const MAX_STEPS = 3;

/** One run of a `charge` job: charge the invoice, or first settle the attempt that blocks it. */
async function runCharge(deps: Deps, job: ChargesJob, token: string | undefined, invoiceId: string): Promise<string> {
  for (let step = 0; step < MAX_STEPS; step++) {
    const result = await chargeInvoice(deps, invoiceId);
    switch (result.kind) {
      case "sent": {
        const { invoice, attempt } = result.settled;
        if (result.outcome === "unknown") return delayJob(job, token, FIRST_LOOKUP_DELAY_MS);
        if (result.outcome === "config_error") throw new UnrecoverableError(`Oen refused the request (${attempt.code}): fix the configuration`);
        if (invoice.status === "open" && invoice.next_attempt_at !== null) {
          await enqueueCharge(deps, invoice, invoice.next_attempt_at.getTime() - deps.clock.now().getTime());
        }
        return `${result.outcome} ${attempt.order_id}`;
      }
      case "in_flight": {
        const resolved = await resolveAttempt(deps, result.attempt.id);
        if (resolved.kind === "wait") return delayJob(job, token, resolved.retryInMs);
        continue; // settled: look at the invoice again
      }
      case "not_due":
        return result.at === null ? "nothing scheduled" : `due at ${result.at.toISOString()}`;
      case "no_card":
        return "no card on file";
      case "settled":
        return `invoice ${result.status}`;
    }
  }
  return "stopped after several steps; the next sweep continues";
}

async function runResolve(deps: Deps, job: ChargesJob, token: string | undefined, attemptId: string): Promise<string> {
  const resolved = await resolveAttempt(deps, attemptId);
  if (resolved.kind === "wait") return delayJob(job, token, resolved.retryInMs);
  if (resolved.kind === "settled") {
    const { invoice } = resolved.settled;
    if (invoice.status === "open" && invoice.next_attempt_at !== null) {
      await enqueueCharge(deps, invoice, invoice.next_attempt_at.getTime() - deps.clock.now().getTime());
    }
    return resolved.verdict;
  }
  return resolved.kind;
}

export function startChargeWorker(deps: Deps, connection: ConnectionOptions, options: { concurrency?: number } = {}): Worker<ChargeJob | ResolveAttemptJob> {
  return new Worker<ChargeJob | ResolveAttemptJob>(
    QUEUE_NAMES.charges,
    async (job, token) => ("invoiceId" in job.data ? runCharge(deps, job, token, job.data.invoiceId) : runResolve(deps, job, token, job.data.attemptId)),
    {
      connection,
      prefix: deps.config.queuePrefix,
      concurrency: options.concurrency ?? 10,
      // Oen has no published rate limit, but asks not to hammer it.
      limiter: { max: deps.config.oen.chargeRatePerSecond, duration: 1_000 },
    },
  );
}
