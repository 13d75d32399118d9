import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOenClient } from "../../src/oen/client.ts";
import { TEST_CARDS } from "../../src/oen/simulator/index.ts";
import { productLine } from "../oen/sim-fixtures.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../oen/webhook-receiver.ts";

// `npm run simulator` in its own process, driven only over HTTP (admin endpoints under /__sim/).

let child: ChildProcess;
let url: string;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  child = spawn(process.execPath, ["src/oen/simulator/main.ts"], {
    env: {
      ...process.env,
      LOG_LEVEL: "info",
      SIM_PORT: "0",
      SIM_MERCHANT_ID: "standalone",
      SIM_API_TOKEN: "standalone-token",
      SIM_WEBHOOK_URL: receiver.url,
      SIM_WEBHOOK_RETRY_DELAYS_MS: "20,40",
      SIM_FAULTS: JSON.stringify([{ on: "lookup", kind: "lookup_5xx", times: 1 }]),
      SIM_SEED: "3",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  for await (const line of createInterface({ input: child.stdout! })) {
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    if (entry.msg === "Oen simulator listening" && entry.url) {
      url = entry.url;
      break;
    }
  }
});
afterAll(async () => {
  if (child.exitCode === null) {
    child.kill("SIGTERM");
    await once(child, "exit");
  }
  await receiver.close();
});

const admin = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${url}/__sim/${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (response.status === 204 ? undefined : await response.json()) as any };
};

describe("standalone simulator", () => {
  it("starts with the plan from SIM_FAULTS", async () => {
    expect((await admin("GET", "faults")).json).toEqual({ faults: [{ on: "lookup", kind: "lookup_5xx", times: 1 }] });
  });

  it("binds, charges and shows it all over HTTP", async () => {
    const client = createOenClient({ apiUrl: url, apiToken: "standalone-token", merchantId: "standalone", retryMinDelayMs: 5 });
    const { id } = await client.createCheckoutToken({ successUrl: null, failureUrl: null, customId: "C9" });
    const bound = await admin("POST", `checkouts/${id}/bind`, { cardNumber: TEST_CARDS.success });
    expect(bound.json).toMatchObject({ kind: "bound", redirectUrl: null });
    const [webhook] = await receiver.waitFor(1);
    expect(webhook?.body).toMatchObject({ id, merchantId: "standalone", customId: "C9", success: true });

    const outcome = await client.chargeToken({ amount: 990, token: String(webhook?.body.token), orderId: "S-1", productDetails: [productLine(990)] });
    expect(outcome.kind).toBe("succeeded");
    // The SIM_FAULTS lookup_5xx fires once; the client's retry hides it.
    expect(await client.listOrderTransactions("S-1")).toMatchObject([{ status: "charged", amount: 990 }]);
    expect((await admin("GET", "ledger")).json.transactions).toMatchObject([{ orderId: "S-1", status: "charged", amount: 990 }]);
    expect((await admin("GET", "webhook-deliveries")).json.deliveries).toMatchObject([{ try: 1, ok: true, httpStatus: 200 }]);
  });

  it("takes fault plans and webhook URLs over HTTP", async () => {
    expect(await admin("PUT", "faults", [{ on: "nowhere", kind: "drop" }])).toMatchObject({ status: 400, json: { error: expect.stringContaining("rule 0") } });
    expect((await admin("PUT", "faults", [{ on: "charge", kind: "drop", times: 2 }])).json).toEqual({ faults: [{ on: "charge", kind: "drop", times: 2 }] });
    expect((await admin("DELETE", "faults")).status).toBe(204);
    expect((await admin("GET", "faults")).json).toEqual({ faults: [] });
    expect((await admin("PUT", "webhook-url", { url: null })).status).toBe(204);
  });

  it("stops cleanly on SIGTERM", async () => {
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
  });
});
