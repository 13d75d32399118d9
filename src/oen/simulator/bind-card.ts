import type { TokenWebhook } from "../types.ts";
import { cardBehaviour } from "./cards.ts";
import type { CheckoutPage, SimulatorContext } from "./simulator-context.ts";
import { taipeiDate } from "./taipei-date.ts";
import { validateCardForm, type CardForm } from "./validate-card-form.ts";

/** What submitting the binding page led to; `redirectUrl` null means the merchant gave no URL. */
export type BindResult =
  | { kind: "bound"; token: string; redirectUrl: string | null }
  | { kind: "binding_failed"; message: string; redirectUrl: string | null }
  | { kind: "expired"; redirectUrl: string | null }
  | { kind: "already_used"; redirectUrl: string | null }
  | { kind: "invalid"; errors: string[] }
  | { kind: "not_found" };

/** Where a failed or expired page sends the customer (api/error-codes.md "payment_error"). */
export function failureRedirect(page: CheckoutPage, paymentError: string): string | null {
  if (page.failureUrl === null) return null;
  const url = new URL(page.failureUrl);
  url.searchParams.set("payment_error", paymentError);
  return url.toString();
}

export function isExpired(page: CheckoutPage, ctx: SimulatorContext): boolean {
  return ctx.now().getTime() - page.createdAt.getTime() >= ctx.settings.checkoutTtlMs;
}

/** What a page answers before the customer types anything: a redirect when it cannot be used. */
export function unusablePage(
  page: CheckoutPage,
  ctx: SimulatorContext,
): Extract<BindResult, { kind: "expired" | "already_used" }> | undefined {
  if (page.usedAt !== undefined) return { kind: "already_used", redirectUrl: failureRedirect(page, "V0002") };
  if (isExpired(page, ctx)) return { kind: "expired", redirectUrl: failureRedirect(page, "Y003") };
  return undefined;
}

/** Submits the binding page: the form's POST and `sim.bindCard` both come here. */
export function bindCard(ctx: SimulatorContext, checkoutId: string, form: CardForm): BindResult {
  const page = ctx.checkouts.get(checkoutId);
  if (page === undefined) return { kind: "not_found" };
  const unusable = unusablePage(page, ctx);
  if (unusable !== undefined) return unusable;
  const check = validateCardForm(form, ctx.now());
  if (!check.ok) return { kind: "invalid", errors: check.errors };

  page.usedAt = ctx.now();
  const behaviour = cardBehaviour(check.cardNumber);
  const webhook: TokenWebhook = { purpose: "token", id: page.id, transactionId: page.id, merchantId: page.merchantId, success: false };
  if (behaviour.bindingFailure !== null) {
    ctx.webhooks.send({ ...webhook, customId: page.customId, message: behaviour.bindingFailure });
    return { kind: "binding_failed", message: behaviour.bindingFailure, redirectUrl: failureRedirect(page, "T0001") };
  }
  const token = ctx.ids.internalId();
  const last4 = check.cardNumber.slice(-4);
  ctx.cards.set(token, { token, merchantId: page.merchantId, checkoutId: page.id, last4, behaviour, charges: 0 });
  if (ctx.settings.bindingAuthorisations) {
    // Some acquirers check a card with 1 TWD, returned at once; the transaction list shows it.
    const at = ctx.now().toISOString();
    ctx.ledger.addListedPayment({
      kind: "binding_authorisation",
      id: ctx.ids.transactionHid(ctx.now()),
      transactionId: ctx.ids.internalId(),
      amount: 1,
      status: "refunded",
      createdAt: at,
      paidAt: at,
      refundAmount: 1,
      refundedAt: at,
    });
  }
  ctx.webhooks.send({ ...webhook, success: true, token, paymentInfo: last4, customId: page.customId, message: "" });
  return { kind: "bound", token, redirectUrl: page.successUrl };
}

/** `sim.bindCard`'s input: the card number, and any form field a test wants to set. */
export type BindCardInput = Partial<CardForm> & { cardNumber: string };

/** Fills what a test left out the way a customer would: a valid expiry, a CVC, the prefilled email. */
export function completeCardForm(ctx: SimulatorContext, checkoutId: string, input: BindCardInput): CardForm {
  const { year } = taipeiDate(ctx.now());
  return {
    expiry: `12/${String((year + 5) % 100).padStart(2, "0")}`,
    cvc: "123",
    email: ctx.checkouts.get(checkoutId)?.payerEmail ?? "customer@example.com",
    ...input,
  };
}
