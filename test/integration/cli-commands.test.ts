import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { TEST_CARDS, flakyCardNumber } from "../../src/oen/simulator/index.ts";
import { startService, type Service } from "../../src/service.ts";
import { eventually, samplePlan, sampleSubscription, startHarness, type Harness } from "../support/harness.ts";
import { BIN, runCli } from "../support/run-cli.ts";

// Every command of `npx billing` run as the real binary against a real database, Redis and the simulator.
let h: Harness;
let workers: Service;
const db = () => h.database.db;

/** A subscription whose card is bound on the simulator's page; the token webhook goes to the ingress. */
async function subscribe(customerId: string, cardNumber: string): Promise<string> {
  const created = await h.api("POST", "/v1/subscriptions", sampleSubscription("monthly", customerId));
  const { id, checkoutUrl } = created.json() as { id: string; checkoutUrl: string };
  const bound = h.simulator.bindCard(checkoutUrl.split("/").pop()!, { cardNumber, expiry: "12/39", cvc: "123", email: "ming@example.com" });
  if (bound.kind !== "bound") throw new Error(bound.kind);
  return id;
}
const invoiceOf = (subscriptionId: string) => db().selectFrom("invoices").selectAll().where("subscription_id", "=", subscriptionId).orderBy("created_at", "desc").executeTakeFirst();

beforeAll(async () => {
  // The ingress alone at first (a webhook waits in Redis and Postgres); the workers come later,
  // without the scheduler, so nothing but the CLI relays a webhook whose job is gone.
  h = await startHarness({ env: { ROLES: "ingress", OEN_LOOKUP_SETTLE: "2s" } });
  await h.api("PUT", "/v1/plans/monthly", samplePlan);
});
afterAll(async () => {
  await workers?.close();
  await h?.close();
});

describe("replay-webhook", () => {
  let subscriptionId: string;
  let inboxId: string;

  it("puts a webhook whose job was lost on the queue again, from Postgres", async () => {
    subscriptionId = await subscribe("cus_replay", flakyCardNumber("T0004", 1));
    const inbox = await eventually(() => db().selectFrom("webhook_inbox").selectAll().where(sql<string>`payload->>'kind'`, "=", "token").executeTakeFirst(), 20_000, "the webhook stored");
    inboxId = inbox.id;
    expect(await h.service.deps.queues.webhooks.remove(inbox.job_id)).toBe(1);
    workers = await startService({ config: loadConfig({ ...h.env, ROLES: "workers" }), logger: silentLogger });

    const run = await runCli(["--json", "replay-webhook", inboxId], h.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ inboxId, jobId: inbox.job_id, kind: "token", oenId: expect.any(String) });
    // Applied: the card is stored and the first charge made (this card declines it once).
    await eventually(async () => (await invoiceOf(subscriptionId))?.attempt_count === 1, 20_000, "the first charge");
    expect((await db().selectFrom("webhook_inbox").select("processed_at").where("id", "=", inboxId).executeTakeFirstOrThrow()).processed_at).not.toBeNull();
  });

  it("by its oen_webhook_events record: applied again, it is a duplicate and changes nothing", async () => {
    const record = await db().selectFrom("oen_webhook_events").selectAll().where("outcome", "=", "accepted").executeTakeFirstOrThrow();
    const run = await runCli(["replay-webhook", "--event", record.id], h.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`webhook ${inboxId} (token ${record.oen_id}) queued again as job`);
    await eventually(async () => (await db().selectFrom("oen_webhook_events").select("id").where("outcome", "=", "duplicate").executeTakeFirst()) !== undefined, 20_000, "the duplicate");
    expect(await db().selectFrom("payment_tokens").select("id").where("subscription_id", "=", subscriptionId).execute()).toHaveLength(1);
  });

  it("says what is missing", async () => {
    expect(await runCli(["replay-webhook", "999999"], h.env)).toMatchObject({ code: 1, stderr: expect.stringContaining("no webhook_inbox entry with id 999999") });
    expect(await runCli(["replay-webhook", "--event", "abc"], h.env)).toMatchObject({ code: 2, stderr: expect.stringContaining("an oen_webhook_events id is a number") });
  });
});

