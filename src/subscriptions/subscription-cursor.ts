// The opaque cursor of GET /v1/subscriptions: the position of the last row a
// page showed, as (created_at, id). created_at keeps Postgres' microseconds
// (a JavaScript Date would drop them, and rows within one millisecond would be
// skipped or repeated).
import { sql } from "kysely";

export interface SubscriptionCursor {
  /** created_at in UTC with microseconds, e.g. 2026-12-01T04:00:00.123456Z. */
  createdAt: string;
  id: string;
}

const CREATED_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

export function encodeCursor(cursor: SubscriptionCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString("base64url");
}

/** The cursor, or undefined when `text` is not one that encodeCursor made. */
export function decodeCursor(text: string): SubscriptionCursor | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return undefined;
  const [createdAt, id] = parsed as unknown[];
  if (typeof createdAt !== "string" || !CREATED_AT.test(createdAt) || typeof id !== "string" || !ID.test(id)) return undefined;
  // A calendar date that exists (2026-02-30 does not): Date rolls it over, so the milliseconds differ.
  const millis = `${createdAt.slice(0, 23)}Z`;
  const date = new Date(millis);
  if (Number.isNaN(date.getTime()) || date.toISOString() !== millis) return undefined;
  return { createdAt, id };
}

/** A row's position for its cursor: created_at to the microsecond (a JavaScript Date would drop them). */
export const cursorAt = sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Rows after `after` in newest-first (created_at, id) order. */
export const afterCursor = (after: SubscriptionCursor) => sql<boolean>`(created_at, id) < (${after.createdAt}::timestamptz, ${after.id})`;

/** One page of rows read with `limit + 1` (the extra row tells whether another page follows), and its next cursor. */
export function cutPage<T extends { id: string; cursor_at: string }>(rows: T[], limit: number): { page: Array<Omit<T, "cursor_at">>; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    page: page.map(({ cursor_at: _, ...row }) => row),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor({ createdAt: last.cursor_at, id: last.id }) : null,
  };
}
