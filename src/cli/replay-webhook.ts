import { sql } from "kysely";
import type { Deps } from "../deps.ts";
import { addJob } from "../queues/add-job.ts";
import { webhookJobFor, type WebhookJob } from "../queues/jobs.ts";
import { CliError } from "./cli-error.ts";

/** Which delivery: a webhook_inbox row (its id or its job id), or an oen_webhook_events record of one. */
export type WebhookRef = { table: "webhook_inbox"; id: string } | { table: "oen_webhook_events"; id: string };

export interface ReplayResult {
  inboxId: string;
  jobId: string;
  kind: WebhookJob["kind"];
  /** The checkout id (token webhooks) or Oen's id (others). */
  oenId: string | null;
}

/**
 * Puts a delivered webhook on the queue again from its Postgres copy, under its own job id (a job
 * BullMQ still keeps, failed or completed, runs again) and marks it not applied, so the sweep
 * keeps relaying it until the worker has applied it. The worker's checks apply as on the first
 * run: a webhook already applied is recorded as a duplicate and changes nothing.
 */
export async function replayWebhook(deps: Pick<Deps, "db" | "queues">, ref: WebhookRef): Promise<ReplayResult> {
  const row = ref.table === "webhook_inbox" ? await inboxRow(deps, ref.id) : await inboxRowOfEvent(deps, ref.id);
  // Ids only, as the relay queues it: the delivery stays in Postgres.
  const job = webhookJobFor(row.payload);
  await deps.db.updateTable("webhook_inbox").set({ processed_at: null, relayed_at: sql<Date>`now()` }).where("id", "=", row.id).execute();
  await addJob(deps.queues.webhooks, job.kind, job, { jobId: row.job_id, rerunCompleted: true });
  return { inboxId: row.id, jobId: row.job_id, kind: job.kind, oenId: job.kind === "token" ? job.checkoutId : typeof row.payload.oenId === "string" ? row.payload.oenId : null };
}

async function inboxRow(deps: Pick<Deps, "db">, id: string) {
  const byJobId = !/^\d+$/.test(id);
  const row = await deps.db
    .selectFrom("webhook_inbox")
    .selectAll()
    .where(byJobId ? "job_id" : "id", "=", id)
    .executeTakeFirst();
  if (row === undefined) throw new CliError("not_found", `no webhook_inbox entry ${byJobId ? "with job id" : "with id"} ${id} (applied webhooks are kept 7 days)`);
  return row;
}

/** The inbox copy of the delivery an oen_webhook_events record is about: the last one received up to it. */
async function inboxRowOfEvent(deps: Pick<Deps, "db">, id: string) {
  if (!/^\d+$/.test(id)) throw new CliError("bad_id", `an oen_webhook_events id is a number (got "${id}")`, 2);
  const event = await deps.db.selectFrom("oen_webhook_events").selectAll().where("id", "=", id).executeTakeFirst();
  if (event === undefined) throw new CliError("not_found", `no oen_webhook_events entry ${id}`);
  const idField = event.purpose === "token" ? sql<string>`payload->>'checkoutId'` : sql<string>`payload->>'oenId'`;
  const row = await deps.db
    .selectFrom("webhook_inbox")
    .selectAll()
    .where(idField, "=", event.oen_id ?? "")
    .where(sql<string>`payload->>'kind'`, "=", event.purpose === "token" ? "token" : "other")
    .where("received_at", "<=", event.received_at)
    .orderBy("received_at", "desc")
    .limit(1)
    .executeTakeFirst();
  if (row === undefined) {
    // The record never holds the token: only the inbox copy (kept 7 days once applied) can be replayed.
    throw new CliError("not_kept", `oen_webhook_events ${id} (${event.purpose}, ${event.oen_id ?? "no id"}) has no webhook_inbox copy any more; a webhook cannot be rebuilt from its record`);
  }
  return row;
}
