import { sql } from "kysely";
import { abandonedAfterMs } from "../charges/abandoned-after.ts";
import type { Deps } from "../deps.ts";
import { enqueueMissingCharges, enqueueNewCharges, enqueueResolve } from "../queues/enqueue.ts";
import { endExpiredDunning } from "../dunning/end-expired-dunning.ts";
import { queueNewCardFinalNotices } from "../dunning/queue-new-card-final-notices.ts";
import { enqueuePendingEvents } from "../events/enqueue-event.ts";
import { enqueuePendingNotices } from "../notify/enqueue-notice.ts";
import { createSideEffects } from "../outbox/side-effects.ts";
import { expireIncompleteSubscriptions } from "../subscriptions/expire-incomplete.ts";
import { pruneExpiredWhenDue, type PrunedRows } from "./prune-expired.ts";
import { queueRenewalReminders } from "./queue-renewal-reminders.ts";
import { queueTrialEndingNotices } from "./queue-trial-ending-notices.ts";
import { enqueueDueReconciliation } from "../reconciliation/enqueue-due-reconciliation.ts";
import { enqueueRefund } from "../refunds/enqueue-refund.ts";
import { pendingRefunds } from "../refunds/pending-refunds.ts";
import { resealUnboundTokens } from "../vault/token-vault.ts";
import { relayWebhookInbox } from "../webhooks/relay-webhook-inbox.ts";
import { renewDueSubscriptions } from "./renew-due-subscriptions.ts";

export interface SweepReport {
  relayedWebhooks: number;
  /** Stored card tokens sealed before bindings, sealed again for their own rows. */
  resealedTokens: number;
  expired: number;
  renewed: number;
  canceled: number;
  chargesEnqueued: number;
  resolvesEnqueued: number;
  refundsEnqueued: number;
  dunningEnded: number;
  /** Final notices to customers whose invoice waits for a new card. */
  finalNotices: number;
  reminders: number;
  noticesEnqueued: number;
  eventsEnqueued: number;
  /** The Taipei day whose daily reconciliation this tick enqueued, if any. */
  reconciliationEnqueued: string | null;
  /** Rows deleted past their retention (a batch of each kind at most per tick). */
  /** Null on the ticks retention was not due (it runs every ten minutes, or while a backlog lasts). */
  pruned: PrunedRows | null;
  /** Steps that threw this tick (logged; retried next tick). */
  failedSteps: string[];
}

const BATCH = 200;
// Renewals per statement: large, since each is a few rows of one set-based statement.
const RENEW_BATCH = 5_000;
const MAX_BATCHES = 25;

/**
 * One tick of the scheduler. Postgres is the truth and Redis only carries
 * work, so every tick rebuilds from Postgres every job that matters: after a
 * Redis flush, the next tick re-enqueues all due charges and unresolved
 * attempts (invariant 3). Every step is idempotent.
 */
