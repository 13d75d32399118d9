import type { Kysely } from "kysely";
import type { Database, Notice } from "../db/database.ts";

/**
 * The notice, locked for this delivery run; undefined when it does not exist
 * or another run holds it (that run finishes the job, so this one steps aside).
 */
export async function lockNotice(db: Kysely<Database>, id: string): Promise<Notice | undefined> {
  return db.selectFrom("notices").selectAll().where("id", "=", id).forUpdate().skipLocked().executeTakeFirst();
}

export async function markNoticeSent(db: Kysely<Database>, id: string, at: Date): Promise<void> {
  await db
    .updateTable("notices")
    .set((eb) => ({ status: "sent", sent_at: at, attempts: eb("attempts", "+", 1), last_error: null }))
    .where("id", "=", id)
    .execute();
}

export async function markNoticeOutbox(db: Kysely<Database>, id: string): Promise<void> {
  await db.updateTable("notices").set({ status: "outbox" }).where("id", "=", id).execute();
}

/** A failed SMTP attempt; `status` stays pending while retries are left. */
export async function recordNoticeFailure(db: Kysely<Database>, id: string, status: "pending" | "failed", error: string): Promise<void> {
  await db
    .updateTable("notices")
    .set((eb) => ({ status, attempts: eb("attempts", "+", 1), last_error: error }))
    .where("id", "=", id)
    .execute();
}

export async function pendingNoticeIds(db: Kysely<Database>, limit: number): Promise<string[]> {
  const rows = await db.selectFrom("notices").select("id").where("status", "=", "pending").orderBy("created_at").limit(limit).execute();
  return rows.map((row) => row.id);
}
