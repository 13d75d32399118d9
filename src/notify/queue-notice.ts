import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { newId } from "../ids.ts";
import { noticeFactsJson } from "./notice-data.ts";
import type { NoticeData } from "./notice-templates.ts";

export type QueueNoticeInput = NoticeData & {
  subscriptionId: string;
  /** The billing cycle the notice is about; with the kind, what makes it unique. */
  cycle: number;
};

// Postgres' foreign_key_violation: the subscription the notice is about does not exist.
const FOREIGN_KEY_VIOLATION = "23503";

/**
 * Stores a notice's intent as pending, in the caller's transaction, so it
 * exists exactly when the decision that caused it was committed: its kind,
 * ids and the facts decided, nothing more. Nothing is read or rendered here
 * (no customer, plan or link under the caller's locks); the notification
 * worker renders it when it sends (sendNotice). Returns the notice id, or
 * undefined when this (subscription, cycle, kind) already has one
 * (invariant 5). After the commit the caller enqueues it (enqueueNotice);
 * the sweep catches any it missed.
 */
export async function queueNotice(db: Kysely<Database>, input: QueueNoticeInput): Promise<string | undefined> {
  const { subscriptionId, cycle, ...data } = input;
  try {
    const inserted = await db
      .insertInto("notices")
      .values({ id: newId("ntc"), subscription_id: subscriptionId, cycle, kind: data.kind, data: noticeFactsJson(data), last_error: null, sent_at: null })
      .onConflict((oc) => oc.columns(["subscription_id", "cycle", "kind"]).doNothing())
      .returning("id")
      .executeTakeFirst();
    return inserted?.id;
  } catch (error) {
    if ((error as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) {
      throw new Error(`cannot queue a ${data.kind} notice: subscription "${subscriptionId}" does not exist`, { cause: error });
    }
    throw error;
  }
}
