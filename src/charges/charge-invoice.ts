import { sql } from "kysely";
import type { Deps } from "../deps.ts";
import { metrics } from "../metrics/metrics.ts";
import type { ChargeOutcome } from "../oen/types.ts";
import { createBatcher } from "../batcher.ts";
import { perDb } from "../db/per-db.ts";
import { markPaidBySuccesses, type SuccessInput } from "../invoices/invoice-transitions.ts";
import { createSideEffects, type SideEffects } from "../outbox/side-effects.ts";
import type { Permit } from "../semaphore.ts";
import { abandonedAfterMs } from "./abandoned-after.ts";
import { BATCH_WINDOW_MS } from "./batch-window.ts";
import { claimAttempt, type Claim } from "./claim-attempt.ts";
import type { SendPlaces } from "./send-places.ts";
import { settleAttempt, type Settlement, type SettleResult } from "./settle-attempt.ts";

export type ChargeResult =
  | { kind: "sent"; outcome: ChargeOutcome["kind"]; settled: SettleResult }
  /** The claimed attempt went stale before it left (a paused worker, a long wait for its place at Oen): not sent; the resolver settles it. */
  | { kind: "stale"; orderId: string }
  | Exclude<Claim, { kind: "claimed" }>;

/**
 * One charge of one invoice: claim (commit a `sending` attempt), call Oen
 * once, settle. Never resends: an ambiguous answer leaves the attempt
 * `unknown` for `resolveAttempt` to settle by order lookup.
 */
export async function chargeInvoice(deps: Deps, invoiceId: string, places?: SendPlaces): Promise<ChargeResult> {
  const effects = createSideEffects(deps);
  const via = places === undefined ? undefined : { places, place: places.permit() };
  try {
    if (via !== undefined) await (via.places.claimAhead ? via.place.roomAhead() : via.place.take());
    const claim = await claimAttempt(deps, invoiceId, effects);
    await effects.flush();
    return claim.kind === "claimed" ? await sendClaimed(deps, claim, via) : claim;
  } finally {
    via?.place.release();
  }
}

/**
 * The request of a claimed attempt, sent once (unless it went stale meanwhile), and its answer
 * settled. With `via`, the request first waits for its place at Oen (taken already when the
 * claim had to wait for it), given back as soon as Oen answered; a claim that waited over a
 * second is checked again in Postgres before it is sent, like one whose worker paused.
 */
export async function sendClaimed(deps: Deps, claim: Extract<Claim, { kind: "claimed" }>, via?: { place: Permit; places: SendPlaces }): Promise<ChargeResult> {
  const { attempt } = claim;
  await via?.place.take();
  const sent = performance.now();
  const outcome = await sendUnlessStale(deps, claim).finally(() => {
    via?.place.release();
  });
  if (outcome === "stale") return { kind: "stale", orderId: attempt.order_id };
  via?.places.answered(performance.now() - sent);
  const about = aboutClaim(claim);
  const code = outcome.kind === "succeeded" ? undefined : outcome.kind === "unknown" ? outcome.reason : outcome.code;
  deps.logger.info({ ...about, outcome: outcome.kind, code, oenTransactionId: outcome.kind === "succeeded" ? outcome.transactionHid : undefined }, "charge result");
  const effects = createSideEffects(deps);
  const settled = await settleAnswer(deps, claim, settlementOf(outcome), effects);
  await effects.flush();
  metrics.chargeAnswered(outcome);
  return { kind: "sent", outcome: outcome.kind, settled };
}

/** What the log lines of a charge name. */
function aboutClaim({ invoice, attempt }: Extract<Claim, { kind: "claimed" }>) {
  return { subscriptionId: invoice.subscription_id, invoiceId: attempt.invoice_id, cycle: invoice.cycle, attemptNo: attempt.attempt_no, orderId: attempt.order_id };
}

