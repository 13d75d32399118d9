import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * An onRequest hook that admits `Authorization: Bearer <key>` for any of `keys`
 * (several while a key rotates); `what` names the credential in the 401.
 */
export function requireApiKey(keys: readonly string[], what = "API key") {
  const expected = keys.map(digest);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? "");
    // Hashing first makes each comparison constant-time whatever the lengths; every key is compared.
    const given = digest(match?.[1] ?? "");
    let admitted = false;
    for (const key of expected) admitted = timingSafeEqual(given, key) || admitted;
    if (match?.[1] === undefined || !admitted) {
      return reply.code(401).header("www-authenticate", "Bearer").send({ error: "unauthorized", message: `missing or invalid ${what} (Authorization: Bearer <key>)` });
    }
  };
}
