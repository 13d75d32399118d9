import { Worker, type ConnectionOptions, type Job } from "bullmq";
import { resolveAttempt } from "../src/charges/resolve-attempt.ts";
import type { Deps } from "../src/deps.ts";
import type { ResolveAttemptJob } from "../src/queues/jobs.ts";
import { QUEUE_NAMES } from "../src/queues/queue-names.ts";
import { delayJob } from "./delay-job.ts";

/** One order lookup of an attempt whose outcome is unknown; the job sleeps on its own backoff until Oen can tell. */
async function runResolve(deps: Deps, job: Job<ResolveAttemptJob>, token: string | undefined): Promise<string> {
  const resolved = await resolveAttempt(deps, job.data.attemptId);
  if (resolved.kind === "wait") return delayJob(job, token, resolved.retryInMs);
  return resolved.kind === "settled" ? resolved.verdict : resolved.kind;
}

/** Lookups have their own rate, apart from charges: a backlog of unknown outcomes never starves renewals. */
export function startLookupWorker(deps: Deps, connection: ConnectionOptions, options: { concurrency?: number } = {}): Worker<ResolveAttemptJob> {
  return new Worker<ResolveAttemptJob>(QUEUE_NAMES.lookups, async (job, token) => runResolve(deps, job, token), {
    connection,
    prefix: deps.config.queuePrefix,
    concurrency: options.concurrency ?? deps.config.concurrency.lookups,
    limiter: { max: deps.config.oen.lookupRatePerSecond, duration: 1_000 },
  });
}
