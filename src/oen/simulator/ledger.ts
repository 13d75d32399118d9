import { appendFileSync, mkdirSync, truncateSync } from "node:fs";
import { dirname } from "node:path";
import type { OenTransactionStatus, ProductDetail } from "../types.ts";
import type { CardRefusalCode } from "./cards.ts";
import { readTextIfExists } from "./read-text-if-exists.ts";

/** One transaction the simulator created, with Oen's names (`id` is the P-number). */
export interface LedgerEntry {
  id: string;
  transactionId: string;
  merchantId: string;
  orderId: string;
  amount: number;
  status: OenTransactionStatus;
  productDetails: ProductDetail[];
  /** The card token charged (simulator-only data: a fake token, readable by tests). */
  token: string;
  userId?: string;
  userName?: string;
  userEmail?: string;
  note?: string;
  /** The e-invoice opened for the charge (e-invoice mode): a refund of it needs an allowance. */
  invoice?: unknown;
  declineCode?: CardRefusalCode;
  reason?: string;
  authCode?: string;
  createdAt: string;
  paidAt?: string;
  refundAmount: number;
  refundedAt?: string;
  /** Set when the money was paid out to the merchant (status `claimed`). */
  payoutAt?: string;
  /** Simulator-only: how a `charging` transaction (C026) settles, and when (wall clock), kept so that a restart still settles it. */
  settles?: PendingSettlement;
}

/** What a `charging` transaction becomes at `at`: `paidAt` is stamped when it does. */
export interface PendingSettlement {
  at: string;
  change: Partial<Pick<LedgerEntry, "status" | "authCode" | "reason" | "declineCode">>;
}

/**
 * A payment GET /transactions lists that no token charge made: the 1-TWD authorisation some
 * acquirers make when a card is bound, returned at once (start/faq.md "綁卡試刷"), or the negative
 * adjustment (`C…` id) a refund after payout leaves (developers/querying.md).
 */
export interface ListedPayment {
  kind: "binding_authorisation" | "adjustment";
  id: string;
  transactionId: string;
  amount: number;
  status: OenTransactionStatus;
  createdAt: string;
  paidAt?: string;
  refundAmount?: number;
  refundedAt?: string;
}

/** Where a refund was made: through the API, or by the merchant in Oen's CRM (same rules). */
export type RefundChannel = "api" | "crm";

/** One refund Oen made, by API or in the CRM: what tests read to prove "refunded once". */
export interface LedgerRefund {
  transactionHid: string;
  orderId: string;
  amount: number;
  channel: RefundChannel;
  reason?: string;
  productDetails?: ProductDetail[];
  refundedAt: string;
}

/** Read access for tests: every call returns copies, so nothing outside can change the ledger. */
export interface LedgerView {
  all(): LedgerEntry[];
  byOrder(orderId: string): LedgerEntry[];
  /** By P-number or 27-char transaction id. */
  get(id: string): LedgerEntry | undefined;
  /** Transactions that took money (paid, including ones refunded later), optionally of orders with this prefix. */
  successfulCharges(orderIdPrefix?: string): LedgerEntry[];
  /** Every refund made, in order; of one transaction (by P-number) when given. */
  refunds(transactionHid?: string): LedgerRefund[];
  /** Payments listed beside the charges (binding authorisations, adjustments), in order. */
  listedPayments(): ListedPayment[];
}

export interface Ledger extends LedgerView {
  add(entry: LedgerEntry): void;
  update(
    id: string,
    change: Partial<Pick<LedgerEntry, "status" | "paidAt" | "authCode" | "reason" | "declineCode" | "refundAmount" | "refundedAt" | "payoutAt" | "settles">>,
  ): LedgerEntry;
  addRefund(refund: LedgerRefund): void;
  addListedPayment(payment: ListedPayment): void;
}

/** One change of the ledger, as its journal keeps it. */
type LedgerChange =
  | { op: "add"; entry: LedgerEntry }
  | { op: "update"; id: string; change: Parameters<Ledger["update"]>[1] }
  | { op: "refund"; refund: LedgerRefund }
  | { op: "listed"; payment: ListedPayment };

/**
 * Oen's record of what it charged and refunded. With a journal file, every change is appended
 * to it (one JSON line) and the file is replayed at start, so a restarted simulator still knows
 * its transactions, as Oen does: an order lookup after a restart must not say "not found" of a
 * charge that took money (the service would charge again). Without one, memory only.
 */
export function createLedger(journalFile: string | null = null): Ledger {
  const entries: LedgerEntry[] = [];
  const refunds: LedgerRefund[] = [];
  const listed: ListedPayment[] = [];
  const find = (id: string) => entries.find((entry) => entry.id === id || entry.transactionId === id);
  const copies = (list: LedgerEntry[]) => list.map((entry) => structuredClone(entry));
  const apply = (change: LedgerChange): void => {
    switch (change.op) {
      case "add":
        entries.push(structuredClone(withoutUndefined(change.entry)));
        return;
      case "update": {
        const entry = find(change.id);
        if (entry === undefined) throw new Error(`no ledger entry ${change.id}`);
        Object.assign(entry, change.change);
        return;
      }
      case "refund":
        refunds.push(structuredClone(withoutUndefined(change.refund)));
        return;
      case "listed":
        listed.push(structuredClone(withoutUndefined(change.payment)));
    }
  };
  // Written before it is applied: a change the file could not take is neither held nor answered.
  const record = (change: LedgerChange): void => {
    if (journalFile !== null) appendFileSync(journalFile, `${JSON.stringify(change)}\n`, { mode: 0o600 });
    apply(change);
  };
  if (journalFile !== null) {
    mkdirSync(dirname(journalFile), { recursive: true });
    for (const change of readJournal(journalFile)) apply(change);
  }
  return {
    all: () => copies(entries),
    byOrder: (orderId) => copies(entries.filter((entry) => entry.orderId === orderId)),
    get: (id) => {
      const entry = find(id);
      return entry && structuredClone(entry);
    },
    successfulCharges: (prefix = "") =>
      copies(entries.filter((entry) => entry.paidAt !== undefined && entry.orderId.startsWith(prefix))),
    refunds: (transactionHid) =>
      refunds.filter((refund) => transactionHid === undefined || refund.transactionHid === transactionHid).map((refund) => structuredClone(refund)),
    listedPayments: () => listed.map((payment) => structuredClone(payment)),
    add: (entry) => record({ op: "add", entry }),
    update: (id, change) => {
      // Refused before it is written: an update of no entry would stop every later replay.
      if (find(id) === undefined) throw new Error(`no ledger entry ${id}`);
      record({ op: "update", id, change });
      return structuredClone(find(id)!);
    },
    addRefund: (refund) => record({ op: "refund", refund }),
    addListedPayment: (payment) => record({ op: "listed", payment }),
  };
}

function readJournal(file: string): LedgerChange[] {
  const text = readTextIfExists(file);
  if (text === null) return [];
  // A line cut short by a crash mid-append is the last one, and nothing was answered for it:
  // it is cut off, so that the next change starts a line of its own.
  const complete = text.lastIndexOf("\n") + 1;
  if (complete < text.length) truncateSync(file, Buffer.byteLength(text.slice(0, complete)));
  return text
    .slice(0, complete)
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as LedgerChange);
}

// Keys without a value are left out, as in Oen's objects.
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
