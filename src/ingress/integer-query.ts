import type { FastifyRequest } from "fastify";

/**
 * A preValidation hook: query parameters arrive as text and the API's
 * validator coerces nothing (bodies must be JSON of the right types), so the
 * named parameters, when written as integers, become numbers before the
 * schema checks them. The schema can then say `integer` with its bounds, and
 * anything else ("ten", "1.5") fails it with a message naming the parameter.
 */
export function integerQuery(...names: string[]) {
  return async (request: FastifyRequest) => {
    const query = request.query as Record<string, unknown>;
    for (const name of names) {
      const value = query[name];
      if (typeof value === "string" && /^-?[0-9]{1,15}$/.test(value)) query[name] = Number(value);
    }
  };
}
