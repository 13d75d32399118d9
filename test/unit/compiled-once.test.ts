import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { compiledOnce, type Slots } from "../../src/db/compiled-once.ts";
import type { Db } from "../../src/db/connect.ts";

// Compiles like the service's Postgres, without a server.
const db = new Kysely<never>({
  dialect: { createAdapter: () => new PostgresAdapter(), createDriver: () => new DummyDriver(), createIntrospector: (k) => new PostgresIntrospector(k), createQueryCompiler: () => new PostgresQueryCompiler() },
}) as unknown as Db;

describe("compiledOnce", () => {
  it("builds once, and puts each call's values where their slots were", () => {
    let builds = 0;
    const statement = compiledOnce((k, slot: Slots<{ id: string; limit: number }>) => {
      builds++;
      return k.selectFrom("invoices").select("id").where("id", "=", slot("id")).where("status", "=", "open").limit(slot("limit"));
    });
    const first = statement(db, { id: "in_1", limit: 5 });
    const second = statement(db, { id: "in_2", limit: 7 });
    expect(builds).toBe(1);
    expect(first.sql).toBe(second.sql);
    expect(first.parameters).toEqual(["in_1", "open", 5]);
    expect(second.parameters).toEqual(["in_2", "open", 7]);
  });

  it("takes sql templates, a slot used twice filled twice", () => {
    const statement = compiledOnce((_k, slot: Slots<{ at: Date }>) => sql`select ${slot("at")} as a, ${slot("at")} as b`);
    const at = new Date("2026-12-01T00:00:00Z");
    expect(statement(db, { at }).parameters).toEqual([at, at]);
  });

  it("refuses a slot that did not become a parameter (computed with, or dropped)", () => {
    const computed = compiledOnce((k, slot: Slots<{ n: number }>) => k.selectFrom("invoices").select("id").where("attempt_count", "=", slot("n") - 1));
    expect(() => computed(db, { n: 2 })).toThrow(/n did not become parameters/);
  });
});
