import type { FastifyInstance } from "fastify";
import { acceptOenWebhook, WebhookNotStoredError, type AcceptDeps, type OenWebhookBody } from "../../webhooks/accept-oen-webhook.ts";

const oenId = { type: "string", pattern: "^[A-Za-z0-9]{1,64}$" } as const;

// Oen's token webhook (api/objects/webhook.md). Other purposes are accepted and
// recorded; we only act on "token" (token charges send no webhook).
const bodySchema = {
  type: "object",
  required: ["purpose"],
  properties: { purpose: { type: "string", minLength: 1, maxLength: 64 } },
  if: { properties: { purpose: { const: "token" } } },
  then: {
    required: ["id", "merchantId", "success"],
    properties: {
      id: oenId,
      transactionId: oenId,
      merchantId: { type: "string", minLength: 1, maxLength: 64 },
      success: { type: "boolean" },
      token: { type: "string", minLength: 1, maxLength: 512 },
      paymentInfo: { type: ["string", "null"], maxLength: 32 },
      customId: { type: ["string", "null"], maxLength: 1024 },
      message: { type: ["string", "null"], maxLength: 1024 },
    },
    if: { properties: { success: { const: true } } },
    then: { required: ["token"] },
  },
} as const;

/**
 * POST /webhooks/oen: answers 200 only once the webhook is durable (queue or
 * Postgres), 503 when neither can take it so Oen tries again. Oen gives up
 * after 3 tries 10 s apart at most, so nothing slow happens here.
 */
export async function oenWebhookRoute(app: FastifyInstance, deps: AcceptDeps) {
  app.post<{ Body: OenWebhookBody }>(
    "/webhooks/oen",
    {
      bodyLimit: 64 * 1024,
      schema: {
        summary: "Oen payment notification (unsigned; verified by the worker)",
        tags: ["oen"],
        body: bodySchema,
        response: { 200: { type: "object", properties: { received: { type: "boolean" } } } },
      },
    },
    async (request, reply) => {
      try {
        const { jobId, stored } = await acceptOenWebhook({ ...deps, logger: request.log }, request.body);
        request.log.info({ jobId, stored, purpose: request.body.purpose }, "Oen webhook accepted");
        return { received: true };
      } catch (error) {
        if (error instanceof WebhookNotStoredError) return reply.code(503).send({ error: "unavailable", message: "try again" });
        throw error;
      }
    },
  );
}
