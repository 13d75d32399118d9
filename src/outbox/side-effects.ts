import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { enqueueEvent } from "../events/enqueue-event.ts";
import { recordEvent, type RecordEventInput } from "../events/record-event.ts";
import { enqueueNotice } from "../notify/enqueue-notice.ts";
import type { NoticeData } from "../notify/notice-templates.ts";
import { queueNotice } from "../notify/queue-notice.ts";
import { enqueueCharge, enqueueResolve } from "../queues/enqueue.ts";
import { enqueueRefund } from "../refunds/enqueue-refund.ts";

/** The fields of an invoice that say whether and when its next charge runs. */
export interface CollectableInvoice {
  id: string;
  cycle: number;
  attempt_count: number;
  next_attempt_at: Date | null;
}

/**
 * What a transition causes beyond its own row (a transactional outbox):
 * notices and platform events are written in the transition's transaction,
 * and every job (charge, order lookup, notice, event) is enqueued once the
 * transaction committed. Postgres already holds each job's truth (an
 * invoice's next_attempt_at, an attempt's status, a pending notice), so
 * whatever fails to enqueue is picked up by the sweep.
 */
export interface SideEffects {
  notice(db: Kysely<Database>, input: NoticeData & { subscriptionId: string; cycle: number }): Promise<void>;
  event(db: Kysely<Database>, input: RecordEventInput): Promise<void>;
  /** An event a transition recorded in its own statement (`id` as stored), to enqueue like those of `event`. */
  eventRecorded(id: string, input: RecordEventInput): void;
  /** The invoice's next charge, at its next_attempt_at (nothing when that is null). */
  charge(invoice: CollectableInvoice): void;
  /** An order lookup of an attempt whose outcome is unknown, after `delayMs`. */
  resolve(attemptId: string, delayMs: number): void;
  /** A refund planned `pending` in this transaction, to send. */
  refund(refundId: string): void;
  /** Runs after the commit (a metric counts what was committed, never a rollback). Must not throw. */
  afterCommit(task: () => void): void;
  /** Call after the commit. */
  flush(): Promise<void>;
}

export function createSideEffects(deps: Pick<Deps, "db" | "queues" | "config" | "logger" | "clock">): SideEffects {
  const notices: string[] = [];
  const events: Array<{ id: string; input: RecordEventInput }> = [];
  const tasks: Array<() => void> = [];
  const charges = new Map<string, CollectableInvoice>();
  const resolves = new Map<string, number>();
  const refunds = new Set<string>();
  return {
    async notice(db, input) {
      const id = await queueNotice(db, input);
      if (id !== undefined) notices.push(id);
    },
    async event(db, input) {
      const id = await recordEvent(db, input);
      if (id !== undefined) events.push({ id, input });
    },
    eventRecorded(id, input) {
      events.push({ id, input });
    },
    charge(invoice) {
      // The last word of the transaction wins: a later transition in it may have rescheduled the invoice.
      charges.set(invoice.id, invoice);
    },
    resolve(attemptId, delayMs) {
      resolves.set(attemptId, delayMs);
    },
    refund(refundId) {
      refunds.add(refundId);
    },
    afterCommit(task) {
      tasks.push(task);
    },
    async flush() {
      for (const task of tasks.splice(0)) task();
      // Every state change records its platform event: one log line each, once it is committed.
      const recorded = events.splice(0);
      for (const { id, input } of recorded) deps.logger.info({ eventId: id, ...correlationIds(input.data) }, `state change: ${input.type}`);
      try {
        const now = deps.clock.now().getTime();
        for (const invoice of charges.values()) {
          if (invoice.next_attempt_at !== null) await enqueueCharge(deps, invoice, invoice.next_attempt_at.getTime() - now);
        }
        charges.clear();
        for (const [attemptId, delayMs] of resolves) await enqueueResolve(deps, attemptId, delayMs);
        resolves.clear();
        for (const refundId of refunds) await enqueueRefund(deps, refundId);
        refunds.clear();
        for (const id of notices.splice(0)) await enqueueNotice(deps, id);
        for (const { id } of recorded) await enqueueEvent(deps, id);
      } catch (error) {
        deps.logger.warn({ err: (error as Error).message }, "could not enqueue jobs, notices or events; the sweep will");
      }
    },
  };
}

/** The ids a log line of an event is found by (the subscription, the invoice, the customer). */
function correlationIds(data: Record<string, unknown>): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const key of ["subscriptionId", "invoiceId", "customerId", "refundId"]) {
    if (typeof data[key] === "string") ids[key] = data[key];
  }
  return ids;
}
