import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  cardBudgetAllows,
  cardBudgetReopensAt,
  countCardAttempts,
  createDunningPolicy,
  type DeclineInput,
  decideAfterDecline,
  defaultDunningPolicy,
  type DunningEvent,
  type DunningPolicy,
  finalDecision,
  previewDunning,
} from "../../src/billing/dunning-policy.ts";

const DAY = 86_400_000;
const t0 = new Date("2025-03-01T02:00:00.000Z");
const day = (days: number) => new Date(t0.getTime() + days * DAY);
const exact = createDunningPolicy({ jitterRatio: 0 });

// The state right after the invoice's first failure; later steps override fields.
function decline(overrides: Partial<DeclineInput> = {}): DeclineInput {
  return {
    policy: exact,
    code: "T0004",
    firstFailureAt: null,
    retriesMadeOnCard: 0,
    cardAttemptsInWindow: 1,
    now: t0,
    random: 0.5,
    ...overrides,
  };
}

// After retry k (made at `now`) was declined too.
function afterRetry(retriesMadeOnCard: number, now: Date, overrides: Partial<DeclineInput> = {}): DeclineInput {
  return decline({ firstFailureAt: t0, retriesMadeOnCard, cardAttemptsInWindow: retriesMadeOnCard + 1, now, ...overrides });
}

describe("the policy", () => {
  it("defaults to retries after 1, 3, 5, 7 days with 10% jitter, then canceled; 15 attempts a card per 30 days", () => {
    expect(defaultDunningPolicy).toEqual({
      retryScheduleMs: [1 * DAY, 3 * DAY, 5 * DAY, 7 * DAY],
      jitterRatio: 0.1,
      finalState: "canceled",
      softCodes: ["T0001", "T0004", "T0005"],
      hardCodes: ["T0002", "T0003"],
      cardAttemptLimit: 15,
      cardAttemptWindowMs: 30 * DAY,
    });
    expect(Object.isFrozen(defaultDunningPolicy)).toBe(true);
    expect(Object.isFrozen(defaultDunningPolicy.retryScheduleMs)).toBe(true);
  });

  it("applies overrides and keeps no reference to the caller's arrays", () => {
    const schedule = [2_000, 4_000];
    const policy = createDunningPolicy({ retryScheduleMs: schedule, finalState: "unpaid", cardAttemptLimit: 3 });
    schedule.push(1);
    expect(policy.retryScheduleMs).toEqual([2_000, 4_000]);
    expect(policy.finalState).toBe("unpaid");
    expect(policy.cardAttemptLimit).toBe(3);
    expect(policy.jitterRatio).toBe(0.1);
  });

  it("allows an empty schedule (no retries) and moving a code between soft and hard", () => {
    expect(createDunningPolicy({ retryScheduleMs: [] }).retryScheduleMs).toEqual([]);
    const strict = createDunningPolicy({ softCodes: ["T0001", "T0005"], hardCodes: ["T0002", "T0003", "T0004"] });
    expect(decideAfterDecline(decline({ policy: strict, code: "T0004" })).action).toBe("await_new_card");
  });

  it.each<[string, Partial<DunningPolicy>]>([
    ["retryScheduleMs", { retryScheduleMs: [DAY, DAY] }],
    ["retryScheduleMs", { retryScheduleMs: [3 * DAY, DAY] }],
    ["retryScheduleMs", { retryScheduleMs: [0, DAY] }],
    ["retryScheduleMs", { retryScheduleMs: [-DAY] }],
    ["retryScheduleMs", { retryScheduleMs: [1.5] }],
    ["retryScheduleMs", { retryScheduleMs: [Number.NaN] }],
    ["jitterRatio", { jitterRatio: -0.01 }],
    ["jitterRatio", { jitterRatio: 0.51 }],
    ["jitterRatio", { jitterRatio: Number.NaN }],
    ["finalState", { finalState: "deleted" as "unpaid" }],
    ["softCodes", { softCodes: ["T0001", "T0004"] }],
    ["softCodes", { softCodes: ["T0001", "T0004", "T0005", "T0002"] }],
    ["softCodes", { hardCodes: ["T0002", "T0003", "C026" as "T0001"] }],
    ["cardAttemptLimit", { cardAttemptLimit: 0 }],
    ["cardAttemptLimit", { cardAttemptLimit: 2.5 }],
    ["cardAttemptWindowMs", { cardAttemptWindowMs: 0 }],
  ])("rejects a bad %s", (field, overrides) => {
    expect(() => createDunningPolicy(overrides)).toThrow(new RegExp(`^dunning policy ${field} must be`));
  });
});

