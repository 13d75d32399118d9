import type { FastifyInstance } from "fastify";
import type { Deps } from "../../deps.ts";
import { loadInvoiceView } from "../../invoices/list-invoices.ts";
import { refundInvoice } from "../../refunds/refund-invoice.ts";
import { refundView } from "../../refunds/refund-view.ts";
import { idempotencyKeyHeader, idempotent } from "../idempotent.ts";
import { errorResponse, idParams, invoiceDetailSchema, refundSchema } from "./schemas.ts";

/** Invoices and their refunds (DESIGN.md "Refunds"). */
export async function invoiceRoutes(app: FastifyInstance, deps: Deps) {
  app.get<{ Params: { id: string } }>(
    "/v1/invoices/:id",
    { schema: { summary: "An invoice with its charge attempts and refunds", tags: ["invoices"], params: idParams, response: { 200: invoiceDetailSchema, 404: errorResponse } } },
    async (request, reply) => (await loadInvoiceView(deps.db, request.params.id)) ?? reply.code(404).send({ error: "not_found", message: `invoice "${request.params.id}" does not exist` }),
  );

  app.post<{ Params: { id: string }; Body: { amount?: number; reason?: string } }>(
    "/v1/invoices/:id/refunds",
    {
      schema: {
        summary: "Refund a paid invoice's charge (all that is left by default); Oen refunds a charge only once",
        tags: ["invoices"],
        params: idParams,
        headers: { type: "object", properties: idempotencyKeyHeader },
        body: { type: "object", additionalProperties: false, properties: { amount: { type: "integer", minimum: 1 }, reason: { type: "string", minLength: 1, maxLength: 200 } } },
        response: { 201: refundSchema, 400: errorResponse, 404: errorResponse, 409: errorResponse, 422: errorResponse },
      },
    },
    (request, reply) =>
      idempotent(deps.db, request, reply, { scope: "refund", required: true }, async () => {
        const result = await refundInvoice(deps, request.params.id, request.body ?? {});
        if (result.kind === "refused") return { statusCode: result.status, body: { error: result.error, message: result.message } };
        return { statusCode: 201, body: refundView(result.refund) };
      }),
  );
}
