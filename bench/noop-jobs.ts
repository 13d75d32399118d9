import { Queue } from "bullmq";
import type { BenchEnvironment } from "./bench-environment.ts";
import { startChild } from "./child.ts";
import { commandsBetween, redisStats } from "./redis-stats.ts";
import { waitForCompletions } from "./wait-for-completions.ts";

export interface NoopResult {
  jobsPerSecond: number;
  /** Redis commands per job as the server counts them (Lua scripts' inner calls included) and as the worker sent them. */
  serverCommandsPerJob: number;
  clientCommandsPerJob: number;
}

/**
 * The BullMQ baseline: `count` jobs (added beforehand, as the sweep would) run by a Worker
 * whose processor only sleeps `sleepMs`, at `concurrency`, in its own process.
 */
export async function runNoopJobs(bench: BenchEnvironment, input: { count: number; concurrency: number; sleepMs: number }): Promise<NoopResult> {
  const name = `noop-${input.concurrency}-${input.sleepMs}`;
  const queue = new Queue(name, { connection: bench.redis, prefix: bench.env.QUEUE_PREFIX, defaultJobOptions: { removeOnComplete: true, removeOnFail: true } });
  const child = await startChild("./noop-worker-process.ts", {
    REDIS_URL: bench.env.REDIS_URL,
    QUEUE_PREFIX: bench.env.QUEUE_PREFIX,
    BENCH_QUEUE: name,
    BENCH_CONCURRENCY: String(input.concurrency),
    BENCH_SLEEP_MS: String(input.sleepMs),
  });
  try {
    await queue.pause();
    for (let i = 0; i < input.count; i += 1000) {
      await queue.addBulk(Array.from({ length: Math.min(1000, input.count - i) }, (_, k) => ({ name: "noop", data: { n: i + k } })));
    }
    const before = await child.probe();
    const stats = await redisStats(bench.redis);
    const started = performance.now();
    await queue.resume();
    const after = await waitForCompletions(child, before.completed, input.count, 60_000 + input.count * (input.sleepMs + 5));
    const seconds = (performance.now() - started) / 1000;
    const commands = commandsBetween(stats, await redisStats(bench.redis));
    return {
      jobsPerSecond: input.count / seconds,
      serverCommandsPerJob: commands.total / input.count,
      clientCommandsPerJob: (after.io.redisCommands - before.io.redisCommands) / input.count,
    };
  } finally {
    await child.stop();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}
