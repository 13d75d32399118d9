import { sql, type Kysely } from "kysely";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimAttempt } from "../../src/charges/claim-attempt.ts";
import { orderIdFor } from "../../src/charges/order-id.ts";
import type { Database, Invoice } from "../../src/db/database.ts";
import { markPaidBySuccesses, type SuccessInput } from "../../src/invoices/invoice-transitions.ts";
import { createSideEffects } from "../../src/outbox/side-effects.ts";
import { eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";

// The charge path's statements without a transaction: a claim is a read and a guarded write,
// a plain success one statement. Each must refuse what it does not own and leave it whole.
describe("the statements of a charge", () => {
  let h: Harness;
  let n = 0;
  // A worker whose clock is on a far-off day, for invoices due only then (no sweep takes them).
  const farOff = new Date("2100-01-01T00:00:00Z");
  const worker = () => ({ ...h.service.deps, clock: { now: () => farOff } });

  beforeAll(async () => {
    h = await startHarness();
    await h.api("PUT", "/v1/plans/premium", samplePlan);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A paid subscription with a second, open invoice due on the far-off day. */
  async function secondInvoice(): Promise<Invoice> {
    const subscription = await subscribeWithCard(h, "premium", `cus_stmt_${n++}`);
    const first = await eventually(async () => {
      const row = await h.database.db.selectFrom("invoices").selectAll().where("subscription_id", "=", subscription.id).executeTakeFirst();
      return row?.status === "paid" && row;
    });
    const { id: _id, created_at: _c, updated_at: _u, ...rest } = first;
    return h.database.db
      .insertInto("invoices")
      .values({ ...rest, id: `${first.id}x`, cycle: 2, status: "open", paid_at: null, attempt_count: 0, next_attempt_at: farOff, product_details: JSON.stringify(first.product_details) })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  const markPaidBySuccess = async (db: typeof h.database.db, input: SuccessInput) => (await markPaidBySuccesses(db, [input]))[0];
  const attemptsOf = (invoiceId: string) => h.database.db.selectFrom("charge_attempts").selectAll().where("invoice_id", "=", invoiceId).execute();
  const auditsOf = (orderId: string) => h.database.db.selectFrom("audit_log").select("detail").where(sql<boolean>`detail->>'orderId' = ${orderId}`).execute();

  it("five workers claiming one invoice at once: one attempt with one audit row, the others find it in flight", async () => {
    const invoice = await secondInvoice();
    const claims = await Promise.all(Array.from({ length: 5 }, () => claimAttempt(worker(), invoice.id, createSideEffects(worker()))));
    const claimed = claims.filter((claim) => claim.kind === "claimed");
    expect(claimed).toHaveLength(1);
    const attempts = await attemptsOf(invoice.id);
    expect(attempts).toMatchObject([{ attempt_no: 1, status: "sending" }]);
    expect(claims.filter((claim) => claim.kind !== "claimed")).toEqual(Array(4).fill({ kind: "in_flight", attemptId: attempts[0]!.id }));
    expect(await auditsOf(attempts[0]!.order_id)).toHaveLength(1);
    const after = await h.database.db.selectFrom("invoices").selectAll().where("id", "=", invoice.id).executeTakeFirstOrThrow();
    expect(after).toMatchObject({ attempt_count: 1, next_attempt_at: null, status: "open" });
  });

  /**
   * Claims of `invoices` started together, while another transaction holds the row lock of
   * `invoices[1]`'s card, as a card replacement does, and runs `meanwhile`: the claims read
   * (unlocked) what it has not committed, their shared write waits for the card, and then finds
   * what it committed.
   */
  async function claimTogether(invoices: Invoice[], meanwhile: (tx: Kysely<Database>) => Promise<unknown>) {
    const tx = await h.database.db.startTransaction().execute();
    try {
      await tx.selectFrom("payment_tokens").select("id").where("subscription_id", "=", invoices[1]!.subscription_id).where("status", "=", "active").forUpdate().execute();
      await meanwhile(tx);
      const claims = Promise.allSettled(invoices.map((invoice) => claimAttempt(worker(), invoice.id, createSideEffects(worker()))));
      await eventually(async () => {
        const { rows } = await sql<{ n: string }>`select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(h.database.db);
        return rows[0]!.n !== "0";
      }, 5_000, "the shared write to wait for the lock");
      await tx.commit().execute();
      return await claims;
    } catch (error) {
      await tx.rollback().execute();
      throw error;
    }
  }
  /** The transaction that wrote each attempt of these invoices (rows of one statement share it). */
  const writers = async (invoices: Invoice[]) =>
    (await sql<{ invoice_id: string; xmin: string }>`select invoice_id, xmin::text from charge_attempts where invoice_id = any(${invoices.map((i) => i.id)})`.execute(h.database.db)).rows;

  it("claims that write together share one statement, each guarded on its own: a card replaced meanwhile refuses only its claim", async () => {
    const invoices = [await secondInvoice(), await secondInvoice(), await secondInvoice()];
    const [a, b, c] = invoices as [Invoice, Invoice, Invoice];
    const replaced = (tx: Kysely<Database>) => tx.updateTable("payment_tokens").set({ status: "inactive" }).where("subscription_id", "=", b.subscription_id).execute();
    const claims = await claimTogether(invoices, replaced);
    expect(claims.map((claim) => claim.status === "fulfilled" && claim.value.kind)).toEqual(["claimed", "no_card", "claimed"]);
    const written = await writers(invoices);
    expect(written.map((w) => w.invoice_id).sort()).toEqual([a.id, c.id].sort());
    expect(new Set(written.map((w) => w.xmin)).size).toBe(1);
    expect(await attemptsOf(b.id)).toEqual([]);
    expect(await h.database.db.selectFrom("invoices").select(["attempt_count", "next_attempt_at"]).where("id", "=", b.id).executeTakeFirstOrThrow()).toEqual({ attempt_count: 0, next_attempt_at: null });
    for (const invoice of [a, c]) expect(await auditsOf(orderIdFor(invoice.id, 1))).toHaveLength(1);
    expect(await auditsOf(orderIdFor(b.id, 1))).toEqual([]);
  });

  it("a shared write that fails writes nothing, and each of its claims decides again alone: the others are claimed", async () => {
    const invoices = [await secondInvoice(), await secondInvoice(), await secondInvoice()];
    const [a, b, c] = invoices as [Invoice, Invoice, Invoice];
    // An attempt 1 the invoice never counted (damaged data): the shared insert of b's attempt 1 breaks the unique key.
    const damaged = async (tx: Kysely<Database>) => {
      const card = await tx.selectFrom("payment_tokens").select("id").where("subscription_id", "=", b.subscription_id).where("status", "=", "active").executeTakeFirstOrThrow();
      await tx.insertInto("charge_attempts").values({ id: "ca_damaged", invoice_id: b.id, attempt_no: 1, order_id: "damaged-order", payment_token_id: card.id, amount: b.amount, status: "declined", clock_at: farOff }).execute();
    };
    const claims = await claimTogether(invoices, damaged);
    expect(claims.map((claim) => (claim.status === "fulfilled" ? claim.value.kind : "rejected"))).toEqual(["claimed", "rejected", "claimed"]);
    const written = await writers([a, c]);
    expect(written).toHaveLength(2);
    expect(new Set(written.map((w) => w.xmin)).size).toBe(2);
    expect((await attemptsOf(b.id)).map((attempt) => attempt.id)).toEqual(["ca_damaged"]);
    expect(await auditsOf(orderIdFor(b.id, 1))).toEqual([]);
  });

  it("an invoice another transaction holds holds back only its own claim: the others are written at once, together, and it is claimed once let go", async () => {
    const invoices = [await secondInvoice(), await secondInvoice(), await secondInvoice()];
    const [a, b, c] = invoices as [Invoice, Invoice, Invoice];
    const tx = await h.database.db.startTransaction().execute();
    let claims: Array<Promise<Awaited<ReturnType<typeof claimAttempt>>>>;
    try {
      await tx.selectFrom("invoices").select("id").where("id", "=", b.id).forUpdate().execute();
      claims = invoices.map((invoice) => claimAttempt(worker(), invoice.id, createSideEffects(worker())));
      await eventually(async () => (await writers([a, c])).length === 2, 5_000, "the other claims written while the invoice is held");
      expect(await attemptsOf(b.id)).toEqual([]);
    } finally {
      await tx.commit().execute();
    }
    expect((await Promise.all(claims)).map((claim) => claim.kind)).toEqual(["claimed", "claimed", "claimed"]);
    const xmin = new Map((await writers(invoices)).map((w) => [w.invoice_id, w.xmin]));
    expect(xmin.get(a.id)).toBe(xmin.get(c.id));
    expect(xmin.get(b.id)).not.toBe(xmin.get(a.id));
  });

  it("a claim racing a card replacement waits for it, without a deadlock, and finds no card", async () => {
    const invoice = await secondInvoice();
    const warnings: string[] = [];
    const logged = { ...worker(), logger: pino({ level: "warn" }, { write: (line: string) => void warnings.push(line) }) };
    // As the token webhook replaces a card: the old card row first, then the subscription's open invoices.
    const tx = await h.database.db.startTransaction().execute();
    await tx.updateTable("payment_tokens").set({ status: "inactive" }).where("subscription_id", "=", invoice.subscription_id).where("status", "=", "active").execute();
    const claim = claimAttempt(logged, invoice.id, createSideEffects(logged));
    await eventually(async () => {
      const { rows } = await sql<{ n: string }>`select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(h.database.db);
      return rows[0]!.n !== "0";
    }, 5_000, "the claim to wait for the card");
    await tx.updateTable("invoices").set({ next_attempt_at: farOff, updated_at: farOff }).where("subscription_id", "=", invoice.subscription_id).where("status", "=", "open").execute();
    await tx.commit().execute();
    expect(await claim).toEqual({ kind: "no_card" });
    expect(warnings).toEqual([]);
    expect(await attemptsOf(invoice.id)).toEqual([]);
  });

  it("a claim left to its locked path by a held invoice, racing a card replacement, takes the card first as the replacement does: no deadlock", async () => {
    const invoice = await secondInvoice();
    const lockWaiters = async () =>
      Number((await sql<{ n: string }>`select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(h.database.db)).rows[0]!.n);
    // Anything holding the invoice for a moment (a settle, ops): the shared write skips it.
    const holder = await h.database.db.startTransaction().execute();
    await holder.selectFrom("invoices").select("id").where("id", "=", invoice.id).forUpdate().execute();
    const claim = claimAttempt(worker(), invoice.id, createSideEffects(worker()));
    await eventually(async () => (await lockWaiters()) >= 1, 5_000, "the claim to wait on its locked path");
    // The token webhook replacing the card: the old card row, then the subscription's open invoices.
    const replacement = await h.database.db.startTransaction().execute();
    const replaced = (async () => {
      await replacement.updateTable("payment_tokens").set({ status: "inactive" }).where("subscription_id", "=", invoice.subscription_id).where("status", "=", "active").execute();
      await replacement.updateTable("invoices").set({ next_attempt_at: farOff, updated_at: farOff }).where("subscription_id", "=", invoice.subscription_id).where("status", "=", "open").execute();
      await replacement.commit().execute();
    })();
    await eventually(async () => (await lockWaiters()) >= 2, 5_000, "the replacement to wait too");
    await holder.commit().execute();
    const [claimed, replacedOutcome] = await Promise.allSettled([claim, replaced]);
    if (replacedOutcome.status === "rejected") await replacement.rollback().execute().catch(() => undefined);
    expect(replacedOutcome).toMatchObject({ status: "fulfilled" });
    expect(claimed).toMatchObject({ status: "fulfilled" });
  });

  it("a claim whose invoice is not due yet writes nothing", async () => {
    const invoice = await secondInvoice();
    const early = { ...worker(), clock: { now: () => new Date(farOff.getTime() - 1) } };
    expect(await claimAttempt(early, invoice.id, createSideEffects(early))).toEqual({ kind: "not_due", at: farOff });
    expect(await attemptsOf(invoice.id)).toEqual([]);
  });

  it("the one-statement success refuses an attempt already settled, a dunned subscription and a void invoice, changing nothing", async () => {
    const cases: Array<[string, (invoice: Invoice, attemptId: string) => Promise<unknown>]> = [
      ["attempt settled", (_invoice, attemptId) => h.database.db.updateTable("charge_attempts").set({ status: "declined" }).where("id", "=", attemptId).execute()],
      ["subscription past_due", (invoice) => sql`update subscriptions set status = 'past_due' where id = ${invoice.subscription_id}`.execute(h.database.db)],
      ["invoice void", (invoice) => sql`update invoices set status = 'void' where id = ${invoice.id}`.execute(h.database.db)],
    ];
    for (const [what, spoil] of cases) {
      const invoice = await secondInvoice();
      const claim = await claimAttempt(worker(), invoice.id, createSideEffects(worker()));
      if (claim.kind !== "claimed") throw new Error(`${what}: not claimed (${claim.kind})`);
      await spoil(invoice, claim.attempt.id);
      const before = { invoice: await h.database.db.selectFrom("invoices").selectAll().where("id", "=", invoice.id).executeTakeFirstOrThrow(), attempts: await attemptsOf(invoice.id) };
      const effects = createSideEffects(worker());
      const paid = await markPaidBySuccess(h.database.db, { effects, invoice: claim.invoice, attemptId: claim.attempt.id, orderId: claim.attempt.order_id, transactionHid: "P20990101AAAAAAAA", authCode: null, resolvedAt: new Date(), now: farOff });
      expect(paid, what).toBeUndefined();
      const after = { invoice: await h.database.db.selectFrom("invoices").selectAll().where("id", "=", invoice.id).executeTakeFirstOrThrow(), attempts: await attemptsOf(invoice.id) };
      expect(after, what).toEqual(before);
      expect(await h.database.db.selectFrom("platform_events").select("id").where("dedupe_key", "=", `invoice.paid:${invoice.id}`).execute(), what).toEqual([]);
    }
  });

  it("the one-statement success pays the invoice, settles the attempt and records invoice.paid once", async () => {
    const invoice = await secondInvoice();
    const claim = await claimAttempt(worker(), invoice.id, createSideEffects(worker()));
    if (claim.kind !== "claimed") throw new Error(`not claimed (${claim.kind})`);
    const input = { effects: createSideEffects(worker()), invoice: claim.invoice, attemptId: claim.attempt.id, orderId: claim.attempt.order_id, transactionHid: "P20990101BBBBBBBB", authCode: "123456", resolvedAt: new Date(), now: farOff };
    const paid = await markPaidBySuccess(h.database.db, input);
    expect(paid).toMatchObject({ id: invoice.id, status: "paid", paid_at: farOff, next_attempt_at: null });
    expect(await attemptsOf(invoice.id)).toMatchObject([{ status: "succeeded", oen_transaction_hid: "P20990101BBBBBBBB", auth_code: "123456" }]);
    const events = await h.database.db.selectFrom("platform_events").select(["type", "data"]).where("dedupe_key", "=", `invoice.paid:${invoice.id}`).execute();
    expect(events).toEqual([{ type: "invoice.paid", data: expect.objectContaining({ invoiceId: invoice.id, cycle: 2, orderId: claim.attempt.order_id, oenTransactionId: "P20990101BBBBBBBB" }) }]);
    expect(await markPaidBySuccess(h.database.db, input)).toBeUndefined();
  });

  it("successes answered together share one statement, each guarded on its own: a void invoice among them stays as it was", async () => {
    const invoices = [await secondInvoice(), await secondInvoice(), await secondInvoice()];
    const claims = [];
    for (const invoice of invoices) {
      const claim = await claimAttempt(worker(), invoice.id, createSideEffects(worker()));
      if (claim.kind !== "claimed") throw new Error(`not claimed (${claim.kind})`);
      claims.push(claim);
    }
    await sql`update invoices set status = 'void' where id = ${invoices[1]!.id}`.execute(h.database.db);
    const inputs = claims.map((claim, i) => ({ effects: createSideEffects(worker()), invoice: claim.invoice, attemptId: claim.attempt.id, orderId: claim.attempt.order_id, transactionHid: `P20990101CCCCCCC${i}`, authCode: null, resolvedAt: new Date(), now: farOff }));
    const paid = await markPaidBySuccesses(h.database.db, inputs);
    expect(paid.map((invoice) => invoice?.status)).toEqual(["paid", undefined, "paid"]);
    expect(paid[2]).toMatchObject({ id: invoices[2]!.id });
    expect((await attemptsOf(invoices[1]!.id)).map((a) => a.status)).toEqual(["sending"]);
    const events = await h.database.db.selectFrom("platform_events").select("dedupe_key").where("dedupe_key", "in", invoices.map((invoice) => `invoice.paid:${invoice.id}`)).orderBy("dedupe_key").execute();
    expect(events.map((e) => e.dedupe_key).sort()).toEqual([`invoice.paid:${invoices[0]!.id}`, `invoice.paid:${invoices[2]!.id}`].sort());
  });

  it("a subscription another transaction holds holds back only its own success: the others are paid at once, it is left to settleAttempt", async () => {
    const invoices = [await secondInvoice(), await secondInvoice(), await secondInvoice()];
    const claims = await Promise.all(invoices.map((invoice) => claimAttempt(worker(), invoice.id, createSideEffects(worker()))));
    const inputs = claims.map((claim, i) => {
      if (claim.kind !== "claimed") throw new Error(`not claimed (${claim.kind})`);
      return { effects: createSideEffects(worker()), invoice: claim.invoice, attemptId: claim.attempt.id, orderId: claim.attempt.order_id, transactionHid: `P20990101DDDDDDD${i}`, authCode: null, resolvedAt: new Date(), now: farOff };
    });
    const tx = await h.database.db.startTransaction().execute();
    try {
      await tx.selectFrom("subscriptions").select("id").where("id", "=", invoices[1]!.subscription_id).forUpdate().execute();
      const paid = await Promise.race([markPaidBySuccesses(h.database.db, inputs), new Promise<"waited">((resolve) => setTimeout(resolve, 5_000, "waited"))]);
      expect(paid === "waited" ? paid : paid.map((invoice) => invoice?.status)).toEqual(["paid", undefined, "paid"]);
    } finally {
      await tx.commit().execute();
    }
    expect((await attemptsOf(invoices[1]!.id)).map((a) => a.status)).toEqual(["sending"]);
  });

  it("a card token that does not open leaves nothing behind: no attempt, no audit row, the invoice as it was", async () => {
    const invoice = await secondInvoice();
    const other = await secondInvoice();
    // Another subscription's sealed token, moved onto this one's card row: bound to the other row, it does not open here.
    const theirs = await h.database.db.selectFrom("payment_tokens").select(["key_id", "ciphertext"]).where("subscription_id", "=", other.subscription_id).where("status", "=", "active").executeTakeFirstOrThrow();
    await h.database.db.updateTable("payment_tokens").set(theirs).where("subscription_id", "=", invoice.subscription_id).where("status", "=", "active").execute();
    const audits = async () => (await h.database.db.selectFrom("audit_log").select("id").where("subscription_id", "=", invoice.subscription_id).execute()).length;
    const auditsBefore = await audits();
    await expect(claimAttempt(worker(), invoice.id, createSideEffects(worker()))).rejects.toMatchObject({ name: "TokenDecryptionError" });
    expect(await attemptsOf(invoice.id)).toEqual([]);
    expect(await audits()).toBe(auditsBefore);
    expect(await h.database.db.selectFrom("invoices").selectAll().where("id", "=", invoice.id).executeTakeFirstOrThrow()).toEqual(invoice);
  });
});
