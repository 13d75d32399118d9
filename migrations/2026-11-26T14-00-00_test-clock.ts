import { sql, type Kysely } from "kysely";

// Frozen in time: this file never imports application code.

export async function up(db: Kysely<any>): Promise<void> {
  // One row: how far the sandbox test clock is ahead of real time, shared by every process.
  await db.schema
    .createTable("test_clock")
    .addColumn("id", "integer", (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn("offset_ms", "bigint", (c) => c.notNull().check(sql`offset_ms >= 0`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("test_clock").execute();
}
