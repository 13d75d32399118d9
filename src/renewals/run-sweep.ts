import { sql } from "kysely";
import { abandonedAfterMs } from "../charges/abandoned-after.ts";
import type { Deps } from "../deps.ts";
import { enqueueCharge, enqueueResolve } from "../queues/enqueue.ts";
import { endExpiredDunning } from "../dunning/end-expired-dunning.ts";
import { queueNewCardFinalNotices } from "../dunning/queue-new-card-final-notices.ts";
import { enqueuePendingEvents } from "../events/enqueue-event.ts";
import { enqueuePendingNotices } from "../notify/enqueue-notice.ts";
import { createSideEffects } from "../outbox/side-effects.ts";
import { expireIncompleteSubscriptions } from "../subscriptions/expire-incomplete.ts";
import { queueRenewalReminders } from "./queue-renewal-reminders.ts";
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
  /** Steps that threw this tick (logged; retried next tick). */
  failedSteps: string[];
}

const BATCH = 200;
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
  // Invoices this tick created and enqueued already; the due-invoice step skips them.
  const enqueued = new Set<string>();

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
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const { renewed, canceled, claimed } = await renewDueSubscriptions(deps, BATCH, effects);
      await effects.flush();
      report.renewed += renewed.length;
      report.canceled += canceled.length;
      for (const invoice of renewed) enqueued.add(invoice.id);
      report.chargesEnqueued += renewed.length;
      if (claimed < BATCH) break;
    }
  });
  await step("due invoices", async () => {
    // Every collectable invoice that is due, whether or not its job survived.
    const due = await deps.db
      .selectFrom("invoices")
      .select(["id", "attempt_count"])
      .where("status", "=", "open")
      .where("next_attempt_at", "<=", deps.clock.now())
      .orderBy("next_attempt_at")
      .limit(BATCH * MAX_BATCHES)
      .execute();
    const missing = due.filter((invoice) => !enqueued.has(invoice.id));
    for (const invoice of missing) await enqueueCharge(deps, invoice);
    report.chargesEnqueued += missing.length;
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
  });
  await effects.flush();
  await step("pending notices and events", async () => {
    // Notices and events whose jobs were lost (a crash before enqueueing, a Redis flush).
    report.noticesEnqueued = await enqueuePendingNotices(deps);
    report.eventsEnqueued = await enqueuePendingEvents(deps);
  });
  return report;
}
