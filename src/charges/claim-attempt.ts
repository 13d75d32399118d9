import { sql, type RawBuilder } from "kysely";
import { auditRow, type AuditEntry } from "../audit/audit-log.ts";
import { createBatcher, type Batcher } from "../batcher.ts";
import { cardBudgetReopensAt, type DunningPolicy } from "../billing/dunning-policy.ts";
import type { Db } from "../db/connect.ts";
import type { ChargeAttempt, ChargeAttemptsTable, Invoice } from "../db/database.ts";
import { everyColumn } from "../db/every-column.ts";
import { compiledOnce, type Slots } from "../db/compiled-once.ts";
import { perDb } from "../db/per-db.ts";
import { prepared } from "../db/prepared.ts";
import type { Deps } from "../deps.ts";
import { newId } from "../ids.ts";
import type { InvoiceEventFields } from "../invoices/invoice-event-data.ts";
import { attemptsStarted, scheduleCollection, voidInvoice } from "../invoices/invoice-transitions.ts";
import type { TokenChargeRequest } from "../oen/types.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { BILLING_STATES } from "../subscriptions/subscription-transitions.ts";
import { openAudited, revealAudit } from "../vault/token-vault.ts";
import { BATCH_WINDOW_MS } from "./batch-window.ts";
import { orderIdFor } from "./order-id.ts";

/** What a claimed charge says of its invoice: what its events name, and its kind (fields an invoice never changes once opened). */
export type ClaimedInvoice = InvoiceEventFields & Pick<Invoice, "kind">;

export type Claim =
  /** `startedAt`: when the claim's write was sent, before Postgres stamped the attempt (both clocks: a suspended VM stops the monotonic one). */
  | { kind: "claimed"; attempt: ChargeAttempt; request: TokenChargeRequest; invoice: ClaimedInvoice; startedAt: { monotonic: number; wall: number } }
  | { kind: "settled"; status: Invoice["status"] | "missing" }
  | { kind: "in_flight"; attemptId: string }
  | { kind: "not_due"; at: Date | null }
  | { kind: "not_collectable"; subscriptionStatus: string }
  | { kind: "no_card" };

const ATTEMPT_COLUMNS = everyColumn<ChargeAttemptsTable>()([
  "id", "invoice_id", "attempt_no", "order_id", "payment_token_id", "amount", "status", "code", "message", "oen_transaction_hid", "auth_code",
  "lookup_count", "last_lookup_at", "next_lookup_at", "created_at", "resolved_at", "clock_at",
]);

type ClaimDeps = Pick<Deps, "db" | "clock" | "config" | "dunning" | "logger">;

/**
 * Decides whether a charge may be sent, and if so commits a `sending` attempt
 * with its own orderId BEFORE the request leaves (invariant 1). While that
 * attempt is `sending` or `unknown`, the partial unique index
 * `charge_attempts_one_in_flight` stops any other attempt on the invoice,
 * even from a worker that lost its lock or crashed.
 *
 * Most claims find the invoice due and its card usable: one read and one
 * write, each a statement of its own. The write is guarded by what the read
 * saw (open, due, the same attempt count), so a worker that lost a race to it
 * writes nothing and decides again under the invoice's row lock, as does every
 * outcome that must change the invoice.
 */
export async function claimAttempt(deps: ClaimDeps, invoiceId: string, effects: SideEffects): Promise<Claim> {
  const now = deps.clock.now();
  const facts = await readClaimFacts(deps.db, invoiceId, deps.dunning.cardAttemptLimit);
  const verdict = claimVerdict(facts, now, deps.dunning);
  if (verdict.kind === "answer") return verdict.claim;
  if (verdict.kind === "charge") {
    const claimed = await startAttempt(deps, deps.db, facts!, now, true);
    if (claimed !== undefined) return claimed;
  }
  return deps.db.transaction().execute(async (tx): Promise<Claim> => {
    await lockActiveCard(tx, invoiceId);
    const locked = await readLockedClaimFacts(tx, invoiceId, deps.dunning.cardAttemptLimit);
    const decided = claimVerdict(locked, now, deps.dunning);
    switch (decided.kind) {
      case "answer":
        return decided.claim;
      case "charge": {
        const claimed = await startAttempt(deps, tx, locked!, now, false);
        if (claimed === undefined) throw new Error(`invoice ${invoiceId} refused its claim under its own lock`);
        return claimed;
      }
      case "void":
        await voidInvoice(tx, invoiceId, now);
        return decided.claim;
      case "reschedule":
        await scheduleCollection(tx, effects, invoiceId, decided.at, now);
        return decided.claim;
    }
  });
}

