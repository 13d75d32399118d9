// A benchmark's child: the BullMQ baseline. A Worker on BENCH_QUEUE whose processor only sleeps
// BENCH_SLEEP_MS, at BENCH_CONCURRENCY, on REDIS_URL under QUEUE_PREFIX.
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "bullmq";
import { createRedis } from "../src/queues/redis.ts";
import { installIoCounters } from "./io-counters.ts";
import { serveProbes } from "./probe.ts";

const io = installIoCounters();
const sleepMs = Number(process.env.BENCH_SLEEP_MS ?? 0);
const connection = createRedis(process.env.REDIS_URL!, "worker");
let completed = 0;
const worker = new Worker(process.env.BENCH_QUEUE!, async () => (sleepMs > 0 ? sleep(sleepMs) : undefined), {
  connection,
  prefix: process.env.QUEUE_PREFIX!,
  concurrency: Number(process.env.BENCH_CONCURRENCY ?? 1),
});
worker.on("completed", () => completed++);
await worker.waitUntilReady();
serveProbes({}, () => ({ io: io(), completed }), async () => {
  await worker.close();
  connection.disconnect();
});
