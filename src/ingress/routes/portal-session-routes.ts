import type { FastifyInstance } from "fastify";
import { findCustomer } from "../../customers/customer-view.ts";
import type { Deps } from "../../deps.ts";
import { portalLink } from "../../portal/portal-link.ts";
import type { PortalLocale } from "../../portal/portal-locale.ts";
import { idempotencyKeyHeader, idempotent } from "../idempotent.ts";
import { customerLocale, errorResponse, httpUrl, idParams } from "./schemas.ts";

/** POST /v1/customers/:id/portal-sessions: the link the platform sends its customer to, to manage their subscriptions. */
export async function portalSessionRoutes(app: FastifyInstance, deps: Deps) {
  app.post<{ Params: { id: string }; Body: { returnUrl: string; locale?: PortalLocale } }>(
    "/v1/customers/:id/portal-sessions",
    {
      schema: {
        summary: "A one-hour link to the customer portal for this customer",
        description:
          "Opening the URL starts a portal session (a cookie) and lands on a clean URL. The link works for one hour; " +
          "locale (default: the customer's) chooses the language, returnUrl is where the portal's back link goes.",
        tags: ["customers"],
        params: idParams,
        headers: { type: "object", properties: idempotencyKeyHeader },
        body: { type: "object", additionalProperties: false, required: ["returnUrl"], properties: { returnUrl: httpUrl, locale: customerLocale } },
        response: {
          201: { type: "object", properties: { url: { type: "string" }, expiresAt: { type: "string", format: "date-time" } } },
          400: errorResponse,
          404: errorResponse,
        },
      },
    },
    (request, reply) =>
      idempotent(deps.db, request, reply, { scope: "portal-sessions", required: false }, async () => {
        const customer = await findCustomer(deps.db, request.params.id);
        if (customer === undefined) return { statusCode: 404, body: { error: "not_found", message: `customer "${request.params.id}" does not exist` } };
        const link = portalLink(deps.config, { customerId: customer.id, subscriptionId: null, locale: request.body.locale ?? null, returnUrl: request.body.returnUrl }, deps.clock.now());
        return { statusCode: 201, body: { url: link.url, expiresAt: link.expiresAt.toISOString() } };
      }),
  );
}
