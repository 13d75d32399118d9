import type { Config } from "../config.ts";

// Time for a worker whose HTTP call just timed out to write the outcome down.
const SETTLE_MARGIN_MS = 5_000;

/**
 * How old a `sending` attempt must be before nobody can still be waiting on
 * its HTTP call: past that, its worker crashed or lost Postgres, and the
 * attempt is settled by order lookup instead.
 */
export function abandonedAfterMs(config: Pick<Config, "oen">): number {
  return config.oen.requestTimeoutMs + SETTLE_MARGIN_MS;
}