type ClaimFacts = NonNullable<Awaited<ReturnType<typeof readLockedClaimFacts>>>;

/**
 * The facts of a claim: the invoice, the attempt that may still be at Oen, who pays, with which
 * card, and that card's latest attempts (its budget). Of one invoice under its row lock, or,
 * unlocked, of every invoice in `invoiceIds` (the claims that start together share the read).
 * Its constants are written into the statement, not sent as values: with them as values a
 * generic plan could not use the partial indexes (payment_tokens_one_active,
 * charge_attempts_one_in_flight), and Postgres planned the statement on every call.
 */
const claimFacts = <V extends { cardAttemptLimit: number }>(lock: boolean, where: (slot: Slots<V>) => RawBuilder<boolean>) =>
  compiledOnce((db, slot: Slots<V>) => {
    const query = db
      .selectFrom("invoices as i")
      .innerJoin("subscriptions as s", "s.id", "i.subscription_id")
      .innerJoin("customers as c", "c.id", "s.customer_id")
      .leftJoin("payment_tokens as t", (join) => join.onRef("t.subscription_id", "=", "s.id").on(sql<boolean>`t.status = 'active'`))
      .select(["i.id", "i.subscription_id", "i.kind", "i.cycle", "i.status", "i.amount", "i.currency", "i.product_details", "i.period_start", "i.period_end", "i.next_attempt_at", "i.attempt_count"])
      .select(["s.status as subscription_status", "c.id as customer_id", "c.name", "c.email", "c.invoice_info", "t.id as card_id", "t.checkout_session_id", "t.key_id", "t.ciphertext"])
      .select(sql<string | null>`(select a.id from charge_attempts a where a.invoice_id = i.id and a.status in ('sending', 'unknown'))`.as("in_flight_id"))
      .select(sql<Date[] | null>`array(select clock_at from charge_attempts where payment_token_id = t.id and status in ('sending', 'unknown', 'succeeded', 'declined') order by clock_at desc limit ${slot("cardAttemptLimit")})`.as("recent"))
      .where(where(slot));
    return lock ? query.forUpdate("i") : query;
  });
const CLAIM_FACTS_OF_MANY = claimFacts(false, (slot: Slots<{ invoiceIds: string[]; cardAttemptLimit: number }>) => sql<boolean>`i.id = any(${slot("invoiceIds")}::text[])`);
const CLAIM_FACTS_LOCKED = claimFacts(true, (slot: Slots<{ invoiceId: string; cardAttemptLimit: number }>) => sql<boolean>`i.id = ${slot("invoiceId")}`);

/**
 * The card before the invoice, as the shared write and a card replacement take them: a claim
 * that waits on its invoice (held by a settle, by ops) never holds the invoice while waiting on
 * the card of a replacement that waits on the invoice.
 */
async function lockActiveCard(db: Db, invoiceId: string): Promise<void> {
  await db
    .selectFrom("payment_tokens")
    .select("id")
    .where("subscription_id", "=", (eb) => eb.selectFrom("invoices").select("subscription_id").where("id", "=", invoiceId))
    .where("status", "=", "active")
    .forShare()
    .execute();
}

async function readLockedClaimFacts(db: Db, invoiceId: string, cardAttemptLimit: number) {
  const { rows } = await db.executeQuery(prepared(CLAIM_FACTS_LOCKED(db, { invoiceId, cardAttemptLimit })));
  return rows[0];
}

// At most this many claims share a read.
const READ_BATCH_MAX = 100;
const readers = perDb(() => new Map<number, Batcher<string, ClaimFacts | undefined>>());

/** The unlocked facts of one invoice, read together with those of the claims started at the same moment. */
function readClaimFacts(db: Db, invoiceId: string, cardAttemptLimit: number): Promise<ClaimFacts | undefined> {
  const byLimit = readers(db);
  let reader = byLimit.get(cardAttemptLimit);
  if (reader === undefined) {
    reader = createBatcher(async (invoiceIds) => {
      const { rows } = await db.executeQuery(prepared(CLAIM_FACTS_OF_MANY(db, { invoiceIds, cardAttemptLimit })));
      const byId = new Map(rows.map((row) => [row.id, row]));
      return invoiceIds.map((id) => byId.get(id));
    }, { maxItems: READ_BATCH_MAX, windowMs: BATCH_WINDOW_MS });
    byLimit.set(cardAttemptLimit, reader);
  }
  return reader.add(invoiceId);
}

