import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.ts";

function sink() {
  let text = "";
  const destination = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { destination, text: () => text };
}

describe("LOG_FORMAT", () => {
  it("json (the default): one JSON object per line", () => {
    const out = sink();
    createLogger({ destination: out.destination }).info({ invoiceId: "in_1" }, "charge sent");
    expect(JSON.parse(out.text().trim())).toMatchObject({ level: 30, msg: "charge sent", invoiceId: "in_1" });
  });

  it("pretty: a line for a person at a terminal, secrets still redacted", () => {
    const out = sink();
    createLogger({ format: "pretty", destination: out.destination }).info({ invoiceId: "in_1", apiToken: "tok-secret-value" }, "charge sent");
    const text = out.text();
    expect(text).toMatch(/INFO.*charge sent/);
    expect(text).toContain("in_1");
    expect(text).not.toContain("tok-secret-value");
    expect(() => JSON.parse(text.split("\n")[0]!)).toThrow();
  });
});
