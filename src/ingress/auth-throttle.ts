import type { FastifyInstance } from "fastify";
import { createAuthFailureCounter } from "./auth-failure-counter.ts";

/**
 * Root hooks against guessing credentials: a request that carried an Authorization
 * header (bearer or basic) and got a 401 counts as a failure of its address; once
 * an address has failed `limit` times, its credentials are not even checked (429)
 * until the window has passed. Requests without credentials (Oen's webhooks, the
 * customer's card link) are never throttled. Counted in this process: each replica
 * throttles on its own, and a restart forgets.
 */
export function authThrottle(app: FastifyInstance, options: { limit: number; windowMs: number; now?: () => number }) {
  const counter = createAuthFailureCounter(options);
  const now = options.now ?? Date.now;
  app.addHook("onRequest", async (request, reply) => {
    if (request.headers.authorization === undefined) return;
    const waitMs = counter.blockedForMs(request.ip, now());
    if (waitMs > 0) {
      return reply
        .code(429)
        .header("retry-after", String(Math.ceil(waitMs / 1000)))
        .send({ error: "too_many_failed_attempts", message: "too many failed authentications from this address; try again after the Retry-After delay" });
    }
  });
  app.addHook("onResponse", async (request, reply) => {
    if (reply.statusCode === 401 && request.headers.authorization !== undefined) counter.recordFailure(request.ip, now());
  });
}