describe("decideAfterDecline: soft declines follow the schedule", () => {
  it.each(["T0001", "T0004", "T0005", null, "T0099"])("retries %s at 1, 3, 5, 7 days, then cancels", (code) => {
    expect(decideAfterDecline(decline({ code }))).toEqual({
      action: "retry",
      at: day(1),
      retryNumber: 1,
      notices: ["payment_failed"],
    });
    expect(decideAfterDecline(afterRetry(1, day(1), { code }))).toEqual({ action: "retry", at: day(3), retryNumber: 2, notices: [] });
    expect(decideAfterDecline(afterRetry(2, day(3), { code }))).toEqual({ action: "retry", at: day(5), retryNumber: 3, notices: [] });
    expect(decideAfterDecline(afterRetry(3, day(5), { code }))).toEqual({
      action: "retry",
      at: day(7),
      retryNumber: 4,
      notices: ["final_notice"],
    });
    expect(decideAfterDecline(afterRetry(4, day(7), { code }))).toEqual({
      action: "final",
      state: "canceled",
      notices: ["subscription_canceled"],
    });
  });

  it("ends unpaid, without a notice, when the policy says so", () => {
    const policy = createDunningPolicy({ jitterRatio: 0, finalState: "unpaid" });
    expect(decideAfterDecline(afterRetry(4, day(7), { policy }))).toEqual({ action: "final", state: "unpaid", notices: [] });
    expect(finalDecision(policy)).toEqual({ action: "final", state: "unpaid", notices: [] });
    expect(finalDecision(defaultDunningPolicy)).toEqual({ action: "final", state: "canceled", notices: ["subscription_canceled"] });
  });

  it("sends the first failure notice and the final notice together when there is one retry", () => {
    const policy = createDunningPolicy({ retryScheduleMs: [2 * DAY] });
    const decision = decideAfterDecline(decline({ policy }));
    expect(decision).toMatchObject({ action: "retry", retryNumber: 1, notices: ["payment_failed", "final_notice"] });
  });

  it("gives up at once when the schedule is empty", () => {
    const policy = createDunningPolicy({ retryScheduleMs: [] });
    expect(decideAfterDecline(decline({ policy }))).toEqual(finalDecision(policy));
    expect(decideAfterDecline(decline({ policy, code: "T0003" }))).toEqual(finalDecision(policy));
  });

  it("never retries a step already reached: an early (jittered) retry moves on to the next step", () => {
    const early = afterRetry(2, new Date(day(3).getTime() - 0.15 * DAY), { policy: defaultDunningPolicy });
    expect(decideAfterDecline(early)).toMatchObject({ action: "retry", retryNumber: 3 });
  });

  it("skips steps that slow workers let pass instead of retrying at once", () => {
    expect(decideAfterDecline(afterRetry(2, new Date(day(5).getTime() + 1)))).toMatchObject({
      action: "retry",
      at: day(7),
      retryNumber: 4,
      notices: ["final_notice"],
    });
  });

  it("keeps a new card on the invoice's schedule: its first decline waits for the next step", () => {
    const newCard = decline({ firstFailureAt: t0, retriesMadeOnCard: 0, cardAttemptsInWindow: 1, now: day(4) });
    expect(decideAfterDecline(newCard)).toEqual({ action: "retry", at: day(5), retryNumber: 3, notices: [] });
    expect(decideAfterDecline({ ...newCard, now: day(7.5) })).toEqual(finalDecision(exact));
  });
});

