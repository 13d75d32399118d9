import { createHash, timingSafeEqual } from "node:crypto";
import basicAuth from "@fastify/basic-auth";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";
import { QUEUE_NAMES } from "../queues/queue-names.ts";

const BASE_PATH = "/admin/queues";
const digest = (value: string) => createHash("sha256").update(value).digest();

// What ops may change: run a job again, move a delayed one up, remove one.
// Never add a job, edit its data, delay or reprioritise it, nor change a
// queue (a job's data is what a worker acts on).
const ALLOWED_CHANGES = new Set(
  ["/:queueName/retry/:queueStatus", "/:queueName/:jobId/retry", "/:queueName/clean/:queueStatus", "/:queueName/:jobId/clean", "/:queueName/promote", "/:queueName/:jobId/promote"].map(
    (route) => `PUT ${BASE_PATH}/api/queues${route}`,
  ),
);

// What a webhook job shows: which page or purpose it is about. Whatever else one
// holds (one queued by an older version carries the page's customId and a sealed
// token) is never shown. Other queues' jobs hold ids only.
const WEBHOOK_FIELDS = ["kind", "checkoutId", "purpose"];
const webhookData = (data: unknown) =>
  data !== null && typeof data === "object" ? Object.fromEntries(Object.entries(data).filter(([key]) => WEBHOOK_FIELDS.includes(key))) : data;

/**
 * Bull Board at /admin/queues behind basic auth: ops watch, retry and clean
 * jobs; job data is read-only and shows ids only.
 */
export async function adminBoard(app: FastifyInstance, options: { queues: Queue[]; user: string; password: string }) {
  const expected = digest(`${options.user}:${options.password}`);
  await app.register(basicAuth, {
    authenticate: { realm: "oen-billing admin" },
    async validate(user, password) {
      if (!timingSafeEqual(digest(`${user}:${password}`), expected)) throw new Error("invalid admin credentials");
    },
  });
  app.addHook("onRequest", app.basicAuth);
  app.addHook("onRequest", async (request, reply) => {
    if (request.method === "GET" || request.method === "HEAD" || ALLOWED_CHANGES.has(`${request.method} ${request.routeOptions.url}`)) return;
    return reply.code(405).send({ error: "read_only", message: "Bull Board only watches, retries, promotes and cleans jobs here; it adds and edits none" });
  });
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BASE_PATH);
  const adapters = options.queues.map((queue) => {
    const adapter = new BullMQAdapter(queue, { readOnlyMode: false });
    if (queue.name === QUEUE_NAMES.webhooks) adapter.setFormatter("data", webhookData);
    return adapter;
  });
  createBullBoard({ queues: adapters, serverAdapter });
  await app.register(serverAdapter.registerPlugin(), { prefix: BASE_PATH });
}