describe("retry-invoice and refund", () => {
  it("charges an open invoice now and shows Oen's answer", async () => {
    const invoice = await eventually(async () => {
      const [subscription] = await db().selectFrom("subscriptions").select("id").where("customer_id", "=", "cus_replay").execute();
      const current = subscription && (await invoiceOf(subscription.id));
      return current?.status === "open" && current.attempt_count === 1 && current;
    }, 20_000, "the declined invoice");
    const run = await runCli(["--json", "retry-invoice", invoice.id], h.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ invoiceId: invoice.id, outcome: "succeeded", invoiceStatus: "paid", attemptStatus: "succeeded", orderId: `${invoice.id}-2` });
    expect(h.simulator.ledger.successfulCharges(`${invoice.id}-`)).toHaveLength(1);

    const again = await runCli(["retry-invoice", invoice.id], h.env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`invoice "${invoice.id}" is paid: only an open invoice can be charged`);
    expect(await runCli(["retry-invoice", "in_missing"], h.env)).toMatchObject({ code: 1, stderr: expect.stringContaining(`invoice "in_missing" does not exist`) });
  });

  it("refunds a paid invoice once, through the refund engine", async () => {
    const [subscription] = await db().selectFrom("subscriptions").select("id").where("customer_id", "=", "cus_replay").execute();
    const invoice = (await invoiceOf(subscription!.id))!;
    expect(await runCli(["refund", invoice.id, "--amount", "0"], h.env)).toMatchObject({ code: 2, stderr: expect.stringContaining("must be a whole number ≥ 1") });
    const run = await runCli(["--json", "refund", invoice.id, "--amount", "100", "--reason", "late delivery"], h.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ invoiceId: invoice.id, amount: 100, status: "succeeded", cause: "requested", reason: "late delivery" });
    expect(h.simulator.ledger.refunds().filter((r) => r.orderId === `${invoice.id}-2`)).toEqual([expect.objectContaining({ amount: 100, channel: "api" })]);
    const again = await runCli(["--json", "refund", invoice.id], h.env);
    expect(again.code).toBe(1);
    expect(again.json).toMatchObject({ error: "already_refunded", message: expect.stringContaining("Oen refunds a transaction only once") });
  });
});

describe("resolve-unknown", () => {
  it("looks an unknown charge up now, not at the end of its backoff", async () => {
    h.simulator.faults.set([
      { on: "charge", kind: "gateway_timeout_after_charge", times: 1 },
      { on: "lookup", kind: "lookup_5xx" },
    ]);
    const subscriptionId = await subscribe("cus_unknown", TEST_CARDS.success);
    const attempt = await eventually(async () => {
      const row = await db().selectFrom("charge_attempts").innerJoin("invoices", "invoices.id", "charge_attempts.invoice_id").selectAll("charge_attempts").where("invoices.subscription_id", "=", subscriptionId).executeTakeFirst();
      // Three failed lookups: the next one waits 16 s.
      return row?.status === "unknown" && row.lookup_count >= 3 && row;
    }, 30_000, "an attempt whose lookups keep failing");
    h.simulator.faults.clear();
    const started = Date.now();
    const run = await runCli(["--json", "resolve-unknown"], h.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json.attempts).toEqual([{ id: attempt.id, orderId: attempt.order_id, status: "unknown" }]);
    await eventually(async () => (await db().selectFrom("charge_attempts").select("status").where("id", "=", attempt.id).executeTakeFirstOrThrow()).status === "succeeded", 20_000, "the lookup");
    expect(Date.now() - started).toBeLessThan(attempt.next_lookup_at!.getTime() - started);
    expect((await invoiceOf(subscriptionId))?.status).toBe("paid");
  });
});

describe("status", () => {
  it("shows subscriptions by state, unresolved work, invoices needing attention, jobs and undelivered events", async () => {
    const held = await subscribe("cus_held", TEST_CARDS.declineRisk);
    const invoice = await eventually(async () => {
      const current = await invoiceOf(held);
      return current?.attention_code === "K0001" && current;
    }, 20_000, "the invoice held for ops");
    const run = await runCli(["--json", "status"], h.env);
    expect(run.code, run.stderr).toBe(0);
    const status = run.json;
    expect(status.attention).toEqual({ count: 1, invoices: [{ id: invoice.id, subscriptionId: held, code: "K0001", since: expect.any(String), amount: 899 }] });
    expect(status.subscriptions.active).toBeGreaterThanOrEqual(2);
    expect(status.unresolved).toMatchObject({ attempts: 0, refunds: 0 });
    expect(status.jobs).toHaveProperty("charges.failed", 0);
    expect(status.events.pending).toBeGreaterThan(0); // no platform webhook is configured here
    expect(status.webhooks.notApplied).toBe(0);

    const human = await runCli(["status"], h.env);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("invoices needing attention: 1");
    expect(human.stdout).toMatch(new RegExp(`${invoice.id}\\s+${held}\\s+K0001`));
    expect(human.stdout).toMatch(/charges\s+0\s+\d+/);
  });

  it("still answers from Postgres when Redis does not", async () => {
    const run = await runCli(["--json", "status"], { ...h.env, REDIS_URL: "redis://127.0.0.1:9" });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json.jobs).toEqual({ error: expect.stringContaining("Redis did not answer") });
    expect(run.json.attention.count).toBe(1);
  });
});

