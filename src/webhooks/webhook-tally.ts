import { sql } from "kysely";
import type { Db } from "../db/connect.ts";
import type { WebhookTallyOutcome } from "../db/database.ts";
import type { Logger } from "../log.ts";
import { metrics } from "../metrics/metrics.ts";
import { postgresSafeText } from "./postgres-safe.ts";

export interface TallyEntry {
  purpose: string;
  outcome: WebhookTallyOutcome;
  reason: string;
}

export interface TallySample {
  source: string;
  /** As it came (the count uses purposeClass). */
  purpose: string;
  body: Record<string, unknown>;
  bytes: number;
}

/**
 * Webhooks that store nothing (not for a page we opened, purposes we do not
 * act on, refused sources): counted in memory and written to Postgres every
 * few seconds (one row per day, purpose, outcome and reason; and at once in
 * billing_webhooks_unstored_total), with a few
 * samples a minute of each kept for ops (the newest KEEP_SAMPLES). A flood costs no
 * write per request, and nothing it sends is kept whole.
 */
export interface WebhookTally {
  count(entry: TallyEntry, sample?: TallySample): void;
  /** Writes the counts so far; while Postgres cannot take them they stay in memory (their keys are few). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const FLUSH_MS = 5_000;
const SAMPLES_PER_MINUTE = 5;
export const KEEP_SAMPLES = 500;
const SHORT = 64;

export function createWebhookTally(db: Db, logger: Pick<Logger, "warn">, options: { flushMs?: number } = {}): WebhookTally {
  let counts = new Map<string, TallyEntry & { count: number }>();
  let minute = 0;
  // Samples taken this minute per kind of webhook: a flood of one kind hides no other.
  let sampled = new Map<string, number>();
  let samples = Promise.resolve();

  const flush = async () => {
    if (counts.size === 0) return;
    const taken = counts;
    counts = new Map();
    try {
      await writeWebhookTallies(db, [...taken.values()]);
    } catch (error) {
      for (const [key, entry] of taken) add(key, entry, entry.count);
      logger.warn({ err: (error as Error).message }, "webhook tallies not written; kept for the next try");
    }
  };
  const add = (key: string, entry: TallyEntry, n: number) => {
    const current = counts.get(key);
    if (current === undefined) counts.set(key, { ...entry, count: n });
    else current.count += n;
  };
  const timer = setInterval(() => void flush(), options.flushMs ?? FLUSH_MS);
  timer.unref();

  return {
    count(entry, sample) {
      metrics.webhookCounted(entry);
      const key = `${entry.purpose}\u0000${entry.outcome}\u0000${entry.reason}`;
      add(key, entry, 1);
      if (sample === undefined) return;
      const now = Math.floor(Date.now() / 60_000);
      if (now !== minute) [minute, sampled] = [now, new Map()];
      const taken = sampled.get(key) ?? 0;
      if (taken >= SAMPLES_PER_MINUTE) return;
      sampled.set(key, taken + 1);
      // One write at a time, never awaited by the request.
      samples = samples.then(() => keepSample(db, entry, sample)).catch((error) => logger.warn({ err: (error as Error).message }, "webhook sample not kept"));
    },
    flush,
    async close() {
      clearInterval(timer);
      await samples;
      await flush();
    },
  };
}

/** Adds counts to the day's tallies (UTC). */
export async function writeWebhookTallies(db: Db, entries: Array<TallyEntry & { count: number }>): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insertInto("oen_webhook_tallies")
    .values(entries.map((e) => ({ day: sql<string>`(now() at time zone 'utc')::date`, purpose: e.purpose, outcome: e.outcome, reason: e.reason, count: e.count })))
    .onConflict((oc) => oc.columns(["day", "purpose", "outcome", "reason"]).doUpdateSet({ count: sql`oen_webhook_tallies.count + excluded.count` }))
    .execute();
}

async function keepSample(db: Db, entry: TallyEntry, sample: TallySample): Promise<void> {
  const { body } = sample;
  await db
    .insertInto("oen_webhook_samples")
    .values({
      source: sample.source,
      purpose: short(sample.purpose) ?? "",
      oen_id: short(body.id),
      outcome: entry.outcome,
      reason: entry.reason,
      // What tells a forgery from a broken integration, never the token nor the whole body.
      body: JSON.stringify({
        bytes: sample.bytes,
        fields: Object.keys(body).slice(0, 20).map((key) => short(key)),
        merchantId: short(body.merchantId),
        customId: short(body.customId),
        success: typeof body.success === "boolean" ? body.success : null,
        hadToken: typeof body.token === "string" && body.token !== "",
      }),
    })
    .execute();
  await sql`delete from oen_webhook_samples where id <= (select id from oen_webhook_samples order by id desc offset ${KEEP_SAMPLES} limit 1)`.execute(db);
}

function short(value: unknown): string | null {
  return typeof value === "string" ? postgresSafeText(value).slice(0, SHORT).toWellFormed() : null;
}
