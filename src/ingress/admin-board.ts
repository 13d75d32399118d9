import { createHash, timingSafeEqual } from "node:crypto";
import basicAuth from "@fastify/basic-auth";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";

const BASE_PATH = "/admin/queues";
const digest = (value: string) => createHash("sha256").update(value).digest();

/** Bull Board at /admin/queues behind basic auth, read-write for ops. */
export async function adminBoard(app: FastifyInstance, options: { queues: Queue[]; user: string; password: string }) {
  const expected = digest(`${options.user}:${options.password}`);
  await app.register(basicAuth, {
    authenticate: { realm: "oen-billing admin" },
    async validate(user, password) {
      if (!timingSafeEqual(digest(`${user}:${password}`), expected)) throw new Error("invalid admin credentials");
    },
  });
  app.addHook("onRequest", app.basicAuth);
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BASE_PATH);
  createBullBoard({ queues: options.queues.map((q) => new BullMQAdapter(q, { readOnlyMode: false })), serverAdapter });
  await app.register(serverAdapter.registerPlugin(), { prefix: BASE_PATH });
}
