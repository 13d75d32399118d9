import type { FastifyInstance } from "fastify";
import type { Deps } from "../../deps.ts";
import { OenConfigError, OenError } from "../../oen/errors.ts";
import { validateInvoiceInfo } from "../../billing/einvoice.ts";
import type { SubscriptionStatus } from "../../db/database.ts";
import { createSubscription, PlanNotFoundError, type CreateSubscriptionInput } from "../../subscriptions/create-subscription.ts";
import { listSubscriptions } from "../../subscriptions/list-subscriptions.ts";
import { decodeCursor } from "../../subscriptions/subscription-cursor.ts";
import { loadSubscriptionView } from "../../subscriptions/subscription-view.ts";
import { cancelSubscription } from "../../subscriptions/cancel-subscription.ts";
import { listInvoices } from "../../invoices/list-invoices.ts";
import { createSideEffects } from "../../outbox/side-effects.ts";
import { completeIdempotencyKey, releaseIdempotencyKey, requestHash, reserveIdempotencyKey } from "../idempotency.ts";
import { dunningTimeline } from "../../dunning/dunning-timeline.ts";
import { integerQuery } from "../integer-query.ts";
import { invalidInvoiceInfo, invoiceInfoSchema } from "./invoice-info-field.ts";
import {
  customerEmail,
  customerLocale,
  customerName,
  errorResponse,
  fieldErrorResponse,
  httpUrl,
  idParams,
  invoiceListSchema,
  platformId,
  subscriptionViewSchema,
} from "./schemas.ts";

const STATUSES = subscriptionViewSchema.properties.status.enum;

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
        name: customerName,
        email: customerEmail,
        locale: customerLocale,
      },
    },
    planId: platformId,
    successUrl: httpUrl,
    failureUrl: httpUrl,
    trialDays: { type: "integer", minimum: 0, maximum: 365, description: "overrides the plan's trialDays for this subscription" },
    metadata: {
      type: "object",
      description: "the platform's own string pairs, returned as given: at most 50 keys of at most 40 characters, values of at most 500",
      maxProperties: 50,
      propertyNames: { minLength: 1, maxLength: 40 },
      additionalProperties: { type: "string", maxLength: 500 },
    },
    invoiceInfo: { ...invoiceInfoSchema, description: `stored on the customer and sent with every charge. ${invoiceInfoSchema.description}` },
  },
} as const;

const listQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    customerId: platformId,
    status: { type: "string", enum: STATUSES },
    limit: { type: "integer", minimum: 1, maximum: 100, default: 20 },
    cursor: { type: "string", maxLength: 200, description: "the nextCursor of the previous page" },
  },
} as const;

const subscriptionPage = {
  type: "object",
  properties: { data: { type: "array", items: subscriptionViewSchema }, nextCursor: { type: ["string", "null"] } },
} as const;

// invoiceInfo is checked by validateInvoiceInfo, not by the schema.
type CreateBody = Omit<CreateSubscriptionInput, "invoiceInfo"> & { invoiceInfo?: unknown };

interface ListQuery {
  customerId?: string;
  status?: SubscriptionStatus;
  limit: number;
  cursor?: string;
}

const notFound = (id: string) => ({ error: "not_found", message: `subscription "${id}" does not exist` });

export async function subscriptionRoutes(app: FastifyInstance, deps: Deps) {
  app.post<{ Body: CreateBody; Headers: { "idempotency-key"?: string } }>(
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
          422: fieldErrorResponse,
          502: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const info = request.body.invoiceInfo === undefined ? undefined : validateInvoiceInfo(request.body.invoiceInfo);
      if (info?.ok === false) return reply.code(422).send(invalidInvoiceInfo(info));
      const key = request.headers["idempotency-key"];
      if (key !== undefined) {
        const replay = await reserveIdempotencyKey(deps.db, "subscriptions", key, requestHash(request.body));
        if (replay.kind === "replay") return reply.code(replay.statusCode).header("idempotent-replayed", "true").send(replay.response);
        if (replay.kind === "in_progress") return reply.code(409).send({ error: "request_in_progress", message: "a request with this Idempotency-Key is still being answered; retry shortly" });
        if (replay.kind === "mismatch") return reply.code(422).send({ error: "idempotency_key_reused", message: "this Idempotency-Key was used with a different request body" });
      }
      try {
        const created = await createSubscription(deps, { ...request.body, invoiceInfo: info?.value });
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

  app.get<{ Querystring: ListQuery }>(
    "/v1/subscriptions",
    {
      preValidation: integerQuery("limit"),
      schema: {
        summary: "Subscriptions, newest first, a page at a time",
        description: "Pass the answer's nextCursor as cursor for the next page (null: no more). Rows created meanwhile shift nothing.",
        tags: ["subscriptions"],
        querystring: listQuery,
        response: { 200: subscriptionPage, 400: fieldErrorResponse },
      },
    },
    async (request, reply) => {
      const { cursor, ...filter } = request.query;
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      if (after === undefined && cursor !== undefined) {
        return reply.code(400).send({ error: "bad_request", field: "cursor", message: "querystring cursor is not a nextCursor this API gave out" });
      }
      return listSubscriptions(deps.db, { ...filter, after });
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
    {
      schema: {
        summary: "Preview of the dunning timeline: retries, notices, final state",
        tags: ["subscriptions"],
        params: idParams,
        response: { 200: { type: "object", additionalProperties: true, description: "the timeline" }, 404: errorResponse },
      },
    },
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
