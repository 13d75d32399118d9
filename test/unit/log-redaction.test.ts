import { Writable } from "node:stream";
import Fastify, { type FastifyBaseLogger } from "fastify";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.ts";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ level: "info", destination }), lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}
const LINK_TOKEN = "k2.sub_123.1796000000.abcdefMAC";

describe("log redaction", () => {
  it("censors secret keys at every depth, in arrays, errors and child bindings", () => {
    const { logger, lines, records } = capture();
    const error = Object.assign(new Error("boom"), { apiToken: "err-token-value" });
    logger.child({ sessionToken: "child-token-value" }).info(
      {
        token: "top-token-value",
        body: { a: { b: { c: { d: { e: { token: "deep-token-value", Authorization: "Bearer deep-bearer" } } } } } },
        list: [{ secret: "list-secret-value" }, { nested: [{ "x-api-key": "list-api-key" }] }],
        headers: { cookie: "session=cookie-value", "content-type": "application/json" },
        hadToken: true,
        err: error,
        when: new Date("2026-01-01T00:00:00Z"),
      },
      "payload",
    );
    const text = lines.join("\n");
    for (const leaked of ["top-token-value", "deep-token-value", "deep-bearer", "list-secret-value", "list-api-key", "cookie-value", "err-token-value", "child-token-value"]) {
      expect(text).not.toContain(leaked);
    }
    const [record] = records();
    expect(record).toMatchObject({
      msg: "payload",
      token: "[redacted]",
      sessionToken: "[redacted]",
      body: { a: { b: { c: { d: { e: { token: "[redacted]", Authorization: "[redacted]" } } } } } },
      headers: { "content-type": "application/json" },
      hadToken: true,
      err: { message: "boom", apiToken: "[redacted]" },
      when: "2026-01-01T00:00:00.000Z",
    });
  });

  it("takes the card link's token out of every string, the message and the request log", async () => {
    const { logger, lines } = capture();
    logger.info({ text: `Update your card: https://billing.example.com/billing/card/${LINK_TOKEN} today` }, `sent https://billing.example.com/billing/card/${LINK_TOKEN}`);
    logger.error(new Error(`could not open /billing/card/${LINK_TOKEN}`));
    const app = Fastify({ loggerInstance: logger as FastifyBaseLogger });
    app.get("/billing/card/:token", async () => "ok");
    await app.inject({ url: `/billing/card/${LINK_TOKEN}?lang=en` });
    await app.close();
    const text = lines.join("\n");
    expect(text).not.toContain("abcdefMAC");
    expect(text).toContain("/billing/card/[redacted] today");
    expect(lines.map((l) => JSON.parse(l)).find((r) => r.msg === "incoming request").req.url).toBe("/billing/card/[redacted]?lang=en");
    expect(lines.map((l) => JSON.parse(l)).find((r) => r.err !== undefined).msg).toBe("could not open /billing/card/[redacted]");
  });

  it("takes the portal link's token out of every string and the request log", async () => {
    const { logger, lines } = capture();
    const token = "k2.eyJjIjoiY3VzXzEifQ.portalMAC";
    logger.info({ text: `Manage: https://billing.example.com/portal/enter?token=${token}\nthanks` }, "notice kept");
    const app = Fastify({ loggerInstance: logger as FastifyBaseLogger });
    app.get("/portal/enter", async () => "ok");
    await app.inject({ url: `/portal/enter?lang=en&token=${token}` });
    await app.close();
    const text = lines.join("\n");
    expect(text).not.toContain("portalMAC");
    expect(text).toContain("/portal/enter?token=[redacted]\\nthanks");
    expect(lines.map((l) => JSON.parse(l)).find((r) => r.msg === "incoming request").req.url).toBe("/portal/enter?lang=en&token=[redacted]");
  });

  it("survives a circular object", () => {
    const { logger, records } = capture();
    const loop: Record<string, unknown> = { name: "loop" };
    loop.self = loop;
    logger.info({ loop }, "circular");
    expect(records()[0]).toMatchObject({ loop: { name: "loop", self: "[circular]" } });
  });
});