describe("decideAfterDecline: hard declines ask for a new card", () => {
  it("asks to replace an expired card (T0003) and sets the final deadline at the last step", () => {
    expect(decideAfterDecline(decline({ code: "T0003" }))).toEqual({
      action: "await_new_card",
      finalAt: day(7),
      notices: ["card_expired"],
    });
  });

  it("asks to replace a card with a wrong CVV (T0002)", () => {
    expect(decideAfterDecline(decline({ code: "T0002" }))).toEqual({
      action: "await_new_card",
      finalAt: day(7),
      notices: ["card_needs_replacing"],
    });
  });

  it("keeps the deadline of the first failure when a retry is declined hard", () => {
    expect(decideAfterDecline(afterRetry(2, day(3), { code: "T0003", policy: defaultDunningPolicy }))).toEqual({
      action: "await_new_card",
      finalAt: day(7),
      notices: ["card_expired"],
    });
  });

  it("ends in the final state when the deadline has passed", () => {
    expect(decideAfterDecline(afterRetry(0, day(7), { code: "T0002" }))).toEqual(finalDecision(exact));
    expect(decideAfterDecline(afterRetry(0, day(9), { code: "T0003" }))).toEqual(finalDecision(exact));
  });

  it.each(["S0000", "A0001", "V0001", "V0002", "V0003", "FORBIDDEN", "C026", "F0001", "R0001"])(
    "refuses %s: not a decline, so never a reason to charge again",
    (code) => {
      expect(() => decideAfterDecline(decline({ code }))).toThrow(/is not a card decline/);
    },
  );
});

describe("the card's attempt budget", () => {
  it("retries while the card is under its limit and asks for a new card at the limit", () => {
    expect(decideAfterDecline(afterRetry(1, day(1), { cardAttemptsInWindow: 14 }))).toMatchObject({ action: "retry" });
    expect(decideAfterDecline(afterRetry(1, day(1), { cardAttemptsInWindow: 15 }))).toEqual({
      action: "await_new_card",
      finalAt: day(7),
      notices: ["card_needs_replacing"],
    });
    expect(decideAfterDecline(decline({ cardAttemptsInWindow: 15 }))).toMatchObject({
      action: "await_new_card",
      notices: ["card_needs_replacing"],
    });
  });

  it("still ends in the final state when the schedule is over", () => {
    expect(decideAfterDecline(afterRetry(4, day(7), { cardAttemptsInWindow: 40 }))).toEqual(finalDecision(exact));
  });

  it("counts attempts in the 30 days ending now: 15 allowed, the 16th is not", () => {
    const now = day(40);
    const windowStart = now.getTime() - 30 * DAY;
    const inWindow = Array.from({ length: 14 }, (_, i) => new Date(windowStart + 1 + i * DAY));
    expect(cardBudgetAllows(inWindow, now, defaultDunningPolicy)).toBe(true);
    expect(cardBudgetAllows([...inWindow, now], now, defaultDunningPolicy)).toBe(false);
    // An attempt exactly 30 days old has left the window; one a millisecond younger has not.
    expect(cardBudgetAllows([...inWindow, new Date(windowStart)], now, defaultDunningPolicy)).toBe(true);
    expect(cardBudgetAllows([...inWindow, new Date(windowStart + 1)], now, defaultDunningPolicy)).toBe(false);
    expect(countCardAttempts([new Date(windowStart - 1), new Date(windowStart), new Date(windowStart + 1)], now, defaultDunningPolicy)).toBe(1);
  });

  it("reopens a spent card budget exactly when one more attempt fits again, never earlier", () => {
    const policy = createDunningPolicy({ cardAttemptLimit: 3, cardAttemptWindowMs: 10 * DAY });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 * DAY }), { maxLength: 8 }), fc.integer({ min: 10 * DAY, max: 20 * DAY }), (offsets, nowMs) => {
        const times = offsets.filter((t) => t <= nowMs).map((t) => new Date(t));
        const now = new Date(nowMs);
        const reopens = cardBudgetReopensAt(times, now, policy);
        if (cardBudgetAllows(times, now, policy)) return reopens === null;
        return reopens !== null && reopens > now && cardBudgetAllows(times, reopens, policy) && !cardBudgetAllows(times, new Date(reopens.getTime() - 1), policy);
      }),
    );
  });

  it("counts attempts stamped after now (clock skew between workers)", () => {
    expect(countCardAttempts([day(41)], day(40), defaultDunningPolicy)).toBe(1);
  });

  it("agrees with decideAfterDecline on the same attempts", () => {
    const now = day(1);
    const attempts = Array.from({ length: 15 }, (_, i) => new Date(now.getTime() - i * 3_600_000));
    const decision = decideAfterDecline(afterRetry(1, now, { cardAttemptsInWindow: countCardAttempts(attempts, now, exact) }));
    expect(cardBudgetAllows(attempts, now, exact)).toBe(false);
    expect(decision.action).toBe("await_new_card");
  });
});

