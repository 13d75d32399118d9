import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import type { Redis } from "ioredis";
import type { Db } from "../../db/connect.ts";

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timed out")), CHECK_TIMEOUT_MS).unref())]);
}

async function check(probe: () => Promise<unknown>): Promise<"ok" | string> {
  try {
    await withTimeout(probe());
    return "ok";
  } catch (error) {
    return `unavailable: ${(error as Error).message}`;
  }
}

/** /healthz: the process answers. /readyz: it can reach Postgres and Redis. */
export async function healthRoutes(app: FastifyInstance, options: { db: Db; redis: Redis }) {
  app.get("/healthz", { schema: { hide: true } }, async () => ({ status: "ok" }));
  app.get("/readyz", { schema: { hide: true } }, async (_request, reply) => {
    const [postgres, redis] = await Promise.all([check(() => sql`select 1`.execute(options.db)), check(() => options.redis.ping())]);
    const ready = postgres === "ok" && redis === "ok";
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not_ready", postgres, redis });
  });
}
