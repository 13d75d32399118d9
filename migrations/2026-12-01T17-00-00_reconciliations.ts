import { sql, type Kysely } from "kysely";

// Frozen in time: this file never imports application code.

export async function up(db: Kysely<any>): Promise<void> {
  // One row per Taipei day reconciled against Oen's GET /transactions; a run again replaces its findings.
  await db.schema
    .createTable("reconciliations")
    // YYYY-MM-DD as text: a date column would come back as a Date in the process's zone.
    .addColumn("date", "text", (c) => c.primaryKey().check(sql`date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'`))
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('running', 'completed', 'failed')`))
    .addColumn("runs", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("started_at", "timestamptz", (c) => c.notNull())
    .addColumn("finished_at", "timestamptz")
    .addColumn("counts", "jsonb")
    .addColumn("differences", "jsonb")
    .addColumn("error", "text")
    // The last reconciliation.differences_found event written for it.
    .addColumn("event_id", "text")
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("reconciliations").execute();
}
