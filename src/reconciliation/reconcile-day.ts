import { createHash } from "node:crypto";
import type { Reconciliation } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { enqueueEvent } from "../events/enqueue-event.ts";
import { recordEvent } from "../events/record-event.ts";
import { OenConfigError } from "../oen/errors.ts";
import { transactionPages } from "../oen/transaction-pages.ts";
import type { OenTransaction } from "../oen/types.ts";
import { createSideEffects } from "../outbox/side-effects.ts";
import { enqueueResolve } from "../queues/enqueue.ts";
import { liveRefundOf } from "../refunds/live-refund-of.ts";
import { recordCrmRefund } from "../refunds/record-crm-refund.ts";
import { refundDoubleCharge } from "../refunds/refund-double-charge.ts";
import { compareTransactions, type Finding } from "./compare-transactions.ts";
import { attemptsOfOrders, liveRefundsOf, succeededAttemptsSent } from "./reconciliation-facts.ts";
import type { ReconciliationCounts, ReconciliationDifference } from "./reconciliation-difference.ts";
import { claimReconciliation, completeReconciliation, failReconciliation, readReconciliation } from "./reconciliation-repository.ts";
import { taipeiDay } from "./taipei-day.ts";

export type ReconcileResult =
  | { kind: "completed"; reconciliation: Reconciliation }
  /** Another run holds the day (running, not abandoned). */
  | { kind: "busy"; reconciliation: Reconciliation | undefined };

export interface ReconcileOptions {
  /** Called after each page of Oen's list (long runs show progress). */
  onPage?: (progress: { pages: number; listed: number }) => void;
}

/** The event carries this many differences; GET /v1/reconciliations/:date has them all. */
const EVENT_DIFFERENCES = 100;

/**
 * The daily reconciliation of one Taipei day (DESIGN.md "Operations"): every page of
 * GET /transactions for the day against our charge attempts and refunds. Refunds made in
 * Oen's CRM are recorded on their invoice, double charges are refunded (invariant 8),
 * unresolved attempts Oen has answered are looked up; the findings replace the day's row in
 * `reconciliations`, and `reconciliation.differences_found` goes out when any differ. Safe to
 * run again: every action is idempotent, and a run finds what earlier runs did.
 */
export async function reconcileDay(deps: Deps, date: string, options: ReconcileOptions = {}): Promise<ReconcileResult> {
  const day = taipeiDay(date);
  if (day === undefined) throw new RangeError(`date must be a calendar day YYYY-MM-DD (got "${date}")`);
  if (!(await claimReconciliation(deps.db, date))) return { kind: "busy", reconciliation: await readReconciliation(deps.db, date) };
  try {
    const listed: OenTransaction[] = [];
    let pages = 0;
    for await (const page of transactionPages(deps.oen, { start: date, end: date })) {
      listed.push(...page);
      pages += 1;
      options.onPage?.({ pages, listed: listed.length });
    }

    // Every charge of ours sent that day must be Oen's; one the list lacks may sit on the next day at Oen.
    const sent = await succeededAttemptsSent(deps.db, day);
    const listedIds = new Set(listed.map((t) => t.id));
    const lookedUp = new Map<string, OenTransaction | null>();
    for (const attempt of sent) {
      const hid = attempt.oenTransactionHid!;
      if (!listedIds.has(hid)) lookedUp.set(hid, await findTransaction(deps, hid));
    }
    const involved = [...listed, ...[...lookedUp.values()].filter((t): t is OenTransaction => t !== null)];
    const orderIds = [...new Set(involved.filter((t) => t.id.startsWith("P") && t.orderId !== undefined).map((t) => t.orderId!))];
    const attempts = new Map([...(await attemptsOfOrders(deps.db, orderIds)), ...sent].map((a) => [a.id, a]));
    const refunds = await liveRefundsOf(deps.db, [...new Set([...involved.map((t) => t.id), ...lookedUp.keys()])]);

    const comparison = compareTransactions({ listed, lookedUp, attempts: [...attempts.values()], refunds });
    const differences: ReconciliationDifference[] = [];
    for (const finding of comparison.findings) differences.push(await carryOut(deps, date, finding));
    const counts: ReconciliationCounts = { ...comparison.counts, pages };
    const reconciliation = await finish(deps, date, counts, differences);
    deps.logger[differences.length === 0 ? "info" : "warn"]({ date, ...counts }, differences.length === 0 ? "reconciliation: Oen and we agree" : "reconciliation found differences");
    return { kind: "completed", reconciliation };
  } catch (error) {
    await failReconciliation(deps.db, date, (error as Error).message);
    deps.logger.error({ date, err: (error as Error).message }, "reconciliation failed; it runs again later");
    throw error;
  }
}

