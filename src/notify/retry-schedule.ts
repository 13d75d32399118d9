/** How a delivery (email, platform webhook) is retried: doubling waits, capped, for a bounded number of attempts. */
export interface RetrySchedule {
  firstDelayMs: number;
  maxDelayMs: number;
  /** Attempts in all, the first one included. */
  attempts: number;
}

/** The wait after `attemptsMade` failed attempts, or null when none is left. */
export function retryDelayMs(schedule: RetrySchedule, attemptsMade: number): number | null {
  if (attemptsMade >= schedule.attempts) return null;
  return Math.min(schedule.firstDelayMs * 2 ** (attemptsMade - 1), schedule.maxDelayMs);
}

/** Every wait of the schedule added up: how long a delivery keeps trying. */
export function retrySpanMs(schedule: RetrySchedule): number {
  let total = 0;
  for (let made = 1; made < schedule.attempts; made++) total += retryDelayMs(schedule, made)!;
  return total;
}

/** The schedule with the fewest attempts whose waits add up to more than `spanMs`. */
export function retryScheduleSpanning(firstDelayMs: number, maxDelayMs: number, spanMs: number): RetrySchedule {
  const schedule = { firstDelayMs, maxDelayMs, attempts: 1 };
  while (retrySpanMs(schedule) <= spanMs) schedule.attempts++;
  return schedule;
}
