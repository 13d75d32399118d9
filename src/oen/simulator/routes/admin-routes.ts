import type { FastifyInstance } from "fastify";
import { bindCard, completeCardForm, type BindCardInput } from "../bind-card.ts";
import { FaultPlanError, parseFaultPlan } from "../fault-plan.ts";
import type { SimulatorContext } from "../simulator-context.ts";

/**
 * Control of a simulator in another process (standalone `npm run simulator`, cross-process tests).
 * No auth: the simulator listens on loopback unless told otherwise, and holds only fake money.
 */
export async function adminRoutes(app: FastifyInstance, { ctx }: { ctx: SimulatorContext }): Promise<void> {
  app.get("/__sim/ledger", async () => ({ transactions: ctx.ledger.all() }));

  app.get("/__sim/faults", async () => ({ faults: ctx.faults.list() }));

  app.put("/__sim/faults", async (request, reply) => {
    try {
      ctx.faults.set(parseFaultPlan(request.body));
    } catch (error) {
      if (error instanceof FaultPlanError) return reply.code(400).send({ error: error.message });
      throw error;
    }
    return { faults: ctx.faults.list() };
  });

  app.delete("/__sim/faults", async (_request, reply) => {
    ctx.faults.clear();
    return reply.code(204).send();
  });

  app.get("/__sim/webhook-deliveries", async () => ({ deliveries: ctx.webhooks.deliveries }));

  app.put<{ Body: { url: string | null } }>(
    "/__sim/webhook-url",
    { schema: { body: { type: "object", required: ["url"], properties: { url: { type: ["string", "null"], format: "uri" } } } } },
    async (request, reply) => {
      ctx.settings.webhookUrl = request.body.url;
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { id: string }; Body: BindCardInput }>(
    "/__sim/checkouts/:id/bind",
    { schema: { body: { type: "object", required: ["cardNumber"], properties: { cardNumber: { type: "string" } } } } },
    async (request) => bindCard(ctx, request.params.id, completeCardForm(ctx, request.params.id, request.body)),
  );
}
