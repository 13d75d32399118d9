import { createHash, randomBytes } from "node:crypto";
import type { Db } from "../db/connect.ts";
import type { PortalSession } from "../db/database.ts";
import type { PortalLocale } from "./portal-locale.ts";

/** How long a portal session lasts from the moment its link is opened. */
export const PORTAL_SESSION_TTL_MS = 3_600_000;

const hashOf = (sessionId: string) => createHash("sha256").update(sessionId).digest("hex");

/**
 * A new portal session: a random id for the cookie (returned, never stored),
 * its hash in `portal_sessions`. Expired sessions are cleared on the way.
 */
export async function startPortalSession(
  db: Db,
  input: { customerId: string; locale: PortalLocale; returnUrl: string | null },
  now: Date,
): Promise<{ sessionId: string; expiresAt: Date }> {
  const sessionId = randomBytes(32).toString("base64url");
  const expiresAt = new Date(now.getTime() + PORTAL_SESSION_TTL_MS);
  await db.deleteFrom("portal_sessions").where("expires_at", "<", now).execute();
  await db
    .insertInto("portal_sessions")
    .values({ id_hash: hashOf(sessionId), customer_id: input.customerId, locale: input.locale, return_url: input.returnUrl, expires_at: expiresAt })
    .execute();
  return { sessionId, expiresAt };
}

/** The live session of a cookie's id, or undefined (unknown, or expired). */
export async function findPortalSession(db: Db, sessionId: string, now: Date): Promise<PortalSession | undefined> {
  return db.selectFrom("portal_sessions").selectAll().where("id_hash", "=", hashOf(sessionId)).where("expires_at", ">", now).executeTakeFirst();
}

export async function setPortalSessionLocale(db: Db, sessionId: string, locale: PortalLocale): Promise<void> {
  await db.updateTable("portal_sessions").set({ locale }).where("id_hash", "=", hashOf(sessionId)).execute();
}
