import { sql } from "kysely";
import type { ChargeAttempt, Invoice } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { newId } from "../ids.ts";
import type { TokenChargeRequest } from "../oen/types.ts";
import { revealToken } from "../vault/token-vault.ts";
import { orderIdFor } from "./order-id.ts";

export type Claim =
  | { kind: "claimed"; attempt: ChargeAttempt; request: TokenChargeRequest }
  | { kind: "settled"; status: Invoice["status"] | "missing" }
  | { kind: "in_flight"; attempt: ChargeAttempt }
  | { kind: "not_due"; at: Date | null }
  | { kind: "no_card" };

/**
 * Decides, under the invoice's row lock, whether a charge may be sent, and if
 * so commits a `sending` attempt with its own orderId BEFORE the request
 * leaves (invariant 1). While that attempt is `sending` or `unknown`, the
 * partial unique index `charge_attempts_one_in_flight` stops any other
 * attempt on the invoice, even from a worker that lost its lock or crashed.
 */
export async function claimAttempt(deps: Pick<Deps, "db" | "clock" | "config" | "dunning">, invoiceId: string): Promise<Claim> {
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
      .select(["subscriptions.status", "customers.id as customerId", "customers.name", "customers.email"])
      .where("subscriptions.id", "=", invoice.subscription_id)
      .executeTakeFirstOrThrow();
    if (subscription.status === "canceled" || subscription.status === "incomplete_expired") {
      await tx.updateTable("invoices").set({ status: "void", next_attempt_at: null, updated_at: now }).where("id", "=", invoiceId).execute();
      return { kind: "settled", status: "void" };
    }
    const card = await tx
      .selectFrom("payment_tokens")
      .selectAll()
      .where("subscription_id", "=", invoice.subscription_id)
      .where("status", "=", "active")
      .executeTakeFirst();
    if (card === undefined) {
      await tx.updateTable("invoices").set({ next_attempt_at: null, updated_at: now }).where("id", "=", invoiceId).execute();
      return { kind: "no_card" };
    }

    // Card networks allow a card only so many attempts in a window (15 in 30 days by default),
    // across all of its invoices: past that, wait until the oldest attempt leaves the window.
    const window = await tx
      .selectFrom("charge_attempts")
      .select([sql<string>`count(*)`.as("n"), sql<Date | null>`min(clock_at)`.as("oldest")])
      .where("payment_token_id", "=", card.id)
      .where("status", "in", ["sending", "unknown", "succeeded", "declined"])
      .where("clock_at", ">", new Date(now.getTime() - deps.dunning.cardAttemptWindowMs))
      .executeTakeFirstOrThrow();
    if (Number(window.n) >= deps.dunning.cardAttemptLimit) {
      const at = new Date(window.oldest!.getTime() + deps.dunning.cardAttemptWindowMs);
      await tx.updateTable("invoices").set({ next_attempt_at: at, updated_at: now }).where("id", "=", invoiceId).execute();
      return { kind: "not_due", at };
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
    await tx.updateTable("invoices").set({ attempt_count: attemptNo, next_attempt_at: null, updated_at: now }).where("id", "=", invoice.id).execute();
    const token = await revealToken(tx, deps.config.tokenKeys, card, {
      actor: "charge-worker",
      reason: `charge invoice ${invoice.id} cycle ${invoice.cycle}`,
      detail: { orderId, attemptNo },
    });
    return {
      kind: "claimed",
      attempt,
      request: {
        amount: invoice.amount,
        token,
        orderId,
        productDetails: invoice.product_details,
        userId: subscription.customerId,
        userName: subscription.name,
        userEmail: subscription.email,
      },
    };
  });
}
