/**
 * How long the first of the charge path's shared statements (the claims' read and write, the
 * successes' settle) waits for others to join it: a group commit's delay, like Kafka's
 * linger.ms. A charge alone waits this two or three times (its read, its write, a renewal's
 * success), beside Oen's 300 ms or more; a month-start burst puts several times more charges in
 * each statement than a turn of the event loop does: at 10 charges in flight, Postgres' CPU per
 * charge fell from 1.23 to 0.57 ms (docs/benchmarks.md).
 */
export const BATCH_WINDOW_MS = 5;
