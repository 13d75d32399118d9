import { cardBudgetReopensAt } from "../billing/dunning-policy.ts";
import type { ChargeAttempt, Invoice } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { newId } from "../ids.ts";
import { recordAttemptStarted, scheduleCollection } from "../invoices/invoice-transitions.ts";
import type { TokenChargeRequest } from "../oen/types.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { BILLING_STATES } from "../subscriptions/subscription-transitions.ts";
import { revealToken } from "../vault/token-vault.ts";
import { orderIdFor } from "./order-id.ts";

export type Claim =
  /** `invoice` as it was claimed (for the log lines that follow the attempt). */
  | { kind: "claimed"; attempt: ChargeAttempt; request: TokenChargeRequest; invoice: Pick<Invoice, "subscription_id" | "cycle"> }
  | { kind: "settled"; status: Invoice["status"] | "missing" }
  | { kind: "in_flight"; attempt: ChargeAttempt }
  | { kind: "not_due"; at: Date | null }
  | { kind: "not_collectable"; subscriptionStatus: string }
  | { kind: "no_card" };

// Attempts that reached (or may have reached) the card network count against its budget.
const COUNTED = ["sending", "unknown", "succeeded", "declined"] as const;

/**
 * Decides, under the invoice's row lock, whether a charge may be sent, and if
 * so commits a `sending` attempt with its own orderId BEFORE the request
 * leaves (invariant 1). While that attempt is `sending` or `unknown`, the
 * partial unique index `charge_attempts_one_in_flight` stops any other
 * attempt on the invoice, even from a worker that lost its lock or crashed.
 */
export async function claimAttempt(deps: Pick<Deps, "db" | "clock" | "config" | "dunning">, invoiceId: string, effects: SideEffects): Promise<Claim> {
  return deps.db.transaction().execute(async (tx): Promise<Claim> => {
    const invoice = await tx.selectFrom("invoices").selectAll().where("id", "=", invoiceId).forUpdate().executeTakeFirst();
    if (invoice === undefined) return { kind: "settled", status: "missing" };
    if (invoice.status !== "open") return { kind: "settled", status: invoice.status };
    const inFlight = await tx
      .selectFrom("charge_attempts")
      .selectAll()
      .where("invoice_id", "=", invoiceId)
      .where("status", "in", ["sending", "unknown"])
      .executeTakeFirst();
    if (inFlight !== undefined) return { kind: "in_flight", attempt: inFlight };
    const now = deps.clock.now();
    if (invoice.next_attempt_at === null || invoice.next_attempt_at > now) return { kind: "not_due", at: invoice.next_attempt_at };

    const subscription = await tx
      .selectFrom("subscriptions")
      .innerJoin("customers", "customers.id", "subscriptions.customer_id")
      .select(["subscriptions.status", "customers.id as customerId", "customers.name", "customers.email", "customers.invoice_info"])
      .where("subscriptions.id", "=", invoice.subscription_id)
      .executeTakeFirstOrThrow();
    // Ending a subscription voids its open invoices in the same transaction; this only guards that promise.
    if (!BILLING_STATES.includes(subscription.status)) return { kind: "not_collectable", subscriptionStatus: subscription.status };
    const card = await tx
      .selectFrom("payment_tokens")
      .selectAll()
      .where("subscription_id", "=", invoice.subscription_id)
      .where("status", "=", "active")
      .executeTakeFirst();
    if (card === undefined) {
      await scheduleCollection(tx, effects, invoiceId, null, now);
      return { kind: "no_card" };
    }

    // Card networks allow a card only so many attempts in a window, across all of its invoices.
    const recent = await tx
      .selectFrom("charge_attempts")
      .select("clock_at")
      .where("payment_token_id", "=", card.id)
      .where("status", "in", COUNTED)
      .orderBy("clock_at", "desc")
      .limit(deps.dunning.cardAttemptLimit)
      .execute();
    const reopensAt = cardBudgetReopensAt(recent.map((r) => r.clock_at), now, deps.dunning);
    if (reopensAt !== null) {
      await scheduleCollection(tx, effects, invoiceId, reopensAt, now);
      return { kind: "not_due", at: reopensAt };
    }

    const attemptNo = invoice.attempt_count + 1;
    const orderId = orderIdFor(invoice.id, attemptNo);
    // created_at (Postgres' wall clock) times the call to Oen; clock_at places it on the billing calendar.
    const attempt = await tx
      .insertInto("charge_attempts")
      .values({
        id: newId("ca"),
        invoice_id: invoice.id,
        attempt_no: attemptNo,
        order_id: orderId,
        payment_token_id: card.id,
        amount: invoice.amount,
        status: "sending",
        code: null,
        message: null,
        oen_transaction_hid: null,
        auth_code: null,
        last_lookup_at: null,
        resolved_at: null,
        clock_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAttemptStarted(tx, invoice.id, attemptNo, now);
    const token = await revealToken(tx, deps.config.tokenKeys, card, {
      actor: "charge-worker",
      reason: `charge invoice ${invoice.id} cycle ${invoice.cycle}`,
      detail: { orderId, attemptNo },
    });
    return {
      kind: "claimed",
      attempt,
      invoice: { subscription_id: invoice.subscription_id, cycle: invoice.cycle },
      request: {
        amount: invoice.amount,
        token,
        orderId,
        productDetails: invoice.product_details,
        userId: subscription.customerId,
        // Required on every charge when the domain issues e-invoices (OEN_EINVOICE), and always sent.
        userName: subscription.name,
        userEmail: subscription.email,
        ...(subscription.invoice_info === null ? {} : { invoiceInfo: subscription.invoice_info }),
      },
    };
  });
}