async function sendUnlessStale(deps: Deps, claim: Extract<Claim, { kind: "claimed" }>): Promise<ChargeOutcome | "stale"> {
  const { attempt } = claim;
  const about = aboutClaim(claim);
  const gap = Math.max(performance.now() - claim.startedAt.monotonic, Date.now() - claim.startedAt.wall);
  if (gap > SEND_GAP_CHECKED_AFTER_MS && !(await stillSendable(deps, attempt.id))) {
    deps.logger.warn(about, "claimed attempt went stale before it was sent; left to the order lookup");
    return "stale";
  }
  deps.logger.info({ ...about, amount: attempt.amount }, "charge sent");
  return deps.oen.chargeToken(claim.request);
}

// A send that follows its claim within this leaves nothing for stillSendable to find that the
// settle would not handle the same way (a cancel a millisecond before the send or after it).
const SEND_GAP_CHECKED_AFTER_MS = 1_000;

/**
 * The answer to a charge this worker sent: a plain success of a renewal in
 * one statement, shared with the successes answered at the same moment
 * (markPaidBySuccesses refuses anything else); every other answer, whatever
 * it refused, and a batch that failed, in settleAttempt's transaction.
 */
async function settleAnswer(deps: Deps, claim: Extract<Claim, { kind: "claimed" }>, settlement: Settlement, effects: SideEffects): Promise<SettleResult> {
  if (settlement.kind === "succeeded" && claim.invoice.kind === "renewal") {
    const resolvedAt = new Date();
    const { attempt } = claim;
    const success = { transactionHid: settlement.transactionHid, authCode: settlement.authCode };
    const input = { invoice: claim.invoice, attemptId: attempt.id, orderId: attempt.order_id, ...success, resolvedAt, now: deps.clock.now(), effects };
    const invoice = await successBatches(deps.db).add(input).catch((error: Error) => {
      deps.logger.warn({ orderId: attempt.order_id, err: error.message }, "the batched settle failed; settling this charge on its own");
      return undefined;
    });
    if (invoice !== undefined) return { applied: true, invoice, attempt: { ...attempt, status: "succeeded", oen_transaction_hid: success.transactionHid, auth_code: success.authCode, resolved_at: resolvedAt } };
  }
  return deps.db.transaction().execute((tx) => settleAttempt(deps, tx, claim.attempt.id, settlement, effects));
}

// At most this many successes share a statement.
const SUCCESS_BATCH_MAX = 100;
const successBatches = perDb((db) => createBatcher((inputs: SuccessInput[]) => markPaidBySuccesses(db, inputs), { maxItems: SUCCESS_BATCH_MAX, windowMs: BATCH_WINDOW_MS }));

/**
 * Just before the request leaves, when the claim is no longer fresh: the attempt is still `sending` and younger
 * than half the abandon threshold. A worker paused past it (GC, SIGSTOP, a
 * lost VM), or a claim that waited that long for its place at Oen, must not
 * send: the resolver may already have proven it unsent and charged the
 * invoice under a new orderId.
 */
async function stillSendable(deps: Pick<Deps, "db" | "config">, attemptId: string): Promise<boolean> {
  // And its invoice still open: a cancel that voided it meanwhile would make the charge a refund.
  const row = await deps.db
    .selectFrom("charge_attempts as a")
    .innerJoin("invoices as i", "i.id", "a.invoice_id")
    .select("a.id")
    .where("a.id", "=", attemptId)
    .where("a.status", "=", "sending")
    .where("i.status", "=", "open")
    .where("a.created_at", ">", sql<Date>`now() - make_interval(secs => ${abandonedAfterMs(deps.config) / 2000})`)
    .executeTakeFirst();
  return row !== undefined;
}

function settlementOf(outcome: ChargeOutcome): Settlement {
  switch (outcome.kind) {
    case "succeeded":
      return { kind: "succeeded", transactionHid: outcome.transactionHid, authCode: outcome.authCode ?? null };
    case "declined":
      return { kind: "declined", code: outcome.code, message: outcome.message };
    case "refused":
      return { kind: "refused", code: outcome.code, message: outcome.message };
    case "unknown":
      return { kind: "unknown", code: outcome.reason, message: outcome.message };
  }
}
