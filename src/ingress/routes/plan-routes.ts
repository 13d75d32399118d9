import type { FastifyInstance } from "fastify";
import type { Db } from "../../db/connect.ts";
import { findPlan, listPlans, planView, upsertPlan, type PlanInput } from "../../plans/plan-repository.ts";
import { errorResponse, idParams, planViewSchema } from "./schemas.ts";

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
    trialDays: { type: "integer", minimum: 0, maximum: 365, default: 0, description: "days of trial after the card is bound, before the first charge" },
    selfService: { type: "boolean", default: false, description: "customers may switch to this plan themselves (the portal)" },
  },
} as const;

const planList = { type: "object", properties: { data: { type: "array", items: planViewSchema } } } as const;

export async function planRoutes(app: FastifyInstance, options: { db: Db }) {
  app.put<{ Params: { id: string }; Body: PlanInput }>(
    "/v1/plans/:id",
    {
      schema: {
        summary: "Create or replace a plan",
        description: "A replacement applies to invoices created from now on; a field left out takes its default.",
        tags: ["plans"],
        params: idParams,
        body: planBody,
        response: { 200: planViewSchema, 400: errorResponse },
      },
    },
    async (request) => planView(await upsertPlan(options.db, request.params.id, request.body)),
  );

  app.get(
    "/v1/plans",
    { schema: { summary: "Every plan, oldest first", tags: ["plans"], response: { 200: planList } } },
    async () => ({ data: (await listPlans(options.db)).map(planView) }),
  );

  app.get<{ Params: { id: string } }>(
    "/v1/plans/:id",
    { schema: { summary: "A plan", tags: ["plans"], params: idParams, response: { 200: planViewSchema, 400: errorResponse, 404: errorResponse } } },
    async (request, reply) => {
      const plan = await findPlan(options.db, request.params.id);
      return plan === undefined ? reply.code(404).send({ error: "not_found", message: `plan "${request.params.id}" does not exist` }) : planView(plan);
    },
  );
}
