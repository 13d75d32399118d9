/**
 * Rows one retention statement deletes at most: a sweep tick's delete stays short (no long
 * lock, a bounded WAL burst), and at one batch per table per tick a backlog still drains at
 * 14 million rows a day.
 */
export const RETENTION_BATCH = 10_000;
