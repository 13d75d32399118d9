import { randomBytes, randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { startService } from "../../src/service.ts";
import { API_KEY, eventually, samplePlan, startHarness, subscribeWithCard, TEST_KEYS, type Harness } from "../support/harness.ts";
import { deleteQueueKeys, testQueuePrefix, testRedisUrl } from "../support/test-services.ts";

type Line = Record<string, any> & { msg: string };

function capture() {
  const lines: Line[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ level: "info", destination }), lines };
}

// One info line per business event, each with the ids it is found by.
describe("business log lines", () => {
  let h: Harness;
  const log = capture();
  beforeAll(async () => {
    h = await startHarness({ logger: log.logger });
    await h.api("PUT", "/v1/plans/monthly", samplePlan);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("a charge sent, its result, the state changes and a refund, with correlation ids", async () => {
    const { id: subscriptionId } = await subscribeWithCard(h, "monthly", "cus_logs");
    const invoice = await eventually(async () => {
      const [latest] = (await h.api("GET", `/v1/subscriptions/${subscriptionId}/invoices`)).json().data;
      return latest?.status === "paid" && latest;
    });
    const orderId = `${invoice.id}-1`;
    const ids = { subscriptionId, invoiceId: invoice.id };
    const sent = log.lines.filter((l) => l.msg === "charge sent" && l.orderId === orderId);
    expect(sent).toEqual([expect.objectContaining({ level: 30, ...ids, cycle: 1, attemptNo: 1, amount: samplePlan.amount })]);
    const result = log.lines.filter((l) => l.msg === "charge result" && l.orderId === orderId);
    expect(result).toEqual([expect.objectContaining({ level: 30, ...ids, outcome: "succeeded", oenTransactionId: invoice.attempts[0].oenTransactionId })]);
    await eventually(async () => log.lines.some((l) => l.msg === "state change: invoice.paid" && l.invoiceId === invoice.id));
    expect(log.lines.filter((l) => l.msg === "state change: subscription.activated" && l.subscriptionId === subscriptionId)).toEqual([
      expect.objectContaining({ level: 30, eventId: expect.stringMatching(/^evt_/) }),
    ]);
    // The Oen client's own lines are debug: one info line per event, not two.
    expect(log.lines.filter((l) => l.msg === "oen charge")).toEqual([]);

    const refund = await h.service.app!.inject({ method: "POST", url: `/v1/invoices/${invoice.id}/refunds`, headers: { authorization: `Bearer ${API_KEY}`, "idempotency-key": randomUUID() }, payload: { amount: 50 } });
    expect(refund.statusCode).toBe(201);
    expect(log.lines.filter((l) => l.msg === "refund answered" && l.invoiceId === invoice.id)).toEqual([expect.objectContaining({ level: 30, refundId: refund.json().id, amount: 50, outcome: "succeeded" })]);
  });

  it("logs API requests but not the health checks", async () => {
    const before = log.lines.length;
    for (const url of ["/healthz", "/readyz", "/readyz?probe=1"]) expect((await h.service.app!.inject({ method: "GET", url })).statusCode).toBe(200);
    await h.api("GET", "/v1/plans");
    const urls = log.lines.slice(before).map((l) => l.req?.url).filter(Boolean);
    expect(urls).toEqual(["/v1/plans"]);
  });
});

describe("migrations at start-up", () => {
  const adminUrl = inject("adminDatabaseUrl");
  const name = `oen_billing_test_${randomBytes(6).toString("hex")}`;
  const prefix = testQueuePrefix();
  const admin = () => new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: adminUrl, max: 1 }) }) });
  beforeAll(async () => {
    const db = admin();
    await sql`create database ${sql.id(name)}`.execute(db);
    await db.destroy();
  });
  afterAll(async () => {
    await deleteQueueKeys(prefix);
    const db = admin();
    await sql`drop database if exists ${sql.id(name)} with (force)`.execute(db);
    await db.destroy();
  });

  it("say what they applied, then that the schema is up to date", async () => {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const config = loadConfig({ DATABASE_URL: url.toString(), REDIS_URL: testRedisUrl(), QUEUE_PREFIX: prefix, ROLES: "workers", TOKEN_ENCRYPTION_KEYS: TEST_KEYS, OEN_API_TOKEN: "sim-unused" });
    const first = capture();
    await (await startService({ config, logger: first.logger })).close();
    const applied = first.lines.find((l) => l.msg.startsWith("applied "))!;
    expect(applied.migrations).toContain("2026-11-26T12-00-00_initial");
    expect(applied.migrations).toContain("2026-12-01T18-00-00_platform-event-attempts");
    expect(applied.msg).toBe(`applied ${applied.migrations.length} migrations: ${applied.migrations.join(", ")}`);
    const second = capture();
    await (await startService({ config, logger: second.logger })).close();
    expect(second.lines.map((l) => l.msg)).toContain("database schema up to date: no migration to apply");
  });
});
