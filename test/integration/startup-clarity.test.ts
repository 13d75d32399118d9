import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY, eventually, samplePlan, TEST_KEYS } from "../support/harness.ts";
import { freePort } from "../support/free-port.ts";
import { bindCardThroughPage } from "../support/hosted-page.ts";
import { startServiceProcess } from "../support/service-process.ts";
import { createTestDatabase, deleteQueueKeys, testQueuePrefix, testRedisUrl, type TestDatabase } from "../support/test-services.ts";

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));

/** Runs `npm start` until it exits; everything it printed. */
function runToExit(env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`npm start did not exit:\n${output}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const lines = (output: string) => output.split("\n").filter((line) => line.trim() !== "");

// `npm start` when something it needs is missing or taken: it starts what it can, and says what is wrong.
describe("start-up when a dependency is down", () => {
  let database: TestDatabase;
  const prefix = testQueuePrefix();
  const env = async (change: Record<string, string> = {}) => ({
    DATABASE_URL: database.url,
    REDIS_URL: testRedisUrl(),
    QUEUE_PREFIX: prefix,
    HOST: "127.0.0.1",
    PORT: String(await freePort()),
    TOKEN_ENCRYPTION_KEYS: TEST_KEYS,
    BILLING_API_KEY: API_KEY,
    LOG_LEVEL: "info",
    ...change,
  });
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await deleteQueueKeys(prefix);
    await database?.drop();
  });

  it("with every role and Redis unreachable, the ingress listens and every log line stays JSON", async () => {
    // A short request timeout: the shutdown waits that long for running jobs.
    const settings = await env({ REDIS_URL: `redis://127.0.0.1:${await freePort()}`, OEN_API_TOKEN: "sim-unused", OEN_API_URL: "http://127.0.0.1:9", OEN_REQUEST_TIMEOUT: "2s" });
    const service = await startServiceProcess(settings, 40_000);
    try {
      const ready = await fetch(`http://127.0.0.1:${settings.PORT}/readyz`);
      expect(await ready.json()).toMatchObject({ status: "degraded", postgres: "ok" });
      // Oen's webhooks are still taken (kept in Postgres while Redis is down).
      const webhook = await fetch(`http://127.0.0.1:${settings.PORT}/webhooks/oen`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ purpose: "token", id: "C".repeat(27) }) });
      expect(webhook.status).toBe(200);
      // A few reconnection rounds of every Redis client.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
    } finally {
      await service.kill();
    }
    const printed = lines(service.output.join(""));
    const notJson = printed.filter((line) => {
      try {
        return typeof JSON.parse(line) !== "object";
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
    expect(printed.some((line) => JSON.parse(line).msg === "ingress listening")).toBe(true);
  });

  it("a port in use: exits 1 with one line naming the port", async () => {
    const taken: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, "127.0.0.1", resolve));
    try {
      const { code, output } = await runToExit(await env({ PORT: String(port), OEN_API_TOKEN: "sim-unused" }));
      expect(code).toBe(1);
      const failure = lines(output).map((line) => JSON.parse(line) as { level: number; msg: string }).find((entry) => entry.level >= 50);
      expect(failure?.msg).toBe(`start-up failed: port ${port} on 127.0.0.1 is already in use (PORT): stop what listens there, or choose another PORT`);
      expect(output).not.toContain("PostgreSQL");
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it("the built-in simulator keeps its cards and its ledger across a restart: the stored token is charged again, and a charge from before is refunded", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "oen-billing-data-"));
    const settings = await env({ SIM_PORT: String(await freePort()), SIM_DATA_DIR: dataDir, BILLING_TEST_CLOCK: "1", RENEWAL_SWEEP_INTERVAL: "1s", RENEWAL_JITTER: "0s" });
    const base = `http://127.0.0.1:${settings.PORT}`;
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const invoices = async (id: string) => ((await (await api("GET", `/v1/subscriptions/${id}/invoices`)).json()) as { data: Array<{ id: string; cycle: number; status: string }> }).data;

    let service = await startServiceProcess(settings);
    let subscriptionId: string;
    try {
      expect((await api("PUT", "/v1/plans/daily", { ...samplePlan, interval: "day" })).status).toBe(200);
      const created = (await (await api("POST", "/v1/subscriptions", { customer: { id: "cus_restart", name: "Ming", email: "ming@example.com" }, planId: "daily", successUrl: "https://platform.example.com/ok", failureUrl: "https://platform.example.com/no" })).json()) as { id: string; checkoutUrl: string };
      subscriptionId = created.id;
      await bindCardThroughPage(created.checkoutUrl, { number: "4242424242424242" });
      await eventually(async () => (await invoices(subscriptionId)).some((i) => i.cycle === 1 && i.status === "paid"), 20_000, "cycle 1 paid");
    } finally {
      await service.kill();
    }
    service = await startServiceProcess(settings);
    try {
      // A day later, the renewal charges the token the simulator was given before its restart.
      expect((await api("POST", "/v1/test-clock/advance", { by: "1d" })).status).toBe(200);
      await eventually(async () => (await invoices(subscriptionId)).some((i) => i.cycle === 2 && i.status === "paid"), 20_000, "cycle 2 paid after the restart");
      // Oen still knows the charge of cycle 1: its refund goes through.
      const first = (await invoices(subscriptionId)).find((i) => i.cycle === 1)!;
      const refund = await fetch(`${base}/v1/invoices/${first.id}/refunds`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json", "idempotency-key": "refund-after-restart" },
        body: JSON.stringify({ amount: 100 }),
      });
      expect(refund.status).toBe(201);
      const refundId = ((await refund.json()) as { id: string }).id;
      const settled = await eventually(async () => {
        const detail = (await (await api("GET", `/v1/invoices/${first.id}`)).json()) as { refunds: Array<{ id: string; status: string; code: string | null }> };
        const mine = detail.refunds.find((r) => r.id === refundId);
        return mine !== undefined && mine.status !== "pending" && mine;
      }, 20_000, "the refund settled");
      expect(settled).toMatchObject({ status: "succeeded" });
    } finally {
      await service.kill();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
