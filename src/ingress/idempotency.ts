import { createHash } from "node:crypto";
import { sql } from "kysely";
import type { Db } from "../db/connect.ts";
import { RETENTION_BATCH } from "../db/retention-batch.ts";

export type Replay =
  | { kind: "first" }
  | { kind: "replay"; statusCode: number; response: unknown }
  | { kind: "in_progress" }
  | { kind: "mismatch" };

// How long a key is remembered: long past any sensible retry by the platform.
const KEEP_DAYS = 7;
// A reservation still unanswered after this long was left by a process that crashed
// mid-request (no request lasts that long: Oen calls give up within 35 s), so a retry may take it over.
export const TAKE_OVER_AFTER_S = 60;

export function requestHash(body: unknown): string {
  return createHash("sha256").update(JSON.stringify(body)).digest("hex");
}

/**
 * Reserves an Idempotency-Key before the work is done, so two concurrent
 * requests with the same key cannot both do it. The same key with another
 * body is a mismatch (a bug on the caller's side, never a silent replay).
 * A reservation left unanswered for TAKE_OVER_AFTER_S is taken over by the
 * first retry with the same body (one only: the update re-checks the age).
 */
export async function reserveIdempotencyKey(db: Db, scope: string, key: string, hash: string): Promise<Replay> {
  const id = `${scope}:${key}`;
  await db.deleteFrom("idempotency_keys").where("key", "=", id).where("created_at", "<", sql<Date>`now() - make_interval(days => ${KEEP_DAYS})`).execute();
  const reserved = await db
    .insertInto("idempotency_keys")
    .values({ key: id, request_hash: hash, status_code: null, response: null })
    .onConflict((oc) => oc.column("key").doNothing())
    .returning("key")
    .executeTakeFirst();
  if (reserved !== undefined) return { kind: "first" };
  const takenOver = await db
    .updateTable("idempotency_keys")
    .set({ created_at: sql<Date>`now()` })
    .where("key", "=", id)
    .where("request_hash", "=", hash)
    .where("status_code", "is", null)
    .where("created_at", "<", sql<Date>`now() - make_interval(secs => ${TAKE_OVER_AFTER_S})`)
    .returning("key")
    .executeTakeFirst();
  if (takenOver !== undefined) return { kind: "first" };
  const existing = await db.selectFrom("idempotency_keys").selectAll().where("key", "=", id).executeTakeFirstOrThrow();
  if (existing.request_hash !== hash) return { kind: "mismatch" };
  if (existing.status_code === null) return { kind: "in_progress" };
  return { kind: "replay", statusCode: existing.status_code, response: existing.response };
}

export async function completeIdempotencyKey(db: Db, scope: string, key: string, statusCode: number, response: unknown): Promise<void> {
  await db.updateTable("idempotency_keys").set({ status_code: statusCode, response: JSON.stringify(response) }).where("key", "=", `${scope}:${key}`).execute();
}

/** The request failed before an answer worth repeating: the key may be used again. */
export async function releaseIdempotencyKey(db: Db, scope: string, key: string): Promise<void> {
  await db.deleteFrom("idempotency_keys").where("key", "=", `${scope}:${key}`).where("status_code", "is", null).execute();
}

/** For the sweep: deletes at most RETENTION_BATCH keys KEEP_DAYS older than `at` (a key is otherwise only deleted when it is used again); returns how many. */
export async function pruneIdempotencyKeys(db: Db, at: Date): Promise<number> {
  const cutoff = new Date(at.getTime() - KEEP_DAYS * 86_400_000);
  const { numDeletedRows } = await db
    .deleteFrom("idempotency_keys")
    // Locked as they are picked, so a crashed reservation taken over meanwhile (young again) is left out.
    .where("key", "in", (eb) => eb.selectFrom("idempotency_keys").select("key").where("created_at", "<", cutoff).limit(RETENTION_BATCH).forUpdate().skipLocked())
    .executeTakeFirst();
  return Number(numDeletedRows);
}
