import swagger from "@fastify/swagger";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import type { Deps } from "../deps.ts";
import { metrics } from "../metrics/metrics.ts";
import type { TestClock } from "../test-clock.ts";
import { portalRoutes } from "../portal/portal-routes.ts";
import { adminBoard } from "./admin-board.ts";
import { requireApiKey } from "./api-key-auth.ts";
import { authThrottle } from "./auth-throttle.ts";
import { errorHandler } from "./error-handler.ts";
import { openapiTransform } from "./openapi-transform.ts";
import { docsRoute } from "./routes/docs-route.ts";
import { eventRoutes } from "./routes/event-routes.ts";
import { customerRoutes } from "./routes/customer-routes.ts";
import { healthRoutes } from "./routes/health-routes.ts";
import { metricsRoute } from "./routes/metrics-route.ts";
import { invoiceRoutes } from "./routes/invoice-routes.ts";
import { oenWebhookRoute } from "./routes/oen-webhook-route.ts";
import { paymentMethodRoutes } from "./routes/payment-method-routes.ts";
import { planRoutes } from "./routes/plan-routes.ts";
import { portalSessionRoutes } from "./routes/portal-session-routes.ts";
import { reconciliationRoutes } from "./routes/reconciliation-routes.ts";
import { subscriptionLifecycleRoutes } from "./routes/subscription-lifecycle-routes.ts";
import { subscriptionRoutes } from "./routes/subscription-routes.ts";
import { testClockRoutes } from "./routes/test-clock-routes.ts";

const UNLOGGED = new Set(["/healthz", "/readyz"]);

/** The HTTP ingress: Oen's webhooks, the platform API, health, and Bull Board. */
export async function buildApp(deps: Deps, options: { redis: Redis; testClock: TestClock | null }): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // request.ip is the client's only behind the proxies TRUST_PROXY names (the auth throttle counts per address).
    trustProxy: deps.config.trustProxy,
    // Strict JSON: no type coercion, unknown fields are errors where schemas say so.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
    // Probes every few seconds would drown the log.
    logController: new LogController({ disableRequestLogging: (request) => UNLOGGED.has(request.url.split("?")[0]!) }),
  });
  app.setErrorHandler(errorHandler);
  // First, so that its hooks run before every route's own authentication.
  authThrottle(app, deps.config.authThrottle);
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: "not_found", message: `no route ${request.method} ${request.url}` }));
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Oen recurring billing API",
        version: "1",
        description: "Recurring card billing through Oen Payment (應援金流). The platform API takes a bearer API key (BILLING_API_KEYS).",
        license: { name: "MIT", identifier: "MIT" },
      },
      servers: [{ url: deps.config.publicUrl, description: "this service (PUBLIC_URL)" }],
      components: {
        securitySchemes: {
          apiKey: { type: "http", scheme: "bearer", description: "a key of BILLING_API_KEYS" },
          metricsToken: { type: "http", scheme: "bearer", description: "METRICS_TOKEN" },
        },
      },
      security: [{ apiKey: [] }],
    },
    transform: openapiTransform,
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  await app.register(docsRoute, { spec: () => app.swagger() as object });
  app.addHook("onResponse", async (request, reply) => {
    if (request.routeOptions.url === "/webhooks/oen") metrics.webhookAnswered(reply.statusCode, reply.elapsedTime / 1000);
  });

  await app.register(healthRoutes, { deps, redis: options.redis });
  await app.register(metricsRoute, deps);
  await app.register(oenWebhookRoute, { deps, redis: options.redis });
  // Outside the bearer scope: its customer link is authorized by its signature; its API route checks the key itself.
  await app.register(paymentMethodRoutes, deps);
  await app.register(async (api) => {
    api.addHook("onRequest", requireApiKey(deps.config.billingApiKeys));
    await api.register(planRoutes, { db: deps.db });
    await api.register(subscriptionRoutes, deps);
    await api.register(subscriptionLifecycleRoutes, deps);
    await api.register(invoiceRoutes, deps);
    await api.register(customerRoutes, deps);
    await api.register(portalSessionRoutes, deps);
    await api.register(reconciliationRoutes, { db: deps.db });
    await api.register(eventRoutes, deps);
    if (options.testClock !== null) await api.register(testClockRoutes, { deps, clock: options.testClock });
  });
  // The customer portal: its session cookie and CSRF tokens are its authorization, its own security headers.
  await app.register(portalRoutes, { prefix: "/portal", deps });
  await app.register(adminBoard, { queues: deps.queues.all, user: deps.config.admin.user, password: deps.config.admin.password });
  return app;
}
