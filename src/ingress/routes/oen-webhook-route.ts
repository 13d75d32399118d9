import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import type { Deps } from "../../deps.ts";
import { createIngressBatches } from "../../webhooks/ingress-batches.ts";
import { acceptOenWebhook, WebhookNotStoredError, type AcceptDeps, type OenWebhookBody } from "../../webhooks/accept-oen-webhook.ts";
import { parseSourceAllowlist } from "../../webhooks/source-allowlist.ts";
import type { WEBHOOK_REFUSALS } from "../../webhooks/webhook-count-labels.ts";
import { createWebhookTally } from "../../webhooks/webhook-tally.ts";

// Oen's webhooks (api/objects/webhook.md). "Accept every body that carries a
// checkout id we know; reject only what cannot be ours": a token webhook needs
// only what identifies it, a purpose and an id (a bounded string; our checkout
// ids are Oen's, 27 characters). Any other field, of any type or length, is
// kept, bounded and made storable before it is stored (cleanTokenDelivery), and
// one that does not verify is counted as rejected: a 400 here would make Oen
// try twice more and then drop the customer's card for good.
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

const BODY_LIMIT = 64 * 1024;
const RATE_LIMIT_ADDRESSES = 50_000;

/**
 * POST /webhooks/oen: answers 200 once the webhook is durable (queue or
 * Postgres) or, when it cannot be ours, counted (acceptOenWebhook); 503 when no
 * store can take one that needs it, so Oen tries again. Oen gives up after 3
 * tries 10 s apart at most, so nothing slow happens here. A source address
 * gets 429 past OEN_WEBHOOK_RATE_LIMIT a minute; with OEN_WEBHOOK_ALLOWED_IPS,
 * any other source gets 403 and the listed ones are never limited (a limited
 * Oen would lose cards). Counted per process: each replica limits on its own.
 */
export async function oenWebhookRoute(app: FastifyInstance, options: { deps: Pick<Deps, "db" | "queues" | "config" | "clock" | "logger">; redis: Redis }) {
  const { deps, redis } = options;
  const settings = deps.config.oenWebhooks;
  const tally = createWebhookTally(deps.db, deps.logger);
  app.addHook("onClose", () => tally.close());
  const allowlist = settings.allowedSources === null ? null : parseSourceAllowlist(settings.allowedSources.join(","));
  const refused = (reason: (typeof WEBHOOK_REFUSALS)[number]) => tally.count({ purpose: "unknown", outcome: "refused", reason });
  const accept: Omit<AcceptDeps, "logger"> = {
    batches: createIngressBatches({ db: deps.db, queues: deps.queues, redis, queuePrefix: deps.config.queuePrefix, queueConnected: () => redis.status === "ready" }),
    keyring: deps.config.tokenKeys,
    clock: deps.clock,
    rules: { merchantId: deps.config.oen.merchantId, lateDeliveryMs: settings.lateDeliveryMs },
    tally,
  };

  // Room for the addresses of a botnet: one the cache forgets starts a fresh window.
  await app.register(rateLimit, { global: false, cache: RATE_LIMIT_ADDRESSES });
  app.post<{ Body: OenWebhookBody }>(
    "/webhooks/oen",
    {
      bodyLimit: BODY_LIMIT,
      onRequest: async (request, reply) => {
        if (allowlist === null || allowlist.allows(request.ip)) return;
        refused("source_not_allowed");
        return reply.code(403).send({ error: "forbidden", message: "this address may not deliver Oen webhooks (OEN_WEBHOOK_ALLOWED_IPS)" });
      },
      config: {
        rateLimit: {
          max: settings.ratePerMinute,
          timeWindow: 60_000,
          ...(allowlist === null ? {} : { allowList: (request) => allowlist.allows(request.ip) }),
          onExceeded: () => refused("rate_limited"),
          errorResponseBuilder: (_request, context) =>
            Object.assign(new Error(`too many webhooks from this address; retry in ${context.after}`), { statusCode: 429, code: "RATE_LIMITED" }),
        },
      },
      schema: {
        summary: "Oen payment notification (unsigned; verified against the pages we opened)",
        tags: ["oen"],
        body: bodySchema,
        response: { 200: { type: "object", properties: { received: { type: "boolean" } } } },
      },
    },
    async (request, reply) => {
      try {
        const bytes = Number(request.headers["content-length"] ?? 0);
        const outcome = await acceptOenWebhook({ ...accept, logger: request.log }, request.body, { address: request.ip, bytes });
        if (outcome.kind === "stored") request.log.info({ jobId: outcome.jobId, storedIn: outcome.storedIn }, "Oen token webhook stored");
        else request.log.debug({ outcome: outcome.outcome, reason: outcome.reason }, "Oen webhook counted, nothing stored");
        return { received: true };
      } catch (error) {
        if (error instanceof WebhookNotStoredError) return reply.code(503).send({ error: "unavailable", message: "try again" });
        throw error;
      }
    },
  );
}
