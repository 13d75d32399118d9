import type { FastifyInstance } from "fastify";
import { bindCard, completeCardForm, type BindCardInput } from "../bind-card.ts";
import { FaultPlanError, parseFaultPlan } from "../fault-plan.ts";
import { duplicateCharge } from "../duplicate-charge.ts";
import { payOut } from "../pay-out.ts";
import { recordForeignCharge } from "../record-foreign-charge.ts";
import { refundInCrm } from "../refund-in-crm.ts";
import type { SimulatorContext } from "../simulator-context.ts";

/**
 * Control of a simulator in another process (standalone `npm run simulator`, cross-process tests).
 * No auth: the simulator listens on loopback unless told otherwise, and holds only fake money.
 */
export async function adminRoutes(app: FastifyInstance, { ctx }: { ctx: SimulatorContext }): Promise<void> {
  app.get("/__sim/ledger", async () => ({ transactions: ctx.ledger.all() }));

  app.get("/__sim/refunds", async () => ({ refunds: ctx.ledger.refunds() }));

  app.get("/__sim/refund-requests", async () => ({ requests: ctx.refundRequests }));

  app.post<{ Params: { id: string }; Body: { amount?: number; reason?: string } | undefined }>(
    "/__sim/transactions/:id/crm-refund",
    { schema: { body: { type: ["object", "null"], properties: { amount: { type: "integer", minimum: 1 }, reason: { type: "string" } } } } },
    async (request, reply) => {
      const result = refundInCrm(ctx, request.params.id, request.body ?? {});
      return result.kind === "refunded" ? result : reply.code(400).send(result);
    },
  );

  app.post<{ Params: { id: string } }>("/__sim/transactions/:id/payout", async (request, reply) => {
    const entry = payOut(ctx, request.params.id);
    return entry === undefined ? reply.code(409).send({ error: "only a charged transaction can be paid out" }) : { transaction: entry };
  });

  app.post<{ Body: { amount: number; orderId?: string } }>(
    "/__sim/foreign-charges",
    { schema: { body: { type: "object", required: ["amount"], properties: { amount: { type: "integer", minimum: 1 }, orderId: { type: "string", minLength: 1 } } } } },
    async (request, reply) => reply.code(201).send({ transaction: recordForeignCharge(ctx, request.body) }),
  );

  app.post<{ Params: { id: string } }>("/__sim/transactions/:id/duplicate", async (request, reply) => {
    if (ctx.ledger.get(request.params.id)?.paidAt === undefined) return reply.code(409).send({ error: "only a successful charge can be duplicated" });
    return reply.code(201).send({ transaction: duplicateCharge(ctx, request.params.id) });
  });

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
