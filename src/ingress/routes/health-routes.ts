import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import type { Redis } from "ioredis";
import type { Deps } from "../../deps.ts";

const CHECK_TIMEOUT_MS = 2_000;
// A webhook not applied this long after the relay should have queued it again: something is stuck.
const STALL_MARGIN_MS = 30_000;

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
 * and Redis takes writes, because either can keep an Oen webhook safe; taking
 * the ingress out of rotation then would lose the card tokens Oen delivers.
 * "degraded" when one of them does not (Redis is probed with a write: a full
 * Redis with noeviction still answers PING), or when webhooks wait in Postgres
 * longer than the relay and the workers should need (they are failing); 503
 * only when neither store takes writes.
 */
export async function healthRoutes(app: FastifyInstance, options: { deps: Pick<Deps, "db" | "config">; redis: Redis }) {
  const { db, config } = options.deps;
  const stalledAfterS = (2 * config.renewalSweepIntervalMs + STALL_MARGIN_MS) / 1000;
  app.get("/healthz", { schema: { hide: true } }, async () => ({ status: "ok" }));
  app.get("/readyz", { schema: { hide: true } }, async (_request, reply) => {
    const [postgres, redis, backlog] = await Promise.all([
      check(() => sql`select 1`.execute(db)),
      check(() => options.redis.set(`${config.queuePrefix}:readyz-probe`, "1", "PX", 60_000)),
      check(async () => {
        const { n } = await db
          .selectFrom("webhook_inbox")
          .select(sql<string>`count(*)`.as("n"))
          .where("processed_at", "is", null)
          .where("received_at", "<", sql<Date>`now() - make_interval(secs => ${stalledAfterS})`)
          .executeTakeFirstOrThrow();
        if (Number(n) > 0) throw new Error(`${n} webhooks received over ${stalledAfterS} s ago are not applied yet (the relay or the workers are failing)`);
      }),
    ]);
    const up = [postgres, redis].filter((s) => s === "ok").length;
    const webhooks = postgres === "ok" ? backlog : "unknown: Postgres unavailable";
    const status = up === 0 ? "not_ready" : up === 2 && webhooks === "ok" ? "ready" : "degraded";
    return reply.code(up === 0 ? 503 : 200).send({ status, postgres, redis, webhooks });
  });
}
