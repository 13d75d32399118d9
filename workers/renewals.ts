import { Worker, type ConnectionOptions } from "bullmq";
import type { Deps } from "../src/deps.ts";
import { QUEUE_NAMES } from "../src/queues/queue-names.ts";
import { runSweep } from "../src/renewals/run-sweep.ts";

export const SWEEP_SCHEDULER_ID = "renewal-sweep";

/**
 * Registers the sweep's job scheduler. Every instance may call this: BullMQ
 * keeps one scheduler per id, so the sweep ticks once per interval in total.
 */
export async function scheduleSweep(deps: Deps): Promise<void> {
  await deps.queues.renewals.upsertJobScheduler(SWEEP_SCHEDULER_ID, { every: deps.config.renewalSweepIntervalMs }, { name: "sweep", data: {} });
}

export function startRenewalWorker(deps: Deps, connection: ConnectionOptions): Worker {
  return new Worker(
    QUEUE_NAMES.renewals,
    async () => {
      const report = await runSweep(deps);
      deps.logger.info(report, "sweep done");
      return report;
    },
    // One sweep at a time per process; SKIP LOCKED lets several processes share the work.
    { connection, prefix: deps.config.queuePrefix, concurrency: 1 },
  );
}
