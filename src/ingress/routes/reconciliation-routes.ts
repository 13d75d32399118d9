import type { FastifyInstance } from "fastify";
import type { Db } from "../../db/connect.ts";
import { DIFFERENCE_KINDS } from "../../reconciliation/reconciliation-difference.ts";
import { readReconciliation } from "../../reconciliation/reconciliation-repository.ts";
import { reconciliationView } from "../../reconciliation/reconciliation-view.ts";
import { taipeiDay } from "../../reconciliation/taipei-day.ts";
import { errorResponse, fieldErrorResponse } from "./schemas.ts";

const nullableString = { type: ["string", "null"] } as const;
const count = { type: "integer" } as const;

const reconciliationSchema = {
  type: "object",
  properties: {
    date: { type: "string" },
    status: { type: "string", enum: ["running", "completed", "failed"] },
    runs: { type: "integer" },
    startedAt: { type: "string", format: "date-time" },
    finishedAt: { type: ["string", "null"], format: "date-time" },
    counts: {
      anyOf: [
        { type: "null" },
        {
          type: "object",
          properties: {
            listed: count,
            pages: count,
            matched: count,
            bindingAuthorisations: count,
            otherPayments: count,
            unknownTransactions: count,
            missingAtOen: count,
            crmRefunds: count,
            statusMismatches: count,
            doubleCharges: count,
          },
        },
      ],
    },
    differences: {
      type: "array",
      items: {
        type: "object",
        properties: {
          kind: { type: "string", enum: DIFFERENCE_KINDS },
          detail: { type: "string" },
          oenTransactionId: nullableString,
          orderId: nullableString,
          invoiceId: nullableString,
          chargeAttemptId: nullableString,
          amount: { type: ["integer", "null"] },
          oen: nullableString,
          ours: nullableString,
          action: { type: "string" },
          refundId: nullableString,
        },
      },
    },
    error: nullableString,
    eventId: nullableString,
  },
} as const;

/** The daily reconciliation's result for one Taipei day (DESIGN.md "Operations"). */
export async function reconciliationRoutes(app: FastifyInstance, options: { db: Db }) {
  app.get<{ Params: { date: string } }>(
    "/v1/reconciliations/:date",
    {
      schema: {
        summary: "The reconciliation of one Taipei day against Oen's transaction list",
        tags: ["operations"],
        params: { type: "object", required: ["date"], properties: { date: { type: "string", description: "a Taipei calendar day, YYYY-MM-DD" } } },
        response: { 200: reconciliationSchema, 400: fieldErrorResponse, 404: errorResponse },
      },
    },
    async (request, reply) => {
      const { date } = request.params;
      if (taipeiDay(date) === undefined) return reply.code(400).send({ error: "bad_request", field: "date", message: `date must be a calendar day YYYY-MM-DD (got "${date}")` });
      const row = await readReconciliation(options.db, date);
      return row === undefined ? reply.code(404).send({ error: "not_found", message: `no reconciliation of ${date} yet` }) : reconciliationView(row);
    },
  );
}