describe("decideAfterDecline input checks", () => {
  it.each<[string, Partial<DeclineInput>]>([
    ["random must be in \\[0, 1\\)", { random: 1 }],
    ["random must be in \\[0, 1\\)", { random: -0.1 }],
    ["random must be in \\[0, 1\\)", { random: Number.NaN }],
    ["retriesMadeOnCard must be an integer >= 0", { retriesMadeOnCard: -1 }],
    ["cardAttemptsInWindow must be an integer >= 0", { cardAttemptsInWindow: 0.5 }],
    ["firstFailureAt must not be after now", { firstFailureAt: day(1) }],
    ["firstFailureAt must be a valid Date", { firstFailureAt: new Date(Number.NaN) }],
    ["now must be a valid Date", { now: new Date(Number.NaN) }],
  ])("rejects: %s", (message, overrides) => {
    expect(() => decideAfterDecline(decline(overrides))).toThrow(new RegExp(message));
  });
});

// Policies as an operator might configure them: any increasing schedule, in
// hours or in bare milliseconds (where rounding shows), any allowed jitter.
// Values come from small integer grids so that a failure shrinks quickly.
const HOUR = 3_600_000;
const policyArb = fc
  .record({
    retryScheduleMs: fc
      .tuple(fc.uniqueArray(fc.integer({ min: 1, max: 720 }), { maxLength: 8 }), fc.constantFrom(1, HOUR))
      .map(([delays, unit]) => delays.toSorted((a, b) => a - b).map((delay) => delay * unit)),
    jitterRatio: fc.integer({ min: 0, max: 50 }).map((percent) => percent / 100),
    finalState: fc.constantFrom("unpaid" as const, "canceled" as const),
    cardAttemptLimit: fc.integer({ min: 1, max: 20 }),
  })
  .map((overrides) => createDunningPolicy(overrides));
// Includes the extremes: 0 and the largest double below 1.
const randomArb = fc.oneof(
  fc.constantFrom(0, 0.5, 1 - Number.EPSILON / 2),
  fc.integer({ min: 0, max: 9_999 }).map((n) => n / 10_000),
);
const elapsedArb = fc.oneof(fc.nat({ max: 1_000 }), fc.nat({ max: 31 * 24 }).map((hours) => hours * HOUR));
const softCodeArb = fc.constantFrom("T0001", "T0004", "T0005", null);

