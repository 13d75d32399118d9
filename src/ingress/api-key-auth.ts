import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

const digest = (value: string) => createHash("sha256").update(value).digest();

/** An onRequest hook that admits `Authorization: Bearer <BILLING_API_KEY>` only. */
export function requireApiKey(apiKey: string) {
  const expected = digest(apiKey);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization ?? "";
    const match = /^Bearer (.+)$/.exec(header);
    // Hashing first makes the comparison constant-time whatever the lengths.
    if (match?.[1] === undefined || !timingSafeEqual(digest(match[1]), expected)) {
      return reply.code(401).header("www-authenticate", "Bearer").send({ error: "unauthorized", message: "missing or invalid API key (Authorization: Bearer <key>)" });
    }
  };
}
