import { Worker, type ConnectionOptions, type Job } from "bullmq";
import type { Deps } from "../src/deps.ts";
import type { ReconcileJob, RenewalsJob } from "../src/queues/jobs.ts";
import { QUEUE_NAMES } from "../src/queues/queue-names.ts";
import { reconcileDay } from "../src/reconciliation/reconcile-day.ts";
import { runSweep } from "../src/renewals/run-sweep.ts";

export const SWEEP_SCHEDULER_ID = "renewal-sweep";

/**
 * Registers the sweep's job scheduler. Every instance may call this: BullMQ
 * keeps one scheduler per id, so the sweep ticks once per interval in total.
 */
export async function scheduleSweep(deps: Deps): Promise<void> {
  await deps.queues.renewals.upsertJobScheduler(SWEEP_SCHEDULER_ID, { every: deps.config.renewalSweepIntervalMs }, { name: "sweep", data: {} });
}

export function startRenewalWorker(deps: Deps, connection: ConnectionOptions): Worker<RenewalsJob> {
  let sweeping = false;
  const sweep = async () => {
    // One sweep at a time per process; SKIP LOCKED lets several processes share the work.
    if (sweeping) return "skipped: a sweep is running in this process";
    sweeping = true;
    try {
      const report = await runSweep(deps);
      deps.logger.info(report, "sweep done");
      return report;
    } finally {
      sweeping = false;
    }
  };
  const reconcile = async (job: Job<ReconcileJob>) => {
    const result = await reconcileDay(deps, job.data.date);
    if (result.kind === "busy") return `${job.data.date}: another run holds the day`;
    const { counts } = result.reconciliation;
    return { date: job.data.date, ...counts };
  };
  // Two at a time: a reconciliation (minutes on a busy day) never holds up the sweep. Not a setting:
  // a process runs one sweep at a time (above) and there is one reconciliation a day, so a third
  // slot would only ever be idle; more sweeping comes from more scheduler processes (SKIP LOCKED).
  return new Worker<RenewalsJob>(QUEUE_NAMES.renewals, async (job) => (job.name === "reconcile" ? reconcile(job as Job<ReconcileJob>) : sweep()), {
    connection,
    prefix: deps.config.queuePrefix,
    concurrency: 2,
  });
}
