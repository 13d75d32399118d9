import type { FastifyInstance } from "fastify";
import type { Deps } from "../../deps.ts";
import { OenConfigError, OenError } from "../../oen/errors.ts";
import { createSubscription, PlanNotFoundError, type CreateSubscriptionInput } from "../../subscriptions/create-subscription.ts";
import { loadSubscriptionView } from "../../subscriptions/subscription-view.ts";
import { cancelSubscription } from "../../subscriptions/cancel-subscription.ts";
import { listInvoices } from "../../invoices/list-invoices.ts";
import { createSideEffects } from "../../outbox/side-effects.ts";
import { completeIdempotencyKey, releaseIdempotencyKey, requestHash, reserveIdempotencyKey } from "../idempotency.ts";
import { dunningTimeline } from "../../dunning/dunning-timeline.ts";
import { errorResponse, httpUrl, idParams, invoiceListSchema, platformId, subscriptionViewSchema } from "./schemas.ts";

const createBody = {
  type: "object",
  additionalProperties: false,
  required: ["customer", "planId", "successUrl", "failureUrl"],
  properties: {
    customer: {
      type: "object",
      additionalProperties: false,
      required: ["id", "name", "email"],
      properties: {
        id: platformId,
        name: { type: "string", minLength: 1, maxLength: 100 },
        email: { type: "string", format: "email", maxLength: 254 },
        locale: { type: "string", enum: ["zh-TW", "en"] },
      },
    },
    planId: platformId,
    successUrl: httpUrl,
    failureUrl: httpUrl,
  },
} as const;

const notFound = (id: string) => ({ error: "not_found", message: `subscription "${id}" does not exist` });

export async function subscriptionRoutes(app: FastifyInstance, deps: Deps) {
  app.post<{ Body: CreateSubscriptionInput; Headers: { "idempotency-key"?: string } }>(
    "/v1/subscriptions",
    {
      schema: {
        summary: "Create a subscription and its card-binding page",
        description: "With an Idempotency-Key header, a retried request (same key, same body, within 7 days) gets the first answer again.",
        tags: ["subscriptions"],
        headers: { type: "object", properties: { "idempotency-key": { type: "string", pattern: "^[A-Za-z0-9_:.-]{1,255}$" } } },
        body: createBody,
        response: {
          201: {
            type: "object",
            properties: { id: { type: "string" }, status: { type: "string" }, checkoutUrl: { type: "string" }, checkoutExpiresAt: { type: "string", format: "date-time" } },
          },
          400: errorResponse,
          409: errorResponse,
          422: errorResponse,
          502: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const key = request.headers["idempotency-key"];
      if (key !== undefined) {
        const replay = await reserveIdempotencyKey(deps.db, "subscriptions", key, requestHash(request.body));
        if (replay.kind === "replay") return reply.code(replay.statusCode).header("idempotent-replayed", "true").send(replay.response);
        if (replay.kind === "in_progress") return reply.code(409).send({ error: "request_in_progress", message: "a request with this Idempotency-Key is still being answered; retry shortly" });
        if (replay.kind === "mismatch") return reply.code(422).send({ error: "idempotency_key_reused", message: "this Idempotency-Key was used with a different request body" });
      }
      try {
        const created = await createSubscription(deps, request.body);
        if (key !== undefined) await completeIdempotencyKey(deps.db, "subscriptions", key, 201, created);
        return reply.code(201).send(created);
      } catch (error) {
        if (key !== undefined) await releaseIdempotencyKey(deps.db, "subscriptions", key);
        if (error instanceof PlanNotFoundError) return reply.code(422).send({ error: "unknown_plan", message: error.message });
        if (error instanceof OenError) {
          request.log.error({ err: error.message, code: error instanceof OenConfigError ? error.code : undefined }, "Oen refused to open a binding page");
          return reply.code(502).send({ error: "oen_unavailable", message: "Oen could not open a card-binding page; try again later" });
        }
        throw error;
      }
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/subscriptions/:id",
    { schema: { summary: "A subscription", tags: ["subscriptions"], params: idParams, response: { 200: subscriptionViewSchema, 404: errorResponse } } },
    async (request, reply) => {
      const view = await loadSubscriptionView(deps.db, request.params.id);
      return view ?? reply.code(404).send(notFound(request.params.id));
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/subscriptions/:id/invoices",
    { schema: { summary: "A subscription's invoices with their charge attempts", tags: ["subscriptions"], params: idParams, response: { 200: invoiceListSchema, 404: errorResponse } } },
    async (request, reply) => {
      const exists = await deps.db.selectFrom("subscriptions").select("id").where("id", "=", request.params.id).executeTakeFirst();
      if (exists === undefined) return reply.code(404).send(notFound(request.params.id));
      return { data: await listInvoices(deps.db, request.params.id) };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/subscriptions/:id/dunning",
    { schema: { summary: "Preview of the dunning timeline: retries, notices, final state", tags: ["subscriptions"], params: idParams, response: { 404: errorResponse } } },
    async (request, reply) => (await dunningTimeline(deps, request.params.id)) ?? reply.code(404).send(notFound(request.params.id)),
  );

  app.post<{ Params: { id: string }; Body: { atPeriodEnd: boolean } }>(
    "/v1/subscriptions/:id/cancel",
    {
      schema: {
        summary: "Cancel now, or at the end of the current period",
        tags: ["subscriptions"],
        params: idParams,
        body: { type: "object", additionalProperties: false, required: ["atPeriodEnd"], properties: { atPeriodEnd: { type: "boolean" } } },
        response: { 200: subscriptionViewSchema, 404: errorResponse, 409: errorResponse },
      },
    },
    async (request, reply) => {
      const effects = createSideEffects(deps);
      const result = await cancelSubscription(deps, request.params.id, request.body.atPeriodEnd, effects);
      await effects.flush();
      if (result.kind === "not_found") return reply.code(404).send(notFound(request.params.id));
      if (result.kind === "already_ended") return reply.code(409).send({ error: "already_ended", message: `subscription is already ${result.status}` });
      return loadSubscriptionView(deps.db, request.params.id);
    },
  );
}
