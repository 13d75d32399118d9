import { sql } from "kysely";
import type { Db } from "../db/connect.ts";

/** Fresh Oen pages one emailed link may open in an hour. */
export const LINK_PAGES_PER_HOUR = 5;

/**
 * Takes one of a link's pages for this hour, or says none is left. Claimed
 * and committed before Oen is called (no transaction waits on Oen), under a
 * lock of the link, so concurrent clicks cannot take more than the budget.
 * Rows older than the hour have done their job and are deleted.
 */
export async function claimLinkPage(db: Db, linkId: string): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(hashtextextended(${`card-link:${linkId}`}, 0))`.execute(tx);
    await tx.deleteFrom("card_link_pages").where("opened_at", "<", sql<Date>`now() - interval '1 hour'`).execute();
    const { n } = await tx.selectFrom("card_link_pages").select(sql<string>`count(*)`.as("n")).where("link_digest", "=", linkId).executeTakeFirstOrThrow();
    if (Number(n) >= LINK_PAGES_PER_HOUR) return false;
    await tx.insertInto("card_link_pages").values({ link_digest: linkId }).execute();
    return true;
  });
}
