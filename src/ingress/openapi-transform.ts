import type { FastifySchema, RouteOptions } from "fastify";
import { errorResponse } from "./routes/schemas.ts";

// The conventions of the published OpenAPI document, applied to every route
// as @fastify/swagger builds it (documentation only: validation and
// serialization stay the routes' own). Every operation has an operationId,
// its 400 when it validates input, and its 401 and 429 when it needs a
// credential; routes that need none say so (`security: []`).

type Schema = FastifySchema & {
  hide?: boolean;
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  response?: Record<string, unknown>;
};

const unauthorized = { description: "missing or invalid credentials (Authorization: Bearer <key>)", ...errorResponse };
const throttled = { description: "too many failed authentications from this address; retry after the Retry-After delay", ...errorResponse };
const badRequest = { description: "the request does not match its schema; the message names the field", ...errorResponse };

// The probes are the security pass's routes (health-routes.ts, undocumented there): described here.
const probe = (summary: string, description: string, operationId: string, statuses: Record<string, string>): Schema => ({
  summary,
  description,
  operationId,
  tags: ["operations"],
  security: [],
  response: Object.fromEntries(
    Object.entries(statuses).map(([status, text]) => [status, { description: text, type: "object", properties: { status: { type: "string" }, postgres: { type: "string" }, redis: { type: "string" } } }]),
  ),
});
const PROBES: Record<string, Schema> = {
  "/healthz": probe("Liveness: the process answers", "Not logged.", "getHealth", { 200: "the process answers" }),
  "/readyz": probe("Readiness: Postgres and Redis", "200 while at least one of them answers (either keeps an Oen webhook safe); not logged.", "getReadiness", {
    200: "ready, or degraded (one of the two answers)",
    503: "neither Postgres nor Redis answers",
  }),
};

// Routes that need no bearer key (Oen's webhooks, the customer's card link, the probes, the reference page).
const isPublic = (url: string) => !url.startsWith("/v1/") && url !== "/metrics";

/** `GET /v1/subscriptions/:id/invoices` → `getV1SubscriptionsByIdInvoices`, for a route that names no operationId. */
function operationIdOf(method: string, url: string): string {
  const words = url
    .split("/")
    .filter(Boolean)
    .map((part) => (part.startsWith(":") ? `by-${part.slice(1)}` : part))
    .flatMap((part) => part.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  return [method.toLowerCase(), ...words.map((word) => word[0]!.toUpperCase() + word.slice(1))].join("");
}

/** The `transform` of @fastify/swagger. */
export function openapiTransform({ schema, url, route }: { schema: unknown; url: string; route: RouteOptions }): { schema: Schema; url: string } {
  const method = Array.isArray(route.method) ? route.method[0]! : route.method;
  const given = (PROBES[url] ?? schema ?? {}) as Schema;
  if (given.hide === true) return { schema: given, url };
  const response: Record<string, unknown> = { ...given.response };
  if ((given.body !== undefined || given.querystring !== undefined || given.params !== undefined || given.headers !== undefined) && response[400] === undefined) response[400] = badRequest;
  if (!isPublic(url)) {
    response[401] ??= unauthorized;
    response[429] ??= throttled;
  }
  return {
    schema: {
      ...given,
      operationId: given.operationId ?? operationIdOf(method, url),
      ...(isPublic(url) && given.security === undefined ? { security: [] } : {}),
      response,
    },
    url,
  };
}
