import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { createEventSender } from "../../src/events/create-event-sender.ts";
import type { PlatformEventBody } from "../../src/events/platform-event.ts";

const SECRET = `whsec_${Buffer.alloc(32, 5).toString("base64")}`;
const event: PlatformEventBody = { id: "evt_1", type: "invoice.paid", timestamp: "2026-11-26T12:00:00.000Z", data: { invoiceId: "inv_1", amount: 899 } };

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function serve(answer: (body: string, headers: Record<string, string>) => { status: number; body?: string; delayMs?: number; location?: string }): Promise<string> {
  server = createServer(async (request, response) => {
    let body = "";
    for await (const chunk of request) body += String(chunk);
    const reply = answer(body, request.headers as Record<string, string>);
    if (reply.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    response.writeHead(reply.status, reply.location === undefined ? {} : { location: reply.location }).end(reply.body ?? "");
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

describe("createEventSender", () => {
  it("POSTs the event as JSON with Standard Webhooks headers that the reference library verifies", async () => {
    let seen: { body: string; headers: Record<string, string> } | undefined;
    const url = await serve((body, headers) => {
      seen = { body, headers };
      return { status: 204 };
    });
    const result = await createEventSender({ url, secret: SECRET }).send(event);
    expect(result).toEqual({ ok: true, status: 204, error: null });
    expect(seen!.headers["content-type"]).toBe("application/json");
    expect(seen!.headers["webhook-id"]).toBe("evt_1");
    expect(Math.abs(Number(seen!.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(5);
    expect(new Webhook(SECRET).verify(seen!.body, seen!.headers)).toEqual(event);
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 6).toString("base64")}`).verify(seen!.body, seen!.headers)).toThrow();
  });

  it("reports a non-2xx answer with its status and the start of its body", async () => {
    const url = await serve(() => ({ status: 500, body: "database down" }));
    expect(await createEventSender({ url, secret: SECRET }).send(event)).toEqual({ ok: false, status: 500, error: "HTTP 500: database down" });
  });

  it("does not follow a redirect: only a 2xx acknowledges", async () => {
    const url = await serve(() => ({ status: 301, location: "https://elsewhere.example.com/" }));
    expect(await createEventSender({ url, secret: SECRET }).send(event)).toMatchObject({ ok: false, status: 301 });
  });

  it("gives up on a platform that does not answer in time", async () => {
    const url = await serve(() => ({ status: 200, delayMs: 1_000 }));
    expect(await createEventSender({ url, secret: SECRET }, { timeoutMs: 100 }).send(event)).toEqual({ ok: false, status: null, error: "no answer within 100 ms" });
  });

  it("reports a refused connection", async () => {
    const url = await serve(() => ({ status: 200 }));
    await new Promise((resolve) => server!.close(resolve));
    const result = await createEventSender({ url, secret: SECRET }).send(event);
    expect(result).toMatchObject({ ok: false, status: null, error: expect.stringMatching(/fetch failed.*ECONNREFUSED/) });
  });
});
