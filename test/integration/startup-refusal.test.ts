import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { startService } from "../../src/service.ts";
import { TEST_KEYS } from "../support/harness.ts";
import { startServiceProcess } from "../support/service-process.ts";
import { createTestDatabase, deleteQueueKeys, testQueuePrefix, testRedisUrl, type TestDatabase } from "../support/test-services.ts";

// A key that sealed stored tokens and was then dropped from TOKEN_ENCRYPTION_KEYS.
const OLD_KEY = `k0:${Buffer.alloc(32, 3).toString("base64")}`;
const REFUSAL = 'TOKEN_ENCRYPTION_KEYS lacks key "k0", which 1 stored card token and 1 webhook not applied yet need: put it back after the first key (a key may leave only once no token is sealed with it)';

describe("start-up refusals", () => {
  let database: TestDatabase;
  const prefix = testQueuePrefix();
  const env = (change: Record<string, string> = {}) => ({
    DATABASE_URL: database.url,
    REDIS_URL: testRedisUrl(),
    QUEUE_PREFIX: prefix,
    HOST: "127.0.0.1",
    PORT: "0",
    TOKEN_ENCRYPTION_KEYS: TEST_KEYS,
    LOG_LEVEL: "silent",
    ...change,
  });

  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database;
    await db.insertInto("plans").values({ id: "p", name: "P", amount: 100, interval: "month", interval_count: 1, product_code: "P", description: "P", unit: "月" }).execute();
    await db.insertInto("customers").values({ id: "c", name: "C", email: "c@example.com" }).execute();
    for (const id of ["sub_a", "sub_b"]) {
      await db.insertInto("subscriptions").values({ id, customer_id: "c", plan_id: "p", status: "active", success_url: "https://a.example/ok", failure_url: "https://a.example/no" }).execute();
      await db.insertInto("checkout_sessions").values({ id: `cs_${id}`, subscription_id: id, purpose: "subscribe", custom_id: `${id}.subscribe`, status: "completed", expires_at: new Date() }).execute();
    }
    // An active token needs its key; an inactive one is never opened again.
    await db.insertInto("payment_tokens").values({ id: "pt_a", subscription_id: "sub_a", checkout_session_id: "cs_sub_a", key_id: "k0", ciphertext: "AAAA", last4: "4242", status: "active" }).execute();
    await db.insertInto("payment_tokens").values({ id: "pt_b", subscription_id: "sub_b", checkout_session_id: "cs_sub_b", key_id: "kgone", ciphertext: "AAAA", last4: "4242", status: "inactive" }).execute();
    await db.insertInto("webhook_inbox").values({ job_id: "wh_1", payload: JSON.stringify({ sealedToken: { keyId: "k0", ciphertext: "AAAA" } }) }).execute();
    await db.insertInto("webhook_inbox").values({ job_id: "wh_2", payload: JSON.stringify({ sealedToken: null }) }).execute();
  });
  afterAll(async () => {
    await deleteQueueKeys(prefix);
    await database?.drop();
  });

  it("refuses workers whose keyring lacks a key that stored tokens need, with their count", async () => {
    const attempt = startService({ config: loadConfig(env({ ROLES: "workers" })), logger: silentLogger });
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toMatchObject({ problems: [REFUSAL] });
  });

  it("starts once the key is back, and an ingress alone starts anyway (Oen's webhooks)", async () => {
    const changes: Array<Record<string, string>> = [{ ROLES: "workers", TOKEN_ENCRYPTION_KEYS: `${TEST_KEYS},${OLD_KEY}` }, { ROLES: "ingress" }];
    for (const change of changes) {
      const service = await startService({ config: loadConfig(env(change)), logger: silentLogger });
      await service.close();
    }
  });

  it("prints the refusal and exits 1 (npm start)", async () => {
    // A simulator's token: no built-in simulator on a fixed port.
    const error = await startServiceProcess(env({ ROLES: "workers", OEN_API_TOKEN: "sim-unused" })).then(() => null, (e: Error) => e);
    expect(error!.message).toMatch(/^service process exited with 1:/);
    expect(error!.message).toContain(`\nconfiguration error: ${REFUSAL}\n`);
  });

  it("prints every configuration problem, one line each, and exits 1 (npm start)", async () => {
    const started = startServiceProcess({ ...env(), OEN_API_TOKEN: "live-token", OEN_LOOKUP_SETTLE: "1s", TOKEN_ENCRYPTION_KEYS: "" });
    const error = await started.then(() => null, (e: Error) => e);
    const lines = error!.message.split("\n").filter((line) => line.startsWith("configuration error: "));
    expect(error!.message).toMatch(/^service process exited with 1:/);
    expect(lines).toEqual(
      expect.arrayContaining([
        "configuration error: PUBLIC_URL is required with a real OEN_API_TOKEN",
        "configuration error: BILLING_API_KEYS (or BILLING_API_KEY) is required with a real OEN_API_TOKEN",
        "configuration error: METRICS_TOKEN is required with a real OEN_API_TOKEN",
        "configuration error: TOKEN_ENCRYPTION_KEYS is required with a real OEN_API_TOKEN",
        "configuration error: OEN_LOOKUP_SETTLE must be at least OEN_REQUEST_TIMEOUT plus 1m with a real OEN_API_TOKEN",
      ]),
    );
  });
});
