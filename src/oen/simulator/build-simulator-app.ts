import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import { refused, sendAnswer } from "./envelope.ts";
import { adminRoutes } from "./routes/admin-routes.ts";
import { API_ROUTES, apiRoutes } from "./routes/api-routes.ts";
import { hostedPageRoutes } from "./routes/hosted-page-routes.ts";
import type { SimulatorContext } from "./simulator-context.ts";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/** The simulator's HTTP server: Oen's API, the hosted page and the admin endpoints on one port. */
export async function buildSimulatorApp(ctx: SimulatorContext, closing: AbortSignal): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    // A test closing the simulator must not wait for a request held by a latency fault.
    forceCloseConnections: true,
    // Like Oen: every failing rule in one message, and no type coercion ("1200" is not an integer).
    ajv: { customOptions: { allErrors: true, coerceTypes: false } },
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) return sendAnswer(reply, refused(400, "V0001", error.validation.map((item) => item.message).join("; ")));
    // Oen answers a body that is not valid JSON with 500 F0001 (api/index.md "欄位驗證").
    if (error instanceof SyntaxError || error.code?.startsWith("FST_ERR_CTP")) return sendAnswer(reply, refused(500, "F0001", error.message));
    if (!closing.aborted) ctx.logger.error({ err: error, method: request.method, url: request.url }, "simulator error");
    return sendAnswer(reply, refused(500, "F0001", "Internal Server Error"));
  });

  // Oen answers unknown paths and methods in plain text, outside its JSON envelope.
  app.setNotFoundHandler((_request, reply) => reply.code(404).type("text/plain").send("Not Found"));
  for (const route of API_ROUTES) {
    app.route({
      method: METHODS.filter((method) => method !== route.method),
      url: route.url,
      handler: (_request, reply) => reply.code(405).type("text/plain").send("Method Not Allowed"),
    });
  }

  await app.register(apiRoutes, { ctx });
  await app.register(hostedPageRoutes, { ctx });
  await app.register(adminRoutes, { ctx });
  return app;
}