describe("redeliver-event", () => {
  it("delivers a failed event again; says so of one still pending, and of one that does not exist", async () => {
    const event = await db().selectFrom("platform_events").select("id").orderBy("created_at").executeTakeFirstOrThrow();
    const pending = await runCli(["--json", "redeliver-event", event.id], h.env);
    expect(pending.code, pending.stderr).toBe(0);
    expect(pending.json).toEqual({ eventId: event.id, kind: "already_pending" });
    expect(pending.stderr).toContain("PLATFORM_WEBHOOK_URL is not set");
    await db().updateTable("platform_events").set({ status: "failed", next_attempt_at: null }).where("id", "=", event.id).execute();
    const failed = await runCli(["redeliver-event", event.id], h.env);
    expect(failed.code).toBe(0);
    expect(failed.stdout).toContain(`event ${event.id} (was failed) is pending again and queued now`);
    expect((await db().selectFrom("platform_events").select("status").where("id", "=", event.id).executeTakeFirstOrThrow()).status).toBe("pending");
    expect(await runCli(["redeliver-event", "evt_missing"], h.env)).toMatchObject({ code: 1, stderr: "error: no platform event evt_missing\n" });
  });
});

describe("migrate, configuration and the binary", () => {
  it("migrates an empty database, then finds it up to date", async () => {
    const admin = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: inject("adminDatabaseUrl"), max: 1 }) }) });
    const name = `oen_billing_cli_${Date.now()}`;
    await sql`create database ${sql.id(name)}`.execute(admin);
    try {
      const url = new URL(inject("adminDatabaseUrl"));
      url.pathname = `/${name}`;
      const first = await runCli(["--json", "migrate"], { ...h.env, DATABASE_URL: url.toString() });
      expect(first.code, first.stderr).toBe(0);
      expect(first.json.applied).toContain("2026-12-01T17-00-00_reconciliations");
      expect(await runCli(["migrate"], { ...h.env, DATABASE_URL: url.toString() })).toMatchObject({ code: 0, stdout: "migrations: up to date\n" });
    } finally {
      await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin);
      await admin.destroy();
    }
  });

  it("a bad environment: every problem on its own line, exit status 2", async () => {
    const run = await runCli(["status"], { ...h.env, TOKEN_ENCRYPTION_KEYS: "nope", RENEWAL_SWEEP_INTERVAL: "soon" });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/configuration error: TOKEN_ENCRYPTION_KEYS/);
    expect(run.stderr).toMatch(/configuration error: RENEWAL_SWEEP_INTERVAL/);
  });

  it("usage errors exit 2; --help and --version exit 0", async () => {
    expect(await runCli(["bogus"], h.env)).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown command 'bogus'") });
    expect(await runCli(["refund"], h.env)).toMatchObject({ code: 2, stderr: expect.stringContaining("missing required argument 'invoiceId'") });
    const help = await runCli(["--help"], h.env);
    expect(help.code).toBe(0);
    for (const command of ["migrate", "status", "reconcile", "replay-webhook", "resolve-unknown", "retry-invoice", "refund", "redeliver-event", "rotate-keys"]) expect(help.stdout).toContain(command);
  });

  it("runs on the pinned Node when started by the system's older Node, and through npx", () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    if (existsSync("/usr/bin/node")) {
      const system = spawnSync("/usr/bin/node", [BIN, "--version"], { encoding: "utf8" });
      expect([system.status, system.stdout]).toEqual([0, "0.1.0\n"]);
    }
    const npx = spawnSync("npx", ["--no-install", "billing", "--version"], { cwd: root, encoding: "utf8", env: { ...process.env, npm_config_loglevel: "error" } });
    expect([npx.status, npx.stdout]).toEqual([0, "0.1.0\n"]);
  });
});
