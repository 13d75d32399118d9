import type { Deps } from "../deps.ts";
import type { ChargeOutcome } from "../oen/types.ts";
import { createSideEffects } from "../outbox/side-effects.ts";
import { claimAttempt } from "./claim-attempt.ts";
import { settleAttempt, type Settlement, type SettleResult } from "./settle-attempt.ts";

export type ChargeResult =
  | { kind: "sent"; outcome: ChargeOutcome["kind"]; settled: SettleResult }
  | Exclude<Awaited<ReturnType<typeof claimAttempt>>, { kind: "claimed" }>;

/**
 * One charge of one invoice: claim (commit a `sending` attempt), call Oen
 * once, settle. Never resends: an ambiguous answer leaves the attempt
 * `unknown` for `resolveAttempt` to settle by order lookup.
 */
export async function chargeInvoice(deps: Deps, invoiceId: string): Promise<ChargeResult> {
  const claim = await claimAttempt(deps, invoiceId);
  if (claim.kind !== "claimed") return claim;
  const { attempt, request } = claim;
  const outcome = await deps.oen.chargeToken(request);
  deps.logger.info({ invoiceId, orderId: attempt.order_id, outcome: outcome.kind, code: "code" in outcome ? outcome.code : undefined }, "charge attempt answered");
  const effects = createSideEffects(deps);
  const settled = await deps.db.transaction().execute((tx) => settleAttempt(deps, tx, attempt.id, settlementOf(outcome), effects));
  await effects.flush();
  if (!settled.applied && outcome.kind === "succeeded" && settled.attempt.status !== "succeeded") {
    // The reconciler settled this attempt as something else before Oen's answer arrived.
    deps.logger.error({ invoiceId, orderId: attempt.order_id, settledAs: settled.attempt.status, oenTransactionId: outcome.transactionHid }, "Oen charged an attempt already settled otherwise: reconcile and refund if charged twice");
  }
  return { kind: "sent", outcome: outcome.kind, settled };
}

function settlementOf(outcome: ChargeOutcome): Settlement {
  switch (outcome.kind) {
    case "succeeded":
      return { kind: "succeeded", transactionHid: outcome.transactionHid, authCode: outcome.authCode ?? null };
    case "declined":
      return { kind: "declined", code: outcome.code, message: outcome.message };
    case "config_error":
      return { kind: "failed", code: outcome.code, message: outcome.message };
    case "unknown":
      return { kind: "unknown", code: outcome.reason, message: outcome.message };
  }
}
