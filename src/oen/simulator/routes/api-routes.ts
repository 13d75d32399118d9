import type { FastifyInstance } from "fastify";
import { answerWithFaults } from "../answer-with-faults.ts";
import { checkoutTokenSchema, refundSchema, tokenChargeSchema } from "../api-schemas.ts";
import { chargeToken, type TokenChargeBody } from "../charge-token.ts";
import { createCheckoutPage, type CheckoutTokenBody } from "../create-checkout-page.ts";
import { ok, refused, sendAnswer } from "../envelope.ts";
import { listTransactions, type ListTransactionsQuery } from "../list-transactions.ts";
import { refundTransaction, type RefundBody } from "../refund-transaction.ts";
import type { SimulatorContext } from "../simulator-context.ts";
import { transactionView } from "../transaction-view.ts";

/** The Payment API paths simulated; any other method on them answers 405 (see build-simulator-app.ts). */
export const API_ROUTES = [
  { method: "POST", url: "/checkout-token" },
  { method: "POST", url: "/token/transactions" },
  { method: "GET", url: "/order/:orderId/transactions" },
  { method: "GET", url: "/transactions" },
  { method: "GET", url: "/transactions/:id" },
  { method: "POST", url: "/refunds/:transactionHid" },
] as const;

/** Oen's Payment API, as an encapsulated plugin so its IP and bearer checks cover nothing else. */
export async function apiRoutes(app: FastifyInstance, { ctx }: { ctx: SimulatorContext }): Promise<void> {
  app.addHook("onRequest", async (request, reply) => {
    const { ipAllowlist, apiToken } = ctx.settings;
    // Production's IP allowlist answers before Oen does: 403 with only `message`.
    if (ipAllowlist !== null && !ipAllowlist.includes(request.ip)) return reply.code(403).send({ message: "Forbidden" });
    // Exactly "Bearer <token>": Oen is strict about case and spacing.
    if (request.headers.authorization !== `Bearer ${apiToken}`) return sendAnswer(reply, refused(401, "A0001", "UNAUTHORIZED"));
  });

  app.post<{ Body: CheckoutTokenBody }>("/checkout-token", { schema: { body: checkoutTokenSchema } }, (request, reply) =>
    answerWithFaults(ctx, "checkout", request, reply, () => createCheckoutPage(ctx, request.body)),
  );

  app.post<{ Body: TokenChargeBody }>("/token/transactions", { schema: { body: tokenChargeSchema } }, (request, reply) =>
    answerWithFaults(ctx, "charge", request, reply, (fault) => chargeToken(ctx, request.body, fault)),
  );

  app.get<{ Params: { orderId: string } }>("/order/:orderId/transactions", (request, reply) =>
    answerWithFaults(ctx, "lookup", request, reply, () =>
      ok({ transactions: ctx.ledger.byOrder(request.params.orderId).map((entry) => transactionView(entry, false)) }),
    ),
  );

  app.get<{ Querystring: ListTransactionsQuery }>("/transactions", (request, reply) =>
    answerWithFaults(ctx, "list", request, reply, () => listTransactions(ctx, request.query)),
  );

  app.get<{ Params: { id: string } }>("/transactions/:id", (request, reply) =>
    answerWithFaults(ctx, "lookup", request, reply, () => {
      const entry = ctx.ledger.get(request.params.id);
      if (entry === undefined) return refused(400, "V0001", "INVALID_PARAMS");
      // Only the 27-char id shows productDetails (api/get-transaction.md).
      return ok(transactionView(entry, request.params.id === entry.transactionId));
    }),
  );

  app.post<{ Params: { transactionHid: string }; Body: RefundBody }>(
    "/refunds/:transactionHid",
    { schema: { body: refundSchema } },
    (request, reply) => {
      const { transactionHid } = request.params;
      ctx.refundRequests.push({ transactionHid, amount: request.body.amount ?? null, receivedAt: ctx.now().toISOString() });
      return answerWithFaults(ctx, "refund", request, reply, () => refundTransaction(ctx, transactionHid, request.body));
    },
  );
}
