import type { FastifyInstance } from "fastify";
import { acceptOenWebhook, WebhookNotStoredError, type AcceptDeps, type OenWebhookBody } from "../../webhooks/accept-oen-webhook.ts";

// Oen's webhooks (api/objects/webhook.md). "Accept every body that carries a
// checkout id we know; reject only what cannot be ours": a token webhook needs
// only what identifies it, a purpose and an id (a bounded string; our checkout
// ids are Oen's, 27 characters). Any other field, of any type or length, is
// kept, bounded and made storable before it is stored (cleanWebhookJob), and
// one that does not verify is recorded as rejected: a 400 here would make
// Oen try twice more and then drop the customer's card for good.
const bodySchema = {
  type: "object",
  required: ["purpose"],
  properties: { purpose: { type: "string", minLength: 1, maxLength: 64 } },
  if: { properties: { purpose: { const: "token" } } },
  then: {
    required: ["id"],
    properties: { id: { type: "string", minLength: 1, maxLength: 256 } },
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
