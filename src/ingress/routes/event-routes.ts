import type { FastifyInstance } from "fastify";
import type { Deps } from "../../deps.ts";
import type { PlatformEventStatus } from "../../db/database.ts";
import { listEvents } from "../../events/list-events.ts";
import { loadEventView } from "../../events/event-view.ts";
import { PLATFORM_EVENT_TYPES } from "../../events/platform-event.ts";
import { redeliverEvent } from "../../events/redeliver-event.ts";
import { decodeCursor } from "../../subscriptions/subscription-cursor.ts";
import { idempotencyKeyHeader, idempotent } from "../idempotent.ts";
import { integerQuery } from "../integer-query.ts";
import { errorResponse, fieldErrorResponse, platformId } from "./schemas.ts";

const STATUSES = ["pending", "delivered", "failed"] as const;
const time = { type: "string", format: "date-time" } as const;
const nullableTime = { type: ["string", "null"], format: "date-time" } as const;

const eventViewSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    type: { type: "string", enum: PLATFORM_EVENT_TYPES },
    status: { type: "string", enum: STATUSES, description: "pending: being delivered (retried hourly up to 30 days); failed: given up, redeliverable" },
    createdAt: { ...time, description: "when the fact happened" },
    subscriptionId: { type: ["string", "null"] },
    invoiceId: { type: ["string", "null"] },
    data: { type: "object", additionalProperties: true, description: "the fact as recorded; each delivery adds the subscription and the invoice as the API shows them" },
    attemptCount: { type: "integer" },
    nextAttemptAt: nullableTime,
    deliveredAt: nullableTime,
    attempts: {
      type: "array",
      description: "every delivery attempt, oldest first",
      items: {
        type: "object",
        properties: {
          at: time,
          statusCode: { type: ["integer", "null"], description: "the platform's HTTP status; null when no answer came" },
          error: { type: ["string", "null"] },
          latencyMs: { type: "integer" },
        },
      },
    },
  },
} as const;

const listQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    type: { type: "string", enum: PLATFORM_EVENT_TYPES },
    subscriptionId: platformId,
    status: { type: "string", enum: STATUSES },
    limit: { type: "integer", minimum: 1, maximum: 100, default: 20 },
    cursor: { type: "string", maxLength: 200, description: "the nextCursor of the previous page" },
  },
} as const;

interface ListQuery {
  type?: string;
  subscriptionId?: string;
  status?: PlatformEventStatus;
  limit: number;
  cursor?: string;
}

const eventIdParams = { type: "object", required: ["id"], properties: { id: { type: "string", pattern: "^evt_[a-z0-9]{1,60}$" } } } as const;

/** Platform events with their delivery attempts, and redelivery (DESIGN.md "Platform API"). */
export async function eventRoutes(app: FastifyInstance, deps: Deps) {
  app.get<{ Querystring: ListQuery }>(
    "/v1/events",
    {
      preValidation: integerQuery("limit"),
      schema: {
        summary: "Platform events, newest first, with their delivery status and attempts",
        description:
          "Pass the answer's nextCursor as cursor for the next page (null: no more). Lists the events kept: each is deleted PLATFORM_EVENTS_RETENTION (default 30 days) after it was delivered or given up, or, while no platform webhook URL is configured, after it happened; one still being retried is kept.",
        operationId: "listEvents",
        tags: ["events"],
        querystring: listQuery,
        response: { 200: { type: "object", properties: { data: { type: "array", items: eventViewSchema }, nextCursor: { type: ["string", "null"] } } }, 400: fieldErrorResponse },
      },
    },
    async (request, reply) => {
      const { cursor, ...filter } = request.query;
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      if (after === undefined && cursor !== undefined) {
        return reply.code(400).send({ error: "bad_request", field: "cursor", message: "querystring cursor is not a nextCursor this API gave out" });
      }
      return listEvents(deps.db, { ...filter, after });
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/events/:id",
    { schema: { summary: "A platform event with its delivery attempts", operationId: "getEvent", tags: ["events"], params: eventIdParams, response: { 200: eventViewSchema, 404: errorResponse } } },
    async (request, reply) => (await loadEventView(deps.db, request.params.id)) ?? reply.code(404).send({ error: "not_found", message: `event "${request.params.id}" does not exist` }),
  );

  app.post<{ Params: { id: string } }>(
    "/v1/events/:id/redeliver",
    {
      schema: {
        summary: "Deliver an event again (given up, or wanted again): same body, same webhook-id, a fresh 30-day retry schedule",
        description: "Idempotency-Key is required (400 without it).",
        operationId: "redeliverEvent",
        tags: ["events"],
        params: eventIdParams,
        headers: { type: "object", properties: idempotencyKeyHeader },
        response: {
          202: { type: "object", properties: { previousStatus: { type: "string", enum: STATUSES }, event: eventViewSchema } },
          404: errorResponse,
          409: errorResponse,
        },
      },
    },
    (request, reply) =>
      idempotent(deps.db, request, reply, { scope: "event-redeliver", required: true }, async () => {
        const id = request.params.id;
        if (deps.config.platformWebhook === null) {
          return { statusCode: 409, body: { error: "platform_webhook_not_configured", message: "PLATFORM_WEBHOOK_URL is not set: events wait, pending, until it is" } };
        }
        const result = await redeliverEvent(deps, id);
        if (result.kind === "not_found") return { statusCode: 404, body: { error: "not_found", message: `event "${id}" does not exist` } };
        const previousStatus = result.kind === "already_pending" ? "pending" : result.previousStatus;
        return { statusCode: 202, body: { previousStatus, event: await loadEventView(deps.db, id) } };
      }),
  );
}
