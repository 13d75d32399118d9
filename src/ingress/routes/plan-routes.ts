import type { FastifyInstance } from "fastify";
import type { Db } from "../../db/connect.ts";
import { planView, upsertPlan, type PlanInput } from "../../plans/plan-repository.ts";
import { errorResponse, idParams } from "./schemas.ts";

const planBody = {
  type: "object",
  additionalProperties: false,
  required: ["name", "amount", "interval", "intervalCount", "productCode", "description", "unit"],
  properties: {
    name: { type: "string", minLength: 1, maxLength: 200 },
    // Oen: an integer number of TWD ≥ 1; 200,000 and above needs high-value activation (V0003).
    amount: { type: "integer", minimum: 1, maximum: 199_999 },
    interval: { type: "string", enum: ["day", "week", "month", "year"] },
    intervalCount: { type: "integer", minimum: 1, maximum: 365 },
    productCode: { type: "string", minLength: 1, maxLength: 100 },
    description: { type: "string", minLength: 1, maxLength: 200 },
    unit: { type: "string", minLength: 1, maxLength: 20 },
  },
} as const;

export async function planRoutes(app: FastifyInstance, options: { db: Db }) {
  app.put<{ Params: { id: string }; Body: PlanInput }>(
    "/v1/plans/:id",
    { schema: { summary: "Create or replace a plan", tags: ["plans"], params: idParams, body: planBody, response: { 400: errorResponse } } },
    async (request) => planView(await upsertPlan(options.db, request.params.id, request.body)),
  );
}