/** A transaction by P-number; null when Oen does not have it (400 V0001). */
async function findTransaction(deps: Pick<Deps, "oen">, hid: string): Promise<OenTransaction | null> {
  try {
    return await deps.oen.getTransaction(hid);
  } catch (error) {
    if (error instanceof OenConfigError && error.code === "V0001") return null;
    throw error;
  }
}

/** Does what a finding asks, each in its own transaction, and says how it went. */
async function carryOut(deps: Deps, date: string, finding: Finding): Promise<ReconciliationDifference> {
  const { difference, action } = finding;
  if (action === undefined) return difference;
  if (action.kind === "resolve_attempt") {
    await enqueueResolve(deps, action.attemptId);
    return difference;
  }
  const effects = createSideEffects(deps);
  const outcome = await deps.db.transaction().execute(async (tx): Promise<ReconciliationDifference> => {
    if (action.kind === "record_refund_at_oen") {
      const { kind: _, ...refund } = action;
      const recorded = await recordCrmRefund(deps, tx, { ...refund, reason: `refunded outside this service (Oen's CRM); found by the reconciliation of ${date}` }, effects);
      return { ...difference, refundId: recorded.refund.id };
    }
    const { kind: _, ...charge } = action;
    await refundDoubleCharge(tx, effects, deps.logger, { ...charge, chargeAttemptId: null });
    const refund = await liveRefundOf(tx, action.oenTransactionHid);
    return refund === undefined ? { ...difference, action: "refund_not_possible" } : { ...difference, refundId: refund.id };
  });
  await effects.flush();
  return outcome;
}

/** The day's row completed and, when anything differs, its event, in one transaction. */
async function finish(deps: Deps, date: string, counts: ReconciliationCounts, differences: ReconciliationDifference[]): Promise<Reconciliation> {
  const { reconciliation, eventId } = await deps.db.transaction().execute(async (tx) => {
    const eventId =
      differences.length === 0
        ? undefined
        : await recordEvent(tx, {
            type: "reconciliation.differences_found",
            // The same differences found again (a run again) are the same fact: one event.
            dedupeKey: `reconciliation.differences_found:${date}:${digest(differences)}`,
            data: { date, counts, differences: differences.slice(0, EVENT_DIFFERENCES), differencesTruncated: differences.length > EVENT_DIFFERENCES },
            occurredAt: deps.clock.now(),
          });
    return { reconciliation: await completeReconciliation(tx, date, { counts, differences, eventId: eventId ?? null }), eventId };
  });
  if (eventId !== undefined) await enqueueEvent(deps, eventId).catch((error) => deps.logger.warn({ eventId, err: (error as Error).message }, "could not enqueue the event; the sweep will"));
  return reconciliation;
}

function digest(differences: readonly ReconciliationDifference[]): string {
  // What the differences are about, not how far their handling got (a run again finds them handled).
  const keys = differences.map((d) => `${d.kind}:${d.oenTransactionId ?? ""}:${d.invoiceId ?? ""}`).sort();
  return createHash("sha256").update(JSON.stringify(keys)).digest("hex").slice(0, 16);
}
