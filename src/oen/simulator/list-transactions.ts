import { ok, refused, type Answer } from "./envelope.ts";
import type { ListedPayment } from "./ledger.ts";
import type { SimulatorContext } from "./simulator-context.ts";
import { transactionView } from "./transaction-view.ts";

/** GET /transactions query as it arrived (every value a string, or absent). */
export interface ListTransactionsQuery {
  start?: string;
  end?: string;
  page?: string;
}

const PAGE_SIZE = 50;
const DAY_MS = 24 * 3600_000;
const TAIPEI_OFFSET_MS = 8 * 3600_000;

/**
 * GET /transactions by api/list-transactions.md and developers/querying.md: every payment of the
 * domain (token charges, and the payments listed beside them), newest first by creation time,
 * 50 a page. `start` and `end` go together (one alone: 500 F0001 "Invalid date"), each a
 * `YYYY-MM-DD` or a Unix time in milliseconds, taken as whole Taipei days: from `start`'s 00:00
 * to `end`'s 23:59:59. `page` is the opaque marker of the previous answer; like the store behind
 * Oen's, a full page always carries one, even when nothing follows.
 */
export function listTransactions(ctx: SimulatorContext, query: ListTransactionsQuery): Answer {
  let range: { from: number; to: number } | null = null;
  if (query.start !== undefined || query.end !== undefined) {
    const from = query.start === undefined ? undefined : taipeiDayStart(query.start);
    const to = query.end === undefined ? undefined : taipeiDayStart(query.end);
    if (from === undefined || to === undefined) return refused(500, "F0001", "Invalid date");
    range = { from, to: to + DAY_MS };
  }
  let after: PageKey | null = null;
  if (query.page !== undefined) {
    after = decodePage(query.page);
    if (after === null) return refused(500, "F0001", "Invalid page");
  }

  const listed = [...ctx.ledger.all().map((entry) => transactionView(entry, false)), ...ctx.ledger.listedPayments().map(listedPaymentView)]
    .map((view) => ({ view, key: { createdAt: view.createdAt as string, id: view.id as string } }))
    .filter(({ key }) => range === null || (Date.parse(key.createdAt) >= range.from && Date.parse(key.createdAt) < range.to))
    .sort((a, b) => compareNewestFirst(a.key, b.key));
  const start = after === null ? 0 : listed.findIndex(({ key }) => compareNewestFirst(key, after) > 0);
  const page = start === -1 ? [] : listed.slice(start, start + PAGE_SIZE);
  const last = page.at(-1);
  return ok({ transactions: page.map(({ view }) => view), page: page.length === PAGE_SIZE && last !== undefined ? encodePage(last.key) : null });
}

interface PageKey {
  createdAt: string;
  id: string;
}

function compareNewestFirst(a: PageKey, b: PageKey): number {
  const byTime = Date.parse(b.createdAt) - Date.parse(a.createdAt);
  return byTime !== 0 ? byTime : b.id < a.id ? -1 : b.id > a.id ? 1 : 0;
}

// Shaped like the marker in Oen's example (a DynamoDB key): {"Limit":50,"LastEvaluatedKey":{…}}.
function encodePage(key: PageKey): string {
  return Buffer.from(JSON.stringify({ Limit: PAGE_SIZE, LastEvaluatedKey: key })).toString("base64");
}

function decodePage(page: string): PageKey | null {
  try {
    const key = (JSON.parse(Buffer.from(page, "base64").toString("utf8")) as { LastEvaluatedKey?: Partial<PageKey> }).LastEvaluatedKey;
    if (typeof key?.createdAt !== "string" || Number.isNaN(Date.parse(key.createdAt)) || typeof key.id !== "string") return null;
    return { createdAt: key.createdAt, id: key.id };
  } catch {
    return null;
  }
}

/** The UTC instant of 00:00 in Taipei of the day `value` names; undefined when it names none. */
function taipeiDayStart(value: string): number | undefined {
  if (/^\d{1,15}$/.test(value)) {
    const ms = Number(value);
    return Math.floor((ms + TAIPEI_OFFSET_MS) / DAY_MS) * DAY_MS - TAIPEI_OFFSET_MS;
  }
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const utc = Date.UTC(year, month - 1, day);
  const check = new Date(utc);
  // 2026-02-30 is no day.
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  return utc - TAIPEI_OFFSET_MS;
}

function listedPaymentView(payment: ListedPayment): Record<string, unknown> {
  const { kind: _kind, ...fields } = payment;
  return { ...fields, paymentMethod: "card" };
}