describe("jitter", () => {
  it("keeps a retry after now and within ±jitterRatio of its step around the nominal time", () => {
    fc.assert(
      fc.property(
        policyArb,
        randomArb,
        fc.nat({ max: 8 }),
        elapsedArb,
        softCodeArb,
        (policy, random, retriesMadeOnCard, elapsed, code) => {
          const now = new Date(t0.getTime() + elapsed);
          const decision = decideAfterDecline(afterRetry(retriesMadeOnCard, now, { policy, random, code }));
          if (decision.action !== "retry") return;
          const schedule = policy.retryScheduleMs;
          const delay = schedule[decision.retryNumber - 1] ?? Number.NaN;
          const step = delay - (schedule[decision.retryNumber - 2] ?? 0);
          expect(decision.at.getTime()).toBeGreaterThan(now.getTime());
          expect(Math.abs(decision.at.getTime() - (t0.getTime() + delay))).toBeLessThanOrEqual(policy.jitterRatio * step);
          expect(decision.retryNumber).toBeGreaterThan(retriesMadeOnCard);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("keeps retries in order and loses none to jitter, whatever the random values and worker delays", () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.array(fc.tuple(randomArb, fc.oneof(fc.constant(0), elapsedArb)), { minLength: 10, maxLength: 10 }),
        softCodeArb,
        (policy, steps, code) => {
          let input = decline({ policy, code, random: steps[0]?.[0] ?? 0 });
          let lastRetry = { at: t0.getTime(), retryNumber: 0 };
          let previousDelay = 0;
          for (const [random, workerDelay] of steps) {
            const decision = decideAfterDecline({ ...input, random });
            if (decision.action === "await_new_card") {
              expect(input.cardAttemptsInWindow).toBeGreaterThanOrEqual(policy.cardAttemptLimit);
            }
            if (decision.action !== "retry") return;
            expect(decision.at.getTime()).toBeGreaterThan(lastRetry.at);
            expect(decision.retryNumber).toBeGreaterThan(lastRetry.retryNumber);
            // Only a late worker may skip a step; a jittered retry time never does.
            if (previousDelay === 0) expect(decision.retryNumber).toBe(lastRetry.retryNumber + 1);
            lastRetry = { at: decision.at.getTime(), retryNumber: decision.retryNumber };
            previousDelay = workerDelay;
            input = afterRetry(input.retriesMadeOnCard + 1, new Date(lastRetry.at + workerDelay), {
              policy,
              code,
              cardAttemptsInWindow: input.cardAttemptsInWindow + 1,
            });
          }
          expect.unreachable("more decisions than schedule steps");
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("previewDunning", () => {
  const notice = (days: number, kind: string): DunningEvent =>
    ({ at: day(days), event: "notice", detail: { notice: kind } }) as DunningEvent;
  const retry = (days: number, retryNumber: number): DunningEvent => ({ at: day(days), event: "retry", detail: { retryNumber } });
  const final = (days: number, state: "unpaid" | "canceled"): DunningEvent => ({
    at: day(days),
    event: "final_state",
    detail: { state },
  });

  it("shows the nominal default timeline from the first failure", () => {
    const { random: _, ...state } = decline({ policy: defaultDunningPolicy });
    expect(previewDunning(state)).toEqual({
      schedule: "nominal",
      jitterRatio: 0.1,
      events: [
        notice(0, "payment_failed"),
        retry(1, 1),
        retry(3, 2),
        retry(5, 3),
        notice(5, "final_notice"),
        retry(7, 4),
        final(7, "canceled"),
        notice(7, "subscription_canceled"),
      ],
    });
  });

  it("shows what is left from the middle of dunning, ending unpaid", () => {
    const { random: _, ...state } = afterRetry(2, day(3), { policy: createDunningPolicy({ finalState: "unpaid" }) });
    expect(previewDunning(state).events).toEqual([retry(5, 3), notice(5, "final_notice"), retry(7, 4), final(7, "unpaid")]);
  });

  it("shows a hard decline waiting for a new card until the deadline", () => {
    const { random: _, ...state } = decline({ code: "T0003" });
    expect(previewDunning(state).events).toEqual([
      notice(0, "card_expired"),
      final(7, "canceled"),
      notice(7, "subscription_canceled"),
    ]);
  });

  it("shows the card budget running out", () => {
    const { random: _, ...state } = decline({ cardAttemptsInWindow: 13 });
    expect(previewDunning(state).events).toEqual([
      notice(0, "payment_failed"),
      retry(1, 1),
      retry(3, 2),
      notice(3, "card_needs_replacing"),
      final(7, "canceled"),
      notice(7, "subscription_canceled"),
    ]);
  });

  // Decides after every decline, as the workers would, and records what happens.
  function runDecisions(start: Omit<DeclineInput, "random">, randoms: number[]): DunningEvent[] {
    const events: DunningEvent[] = [];
    const noticesAt = (at: Date, kinds: string[]) =>
      kinds.map((kind) => ({ at, event: "notice", detail: { notice: kind } }) as DunningEvent);
    let input: DeclineInput = { ...start, random: 0 };
    for (const random of randoms) {
      const decision = decideAfterDecline({ ...input, random });
      // A final decision's notices come with the final state, below.
      if (decision.action !== "final") events.push(...noticesAt(input.now, decision.notices));
      if (decision.action === "retry") {
        events.push({ at: decision.at, event: "retry", detail: { retryNumber: decision.retryNumber } });
        input = {
          ...input,
          firstFailureAt: input.firstFailureAt ?? input.now,
          retriesMadeOnCard: input.retriesMadeOnCard + 1,
          cardAttemptsInWindow: input.cardAttemptsInWindow + 1,
          now: decision.at,
        };
        continue;
      }
      // No new card comes: at the deadline the worker applies the final decision.
      const finalAt = decision.action === "await_new_card" ? decision.finalAt : input.now;
      const end = finalDecision(input.policy);
      events.push({ at: finalAt, event: "final_state", detail: { state: end.state } }, ...noticesAt(finalAt, end.notices));
      return events;
    }
    return expect.unreachable("more decisions than schedule steps");
  }

  it("matches the decisions actually taken step by step when every retry is declined", () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.constantFrom("T0001", "T0002", "T0003", "T0004", "T0005", null),
        fc.nat({ max: 3 }),
        elapsedArb,
        fc.nat({ max: 16 }),
        fc.array(randomArb, { minLength: 10, maxLength: 10 }),
        (policy, code, retriesMadeOnCard, elapsed, cardAttemptsInWindow, randoms) => {
          const start = {
            policy,
            code,
            firstFailureAt: elapsed === 0 ? null : t0,
            retriesMadeOnCard,
            cardAttemptsInWindow,
            now: new Date(t0.getTime() + elapsed),
          };
          const preview = previewDunning(start).events;

          // Without jitter, real runs land exactly on the preview.
          const exactPolicy = createDunningPolicy({ ...policy, jitterRatio: 0 });
          expect(previewDunning({ ...start, policy: exactPolicy }).events).toEqual(runDecisions({ ...start, policy: exactPolicy }, randoms));

          // With jitter, the same steps happen, each moved by no more than the jitter allows.
          const taken = runDecisions(start, randoms);
          const withoutTimes = (events: DunningEvent[]) => events.map(({ event, detail }) => ({ event, detail }));
          expect(withoutTimes(taken)).toEqual(withoutTimes(preview));
          const largestStep = Math.max(0, ...policy.retryScheduleMs.map((delay, i) => delay - (policy.retryScheduleMs[i - 1] ?? 0)));
          taken.forEach((event, i) => {
            expect(Math.abs(event.at.getTime() - (preview[i]?.at.getTime() ?? Number.NaN))).toBeLessThanOrEqual(
              policy.jitterRatio * largestStep,
            );
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});
