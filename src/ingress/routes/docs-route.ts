import type { FastifyInstance } from "fastify";
import { renderApiReference } from "../render-api-reference.ts";

/** GET /docs: the API reference, a page rendered from the OpenAPI document (no script, works offline). */
export async function docsRoute(app: FastifyInstance, options: { spec: () => object }) {
  let page: string | null = null;
  app.get("/docs", { schema: { hide: true } }, async (_request, reply) => {
    // The document is complete once the app is ready, and never changes after.
    page ??= renderApiReference(options.spec());
    return reply.type("text/html; charset=utf-8").header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'").send(page);
  });
}
