import type { OenClient } from "./client.ts";
import { OenError } from "./errors.ts";
import type { OenTransaction } from "./types.ts";

/**
 * Every page of GET /transactions for the Taipei days `start` to `end`, in Oen's order (newest
 * first), following each page's marker until it is null (developers/querying.md). A marker
 * that repeats would loop for ever: it is an error.
 */
export async function* transactionPages(oen: Pick<OenClient, "listTransactions">, range: { start: string; end: string }): AsyncGenerator<OenTransaction[]> {
  const seen = new Set<string>();
  let page: string | null = null;
  do {
    const answer = await oen.listTransactions({ ...range, page });
    yield answer.transactions;
    page = answer.page;
    if (page !== null) {
      if (seen.has(page)) throw new OenError("Oen GET /transactions: the same page marker came twice", 200);
      seen.add(page);
    }
  } while (page !== null);
}
