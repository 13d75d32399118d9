// A benchmark's child: the ingress baseline. Fastify answering POST /webhooks/oen after one
// Postgres INSERT and one BullMQ add (side by side), on the service's pool size and producer
// connection settings; none of the service's checks, sealing or fallbacks.
import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import Fastify from "fastify";
import pg from "pg";
import { createRedis } from "../src/queues/redis.ts";
import { serveProbes } from "./probe.ts";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL!, max: 10 });
const connection = createRedis(process.env.REDIS_URL!, "producer");
const queue = new Queue("naive-webhooks", { connection, prefix: process.env.QUEUE_PREFIX!, defaultJobOptions: { removeOnComplete: true } });
const app = Fastify();
app.post("/webhooks/oen", async (request) => {
  const jobId = randomUUID();
  await Promise.all([pool.query("insert into naive_inbox (job_id, payload) values ($1, $2)", [jobId, JSON.stringify(request.body)]), queue.add("webhook", request.body, { jobId })]);
  return { received: true };
});
const url = await app.listen({ port: 0, host: "127.0.0.1" });
serveProbes({ url }, () => ({ io: { pgQueries: 0, redisCommands: 0 }, completed: 0 }), async () => {
  await app.close();
  await queue.close();
  connection.disconnect();
  await pool.end();
});
