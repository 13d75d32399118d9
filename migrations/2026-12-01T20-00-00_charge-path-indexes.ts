import { sql, type Kysely } from "kysely";

// Frozen in time: this file never imports application code.

// Every charge inserts an attempt and settles it: an index nothing reads is two index writes per
// charge. charge_attempts_token (card, created_at) was superseded by charge_attempts_token_clock
// (card, clock_at) when the card budget moved to the billing clock.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop index charge_attempts_token`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create index charge_attempts_token on charge_attempts (payment_token_id, created_at)`.execute(db);
}