type Verdict =
  | { kind: "charge" }
  /** Decided, nothing to write. */
  | { kind: "answer"; claim: Exclude<Claim, { kind: "claimed" }> }
  /** Decided, and the invoice must say so. */
  | { kind: "void"; claim: Extract<Claim, { kind: "settled" }> }
  | { kind: "reschedule"; at: Date | null; claim: Extract<Claim, { kind: "not_due" | "no_card" }> };

/** What the facts of a claim allow, in the order the questions must be asked. */
function claimVerdict(facts: ClaimFacts | undefined, now: Date, policy: DunningPolicy): Verdict {
  if (facts === undefined) return { kind: "answer", claim: { kind: "settled", status: "missing" } };
  if (facts.status !== "open") return { kind: "answer", claim: { kind: "settled", status: facts.status } };
  if (facts.in_flight_id !== null) return { kind: "answer", claim: { kind: "in_flight", attemptId: facts.in_flight_id } };
  if (facts.next_attempt_at === null || facts.next_attempt_at > now) return { kind: "answer", claim: { kind: "not_due", at: facts.next_attempt_at } };
  // An upgrade's difference is for the rest of one period: once that period is over there is nothing left to charge.
  if (facts.kind === "proration" && facts.period_end <= now) return { kind: "void", claim: { kind: "settled", status: "void" } };
  // Ending a subscription voids its open invoices in the same transaction; this only guards that promise.
  if (!BILLING_STATES.includes(facts.subscription_status)) return { kind: "answer", claim: { kind: "not_collectable", subscriptionStatus: facts.subscription_status } };
  if (facts.card_id === null) return { kind: "reschedule", at: null, claim: { kind: "no_card" } };
  // Card networks allow a card only so many attempts in a window, across all of its invoices.
  const reopensAt = cardBudgetReopensAt(facts.recent ?? [], now, policy);
  if (reopensAt !== null) return { kind: "reschedule", at: reopensAt, claim: { kind: "not_due", at: reopensAt } };
  return { kind: "charge" };
}

/** One attempt to claim: its invoice, number and card as the facts had them, and the audit row of its card's opening. */
interface AttemptValues {
  invoiceId: string;
  attemptNo: number;
  now: Date;
  attemptId: string;
  orderId: string;
  cardId: string;
  amount: number;
  audit: AuditEntry;
}

type Columns<T> = { [K in keyof T as `${string & K}s`]: Array<T[K]> };
type AttemptColumns = Columns<Omit<AttemptValues, "audit">> & { actors: string[]; actions: string[]; subscriptionIds: Array<string | null>; reasons: string[]; details: string[] };

/**
 * One statement for many claims: each invoice counts its attempt
 * (attemptsStarted, guarded), the attempts are inserted from those rows, and
 * each card's opening is audited from its attempt's. The cards, then the
 * invoices are locked first, each in id order, so neither another of these
 * nor a card replacement waits on it in a circle; an invoice locked by
 * another transaction is skipped (its claim refused); of two claims of one
 * invoice the first is tried. Returns the attempts
 * written: a claim without one was refused and wrote nothing.
 */
const START_ATTEMPTS = compiledOnce((_db, slot: Slots<AttemptColumns>) =>
  sql<ChargeAttempt>`
    with input as (
      select * from unnest(${slot("invoiceIds")}::text[], ${slot("attemptNos")}::int[], ${slot("nows")}::timestamptz[], ${slot("attemptIds")}::text[],
        ${slot("orderIds")}::text[], ${slot("cardIds")}::text[], ${slot("amounts")}::int[], ${slot("actors")}::text[], ${slot("actions")}::text[],
        ${slot("subscriptionIds")}::text[], ${slot("reasons")}::text[], ${slot("details")}::text[]) with ordinality
        as t(invoice_id, attempt_no, now, attempt_id, order_id, card_id, amount, actor, action, subscription_id, reason, detail, n)),
    -- Cards before invoices, each in id order, as a card replacement locks them (the old card, then
    -- its invoices): the two never wait on each other in a circle. Uncorrelated subqueries run first.
    cards as (select id from payment_tokens where id in (select card_id from input) order by id for share),
    -- An invoice another transaction holds (a settle, a terminate, ops) is left to its claim's
    -- locked path, so that it holds back no other claim of the batch; this statement's own
    -- transaction (that path) never skips the lock it took.
    locked as (select id from invoices where id in (select invoice_id from input) and (select count(*) from cards) >= 0 order by id for no key update skip locked),
    claims as (select distinct on (invoice_id) * from input where (select count(*) from locked) >= 0 and invoice_id in (select id from locked) order by invoice_id, n),
    started as (${attemptsStarted("claims")}),
    attempt as (
      insert into charge_attempts (id, invoice_id, attempt_no, order_id, payment_token_id, amount, status, clock_at, created_at)
      -- created_at: when the row is written, not when a transaction around it began (the age the resolver and the pre-send check go by).
      select c.attempt_id, c.invoice_id, c.attempt_no, c.order_id, c.card_id, c.amount, 'sending', c.now, clock_timestamp()
        from claims c join started s on s.id = c.invoice_id
      returning ${sql.join(ATTEMPT_COLUMNS.map((column) => sql.ref(column)))}),
    audit as (
      insert into audit_log (actor, action, subscription_id, reason, detail)
      select c.actor, c.action, c.subscription_id, c.reason, c.detail::jsonb from claims c join attempt a on a.id = c.attempt_id)
    select * from attempt`,
);

