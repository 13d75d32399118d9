import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completeIdempotencyKey, requestHash, reserveIdempotencyKey } from "../../src/ingress/idempotency.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-services.ts";

describe("Idempotency-Key reservations", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  const hash = requestHash({ planId: "basic" });
  /** Makes the reservation look `seconds` old, as one left behind by a process that crashed then. */
  const age = (key: string, seconds: number) =>
    sql`update idempotency_keys set created_at = now() - make_interval(secs => ${seconds}) where key = ${`test:${key}`}`.execute(database.db);

  it("answers in_progress while the first request may still be running", async () => {
    expect(await reserveIdempotencyKey(database.db, "test", "fresh", hash)).toEqual({ kind: "first" });
    expect(await reserveIdempotencyKey(database.db, "test", "fresh", hash)).toEqual({ kind: "in_progress" });
    await age("fresh", 30);
    expect(await reserveIdempotencyKey(database.db, "test", "fresh", hash)).toEqual({ kind: "in_progress" });
  });

  it("lets a retry take over a reservation left in progress past any request's length (a crash), once", async () => {
    expect(await reserveIdempotencyKey(database.db, "test", "crashed", hash)).toEqual({ kind: "first" });
    await age("crashed", 61);
    const retries = await Promise.all(Array.from({ length: 5 }, () => reserveIdempotencyKey(database.db, "test", "crashed", hash)));
    expect(retries.filter((r) => r.kind === "first")).toHaveLength(1);
    expect(retries.filter((r) => r.kind === "in_progress")).toHaveLength(4);
    await completeIdempotencyKey(database.db, "test", "crashed", 201, { id: "sub_1" });
    expect(await reserveIdempotencyKey(database.db, "test", "crashed", hash)).toEqual({ kind: "replay", statusCode: 201, response: { id: "sub_1" } });
  });

  it("never takes over a key with another body, nor one that was answered", async () => {
    expect(await reserveIdempotencyKey(database.db, "test", "other-body", hash)).toEqual({ kind: "first" });
    await age("other-body", 120);
    expect(await reserveIdempotencyKey(database.db, "test", "other-body", requestHash({ planId: "gold" }))).toEqual({ kind: "mismatch" });
    await completeIdempotencyKey(database.db, "test", "other-body", 201, { id: "sub_2" });
    await age("other-body", 120);
    expect(await reserveIdempotencyKey(database.db, "test", "other-body", hash)).toEqual({ kind: "replay", statusCode: 201, response: { id: "sub_2" } });
  });
});
