import { sql } from "kysely";
import { cardBudgetReopensAt } from "../billing/dunning-policy.ts";
import type { ChargeAttempt, Invoice } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { newId } from "../ids.ts";
import { recordAttemptStarted, scheduleCollection, voidInvoice } from "../invoices/invoice-transitions.ts";
import type { TokenChargeRequest } from "../oen/types.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { BILLING_STATES } from "../subscriptions/subscription-transitions.ts";
import { revealToken } from "../vault/token-vault.ts";
import { orderIdFor } from "./order-id.ts";

export type Claim =
  /** `invoice` as it was claimed (for the log lines that follow the attempt). */
  | { kind: "claimed"; attempt: ChargeAttempt; request: TokenChargeRequest; invoice: Pick<Invoice, "subscription_id" | "cycle"> }
  | { kind: "settled"; status: Invoice["status"] | "missing" }
  | { kind: "in_flight"; attemptId: string }
  | { kind: "not_due"; at: Date | null }
  | { kind: "not_collectable"; subscriptionStatus: string }
  | { kind: "no_card" };

/**
 * Decides, under the invoice's row lock, whether a charge may be sent, and if
 * so commits a `sending` attempt with its own orderId BEFORE the request
 * leaves (invariant 1). While that attempt is `sending` or `unknown`, the
 * partial unique index `charge_attempts_one_in_flight` stops any other
 * attempt on the invoice, even from a worker that lost its lock or crashed.
 */
export async function claimAttempt(deps: Pick<Deps, "db" | "clock" | "config" | "dunning">, invoiceId: string, effects: SideEffects): Promise<Claim> {
  return deps.db.transaction().execute(async (tx): Promise<Claim> => {
    // One statement: the invoice, locked, and the attempt (if any) that may still be at Oen.
    const invoice = await tx
      .selectFrom("invoices as i")
      .select(["i.id", "i.subscription_id", "i.kind", "i.cycle", "i.status", "i.amount", "i.product_details", "i.period_end", "i.next_attempt_at", "i.attempt_count"])
      .select((eb) =>
        eb.selectFrom("charge_attempts as a").select("a.id").whereRef("a.invoice_id", "=", "i.id").where("a.status", "in", ["sending", "unknown"]).limit(1).as("in_flight_id"),
      )
      .where("i.id", "=", invoiceId)
      .forUpdate("i")
      .executeTakeFirst();
    if (invoice === undefined) return { kind: "settled", status: "missing" };
    if (invoice.status !== "open") return { kind: "settled", status: invoice.status };
    if (invoice.in_flight_id !== null) return { kind: "in_flight", attemptId: invoice.in_flight_id };
    const now = deps.clock.now();
    if (invoice.next_attempt_at === null || invoice.next_attempt_at > now) return { kind: "not_due", at: invoice.next_attempt_at };
    // An upgrade's difference is for the rest of one period: once that period is over there is nothing left to charge.
    if (invoice.kind === "proration" && invoice.period_end <= now) {
      await voidInvoice(tx, invoiceId, now);
      return { kind: "settled", status: "void" };
    }

    // One statement: who pays, with which card, and that card's latest attempts (its budget).
    const payer = await tx
      .selectFrom("subscriptions as s")
      .innerJoin("customers as c", "c.id", "s.customer_id")
      .leftJoin("payment_tokens as t", (join) => join.onRef("t.subscription_id", "=", "s.id").on("t.status", "=", "active"))
      .select(["s.status", "c.id as customerId", "c.name", "c.email", "c.invoice_info", "t.id as cardId", "t.checkout_session_id", "t.key_id", "t.ciphertext"])
      .select(
        sql<Date[] | null>`array(select clock_at from charge_attempts where payment_token_id = t.id and status in ('sending', 'unknown', 'succeeded', 'declined') order by clock_at desc limit ${deps.dunning.cardAttemptLimit})`.as("recent"),
      )
      .where("s.id", "=", invoice.subscription_id)
      .executeTakeFirstOrThrow();
    // Ending a subscription voids its open invoices in the same transaction; this only guards that promise.
    if (!BILLING_STATES.includes(payer.status)) return { kind: "not_collectable", subscriptionStatus: payer.status };
    if (payer.cardId === null) {
      await scheduleCollection(tx, effects, invoiceId, null, now);
      return { kind: "no_card" };
    }
    // Card networks allow a card only so many attempts in a window, across all of its invoices.
    const reopensAt = cardBudgetReopensAt(payer.recent ?? [], now, deps.dunning);
    if (reopensAt !== null) {
      await scheduleCollection(tx, effects, invoiceId, reopensAt, now);
      return { kind: "not_due", at: reopensAt };
    }
    const card = { id: payer.cardId, subscription_id: invoice.subscription_id, checkout_session_id: payer.checkout_session_id!, key_id: payer.key_id!, ciphertext: payer.ciphertext! };

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
        userId: payer.customerId,
        // Required on every charge when the domain issues e-invoices (OEN_EINVOICE), and always sent.
        userName: payer.name,
        userEmail: payer.email,
        ...(payer.invoice_info === null ? {} : { invoiceInfo: payer.invoice_info }),
      },
    };
  });
}
