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

/**
 * /healthz: the process answers. /readyz: 200 while at least one of Postgres
 * and Redis answers ("degraded" when only one does), because either can keep
 * an Oen webhook safe; taking the ingress out of rotation then would lose the
 * card tokens Oen delivers. 503 only when neither answers.
 */
export async function healthRoutes(app: FastifyInstance, options: { db: Db; redis: Redis }) {
  app.get("/healthz", { schema: { hide: true } }, async () => ({ status: "ok" }));
  app.get("/readyz", { schema: { hide: true } }, async (_request, reply) => {
    const [postgres, redis] = await Promise.all([check(() => sql`select 1`.execute(options.db)), check(() => options.redis.ping())]);
    const up = [postgres, redis].filter((s) => s === "ok").length;
    const status = up === 2 ? "ready" : up === 1 ? "degraded" : "not_ready";
    return reply.code(up === 0 ? 503 : 200).send({ status, postgres, redis });
  });
}