/** Writes the claims in one statement; answers each with its attempt, or undefined where the guard refused it. */
async function startAttempts(db: Db, claims: readonly AttemptValues[]): Promise<Array<ChargeAttempt | undefined>> {
  const audits = claims.map((c) => auditRow(c.audit));
  const columns: AttemptColumns = {
    invoiceIds: claims.map((c) => c.invoiceId),
    attemptNos: claims.map((c) => c.attemptNo),
    nows: claims.map((c) => c.now),
    attemptIds: claims.map((c) => c.attemptId),
    orderIds: claims.map((c) => c.orderId),
    cardIds: claims.map((c) => c.cardId),
    amounts: claims.map((c) => c.amount),
    actors: audits.map((a) => a.actor),
    actions: audits.map((a) => a.action),
    subscriptionIds: audits.map((a) => a.subscription_id ?? null),
    reasons: audits.map((a) => a.reason),
    details: audits.map((a) => a.detail as string),
  };
  const { rows } = await db.executeQuery(prepared(START_ATTEMPTS(db, columns)));
  const written = new Map(rows.map((row) => [row.id, row]));
  return claims.map((c) => written.get(c.attemptId));
}

// At most this many claims share a write.
const WRITE_BATCH_MAX = 100;
const writers = perDb((db) => createBatcher((claims: AttemptValues[]) => startAttempts(db, claims), { maxItems: WRITE_BATCH_MAX, windowMs: BATCH_WINDOW_MS }));

/**
 * The claim's write, in the pool: shared with the claims written at the same
 * moment (a batch that failed, a deadlock, writes nothing, and its claims
 * decide again under their own locks). In a transaction: alone.
 */
async function startAttempt(deps: ClaimDeps, db: Db, facts: ClaimFacts, now: Date, shared: boolean): Promise<Extract<Claim, { kind: "claimed" }> | undefined> {
  const attemptNo = facts.attempt_count + 1;
  const orderId = orderIdFor(facts.id, attemptNo);
  const card = { id: facts.card_id!, subscription_id: facts.subscription_id, checkout_session_id: facts.checkout_session_id!, key_id: facts.key_id!, ciphertext: facts.ciphertext! };
  const audit = revealAudit(card, { actor: "charge-worker", reason: `charge invoice ${facts.id} cycle ${facts.cycle}`, detail: { orderId, attemptNo } });
  // Opened before anything is written: a token that does not open leaves no attempt behind. Its
  // audit row is written with the attempt that uses it (a refused claim drops the token unused).
  const token = openAudited(deps.config.tokenKeys, card);
  const startedAt = { monotonic: performance.now(), wall: Date.now() };
  // created_at (Postgres' wall clock) times the call to Oen; clock_at places it on the billing calendar.
  const values: AttemptValues = { invoiceId: facts.id, attemptNo, now, attemptId: newId("ca"), orderId, cardId: card.id, amount: facts.amount, audit };
  const attempt = shared
    ? await writers(db).add(values).catch((error: Error) => {
        deps.logger.warn({ orderId, err: error.message }, "the shared claim write failed; this claim decides again on its own");
        return undefined;
      })
    : (await startAttempts(db, [values]))[0];
  if (attempt === undefined) return undefined;
  return {
    kind: "claimed",
    attempt,
    startedAt,
    invoice: { id: facts.id, subscription_id: facts.subscription_id, kind: facts.kind, cycle: facts.cycle, amount: facts.amount, currency: facts.currency, period_start: facts.period_start, period_end: facts.period_end },
    request: {
      amount: facts.amount,
      token,
      orderId,
      productDetails: facts.product_details,
      userId: facts.customer_id,
      // Required on every charge when the domain issues e-invoices (OEN_EINVOICE), and always sent.
      userName: facts.name,
      userEmail: facts.email,
      ...(facts.invoice_info === null ? {} : { invoiceInfo: facts.invoice_info }),
    },
  };
}
