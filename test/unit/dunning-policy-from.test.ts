import { describe, expect, it } from "vitest";
import { decideAfterDecline } from "../../src/billing/dunning-policy.ts";
import { loadConfig } from "../../src/config.ts";
import { dunningPolicyFrom } from "../../src/dunning/dunning-policy-from.ts";

const decide = (env: Record<string, string>, code: string) =>
  decideAfterDecline({ policy: dunningPolicyFrom(loadConfig(env)), code, firstFailureAt: null, retriesMadeOnCard: 0, cardAttemptsInWindow: 1, now: new Date("2026-11-26T00:00:00Z"), random: 0.5 });

describe("dunning policy from configuration", () => {
  it("uses the defaults: T0002/T0003 hard, the rest soft, 1d first retry", () => {
    expect(decide({}, "T0003")).toMatchObject({ action: "await_new_card", notices: ["card_expired"] });
    expect(decide({}, "T0004")).toMatchObject({ action: "retry", retryNumber: 1, at: new Date("2026-11-27T00:00:00Z") });
  });

  it("lets DUNNING_HARD_DECLINES make a soft code hard, and the schedule and budget come from the environment", () => {
    const env = { DUNNING_HARD_DECLINES: "T0002,T0003,T0005", DUNNING_RETRY_SCHEDULE: "2h,6h", DUNNING_JITTER: "0", DUNNING_CARD_ATTEMPT_LIMIT: "3" };
    expect(decide(env, "T0005")).toMatchObject({ action: "await_new_card", notices: ["card_needs_replacing"] });
    expect(decide(env, "T0004")).toMatchObject({ action: "retry", at: new Date("2026-11-26T02:00:00Z") });
    expect(dunningPolicyFrom(loadConfig(env))).toMatchObject({ cardAttemptLimit: 3, retryScheduleMs: [7_200_000, 21_600_000], finalState: "canceled" });
  });
});
