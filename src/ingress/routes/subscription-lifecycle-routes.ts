import type { FastifyInstance } from "fastify";
import type { Deps } from "../../deps.ts";
import { changeSubscriptionPlan, type PlanChangeRequest } from "../../subscriptions/change-subscription-plan.ts";
import { refundView } from "../../refunds/refund-view.ts";
import { resumeSubscription } from "../../subscriptions/resume-subscription.ts";
import { terminateSubscription, type TerminateRefund } from "../../subscriptions/terminate-subscription.ts";
import { invoiceSummary, loadSubscriptionView } from "../../subscriptions/subscription-view.ts";
import { idempotencyKeyHeader, idempotent } from "../idempotent.ts";
import { errorResponse, idParams, invoiceSummarySchema, platformId, refundSchema, subscriptionViewSchema } from "./schemas.ts";

const headers = { type: "object", properties: idempotencyKeyHeader } as const;
const notFound = (id: string) => ({ statusCode: 404, body: { error: "not_found", message: `subscription "${id}" does not exist` } });
const withProration = {
  type: "object",
  properties: { subscription: subscriptionViewSchema, prorationInvoice: { anyOf: [{ type: "null" }, invoiceSummarySchema] } },
} as const;
const declinedResponse = {
  type: "object",
  properties: { error: { type: "string" }, message: { type: "string" }, declineCode: { type: ["string", "null"] }, prorationInvoice: invoiceSummarySchema },
} as const;

/** Plan changes, terminate and resume (DESIGN.md "Trials, plan changes, cancel and terminate"); each requires an Idempotency-Key. */
export async function subscriptionLifecycleRoutes(app: FastifyInstance, deps: Deps) {
  app.post<{ Params: { id: string }; Body: PlanChangeRequest }>(
    "/v1/subscriptions/:id/plan-change",
    {
      schema: {
        summary: "Switch plans: an upgrade now, charging the prorated difference at once; a downgrade at the period end",
        tags: ["subscriptions"],
        params: idParams,
        headers,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["planId"],
          properties: { planId: platformId, prorate: { type: "boolean" }, effective: { type: "string", enum: ["now", "period_end"] } },
        },
        response: { 200: withProration, 202: withProration, 400: errorResponse, 402: declinedResponse, 404: errorResponse, 409: errorResponse, 422: errorResponse },
      },
    },
    (request, reply) =>
      idempotent(deps.db, request, reply, { scope: "plan-change", required: true }, async () => {
        const id = request.params.id;
        const result = await changeSubscriptionPlan(deps, id, request.body);
        if (result.kind === "refused") return { statusCode: result.status, body: { error: result.error, message: result.message } };
        if (result.kind === "declined") {
          return {
            statusCode: 402,
            body: { error: "proration_declined", message: `the prorated charge was declined (${result.code ?? "no code"}); the subscription keeps its plan`, declineCode: result.code, prorationInvoice: invoiceSummary(result.invoice) },
          };
        }
        const subscription = await loadSubscriptionView(deps.db, id);
        const prorationInvoice = result.kind === "changed" || result.kind === "pending" ? result.invoice && invoiceSummary(result.invoice) : null;
        return { statusCode: result.kind === "pending" ? 202 : 200, body: { subscription, prorationInvoice } };
      }),
  );

  app.post<{ Params: { id: string }; Body: { refund?: TerminateRefund } }>(
    "/v1/subscriptions/:id/terminate",
    {
      schema: {
        summary: "End now: open invoices void; refund none (default), the unused fraction, or all of the last paid period (its renewal and the prorations of its upgrades, a refund each)",
        tags: ["subscriptions"],
        params: idParams,
        headers,
        body: { type: "object", additionalProperties: false, properties: { refund: { type: "string", enum: ["none", "prorated", "full"] } } },
        response: {
          200: {
            type: "object",
            properties: {
              subscription: subscriptionViewSchema,
              refund: { anyOf: [{ type: "null" }, refundSchema], description: "the renewal's refund" },
              refunds: { type: "array", items: refundSchema, description: "every refund made: the renewal's first, then the prorations'" },
            },
          },
          400: errorResponse,
          404: errorResponse,
          409: errorResponse,
        },
      },
    },
    (request, reply) =>
      idempotent(deps.db, request, reply, { scope: "terminate", required: true }, async () => {
        const result = await terminateSubscription(deps, request.params.id, request.body?.refund ?? "none");
        if (result.kind === "not_found") return notFound(request.params.id);
        if (result.kind === "already_ended") return { statusCode: 409, body: { error: "already_ended", message: `subscription is already ${result.status}` } };
        return { statusCode: 200, body: { subscription: await loadSubscriptionView(deps.db, request.params.id), refund: result.refund && refundView(result.refund), refunds: result.refunds.map(refundView) } };
      }),
  );

  app.post<{ Params: { id: string } }>(
    "/v1/subscriptions/:id/resume",
    {
      schema: {
        summary: "Clear a scheduled cancel while the period still runs",
        tags: ["subscriptions"],
        params: idParams,
        headers,
        response: { 200: subscriptionViewSchema, 400: errorResponse, 404: errorResponse, 409: errorResponse },
      },
    },
    (request, reply) =>
      idempotent(deps.db, request, reply, { scope: "resume", required: true }, async () => {
        const result = await resumeSubscription(deps, request.params.id);
        if (result.kind === "not_found") return notFound(request.params.id);
        if (result.kind === "not_resumable") return { statusCode: 409, body: { error: "not_resumable", message: result.message } };
        return { statusCode: 200, body: await loadSubscriptionView(deps.db, request.params.id) };
      }),
  );
}
