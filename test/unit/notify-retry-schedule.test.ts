import { describe, expect, it } from "vitest";
import { retryDelayMs, retryScheduleSpanning, retrySpanMs } from "../../src/notify/retry-schedule.ts";
import { NOTICE_RETRY } from "../../src/notify/send-notice.ts";

describe("retry schedules", () => {
  const schedule = { firstDelayMs: 10, maxDelayMs: 50, attempts: 6 };

  it("double from the first delay, capped, until the attempts run out", () => {
    expect([1, 2, 3, 4, 5].map((made) => retryDelayMs(schedule, made))).toEqual([10, 20, 40, 50, 50]);
    expect(retryDelayMs(schedule, 6)).toBeNull();
    expect(retrySpanMs(schedule)).toBe(170);
  });

  it("one attempt means no retry", () => {
    expect(retryDelayMs({ ...schedule, attempts: 1 }, 1)).toBeNull();
    expect(retrySpanMs({ ...schedule, attempts: 1 })).toBe(0);
  });

  it("can be sized by how long they should keep trying: the fewest attempts that exceed it", () => {
    expect(retryScheduleSpanning(10, 50, 170)).toEqual({ ...schedule, attempts: 7 });
    expect(retryScheduleSpanning(10, 50, 169)).toEqual(schedule);
    expect(retryScheduleSpanning(10, 50, 0)).toEqual({ ...schedule, attempts: 2 });
  });

  it("keep trying to email across an SMTP outage of several days, 30 s to an hour apart", () => {
    expect(retryDelayMs(NOTICE_RETRY, 1)).toBe(30_000);
    expect(retryDelayMs(NOTICE_RETRY, NOTICE_RETRY.attempts - 1)).toBe(3_600_000);
    expect(retrySpanMs(NOTICE_RETRY)).toBeGreaterThan(3 * 86_400_000);
    expect(retrySpanMs(NOTICE_RETRY)).toBeLessThan(5 * 86_400_000);
  });
});
