import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { addJob } from "../../src/queues/add-job.ts";
import { eventually } from "../support/harness.ts";
import { testQueuePrefix, testRedisUrl } from "../support/test-services.ts";

// A deterministic job id must never swallow work that is due: the failed or
// delayed job already holding the id is revived instead.
describe("addJob", () => {
  const prefix = testQueuePrefix();
  const connection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  const queue = new Queue<{ n: number }>("add-job-test", { connection, prefix, defaultJobOptions: { removeOnFail: { age: 86_400 }, attempts: 1 } });
  let failing = true;
  const runs: string[] = [];
  const worker = new Worker<{ n: number }>(
    "add-job-test",
    async (job) => {
      runs.push(job.id!);
      if (failing) throw new Error("Postgres is down");
    },
    { connection, prefix },
  );
  afterAll(async () => {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
  });

  it("retries a job that gave up when the same work is enqueued again", async () => {
    await addJob(queue, "work", { n: 1 }, { jobId: "work-1" });
    await eventually(async () => (await queue.getJob("work-1"))?.failedReason !== undefined);
    expect(await (await queue.getJob("work-1"))!.getState()).toBe("failed");
    failing = false;
    await addJob(queue, "work", { n: 1 }, { jobId: "work-1" });
    await eventually(async () => (await (await queue.getJob("work-1"))!.getState()) === "completed");
    expect(runs).toEqual(["work-1", "work-1"]);
  });

  it("promotes a delayed job when the work is due now, and leaves it delayed otherwise", async () => {
    await addJob(queue, "work", { n: 2 }, { jobId: "work-2", delay: 3_600_000 });
    await addJob(queue, "work", { n: 2 }, { jobId: "work-2", delay: 60_000 });
    expect(await (await queue.getJob("work-2"))!.getState()).toBe("delayed");
    await addJob(queue, "work", { n: 2 }, { jobId: "work-2" });
    await eventually(async () => (await (await queue.getJob("work-2"))!.getState()) === "completed");
  });
});
