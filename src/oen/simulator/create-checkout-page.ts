import type { CheckoutTokenRequest } from "../types.ts";
import { ok, refused, type Answer } from "./envelope.ts";
import type { SimulatorContext } from "./simulator-context.ts";

/** POST /checkout-token body after schema validation. */
export interface CheckoutTokenBody extends CheckoutTokenRequest {
  merchantId: string;
}

/** Creates a hosted binding page (api/checkout-token.md); it expires `checkoutTtlMs` later. */
export function createCheckoutPage(ctx: SimulatorContext, body: CheckoutTokenBody): Answer {
  if (body.merchantId !== ctx.settings.merchantId) return refused(400, "V0001", "INVALID_PARAMS");
  if (!ctx.settings.paymentsActivated) return refused(400, "V0002", "PAYMENT_SERVICE_NOT_ACTIVATE");
  const id = ctx.ids.internalId();
  ctx.checkouts.set(id, {
    id,
    merchantId: body.merchantId,
    successUrl: body.successUrl,
    failureUrl: body.failureUrl,
    customId: body.customId,
    payerEmail: body.payerEmail,
    createdAt: ctx.now(),
  });
  return ok({ id });
}