export async function runSweep(deps: Deps): Promise<SweepReport> {
  const report: SweepReport = {
    relayedWebhooks: 0,
    resealedTokens: 0,
    expired: 0,
    renewed: 0,
    canceled: 0,
    chargesEnqueued: 0,
    resolvesEnqueued: 0,
    refundsEnqueued: 0,
    dunningEnded: 0,
    finalNotices: 0,
    reminders: 0,
    noticesEnqueued: 0,
    eventsEnqueued: 0,
    reconciliationEnqueued: null,
    pruned: null,
    failedSteps: [],
  };
  // A step that throws is logged and skipped; it must not keep the others (renewals above all) from running.
  const step = async (name: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (error) {
      report.failedSteps.push(name);
      deps.logger.error({ step: name, err: (error as Error).message }, "sweep step failed; the next tick tries again");
    }
  };
  const effects = createSideEffects(deps);

  await step("relay webhook inbox", async () => {
    report.relayedWebhooks = await relayWebhookInbox(deps);
  });
  await step("re-seal unbound card tokens", async () => {
    report.resealedTokens = await resealUnboundTokens(deps);
  });
  await step("expire incomplete", async () => {
    report.expired = (await expireIncompleteSubscriptions(deps)).length;
  });
  await step("renew", async () => {
    // Until nothing is due (month start: 100,000 in batches), or the tick has run long enough.
    const until = Date.now() + deps.config.renewalSweepIntervalMs / 2;
    for (;;) {
      const { renewed, renewedOneByOne, canceled, claimed } = await renewDueSubscriptions(deps, RENEW_BATCH, effects);
      await enqueueNewCharges(deps, renewed);
      await effects.flush();
      report.renewed += renewed.length + renewedOneByOne;
      report.canceled += canceled.length;
      report.chargesEnqueued += renewed.length + renewedOneByOne;
      if (claimed < RENEW_BATCH || Date.now() > until) break;
    }
  });
  await step("due invoices", async () => {
    // The backstop for jobs Redis lost or a crash never enqueued: invoices due for longer than a
    // tick, whose job should have run by now. Their jobs are checked in one pipelined round trip.
    const due = await deps.db
      .selectFrom("invoices")
      .select(["id", "cycle", "attempt_count"])
      .where("status", "=", "open")
      .where("next_attempt_at", "<=", new Date(deps.clock.now().getTime() - deps.config.renewalSweepIntervalMs))
      .orderBy("next_attempt_at")
      .limit(BATCH * MAX_BATCHES)
      .execute();
    report.chargesEnqueued += await enqueueMissingCharges(deps, due);
  });
  await step("unresolved attempts", async () => {
    // Attempts whose outcome is unknown, including those a crashed worker left `sending`; each
    // keeps its one job, re-added at its own next lookup time (never sooner: that would undo its backoff).
    const unresolved = await deps.db
      .selectFrom("charge_attempts")
      .select(["id", sql<string>`greatest(0, extract(epoch from coalesce(next_lookup_at, now()) - now()) * 1000)`.as("wait_ms")])
      .where((eb) =>
        eb.or([
          eb("status", "=", "unknown"),
          eb.and([eb("status", "=", "sending"), eb("created_at", "<", sql<Date>`now() - make_interval(secs => ${abandonedAfterMs(deps.config) / 1000})`)]),
        ]),
      )
      .limit(BATCH * MAX_BATCHES)
      .execute();
    for (const attempt of unresolved) await enqueueResolve(deps, attempt.id, Number(attempt.wait_ms));
    report.resolvesEnqueued = unresolved.length;
  });
  await step("refunds", async () => {
    // Refunds planned but not sent (a crash after the commit, a Redis flush), unknown, or abandoned mid-call.
    const refunds = await pendingRefunds(deps.db, BATCH * MAX_BATCHES, abandonedAfterMs(deps.config));
    for (const refund of refunds) await enqueueRefund(deps, refund.id);
    report.refundsEnqueued = refunds.length;
  });
  await step("dunning deadlines", async () => {
    report.dunningEnded = await endExpiredDunning(deps, effects);
    report.finalNotices = await queueNewCardFinalNotices(deps, effects);
  });
  await step("renewal reminders", async () => {
    report.reminders = await queueRenewalReminders(deps, effects);
    report.reminders += await queueTrialEndingNotices(deps, effects);
  });
  await effects.flush();
  await step("pending notices and events", async () => {
    // Notices and events whose jobs were lost (a crash before enqueueing, a Redis flush).
    report.noticesEnqueued = await enqueuePendingNotices(deps);
    report.eventsEnqueued = await enqueuePendingEvents(deps);
  });
  await step("daily reconciliation", async () => {
    report.reconciliationEnqueued = await enqueueDueReconciliation(deps);
  });
  await step("retention", async () => {
    // Last: deleting what only records the past waits for everything that moves money.
    report.pruned = await pruneExpiredWhenDue(deps);
  });
  return report;
}
