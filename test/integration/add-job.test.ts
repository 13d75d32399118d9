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

  it("ignores the race where another caller revived the job between its state and the retry", async () => {
    failing = true;
    await addJob(queue, "work", { n: 3 }, { jobId: "work-3" });
    await eventually(async () => (await queue.getJob("work-3"))?.failedReason !== undefined);
    failing = false;
    // Ten producers see it failed at once; one retries it, the others find it moved on.
    await Promise.all(Array.from({ length: 10 }, () => addJob(queue, "work", { n: 3 }, { jobId: "work-3" })));
    await eventually(async () => (await (await queue.getJob("work-3"))!.getState()) === "completed");
    expect(runs.filter((id) => id === "work-3")).toHaveLength(2);
  });

  it("runs a kept completed job again when asked, at once or at the add's delay", async () => {
    failing = false;
    await addJob(queue, "work", { n: 4 }, { jobId: "work-4" });
    await eventually(async () => (await (await queue.getJob("work-4"))!.getState()) === "completed");
    // Without rerunCompleted the kept job swallows the add.
    await addJob(queue, "work", { n: 4 }, { jobId: "work-4" });
    await addJob(queue, "work", { n: 4 }, { jobId: "work-4", rerunCompleted: true });
    await eventually(async () => runs.filter((id) => id === "work-4").length === 2 && (await (await queue.getJob("work-4"))!.getState()) === "completed");
    await addJob(queue, "work", { n: 4 }, { jobId: "work-4", rerunCompleted: true, delay: 3_600_000 });
    expect(await (await queue.getJob("work-4"))!.getState()).toBe("delayed");
    expect(runs.filter((id) => id === "work-4")).toHaveLength(2);
  });
});

// Anything but that race must reach the caller: a revival that silently did not
// happen leaves due work asleep. Here Redis itself refuses the move (a key of the
// wrong type), with no worker on the queue to disturb it.
describe("addJob when reviving the job fails", () => {
  const prefix = testQueuePrefix();
  const connection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  const queue = new Queue<{ n: number }>("add-job-broken", { connection, prefix, defaultJobOptions: { removeOnFail: { age: 86_400 }, attempts: 1 } });
  const breakWaitList = () => connection.set(`${prefix}:add-job-broken:wait`, "not a list");
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
  });

  it("propagates an error of the retry step", async () => {
    const giveUp = new Worker<{ n: number }>("add-job-broken", async () => Promise.reject(new Error("Postgres is down")), { connection, prefix });
    await queue.add("work", { n: 1 }, { jobId: "broken-1" });
    await eventually(async () => (await queue.getJob("broken-1"))?.failedReason !== undefined);
    await giveUp.close();
    await breakWaitList();
    await expect(addJob(queue, "work", { n: 1 }, { jobId: "broken-1" })).rejects.toThrow(/WRONGTYPE/);
    await connection.del(`${prefix}:add-job-broken:wait`);
  });

  it("propagates an error of the promote step", async () => {
    await queue.add("work", { n: 2 }, { jobId: "broken-2", delay: 3_600_000 });
    await breakWaitList();
    await expect(addJob(queue, "work", { n: 2 }, { jobId: "broken-2" })).rejects.toThrow(/WRONGTYPE/);
    await connection.del(`${prefix}:add-job-broken:wait`);
  });

});
