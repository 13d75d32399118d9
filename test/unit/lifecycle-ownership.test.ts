import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Invariant 9: the state of a subscription or an invoice changes only through the transitions
// of its lifecycle module. Any other UPDATE of those tables in the source is a breach.
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const OWNERS: Record<string, string> = {
  subscriptions: "src/subscriptions/subscription-transitions.ts",
  invoices: "src/invoices/invoice-transitions.ts",
};

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

describe("who may change a subscription or an invoice", () => {
  it.each(Object.entries(OWNERS))("only %s's transitions update that table", (table, owner) => {
    const writers = [...sources("src"), ...sources("workers")]
      .filter((file) => {
        const text = readFileSync(join(ROOT, file), "utf8");
        return text.includes(`updateTable("${table}")`) || new RegExp(`update\\s+${table}\\b`, "i").test(text);
      })
      .map((file) => relative(ROOT, join(ROOT, file)));
    expect(writers).toEqual([owner]);
  });
});
